/**
 * Loads a harvest config: YAML → `${VAR}` / `${VAR:-default}` from an injected environment →
 * zod validation with every problem listed by field path. Secrets are only ever read from the
 * environment; what is kept about them is the variable's name (the auth alias
 * `bearer:API_TOKEN`), never the value in anything that is written out.
 *
 * `${…}` is replaced by a YAML-safe token before parsing and by the value after, so the unquoted
 * form of docs/design.md §7 (`auth: { type: bearer, token: ${API_TOKEN} }`) parses, and a value
 * holding `: ` or `#` cannot change the document's structure.
 * @module
 */
import { ConfigError, type ConfigIssue } from "../core/errors.ts";
import { configSha256 } from "../core/stamps.ts";
import { formatIssues, formatPath, invalidConfig } from "./errors.ts";
import { type Config, type ConfigInput, configSchema } from "./schema.ts";
import { parseYaml } from "./yaml.ts";
import { PARSE_ONCE } from "../core/parse_once.ts";

/** Environment variables as a plain object (tests inject one; the CLI passes `Deno.env.toObject()`). */
export type Env = Record<string, string | undefined>;

/** A config ready for the engine, with what provenance needs to know about it. */
export interface LoadedConfig {
  /** The validated config (defaults applied, env values substituted). */
  config: Config;
  /** sha256 of the file bytes (or of the canonical JSON of a flags-built config). */
  sha256: string;
  /** Where it came from: the file path, or `flags`. */
  source: string;
  /** How the manifest names the credential: `bearer:API_TOKEN`, `none` — never the secret. */
  authAlias: string;
  /** Field path → environment variable name, for every value that came from the environment. */
  envFields: Record<string, string[]>;
  /** The secret values (auth secrets, header values, variables named like secrets), so writers can refuse them. */
  secretValues: string[];
}

/** Options of {@link loadConfig} and {@link parseConfig}. */
export interface LoadConfigOptions {
  /** Environment for `${VAR}`. @default Deno.env.toObject() */
  env?: Env;
}

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions extends LoadConfigOptions {
  /** Name of the source in messages (a file path). @default "config" */
  source?: string;
}

/** Auth fields holding secrets: they must come from `${VAR}`, never be written in the file. */
export const SECRET_AUTH_FIELDS = ["token", "key", "password", "client_secret"] as const;

/** Environment variable names treated as secrets wherever they are used. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|CREDENTIAL|PRIVATE/i;

/**
 * Reads, templates and validates a YAML config file.
 * @example
 * ```ts
 * const { config, authAlias } = await loadConfig("jobs/northwind.yaml", {
 *   env: { API_TOKEN: "super-secret-token" },
 * });
 * ```
 */
export async function loadConfig(
  path: string,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file; check the path or run from the folder that holds it"
      : (error as Error).message;
    throw new ConfigError(`cannot read config ${path}: ${why}`);
  }
  return parseConfig(new TextDecoder().decode(bytes), {
    ...options,
    source: path,
    sha256: configSha256(bytes),
  });
}

/** Parses config text (YAML or JSON); see {@link loadConfig}. Throws {@link ConfigError}. */
export function parseConfig(
  text: string,
  options: ParseConfigOptions & { sha256?: string } = {},
): LoadedConfig {
  const source = options.source ?? "config";
  const { text: tokenized, refs } = tokenizeEnv(text, source);
  // Tokens keep every `${…}` on its line, so the lines and columns of YAML errors match the file.
  const parsed = parseYaml(tokenized);
  if (!parsed.ok) throw invalidConfig(parsed.issues, `YAML in ${source}`);
  const document = parsed.value;
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    throw invalidConfig(
      [{ path: "", message: "expected a mapping at the top (name:, base_url:, assets:)" }],
      source,
    );
  }
  return resolveConfig(document, {
    env: options.env,
    source,
    sha256: options.sha256 ?? configSha256(text),
    refs,
  });
}

/** Options of {@link resolveConfig}. */
export interface ResolveConfigOptions extends ParseConfigOptions {
  /** The config hash to report. @default the canonical JSON hash of `document` */
  sha256?: string;
  /** Tokens standing for `${…}` references (from the YAML step); strings are scanned otherwise. */
  refs?: Map<string, EnvRef>;
}

/**
 * Substitutes `${VAR}` in a parsed document and validates it. Used by {@link parseConfig} and by
 * the flags builder (which makes a document from flags).
 */
export function resolveConfig(document: object, options: ResolveConfigOptions = {}): LoadedConfig {
  const env = options.env ?? Deno.env.toObject();
  const source = options.source ?? "config";
  const sha256 = options.sha256 ?? configSha256(document);
  let refs = options.refs;
  let input: unknown = document;
  if (!refs) {
    // A document built in code: tokenize its strings the same way the YAML step would.
    refs = new Map();
    input = mapStrings(document, (s) => tokenizeEnv(s, source, refs).text);
  }
  const issues: ConfigIssue[] = [];
  const envFields: Record<string, string[]> = {};
  const secretValues = new Set<string>();
  const literalSecrets: string[] = [];
  const substituted = substitute(input, [], refs, env, {
    issues,
    envFields,
    secretValues,
    literalSecrets,
  });
  for (const path of literalSecrets) {
    issues.push({
      path,
      message:
        "a secret written in the config; put it in the environment and write ${VARIABLE} here",
    });
  }
  const parsed = configSchema.safeParse(substituted, PARSE_ONCE);
  if (!parsed.success || issues.length) {
    // Every problem at once: the environment's first, then the schema's (minus fields already
    // reported, whose emptied value would only add noise).
    const reported = new Set(issues.map((i) => i.path));
    const schemaIssues = parsed.success
      ? []
      : formatIssues(parsed.error.issues, substituted, { schema: configSchema })
        .filter((i) => !reported.has(i.path));
    throw invalidConfig([...issues, ...schemaIssues], source);
  }
  const config = parsed.data;
  return {
    config,
    sha256,
    source,
    authAlias: authAliasOf(config, envFields),
    envFields,
    secretValues: [...secretValues].filter((v) => v.length > 0),
  };
}

/** The alias a manifest records for the credential: `auth.alias`, else `<type>:<VARIABLE>`. */
function authAliasOf(config: Config, envFields: Record<string, string[]>): string {
  const auth = config.auth;
  if (auth.type === "none") return "none";
  const kind = auth.type === "custom" ? auth.kind : auth.type;
  const alias = auth.type === "custom" ? auth.options.alias : auth.alias;
  if (typeof alias === "string" && alias !== "") return alias;
  for (const field of SECRET_AUTH_FIELDS) {
    const vars = envFields[`auth.${field}`];
    if (vars?.length) return `${kind}:${vars.join("+")}`;
  }
  return kind;
}

/** One `${NAME}` or `${NAME:-default}` reference. */
export interface EnvRef {
  /** Variable name. */
  name: string;
  /** Value used when the variable is unset or empty. */
  fallback?: string;
}

const TOKEN_PREFIX = "__tidemark_env_";

/**
 * Replaces every `${…}` with a plain-scalar-safe token (`$${` writes a literal `${`).
 * Throws a {@link ConfigError} for malformed references.
 */
function tokenizeEnv(
  text: string,
  source: string,
  refs: Map<string, EnvRef> = new Map(),
): { text: string; refs: Map<string, EnvRef> } {
  let out = "";
  let i = 0;
  const problems: ConfigIssue[] = [];
  while (i < text.length) {
    const start = text.indexOf("$", i);
    if (start < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, start);
    if (text.startsWith("$${", start)) {
      out += "${";
      i = start + 3;
      continue;
    }
    if (text[start + 1] !== "{") {
      out += "$";
      i = start + 1;
      continue;
    }
    const end = text.indexOf("}", start + 2);
    const line = text.slice(0, start).split("\n").length;
    if (end < 0) {
      problems.push({ path: `line ${line}`, message: 'unclosed "${"; write ${VARIABLE}' });
      out += text.slice(start);
      break;
    }
    const body = text.slice(start + 2, end);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(body);
    if (!m) {
      problems.push({
        path: `line ${line}`,
        message: `bad variable reference "\${${body}}"; write \${NAME} or \${NAME:-default}`,
      });
      i = end + 1;
      continue;
    }
    const token = `${TOKEN_PREFIX}${refs.size}__`;
    refs.set(token, { name: m[1], ...(m[2] !== undefined ? { fallback: m[2] } : {}) });
    out += token;
    i = end + 1;
  }
  if (problems.length) throw invalidConfig(problems, source);
  return { text: out, refs };
}

interface SubstituteState {
  issues: ConfigIssue[];
  envFields: Record<string, string[]>;
  secretValues: Set<string>;
  literalSecrets: string[];
}

const TOKEN_PATTERN = new RegExp(`${TOKEN_PREFIX}\\d+__`, "g");

function substitute(
  value: unknown,
  path: (string | number)[],
  refs: Map<string, EnvRef>,
  env: Env,
  state: SubstituteState,
): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => substitute(v, [...path, i], refs, env, state));
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (TOKEN_PATTERN.test(key)) {
        TOKEN_PATTERN.lastIndex = 0;
        state.issues.push({
          path: formatPath([...path, key.replace(TOKEN_PATTERN, "${…}")]),
          message: "variables are not allowed in keys; use them in values",
        });
        continue;
      }
      out[key] = substitute(v, [...path, key], refs, env, state);
    }
    return out;
  }
  const isAuthSecret = path.length === 2 && path[0] === "auth" &&
    (SECRET_AUTH_FIELDS as readonly string[]).includes(String(path[1]));
  const isHeader = path.includes("headers");
  if (typeof value !== "string") {
    if (isAuthSecret) state.literalSecrets.push(formatPath(path));
    return value;
  }
  const where = formatPath(path);
  let usedVars = 0;
  const whole = value.match(TOKEN_PATTERN)?.[0] === value;
  const result = value.replace(TOKEN_PATTERN, (token) => {
    const ref = refs.get(token);
    if (!ref) return token;
    usedVars++;
    (state.envFields[where] ??= []).push(ref.name);
    const raw = env[ref.name];
    const resolved = raw === undefined || raw === "" ? ref.fallback : raw;
    if (resolved === undefined) {
      state.issues.push({
        path: where,
        message:
          `environment variable ${ref.name} is not set; export it or write \${${ref.name}:-default}`,
      });
      return "";
    }
    if (isAuthSecret || isHeader || SECRET_NAME.test(ref.name)) state.secretValues.add(resolved);
    return resolved;
  });
  if (isAuthSecret && usedVars === 0 && value !== "") state.literalSecrets.push(where);
  // `workers: ${WORKERS}` should validate as the number it holds, like the YAML it stands in for.
  if (whole && !isAuthSecret && path[0] !== "auth" && /^-?\d+(\.\d+)?$/.test(result)) {
    return Number(result);
  }
  if (whole && !isAuthSecret && (result === "true" || result === "false")) return result === "true";
  return result;
}

function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === "string") return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  }
  return value;
}

/**
 * A config written in TypeScript rather than YAML: the same fields, checked the same way, with
 * `${VAR}` references substituted from `options.env` (default the process environment).
 *
 * @example
 * ```ts
 * import { defineConfig } from "./load.ts";
 * const loaded = defineConfig({
 *   name: "northwind",
 *   base_url: "http://127.0.0.1:9000",
 *   auth: { type: "bearer", token: "${API_TOKEN}" },
 *   assets: [{ name: "Orders", path: "/northwind/Orders.json", data_path: "rows" }],
 * }, { env: { API_TOKEN: "super-secret-token" } });
 * ```
 */
export function defineConfig(config: ConfigInput, options: ParseConfigOptions = {}): LoadedConfig {
  return resolveConfig(config, options);
}
