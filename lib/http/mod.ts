/**
 * The HTTP layer (docs/design.md §5): one resilient request — retry policy with full-jitter backoff,
 * `Retry-After` and rate-limit reset headers, a run-wide retry budget, an adaptive client rate
 * limiter, auth providers and conditional requests — and the `HttpClient` session that bundles
 * them for a run.
 *
 * @example
 * ```ts
 * import { HttpClient, RateLimitedError } from "./mod.ts";
 * const client = new HttpClient({ baseUrl: "http://127.0.0.1:9000", auth: { type: "none" } });
 * try {
 *   const page = await client.fetch({ url: "/northwind/Orders.json", params: { _size: 100 } });
 *   console.log(page.status, page.attempts.length);
 * } catch (error) {
 *   if (error instanceof RateLimitedError) console.log("skip until", error.retryAt);
 *   else throw error;
 * }
 * ```
 * @module
 */
export {
  type FetchFunction,
  fetchResilient,
  type FetchResilientOptions,
  type RetryEvent,
} from "./fetch_resilient.ts";
export {
  HttpClient,
  type HttpClientOptions,
  type HttpClientRequestOptions,
  type HttpClientStats,
} from "./client.ts";
export {
  HttpError,
  type HttpErrorDetails,
  type HttpFailure,
  RateLimitedError,
} from "./http_error.ts";
export {
  type AttemptKind,
  buildUrl,
  type HttpAttempt,
  type HttpRequest,
  type HttpResult,
  type ParamValue,
  requestKey,
} from "./request.ts";
export { type Clock, systemClock } from "../core/clock.ts";
export {
  type AuthProvider,
  type AuthProviderOptions,
  type AuthTarget,
  createAuthProvider,
  noAuth,
  type RefreshOptions,
  type TokenSender,
} from "./auth.ts";
export {
  ApiKeyAuth,
  type ApiKeyAuthOptions,
  BasicAuth,
  BearerAuth,
  type StaticAuthOptions,
} from "./auth_static.ts";
export { OAuth2ClientCredentialsAuth, type OAuth2Options } from "./auth_oauth2.ts";
export { LoginAuth, type LoginAuthOptions } from "./auth_login.ts";
export { type EtagStore, MemoryEtagStore } from "./etag_store.ts";
export {
  type AcquireOptions,
  type Limiter,
  RateLimiter,
  type RateLimiterOptions,
  type RateLimitObservation,
  type RateLimitSnapshot,
  type RateLimitTicket,
  RateLimitWaitTooLong,
} from "./rate_limiter.ts";
export { RetryBudget, type RetryBudgetOptions } from "./retry_budget.ts";
export {
  type AttemptOutcome,
  decideRetry,
  RETRYABLE_STATUSES,
  type RetryContext,
  type RetryDecision,
} from "./retry_policy.ts";
export { backoffCeiling, type BackoffOptions, fullJitterBackoff } from "./backoff.ts";
export {
  parseResetValue,
  parseRetryAfter,
  type RateLimitInfo,
  readRateLimit,
  type WaitHint,
  waitHint,
} from "./retry_after.ts";
export type {
  AuthConfig,
  AuthConfigInput,
  RateLimitConfig,
  RateLimitConfigInput,
  RetryConfig,
  RetryConfigInput,
} from "./schema.ts";
export { isSensitiveParam, REDACTED, redactText, redactUrl } from "../core/redact.ts";
export {
  type AuthContext,
  type AuthKind,
  authKind,
  authKinds,
  registerAuth,
} from "./auth_registry.ts";
