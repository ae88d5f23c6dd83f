/**
 * HS256 JSON Web Tokens for the mock's `jwt` and `oauth2` auth modes, signed and verified with
 * WebCrypto. Times are fractional epoch seconds (RFC 7519 allows non-integer NumericDate) so a
 * token expires at the exact millisecond of the injected clock, which tests depend on.
 * @module
 */
import { Buffer } from "node:buffer";

/** The claims the mock puts in its tokens. */
export interface TokenClaims {
  /** Who the token was issued to (user name or OAuth2 client id); rate limits key on it. */
  sub: string;
  /** Access tokens authenticate requests; refresh tokens only buy new access tokens. */
  typ: "access" | "refresh";
  /** Issued at, epoch seconds (fractional). */
  iat: number;
  /** Expires at, epoch seconds (fractional). */
  exp: number;
}

/** What {@link JwtSigner.verify} finds in a token. */
export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: "malformed" | "bad signature" };

/** Signs and verifies HS256 tokens with one secret. */
export interface JwtSigner {
  /** Signs `claims` into a compact JWT. */
  sign(claims: TokenClaims): Promise<string>;
  /** Checks the signature and shape of `token` (not its expiry: the caller owns the clock). */
  verify(token: string): Promise<TokenCheck>;
}

const HEADER = base64url(new TextEncoder().encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

function isClaims(value: unknown): value is TokenClaims {
  const v = value as Partial<TokenClaims> | null;
  return typeof v === "object" && v !== null && typeof v.sub === "string" &&
    (v.typ === "access" || v.typ === "refresh") && typeof v.iat === "number" &&
    typeof v.exp === "number";
}

/**
 * Creates an HS256 signer for `secret`.
 *
 * @example
 * ```ts
 * const signer = createJwtSigner("secret");
 * const token = await signer.sign({ sub: "ada", typ: "access", iat: 0, exp: 60 });
 * (await signer.verify(token)).ok; // true
 * ```
 */
export function createJwtSigner(secret: string): JwtSigner {
  const key = crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  return {
    async sign(claims) {
      const payload = base64url(new TextEncoder().encode(JSON.stringify(claims)));
      const signingInput = `${HEADER}.${payload}`;
      const signature = await crypto.subtle.sign(
        "HMAC",
        await key,
        new TextEncoder().encode(signingInput),
      );
      return `${signingInput}.${base64url(new Uint8Array(signature))}`;
    },
    async verify(token) {
      const parts = token.split(".");
      if (parts.length !== 3 || parts[0] !== HEADER) return { ok: false, reason: "malformed" };
      const signature = Buffer.from(parts[2], "base64url");
      const valid = await crypto.subtle.verify(
        "HMAC",
        await key,
        signature,
        new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
      );
      if (!valid) return { ok: false, reason: "bad signature" };
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
      } catch {
        return { ok: false, reason: "malformed" };
      }
      return isClaims(claims) ? { ok: true, claims } : { ok: false, reason: "malformed" };
    },
  };
}
