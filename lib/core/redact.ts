/**
 * Secret redaction for everything Tidemark writes or shows: URLs in errors and the manifest,
 * response bodies quoted in errors, logs. Secrets are masked as `***` (docs/design.md §3: auth is
 * recorded by alias, never by value).
 * @module
 */

/** The mask that replaces every secret. */
export const REDACTED = "***";

// Query parameters whose values are credentials, matched on the lower-cased name with camelCase,
// `-` and `.` read as `_` (so `api-key`, `apiKey` and `API_KEY` are all caught). Names that are
// only a credential word (`key`, `sig`, `auth`) match whole; the rest match anywhere.
const SENSITIVE_WHOLE = /^(key|pass|pwd|sig|auth|jwt|bearer)$/;
const SENSITIVE_PART =
  /token|secret|passw|api_?key|access_?key|private_?key|signature|credential|session|authorization/;

// Parameters that look like credentials by name but are pagination state, which provenance
// must keep (`pagination_token`, `next_token`, `page_token`, `continuation_token`).
const PAGINATION_NAME =
  /(^|_)(pagination|page|next|prev|previous|continuation|sync|cursor)_?token$/;

/** Whether a query parameter with this name carries a credential (`api_key`, `access_token`, ...). */
export function isSensitiveParam(name: string): boolean {
  const normalized = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[-.\s]/g, "_");
  if (PAGINATION_NAME.test(normalized)) return false;
  return SENSITIVE_WHOLE.test(normalized) || SENSITIVE_PART.test(normalized);
}

function usableSecrets(secrets: Iterable<string> | undefined): string[] {
  const out = new Set<string>();
  for (const secret of secrets ?? []) {
    // Very short values would mask unrelated text ("1", "ab"); no real credential is that short.
    if (typeof secret !== "string" || secret.length < 4) continue;
    out.add(secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out.add(encoded);
    const formEncoded = encoded.replace(/%20/g, "+");
    if (formEncoded !== encoded) out.add(formEncoded);
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...out].sort((a, b) => b.length - a.length);
}

function maskSecrets(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * A URL with its credentials masked: user info, the values of credential-like query parameters
 * (`api_key=***`, `access_token=***`, `password=***`) and any of the given secrets wherever they
 * appear. Input that is not an absolute URL is redacted as text.
 *
 * @example
 * ```ts
 * import { redactUrl } from "./redact.ts";
 * redactUrl("http://127.0.0.1:9000/northwind/Orders.json?api_key=abc123&_size=10");
 * // "http://127.0.0.1:9000/northwind/Orders.json?api_key=***&_size=10"
 * ```
 */
export function redactUrl(url: string | URL, secrets?: Iterable<string>): string {
  const text = String(url);
  const masks = usableSecrets(secrets);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return redactText(text, masks);
  }
  let userInfo = "";
  if (parsed.username || parsed.password) {
    userInfo = `${parsed.username ? REDACTED : ""}${parsed.password ? `:${REDACTED}` : ""}@`;
  }
  // Rebuild the query by hand (not URLSearchParams.set) so untouched parameters keep their exact
  // original encoding: the redacted URL must still identify the request byte for byte.
  const query = parsed.search.length > 1
    ? "?" + parsed.search.slice(1).split("&").map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair;
      let name: string;
      try {
        name = decodeURIComponent(pair.slice(0, eq).replace(/\+/g, " "));
      } catch {
        name = pair.slice(0, eq);
      }
      return isSensitiveParam(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    }).join("&")
    : parsed.search;
  const rebuilt = `${parsed.protocol}//${userInfo}${parsed.host}${parsed.pathname}${query}${
    parsed.hash ? redactFragment(parsed.hash) : ""
  }`;
  return maskSecrets(rebuilt, masks);
}

// OAuth implicit flows put tokens in the fragment (`#access_token=...`).
function redactFragment(hash: string): string {
  return hash.replace(
    /([#&])([^=&#]+)=([^&#]*)/g,
    (whole, sep: string, name: string) =>
      isSensitiveParam(name) ? `${sep}${name}=${REDACTED}` : whole,
  );
}

/**
 * Text with every given secret masked, plus the credential patterns that need no list:
 * `Authorization: Bearer …` / `Basic …` values, credential-like query parameters inside URLs, and
 * JSON fields such as `"access_token": "…"`.
 *
 * @example
 * ```ts
 * import { redactText } from "./redact.ts";
 * redactText("login failed for s3cr3t-pass", ["s3cr3t-pass"]); // "login failed for ***"
 * ```
 */
export function redactText(text: string, secrets?: Iterable<string>): string {
  let out = maskSecrets(text, usableSecrets(secrets));
  out = out.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/g, (whole, scheme: string) => {
    // Already masked, or prose like "Bearer token": leave short words alone.
    const value = whole.slice(scheme.length).trim();
    return value === REDACTED || value.length < 8 ? whole : `${scheme} ${REDACTED}`;
  });
  out = out.replace(
    /([?&])([A-Za-z0-9_.\-]+)=([^&\s"'<>#]*)/g,
    (whole, sep: string, name: string) =>
      isSensitiveParam(name) ? `${sep}${name}=${REDACTED}` : whole,
  );
  out = out.replace(
    /("([A-Za-z0-9_.\-]+)"\s*:\s*)"((?:[^"\\]|\\.)*)"/g,
    (whole, prefix: string, name: string) =>
      isSensitiveParam(name) ? `${prefix}"${REDACTED}"` : whole,
  );
  return out;
}
