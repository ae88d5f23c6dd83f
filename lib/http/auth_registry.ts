/**
 * The auth kinds a config may name in `auth.type`. The built-in kinds register here through the
 * same {@link registerAuth} call a user makes for a scheme Tidemark does not know (an HMAC
 * signature, a vendor's token exchange).
 * @module
 */
import { createRegistry, type Registry } from "../core/registry.ts";
import type { StandardSchemaV1 } from "../core/standard_schema.ts";
import type { AuthProvider, TokenSender } from "./auth.ts";
import type { Clock } from "../core/clock.ts";

/** What an auth provider is created with besides its options. */
export interface AuthContext {
  /** Sends token and login requests through the run's HTTP session; throws when there is none. */
  send(): TokenSender;
  /** Time source for token lifetimes. */
  clock?: Clock;
  /** Resolves a URL of the options (a token endpoint) against the config's `base_url`. */
  resolve(url: string): string;
}

/** An auth kind: how its `auth:` options are checked, and how its provider is made. */
export interface AuthKind<C extends { type: string } = { type: string }> {
  /**
   * Checks the whole `auth:` object of this kind, `type` included (and `alias`, the name the
   * manifest records, if the kind takes one); issues are reported at `auth.<field>`.
   */
  schema: StandardSchemaV1<unknown, C>;
  /** The provider for one run. Its secrets must be listed by `secrets()` so they are masked. */
  create(config: NoInfer<C>, context: AuthContext): AuthProvider;
}

/** The auth kinds; the built-ins register first. */
export const authRegistry: Registry<AuthKind> = createRegistry<AuthKind>("auth");

/**
 * Adds an auth kind that configs may name in `auth.type`. Names are lower-case; a name already
 * registered, a built-in included, is refused. Returns a function that removes the kind again.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { registerAuth } from "./auth_registry.ts";
 * registerAuth("signed", {
 *   schema: z.strictObject({ type: z.literal("signed"), key: z.string().min(1) }),
 *   create: (config) => ({
 *     alias: "signed",
 *     maxRefreshes: 0,
 *     apply: (target) => {
 *       target.headers.set("X-Signature", `${config.key}:${target.url.pathname}`);
 *       return Promise.resolve(0);
 *     },
 *     refresh: () => Promise.resolve(),
 *     secrets: () => [config.key],
 *   }),
 * });
 * ```
 */
export function registerAuth<C extends { type: string }>(
  name: string,
  kind: AuthKind<C>,
): () => void {
  return authRegistry.register(name, kind as unknown as AuthKind);
}

/** The kind registered as `name`, or undefined. */
export function authKind(name: string): AuthKind | undefined {
  return authRegistry.get(name);
}

/** Every registered kind's name, in registration order (the built-ins first). */
export function authKinds(): string[] {
  return authRegistry.names();
}
