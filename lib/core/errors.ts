/**
 * Error families of Tidemark. Each carries what is needed to explain the failure in one
 * paragraph (field path, redacted URL, status, first bytes of a body) and the exit code the CLI
 * returns for it.
 * @module
 */

/** Base class: every Tidemark error has an exit code for the CLI. */
export class TidemarkError extends Error {
  /** Exit code the CLI returns when this error ends a command. */
  exitCode = 1;
  /** Builds a Tidemark error with a message and an optional cause. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command-line usage: unknown command or flag, bad value. Exit code 2. */
export class UsageError extends TidemarkError {
  /** The CLI exits with 2: the input is wrong, not the run. */
  override exitCode = 2;
}

/** One problem found in a config: the field path and what is wrong with it. */
export interface ConfigIssue {
  /** Dotted path with indexes, e.g. `assets[0].pagination.type`. */
  path: string;
  /** What is wrong and what is expected. */
  message: string;
}

/**
 * Deno refused a permission the run needs (network to a host, a file outside the granted
 * folders). Not a network failure: retrying cannot help, so it fails at once and names what to
 * grant. Exit code 2.
 */
export class PermissionError extends TidemarkError {
  /** The CLI exits with 2: the input is wrong, not the run. */
  override exitCode = 2;
}

/** A config file or flag set that fails validation. Lists every issue. Exit code 2. */
export class ConfigError extends TidemarkError {
  /** The CLI exits with 2: the input is wrong, not the run. */
  override exitCode = 2;
  /** Every problem found, by field path. */
  readonly issues: ConfigIssue[];
  /** Builds a config error from a summary and the list of issues. */
  constructor(summary: string, issues: ConfigIssue[] = [], options?: ErrorOptions) {
    const lines = issues.map((i) => `  ${i.path ? `${i.path}: ` : ""}${i.message}`);
    super([summary, ...lines].join("\n"), options);
    this.issues = issues;
  }
}

/** State store failure (corrupt file, missing state for a backfill, ...). */
export class StateError extends TidemarkError {}

/**
 * A state store that cannot be opened at all (a PostgreSQL server unreachable, a wrong password,
 * no such database, a schema from a newer Tidemark): a problem of the state's URL or its server,
 * found before anything is written, so it exits 2 like any other setting the run cannot use.
 */
export class StateUnavailableError extends StateError {
  /** 2: the state's URL or server is a setting the run cannot use. */
  override exitCode = 2;
}

/** A record or batch that breaks an asset's data contract beyond the allowed ratio. */
export class ContractError extends TidemarkError {}

/** A SQL extraction failure: bad query, unbound parameter, unreachable database. */
export class SqlError extends TidemarkError {}

/** A provenance check that failed (hash mismatch, missing snapshot or part). */
export class VerifyError extends TidemarkError {}

/** An API whose pagination misbehaves: a repeated cursor, too many pages, a missing next field. */
export class PaginationError extends TidemarkError {}

/** An object-storage failure during a run: an upload or listing that failed after its retries. */
export class ObjectStoreError extends TidemarkError {}
