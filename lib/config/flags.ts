/**
 * A one-asset config from command-line flags, for the common case that needs no file:
 * `tidemark harvest --url URL --data-path rows --pagination cursor --next-path next
 * --next-param _next --primary-key OrderID --out DIR [--bearer-env API_TOKEN]`.
 * The result goes through the same schema as a file, and problems are reported by flag name.
 * @module
 */
import { ConfigError, type ConfigIssue } from "../core/errors.ts";
import { invalidConfig } from "./errors.ts";
import { type Env, type LoadedConfig, resolveConfig } from "./load.ts";

/** The flags that describe one asset (the CLI parses them; this module builds the config). */
export interface HarvestFlags {
  /** Full URL of the endpoint; its query string becomes the asset's params. */
  url?: string;
  /** Where the records are (`rows`, `data`, `""` for a bare array). */
  dataPath?: string;
  /** Pagination type (`cursor`, `offset`, `page`, `link`, `body_link`, `timeline`, `none`). @default "none" */
  pagination?: string;
  /** Where the next cursor / link / token is in the body. */
  nextPath?: string;
  /** Query parameter the cursor (offset, page, token) is sent in. */
  nextParam?: string;
  /** Key columns. */
  primaryKey?: string[];
  /** Output folder. */
  out?: string;
  /** Environment variable holding a bearer token. */
  bearerEnv?: string;
  /** Asset name. @default the URL's last path segment without extension */
  asset?: string;
  /** Output format. @default "parquet" */
  format?: string;
  /** Hive partition columns. */
  partitionBy?: string[];
  /** Concurrent workers. */
  workers?: number;
}

/** Options of {@link configFromFlags}. */
export interface ConfigFromFlagsOptions {
  /** Environment for the bearer token. @default Deno.env.toObject() */
  env?: Env;
}

/** Which pagination field each flag fills, per type (absent = the flag does not apply). */
const NEXT_FIELDS: Record<string, { path?: string; param?: string }> = {
  cursor: { path: "response_path", param: "param" },
  offset: { param: "param" },
  page: { param: "param" },
  link: {},
  body_link: { path: "response_path" },
  timeline: { path: "token_path", param: "token_param" },
  none: {},
};

/** Config paths → the flag that sets them, for messages. */
const FLAG_OF: [RegExp, string][] = [
  [/^assets\[0\]\.pagination\.type$/, "--pagination"],
  [/^assets\[0\]\.pagination\.(response_path|token_path)$/, "--next-path"],
  [/^assets\[0\]\.pagination\.(param|token_param)$/, "--next-param"],
  [/^assets\[0\]\.pagination$/, "--pagination"],
  [/^assets\[0\]\.data_path$/, "--data-path"],
  [/^assets\[0\]\.primary_key/, "--primary-key"],
  [/^assets\[0\]\.(path|params)/, "--url"],
  [/^assets\[0\]\.name$/, "--asset"],
  [/^assets\[0\]\.output\.format$/, "--format"],
  [/^assets\[0\]\.output\.partition_by/, "--partition-by"],
  [/^base_url$/, "--url"],
  [/^auth\.token$/, "--bearer-env"],
  [/^out$/, "--out"],
  [/^workers$/, "--workers"],
];

/**
 * Builds and validates a one-asset config from flags. Throws {@link ConfigError} whose issue
 * paths are flag names (`--next-param: missing; expected text`).
 * @example
 * ```ts
 * const { config } = configFromFlags({
 *   url: "http://127.0.0.1:9000/northwind/Orders.json?_size=1000",
 *   dataPath: "rows", pagination: "cursor", nextPath: "next", nextParam: "_next",
 *   primaryKey: ["OrderID"], out: "out", bearerEnv: "API_TOKEN",
 * }, { env: { API_TOKEN: "super-secret-token" } });
 * ```
 */
export function configFromFlags(
  flags: HarvestFlags,
  options: ConfigFromFlagsOptions = {},
): LoadedConfig {
  const issues: ConfigIssue[] = [];
  let url: URL | undefined;
  if (flags.url === undefined) {
    issues.push({ path: "--url", message: "missing; give the endpoint's full URL" });
  } else {
    try {
      url = new URL(flags.url);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError("scheme");
    } catch {
      issues.push({
        path: "--url",
        message: `expected an http(s) URL like http://127.0.0.1:9000/northwind/Orders.json; got ${
          JSON.stringify(flags.url)
        }`,
      });
    }
  }
  if (flags.dataPath === undefined) {
    issues.push({
      path: "--data-path",
      message: 'missing; say where the records are ("rows", "data", "" for a bare array)',
    });
  }
  if (flags.bearerEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(flags.bearerEnv)) {
    issues.push({
      path: "--bearer-env",
      message: `expected an environment variable name like API_TOKEN; got ${
        JSON.stringify(flags.bearerEnv)
      }`,
    });
  }
  const type = flags.pagination ?? "none";
  const fields = NEXT_FIELDS[type];
  const pagination: Record<string, unknown> = { type };
  if (fields) {
    if (flags.nextPath !== undefined) {
      if (fields.path) pagination[fields.path] = flags.nextPath;
      else {issues.push({
          path: "--next-path",
          message: `not used by --pagination ${type}; remove it`,
        });}
    }
    if (flags.nextParam !== undefined) {
      if (fields.param) pagination[fields.param] = flags.nextParam;
      else {issues.push({
          path: "--next-param",
          message: `not used by --pagination ${type}; remove it`,
        });}
    }
  }
  if (issues.length) throw invalidConfig(issues, "flags");

  const asset: Record<string, unknown> = {
    name: flags.asset ?? assetNameFrom(url!),
    path: url!.pathname,
    params: Object.fromEntries(url!.searchParams),
    pagination,
    data_path: flags.dataPath,
    ...(flags.primaryKey?.length ? { primary_key: flags.primaryKey } : {}),
    output: {
      ...(flags.format !== undefined ? { format: flags.format } : {}),
      ...(flags.partitionBy?.length ? { partition_by: flags.partitionBy } : {}),
    },
  };
  const document: Record<string, unknown> = {
    name: "flags",
    base_url: url!.origin,
    auth: flags.bearerEnv !== undefined
      ? { type: "bearer", token: `\${${flags.bearerEnv}}` }
      : { type: "none" },
    ...(flags.out !== undefined ? { out: flags.out } : {}),
    ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
    assets: [asset],
  };
  try {
    return resolveConfig(document, { env: options.env, source: "flags" });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw invalidConfig(
      error.issues.map((issue) => {
        const flag = FLAG_OF.find(([pattern]) => pattern.test(issue.path))?.[1];
        return flag ? { path: flag, message: issue.message } : issue;
      }),
      "flags",
    );
  }
}

/** `…/Order%20Details.json` → `Order Details`: the last path segment, decoded, without extension. */
function assetNameFrom(url: URL): string {
  const segments = url.pathname.split("/").filter(Boolean);
  let last = segments[segments.length - 1] ?? url.hostname;
  try {
    last = decodeURIComponent(last);
  } catch {
    // Keep the raw segment; the sanitizing below makes it a valid name.
  }
  const name = last.replace(/\.[A-Za-z0-9]+$/, "").replace(/[^A-Za-z0-9_ .-]/g, "_")
    .replace(/^[ .]+/, "");
  return name || "asset";
}
