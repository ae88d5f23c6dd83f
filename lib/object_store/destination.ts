/**
 * `output.destination`: where finished files are uploaded. `s3://bucket/prefix` is object
 * storage (AWS S3 or any S3-compatible server); `file:///path` or a plain folder path is a local
 * folder with the same interface. Endpoint, region and credentials come from an injected
 * environment, never from the config, so a config file can be shared without its secrets.
 *
 * The secret key is held in a closure (`credentials()`), not in a property, so logging or
 * serialising a destination never shows it.
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Env } from "../config/load.ts";
import { ConfigError } from "../core/errors.ts";
import { redactUrl } from "../core/redact.ts";

/** Environment variables read for the endpoint, in order of precedence. */
export const ENDPOINT_ENV_VARS = [
  "S3_ENDPOINT",
  "AWS_ENDPOINT_URL_S3",
  "AWS_ENDPOINT_URL",
] as const;
/** Environment variables read for the region, in order of precedence. */
export const REGION_ENV_VARS = ["AWS_REGION", "AWS_DEFAULT_REGION"] as const;
/** Region used when no region variable is set. */
export const DEFAULT_REGION = "us-east-1";

/** Credentials for S3 requests. */
export interface S3Credentials {
  /** `AWS_ACCESS_KEY_ID`. */
  accessKeyId: string;
  /** `AWS_SECRET_ACCESS_KEY`. */
  secretAccessKey: string;
  /** `AWS_SESSION_TOKEN`, for temporary credentials. */
  sessionToken?: string;
}

/** An S3 (or S3-compatible) destination. */
export interface S3Destination {
  /** Discriminant. */
  kind: "s3";
  /** Normalised `s3://bucket/prefix` (no trailing slash). */
  url: string;
  /** Bucket name. */
  bucket: string;
  /** Key prefix without leading or trailing `/`; `""` for the bucket root. */
  prefix: string;
  /** Custom endpoint (`S3_ENDPOINT` / `AWS_ENDPOINT_URL`), without credentials; absent for AWS. */
  endpoint?: string;
  /** Region. @default "us-east-1" */
  region: string;
  /** Path-style addressing (`http://host/bucket/key`): always on for custom endpoints. */
  forcePathStyle: boolean;
  /** The access key id (not a secret: it names the key, and errors quote its last characters). */
  accessKeyId: string;
  /** The credentials, secret included; a function so that logging the destination hides them. */
  credentials(): S3Credentials;
  /** Values to mask in every message: the secret key and session token. */
  secrets(): string[];
}

/** A local-folder destination. */
export interface LocalDestination {
  /** Discriminant. */
  kind: "local";
  /** `file://` URL of the folder. */
  url: string;
  /** Absolute folder path; object keys are paths below it. */
  root: string;
}

/** A parsed `output.destination`. */
export type Destination = S3Destination | LocalDestination;

/** Options of {@link parseDestination}. */
export interface DestinationOptions {
  /** Environment to read endpoint, region and credentials from. @default Deno.env.toObject() */
  env?: Env;
  /** Folder that a relative local path is resolved against. @default Deno.cwd() */
  cwd?: string;
  /** Config path named in errors. @default "output.destination" */
  path?: string;
}

/**
 * Parses `output.destination` and resolves what the environment supplies. Every problem is a
 * {@link ConfigError} naming the value and the variable that fixes it, raised before any
 * harvesting starts.
 *
 * @example
 * ```ts
 * import { parseDestination } from "./destination.ts";
 * const destination = parseDestination("s3://lake/raw/northwind", {
 *   env: {
 *     S3_ENDPOINT: "http://127.0.0.1:4568",
 *     AWS_ACCESS_KEY_ID: "S3RVER",
 *     AWS_SECRET_ACCESS_KEY: "S3RVER",
 *   },
 * });
 * // destination.kind === "s3", bucket "lake", prefix "raw/northwind", forcePathStyle true
 * ```
 */
export function parseDestination(text: string, options: DestinationOptions = {}): Destination {
  const path = options.path ?? "output.destination";
  const fail = (message: string): never => {
    throw new ConfigError(`invalid ${path}`, [{ path, message }]);
  };
  const trimmed = text.trim();
  if (trimmed === "") fail("must not be empty; use s3://bucket/prefix or a folder path");
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === "s3") return parseS3(trimmed, options.env ?? Deno.env.toObject(), fail);
  if (scheme === "file") {
    let root: string;
    try {
      root = fileURLToPath(trimmed);
    } catch (error) {
      return fail(
        `${JSON.stringify(trimmed)} is not a usable file URL (${(error as Error).message}); ` +
          `write file:///absolute/path or a plain folder path`,
      );
    }
    return localDestination(root);
  }
  if (scheme !== undefined) {
    return fail(
      `unsupported scheme "${scheme}://" in ${JSON.stringify(redactUrl(trimmed))}; ` +
        `use s3://bucket/prefix, file:///path or a plain folder path`,
    );
  }
  const root = isAbsolute(trimmed) ? trimmed : resolve(options.cwd ?? Deno.cwd(), trimmed);
  return localDestination(root);
}

function localDestination(folder: string): LocalDestination {
  const root = resolve(folder);
  return { kind: "local", url: pathToFileURL(root).href, root };
}

// S3 bucket naming rules (general purpose buckets): 3-63 characters, lower-case letters, digits,
// dots and hyphens, starting and ending with a letter or digit, not shaped like an IP address.
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function parseS3(text: string, env: Env, fail: (message: string) => never): S3Destination {
  const { bucket, prefix } = s3Location(text, fail);
  const endpoint = s3Endpoint(env, fail);
  const region = s3Region(env, fail);
  const { credentials, accessKeyId, secretAccessKey, sessionToken } = s3Credentials(
    env,
    bucket,
    fail,
  );
  return {
    kind: "s3",
    url: prefix === "" ? `s3://${bucket}` : `s3://${bucket}/${prefix}`,
    bucket,
    prefix,
    ...(endpoint === undefined ? {} : { endpoint }),
    region,
    // Custom endpoints (s3rver, MinIO, 127.0.0.1) have no per-bucket DNS names.
    forcePathStyle: endpoint !== undefined,
    accessKeyId,
    credentials: () => ({ ...credentials }),
    secrets: () => [secretAccessKey, ...(sessionToken === undefined ? [] : [sessionToken])],
  };
}

/** The bucket and prefix of an `s3://bucket/prefix` URL, each checked. */
function s3Location(
  text: string,
  fail: (message: string) => never,
): { bucket: string; prefix: string } {
  const rest = text.slice("s3://".length);
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const rawPrefix = slash < 0 ? "" : rest.slice(slash + 1);
  if (authority.includes("@")) {
    fail(
      `credentials do not belong in ${JSON.stringify(redactUrl(text))}; write s3://bucket/prefix ` +
        `and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment`,
    );
  }
  const bucket = authority;
  if (bucket === "") fail(`${JSON.stringify(text)} names no bucket; write s3://bucket/prefix`);
  if (bucket.length < 3 || bucket.length > 63) {
    fail(
      `bucket name ${JSON.stringify(bucket)} has ${bucket.length} characters; ` +
        `S3 bucket names have 3 to 63`,
    );
  }
  if (
    !BUCKET_PATTERN.test(bucket) || bucket.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)
  ) {
    fail(
      `bucket name ${JSON.stringify(bucket)} is not valid; use lower-case letters, digits, ` +
        `dots and hyphens, starting and ending with a letter or digit`,
    );
  }
  if (/[?#]/.test(rawPrefix)) {
    fail(`prefix ${JSON.stringify(rawPrefix)} holds "?" or "#"; write s3://bucket/prefix only`);
  }
  const segments = rawPrefix.split("/").filter((segment) => segment !== "");
  if (segments.some((segment) => segment === "." || segment === "..")) {
    fail(`prefix ${JSON.stringify(rawPrefix)} holds "." or ".." segments; write a plain prefix`);
  }
  const prefix = segments.join("/");
  return { bucket, prefix };
}

/** The custom endpoint (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`), checked; none for AWS. */
function s3Endpoint(env: Env, fail: (message: string) => never): string | undefined {
  const endpointVar = ENDPOINT_ENV_VARS.find((name) => nonEmpty(env[name]) !== undefined);
  if (endpointVar) {
    const raw = nonEmpty(env[endpointVar])!;
    let parsed: URL | undefined;
    try {
      parsed = new URL(raw);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      fail(
        `${endpointVar}=${JSON.stringify(redactUrl(raw))} is not an http(s) URL; ` +
          `set it like http://127.0.0.1:4568 or unset it to use AWS`,
      );
    }
    if (parsed!.username || parsed!.password) {
      fail(
        `${endpointVar} must not hold credentials (${redactUrl(raw)}); ` +
          `set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead`,
      );
    }
    return parsed!.href.replace(/\/$/, "");
  }
  return undefined;
}

/** The region (`AWS_REGION`, `AWS_DEFAULT_REGION`), checked. */
function s3Region(env: Env, fail: (message: string) => never): string {
  const regionVar = REGION_ENV_VARS.find((name) => nonEmpty(env[name]) !== undefined);
  const region = regionVar ? nonEmpty(env[regionVar])! : DEFAULT_REGION;
  if (!/^[a-z0-9-]+$/.test(region)) {
    fail(`${regionVar}=${JSON.stringify(region)} is not a region name; set it like us-east-1`);
  }

  return region;
}

/** The credentials from the environment; a missing key is named. */
function s3Credentials(env: Env, bucket: string, fail: (message: string) => never) {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    const missing = [
      accessKeyId === undefined ? "AWS_ACCESS_KEY_ID" : undefined,
      secretAccessKey === undefined ? "AWS_SECRET_ACCESS_KEY" : undefined,
    ].filter(Boolean).join(" and ");
    fail(
      `${missing} ${missing.includes(" and ") ? "are" : "is"} not set; uploading to ` +
        `s3://${bucket} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment`,
    );
  }
  const credentials: S3Credentials = {
    accessKeyId: accessKeyId!,
    secretAccessKey: secretAccessKey!,
    ...(sessionToken === undefined ? {} : { sessionToken }),
  };
  return {
    credentials,
    accessKeyId: accessKeyId!,
    secretAccessKey: secretAccessKey!,
    sessionToken,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}
