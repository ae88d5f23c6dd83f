/**
 * Conditional requests: the validator of every response, keyed by method
 * and URL with sorted parameters, sent back as `If-None-Match`; a 304 means "unchanged".
 * @module
 */

/** Where validators live between requests (memory, or the run's state store). */
export interface EtagStore {
  /** The stored validator of a request key, if any. */
  get(key: string): string | undefined;
  /** Stores the validator of a request key. */
  set(key: string, etag: string): void;
}

/**
 * An in-memory {@linkcode EtagStore}; seed it with entries saved by an earlier run.
 *
 * @example
 * ```ts
 * import { MemoryEtagStore } from "./etag_store.ts";
 * const store = new MemoryEtagStore();
 * store.set("GET http://127.0.0.1:9000/northwind/Orders.json?_size=10", 'W/"abc"');
 * store.get("GET http://127.0.0.1:9000/northwind/Orders.json?_size=10"); // 'W/"abc"'
 * ```
 */
export class MemoryEtagStore implements EtagStore {
  readonly #entries: Map<string, string>;

  /** Builds a store, optionally with entries from an earlier run. */
  constructor(entries?: Iterable<[string, string]>) {
    this.#entries = new Map(entries ?? []);
  }

  /** The stored validator of `key`. */
  get(key: string): string | undefined {
    return this.#entries.get(key);
  }

  /** Stores the validator of `key`. */
  set(key: string, etag: string): void {
    this.#entries.set(key, etag);
  }

  /** Every stored entry, to save for the next run. */
  entries(): [string, string][] {
    return [...this.#entries];
  }

  /** Number of stored validators. */
  get size(): number {
    return this.#entries.size;
  }
}
