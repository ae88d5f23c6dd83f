/**
 * Reading AWS SDK errors: which are transient (worth a retry), and what a failed preflight means
 * for the user (missing bucket, rejected credentials, unreachable endpoint, wrong region) with
 * the environment variable that fixes it. Every text that leaves here has the secrets masked.
 * @module
 */
import { redactText } from "../core/redact.ts";
import { ENDPOINT_ENV_VARS, REGION_ENV_VARS, type S3Destination } from "./destination.ts";
import { RetriesExhausted } from "./transient_retry.ts";

/** An SDK or network error reduced to what a message needs. */
export interface S3Failure {
  /** S3 error code (`NoSuchBucket`), network code (`ECONNREFUSED`) or error name. */
  code: string;
  /** HTTP status, when a response came back. */
  status?: number;
  /** The error's own message, secrets masked. */
  detail: string;
  /** Attempts made (more than 1 when transient errors were retried). */
  attempts: number;
}

const TRANSIENT_CODES = new Set([
  "InternalError",
  "ServiceUnavailable",
  "SlowDown",
  "RequestTimeout",
  "RequestTimeoutException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TimeoutError",
]);

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "UND_ERR_SOCKET",
]);

const CREDENTIAL_CODES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "InvalidToken",
  "ExpiredToken",
  "TokenRefreshRequired",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

/** Reduces an SDK, network or retry error to code, status and a masked message. */
export function describeS3Error(error: unknown, secrets: readonly string[] = []): S3Failure {
  let attempts = 1;
  let inner = error;
  if (error instanceof RetriesExhausted) {
    attempts = error.attempts;
    inner = error.last;
  }
  const shape = (typeof inner === "object" && inner !== null ? inner : {}) as SdkErrorShape;
  const status = typeof shape.$metadata?.httpStatusCode === "number"
    ? shape.$metadata.httpStatusCode
    : undefined;
  const networkCode = findNetworkCode(inner);
  const name = typeof shape.name === "string" ? shape.name : "Error";
  const code = networkCode ??
    (typeof shape.code === "string" && shape.code !== "" ? shape.code : undefined) ??
    (name === "Error" || name === "Unknown" ? (status ? `HTTP ${status}` : "Error") : name);
  const rawMessage = typeof shape.message === "string" ? shape.message : String(inner);
  return {
    code,
    ...(status === undefined ? {} : { status }),
    detail: redactText(rawMessage, secrets),
    attempts,
  };
}

// Node-style errors carry `code`; the SDK sometimes wraps them (`cause`, AggregateError).
function findNetworkCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
  const nested = (error as { errors?: unknown }).errors;
  if (Array.isArray(nested)) {
    for (const item of nested) {
      const found = findNetworkCode(item, depth + 1);
      if (found) return found;
    }
  }
  return findNetworkCode((error as { cause?: unknown }).cause, depth + 1);
}

/** Whether an object-storage error is worth another attempt: 5xx, 429, throttling, timeouts, network. */
export function isTransientS3Error(error: unknown): boolean {
  const failure = describeS3Error(error);
  if (failure.status !== undefined && (failure.status >= 500 || failure.status === 429)) {
    return true;
  }
  return TRANSIENT_CODES.has(failure.code) ||
    (NETWORK_CODES.has(failure.code) && failure.code !== "ENOTFOUND");
}

/** Where requests go, for messages: the custom endpoint, or AWS and its region. */
export function endpointLabel(destination: S3Destination): string {
  return destination.endpoint ?? `AWS S3 (region ${destination.region})`;
}

function tail(accessKeyId: string): string {
  // The key id names a key and is not secret, but its last characters are enough to tell which.
  return accessKeyId.length > 4 ? `…${accessKeyId.slice(-4)}` : "…";
}

function codeText(failure: S3Failure): string {
  const parts = [failure.code];
  if (failure.status !== undefined && failure.code !== `HTTP ${failure.status}`) {
    parts.push(`HTTP ${failure.status}`);
  }
  return parts.join(", ");
}

/**
 * What a failed preflight call means, as one sentence that names the cause and the fix
 * (environment variable names, never their secret values).
 */
export function preflightProblem(error: unknown, destination: S3Destination): string {
  const failure = describeS3Error(error, destination.secrets());
  const where = endpointLabel(destination);
  const bucket = destination.bucket;
  const code = codeText(failure);
  const endpointVars = ENDPOINT_ENV_VARS.join(" / ");
  if (NETWORK_CODES.has(failure.code) || failure.code === "TimeoutError") {
    const after = failure.attempts > 1 ? ` after ${failure.attempts} attempts` : "";
    return `cannot reach the object storage endpoint ${where} (${code})${after}; ` +
      (destination.endpoint
        ? `check ${endpointVars} and that the server is running`
        : `check the network, or set ${endpointVars} for an S3-compatible server`);
  }
  if (failure.code === "NoSuchBucket" || (failure.status === 404 && failure.code !== "NoSuchKey")) {
    return `bucket "${bucket}" does not exist at ${where} (${code}); create it ` +
      `(e.g. aws s3 mb s3://${bucket}) or fix the bucket in output.destination`;
  }
  if (CREDENTIAL_CODES.has(failure.code)) {
    return `credentials were rejected by ${where} (${code}) for access key id ` +
      `${tail(destination.accessKeyId)}; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ` +
      `(and AWS_SESSION_TOKEN for temporary credentials) to a valid key pair`;
  }
  if (failure.code === "AccessDenied" || failure.status === 403) {
    return `access denied to bucket "${bucket}" at ${where} (${code}) for access key id ` +
      `${tail(destination.accessKeyId)}; grant it s3:ListBucket and s3:PutObject on the bucket, ` +
      `or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to a key that has them`;
  }
  if (
    failure.code === "PermanentRedirect" || failure.code === "AuthorizationHeaderMalformed" ||
    failure.status === 301
  ) {
    return `bucket "${bucket}" is not in region ${destination.region} (${code}); ` +
      `set ${REGION_ENV_VARS[0]} to the bucket's region`;
  }
  if (failure.code === "RequestTimeTooSkewed") {
    return `${where} rejected the request time (${code}): this machine's clock is off; ` +
      `synchronise it (NTP) and retry`;
  }
  const after = failure.attempts > 1 ? ` after ${failure.attempts} attempts` : "";
  return `listing bucket "${bucket}" at ${where} failed${after} (${code}): ${failure.detail}; ` +
    `check ${endpointVars}, ${REGION_ENV_VARS[0]} and the credentials`;
}
