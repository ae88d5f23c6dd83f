/**
 * Per-user timelines with snowflake ids: 19-digit decimals above 2^53, computed with
 * BigInt and kept as strings, so a client that turns them into JS numbers loses precision. Posts
 * come in bursts within one millisecond, whose ids differ only in the sequence bits — as numbers
 * they collapse into one. Users are generated on first use from the seed and the user id; the
 * store is mutable so `POST` can add posts.
 * @module
 */
import { createRandom, deriveSeed } from "./random.ts";

/** One post as the API serves it. */
export interface TimelinePost {
  /** Snowflake id as a decimal string. */
  id: string;
  text: string;
  /** ISO 8601 with milliseconds, UTC. */
  created_at: string;
}

/** Twitter's snowflake epoch (2010-11-04T01:42:54.657Z). */
export const SNOWFLAKE_EPOCH_MS = 1288834974657n;
/** Generated timelines end here; posts added later take the clock's time. */
const TIMELINE_END = Date.UTC(2024, 4, 31, 18, 0, 0);
const WORKER_BITS = 5n << 12n;
const PHRASES = [
  "shipping the new harvester",
  "rate limits are a contract",
  "retries need jitter",
  "watermarks only move forward",
  "raw snapshots save the day",
  "parquet all the things",
  "idempotent by construction",
  "the cursor is the state",
];

/** The snowflake id of a millisecond and sequence number. */
export function snowflake(ms: number | bigint, sequence: number): bigint {
  return ((BigInt(ms) - SNOWFLAKE_EPOCH_MS) << 22n) | WORKER_BITS | BigInt(sequence & 0xfff);
}

/** The millisecond a snowflake id was made in. */
export function snowflakeTime(id: bigint): number {
  return Number((id >> 22n) + SNOWFLAKE_EPOCH_MS);
}

interface StoredPost {
  id: bigint;
  text: string;
  createdAt: string;
}

/** Options of {@linkcode createTimelineStore}. */
export interface TimelineStoreOptions {
  /** Smallest generated timeline. @default 150 */
  minPosts?: number;
  /** Largest generated timeline. @default 350 */
  maxPosts?: number;
}

/** The posts of every user, oldest first, generated lazily. */
export interface TimelineStore {
  /** The user's posts, newest first, with ids as BigInt for comparisons. */
  posts(userId: string): readonly { id: bigint; post: TimelinePost }[];
  /** Adds a post made at `nowMs` (or just after the newest, if the clock is behind); returns it. */
  add(userId: string, text: string, nowMs: number): TimelinePost;
}

function generate(seed: number, userId: string, options: TimelineStoreOptions): StoredPost[] {
  const random = createRandom(deriveSeed(seed, `timeline:${userId}`));
  const min = options.minPosts ?? 150;
  const max = options.maxPosts ?? 350;
  const count = min + Math.floor(random() * (max - min + 1));
  // Walk back from the end: 10 minutes to 3 days apart, or a burst in the same millisecond.
  const times: { ms: number; sequence: number }[] = [];
  let ms = TIMELINE_END - Math.floor(random() * 86_400_000);
  let sequence = 0;
  for (let i = 0; i < count; i++) {
    times.push({ ms, sequence });
    if (random() < 0.15) {
      sequence++;
    } else {
      ms -= 600_000 + Math.floor(random() * 3 * 86_400_000);
      sequence = 0;
    }
  }
  // A burst was walked backwards: renumber each millisecond's sequence oldest first.
  times.reverse();
  const posts: StoredPost[] = [];
  for (let i = 0; i < times.length; i++) {
    const same = i > 0 && times[i - 1].ms === times[i].ms;
    const seq = same ? Number(posts[i - 1].id & 0xfffn) + 1 : 0;
    const phrase = PHRASES[Math.floor(random() * PHRASES.length)];
    posts.push({
      id: snowflake(times[i].ms, seq),
      text: `${phrase} (#${i + 1} by user ${userId})`,
      createdAt: new Date(times[i].ms).toISOString(),
    });
  }
  return posts;
}

/**
 * A timeline store for `seed`: the same seed and user id always give the same posts.
 *
 * @example
 * ```ts
 * const store = createTimelineStore(42);
 * const newest = store.posts("2244994945")[0].post.id; // "1796…", 19 digits
 * ```
 */
export function createTimelineStore(
  seed: number,
  options: TimelineStoreOptions = {},
): TimelineStore {
  const users = new Map<string, StoredPost[]>();
  const views = new Map<string, { id: bigint; post: TimelinePost }[]>();
  function stored(userId: string): StoredPost[] {
    let posts = users.get(userId);
    if (!posts) {
      posts = generate(seed, userId, options);
      users.set(userId, posts);
    }
    return posts;
  }
  return {
    posts(userId) {
      let view = views.get(userId);
      if (!view) {
        view = stored(userId).map((p) => ({
          id: p.id,
          post: { id: p.id.toString(), text: p.text, created_at: p.createdAt },
        })).reverse();
        views.set(userId, view);
      }
      return view;
    },
    add(userId, text, nowMs) {
      const posts = stored(userId);
      const newest = posts[posts.length - 1]?.id ?? snowflake(TIMELINE_END, 0);
      const fresh = snowflake(Math.max(nowMs, 0), 0);
      // Ids only ever grow, even when the injected clock is behind the newest post.
      const id = fresh > newest ? fresh : newest + 1n;
      const post: StoredPost = { id, text, createdAt: new Date(snowflakeTime(id)).toISOString() };
      posts.push(post);
      views.delete(userId);
      return { id: id.toString(), text, created_at: post.createdAt };
    },
  };
}
