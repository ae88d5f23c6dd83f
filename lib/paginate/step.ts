/**
 * The request steps every strategy shares — the first request, the one after a page, the one
 * that resumes after a committed page — and the walk that follows next links (`link` and
 * `body_link` differ only in where they read the link). Strategies keep only what they read from
 * a response.
 * @module
 */
import { PaginationError } from "../core/errors.ts";
import {
  type BaseRequest,
  type PageRequest,
  type PageResponse,
  type Paginator,
  requestUrl,
  type ResumeFrom,
  splitLink,
  type StrategyOptions,
  withParams,
} from "./paginator.ts";

/** `{ [limit_param]: limit }` when a page size is configured, else no parameter. */
export function limitParams(
  config: { limit?: number; limit_param: string },
): Record<string, number> {
  return config.limit ? { [config.limit_param]: config.limit } : {};
}

/** The first request of a walk: page 1, no position yet. */
export function firstRequest(request: BaseRequest): PageRequest {
  return { ...request, page: 1, cursor: null };
}

/** The position a step moves to: `param` is sent as `cursor`, which the manifest records. */
export interface Step {
  /** The query parameter that carries the position. */
  param: string;
  /** The position (token, offset, page number). */
  cursor: string;
}

/** The request after `prev`: its URL and parameters with `step.param` set to `step.cursor`. */
export function stepRequest(prev: PageRequest, step: Step): PageRequest {
  return {
    url: prev.url,
    params: { ...prev.params, [step.param]: step.cursor },
    page: prev.page + 1,
    cursor: step.cursor,
  };
}

/** The request that resumes after committed page `from`, sent as `request`. */
export function resumeRequest(from: ResumeFrom, request: BaseRequest): PageRequest {
  return { ...request, page: from.page + 1, cursor: from.cursor };
}

/** The number a counting strategy (`offset`, `page`) resumes from; refuses anything else. */
export function resumeNumber(from: ResumeFrom, options: { type: string; label: string }): number {
  if (!/^\d+$/.test(from.cursor)) {
    throw new PaginationError(
      `${options.label}: cannot resume ${options.type} pagination from "${from.cursor}"`,
    );
  }
  return Number(from.cursor);
}

/**
 * Resolves a followed link against the request it came from, refusing another origin unless
 * allowed. Shared by the `link` and `body_link` strategies.
 */
export function followLink(
  href: string,
  prev: PageRequest,
  origin: string,
  options: { allowCrossOrigin: boolean; label: string; stripParams?: readonly string[] },
): BaseRequest {
  let url: URL;
  try {
    url = new URL(href, requestUrl(prev));
  } catch {
    throw new PaginationError(`${options.label}: next link "${href}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PaginationError(`${options.label}: next link "${href}" is not http(s)`);
  }
  if (!options.allowCrossOrigin && url.origin !== origin) {
    throw new PaginationError(
      `${options.label}: next link ${url.origin}${url.pathname} leaves ${origin}; set pagination.allow_cross_origin: true if the API really moves hosts (credentials are sent there)`,
    );
  }
  return splitLink(url.href, options.stripParams);
}

/** Options of {@link linkWalkPaginator}. */
export interface LinkWalkOptions extends StrategyOptions {
  /** The strategy's name (`link`, `body_link`). */
  type: string;
  /** The next link in a response, or undefined when there is none (the walk is done). */
  nextHref(response: PageResponse): string | undefined;
}

/**
 * A paginator that follows next links until there is none; each followed link (with its
 * parameters) is the position the manifest records, so a resume starts from it.
 */
export function linkWalkPaginator(
  config: { limit?: number; limit_param: string; allow_cross_origin: boolean },
  options: LinkWalkOptions,
): Paginator {
  const label = options.label ?? "pagination";
  let origin = "";
  return {
    type: options.type,
    endStatuses: [],
    first(base) {
      origin = new URL(base.url).origin;
      return firstRequest({ url: base.url, params: withParams(base.params, limitParams(config)) });
    },
    next(prev, response) {
      const href = options.nextHref(response);
      if (href === undefined) return "done";
      const target = followLink(href, prev, origin || new URL(prev.url).origin, {
        allowCrossOrigin: config.allow_cross_origin,
        label,
        stripParams: options.stripParams,
      });
      return { ...target, page: prev.page + 1, cursor: requestUrl(target) };
    },
    resume(base, from) {
      origin = new URL(base.url).origin;
      return resumeRequest(from, splitLink(from.cursor, options.stripParams));
    },
  };
}

/** Options of {@link tokenWalkPaginator}. */
export interface TokenWalkOptions {
  /** The strategy's name (`cursor`, `last_record`, `timeline`). */
  type: string;
  /** The query parameter that sends the token back. */
  param: string;
  /** The parameters of the first request (a resume sends them too, plus the token). */
  firstParams(base: BaseRequest): Record<string, string>;
  /** The token in a response, or undefined when the walk is done. */
  nextToken(response: PageResponse): string | undefined;
}

/**
 * A paginator that reads a token from each response and sends it back in one parameter; the
 * token is the position the manifest records, so a resume sends it with the first parameters.
 */
export function tokenWalkPaginator(options: TokenWalkOptions): Paginator {
  const { param, firstParams } = options;
  return {
    type: options.type,
    endStatuses: [],
    first: (base) => firstRequest({ url: base.url, params: firstParams(base) }),
    next(prev, response) {
      const token = options.nextToken(response);
      return token === undefined ? "done" : stepRequest(prev, { param, cursor: token });
    },
    resume: (base, from) =>
      resumeRequest(from, {
        url: base.url,
        params: { ...firstParams(base), [param]: from.cursor },
      }),
  };
}
