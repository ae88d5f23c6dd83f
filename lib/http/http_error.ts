/**
 * Failures of the HTTP layer. Every failure of a request — a refused status, attempts or budget
 * spent, a network error, a failed login — is an `HttpError` with the redacted URL, the status,
 * the attempts and the first bytes of the body; a wait too long to sleep is a `RateLimitedError`
 * that says when to come back (the harvester records it as a skip).
 * @module
 */
import { TidemarkError } from "../core/errors.ts";
import type { HttpAttempt } from "./request.ts";

/** Why a request failed. */
export type HttpFailure =
  | "status" // a status that is not retried (4xx other than 401/408/429), or 401 after refreshes
  | "attempts" // retry.max_attempts used up
  | "budget" // the run's retry budget is spent
  | "rate_limited" // the server asks for a wait above rate_limit.max_wait_s
  | "auth" // a token could not be obtained
  | "aborted" // the caller's signal aborted
  | "request" // the request itself is malformed (bad URL)
  | "too_large"; // the body exceeds retry.max_body_mb

/** Details of an {@linkcode HttpError}. */
export interface HttpErrorDetails {
  /** The URL with secrets redacted. */
  url: string;
  /** The method. */
  method: string;
  /** Why it failed. */
  reason: HttpFailure;
  /** The last HTTP status received, if any. */
  status?: number;
  /** Every attempt made. */
  attempts: HttpAttempt[];
  /** The first 200 bytes of the last body, decoded and redacted. */
  bodyStart?: string;
}

/** A request that failed for good. Exit code 3. */
export class HttpError extends TidemarkError {
  /** 3: a request failed for good. */
  override exitCode = 3;
  /** The URL with secrets redacted. */
  readonly url: string;
  /** The method. */
  readonly method: string;
  /** Why it failed. */
  readonly reason: HttpFailure;
  /** The last HTTP status received, if any. */
  readonly status?: number;
  /** Every attempt made. */
  readonly attempts: HttpAttempt[];
  /** The first 200 bytes of the last body, decoded and redacted ("" when none). */
  readonly bodyStart: string;
  /** Builds an HTTP error; `message` must already be redacted. */
  constructor(message: string, details: HttpErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.url = details.url;
    this.method = details.method;
    this.reason = details.reason;
    this.status = details.status;
    this.attempts = details.attempts;
    this.bodyStart = details.bodyStart ?? "";
  }
}

/** The server asks for a wait longer than `rate_limit.max_wait_s`: come back at `retryAt`. */
export class RateLimitedError extends HttpError {
  /** When the server will accept requests again. */
  readonly retryAt: Date;
  /** The wait the server asked for, in milliseconds. */
  readonly waitMs: number;
  /** The header that said so (`Retry-After`, `x-rate-limit-reset`, ...). */
  readonly header?: string;
  /** Builds a rate-limited error. */
  constructor(
    message: string,
    details: HttpErrorDetails & { retryAt: Date; waitMs: number; header?: string },
    options?: ErrorOptions,
  ) {
    super(message, details, options);
    this.retryAt = details.retryAt;
    this.waitMs = details.waitMs;
    this.header = details.header;
  }
}
