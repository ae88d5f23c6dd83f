/**
 * The mock's own seeded PRNG (mulberry32): generated data must be identical for the same seed on
 * every machine and Deno version, which `Math.random` cannot promise.
 * @module
 */

/**
 * Returns a generator of floats in [0, 1) determined entirely by `seed` (any 32-bit integer).
 *
 * @example
 * ```ts
 * const random = createRandom(42);
 * const dice = 1 + Math.floor(random() * 6);
 * ```
 */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a seed with a string (FNV-1a) so each stream (a user, a post type) gets its own seed. */
export function deriveSeed(seed: number, label: string): number {
  let hash = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
