/**
 * RFC 8288 `Link` header pagination (GitHub, WordPress-style APIs, the mock's `/linked`):
 * follow the link whose `rel` includes `next`. Relative links resolve against the request URL;
 * a link to another origin is refused unless allowed (the credential would go with it).
 * @module
 */
import type { LinkPaginationConfig } from "./schema.ts";
export type { LinkPaginationConfig };
import type { Paginator, StrategyOptions } from "./paginator.ts";
import { linkWalkPaginator } from "./step.ts";

/** One link of a `Link` header: its target and parameters (names lower-cased). */
export interface LinkValue {
  /** The URI reference between `<` and `>`. */
  href: string;
  /** Parameters such as `rel`, `title` (quoted values unquoted). */
  params: Record<string, string>;
}

/**
 * Parses a `Link` header (RFC 8288 §3): commas inside `<…>` or quotes do not split links.
 * Malformed parts are skipped, never guessed.
 * @example
 * ```ts
 * parseLinkHeader('<https://x/?page=2>; rel="next", <https://x/?page=9>; rel="last"');
 * // [{ href: "https://x/?page=2", params: { rel: "next" } }, { href: "https://x/?page=9", params: { rel: "last" } }]
 * ```
 */
export function parseLinkHeader(header: string): LinkValue[] {
  const links: LinkValue[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && /\s/.test(header[i])) i++;
  };
  while (i < n) {
    skipSpace();
    if (header[i] === ",") {
      i++;
      continue;
    }
    if (header[i] !== "<") {
      // Not a link: skip to the next top-level comma.
      while (i < n && header[i] !== ",") i++;
      continue;
    }
    const close = header.indexOf(">", i);
    if (close < 0) break;
    const link: LinkValue = { href: header.slice(i + 1, close).trim(), params: {} };
    i = close + 1;
    for (;;) {
      skipSpace();
      if (header[i] !== ";") break;
      i++;
      skipSpace();
      let name = "";
      while (i < n && /[^\s=;,]/.test(header[i])) name += header[i++];
      skipSpace();
      let value = "";
      if (header[i] === "=") {
        i++;
        skipSpace();
        if (header[i] === '"') {
          i++;
          while (i < n && header[i] !== '"') {
            if (header[i] === "\\" && i + 1 < n) i++;
            value += header[i++];
          }
          i++;
        } else {
          while (i < n && /[^\s;,]/.test(header[i])) value += header[i++];
        }
      }
      if (name && !(name.toLowerCase() in link.params)) link.params[name.toLowerCase()] = value;
    }
    links.push(link);
  }
  return links;
}

/** The target of the first link whose space-separated `rel` includes `rel` (case-insensitive). */
export function findLink(header: string | null, rel: string): string | undefined {
  if (!header) return undefined;
  const wanted = rel.toLowerCase();
  return parseLinkHeader(header).find((l) =>
    (l.params.rel ?? "").toLowerCase().split(/\s+/).includes(wanted)
  )?.href;
}

/**
 * A paginator that follows `Link: <…>; rel="next"`.
 * @example
 * ```ts
 * const p = linkPaginator({ type: "link", rel: "next", limit: 100, limit_param: "per_page", allow_cross_origin: false });
 * ```
 */
export function linkPaginator(
  config: LinkPaginationConfig,
  options: StrategyOptions = {},
): Paginator {
  return linkWalkPaginator(config, {
    ...options,
    type: "link",
    nextHref: (response) => findLink(response.headers.get("link"), config.rel),
  });
}
