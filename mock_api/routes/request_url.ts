/**
 * Next-page links built from the request URL: the same origin, path and parameters as the client
 * sent (an `api_key` in the query included, as the real services echo it), with some replaced.
 * @module
 */

/**
 * The request URL with the given query parameters set (replaced if present, else appended),
 * every other parameter kept exactly as sent.
 *
 * @example
 * ```ts
 * urlWithParams("http://h/t.json?_size=5&_next=1", { _next: "6" }); // "http://h/t.json?_size=5&_next=6"
 * ```
 */
export function urlWithParams(requestUrl: string, params: Record<string, string>): string {
  const url = new URL(requestUrl);
  const names = new Set(Object.keys(params));
  const kept = url.search.slice(1).split("&").filter((part) =>
    part !== "" && !names.has(decodeURIComponent(part.split("=")[0].replaceAll("+", " ")))
  );
  for (const [name, value] of Object.entries(params)) {
    kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  }
  return `${url.origin}${url.pathname}?${kept.join("&")}`;
}
