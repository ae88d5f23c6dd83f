/**
 * PostgreSQL URLs as Tidemark reads them: `--db` of an extraction, `--state` / `state.path` of a
 * state store. One place decides what counts as one and which host a launcher lets it reach.
 * @module
 */

/** Whether `value` is a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(value: string | undefined): value is string {
  return value !== undefined && /^postgres(ql)?:\/\//i.test(value);
}

/**
 * The `host:port` a PostgreSQL URL connects to, as `--allow-net` takes it (port 5432 when the URL
 * names none, `localhost` when it names no host, as `pg` does).
 *
 * @example
 * ```ts
 * import { postgresNetHost } from "./postgres_url.ts";
 * postgresNetHost("postgres://etl@db.example.org/shop"); // "db.example.org:5432"
 * ```
 */
export function postgresNetHost(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname || "localhost"}:${parsed.port || "5432"}`;
}
