/**
 * Page-number partitions (`pagination: { type: page }` with `partition: { by: page, parts: N }`):
 * once the first response gives the total number of pages (WordPress `X-WP-TotalPages`, a
 * `total_pages` field), the remaining known page numbers are cut into N contiguous groups walked
 * concurrently, each group a walk of its own (resumable from its last committed page). Pure.
 * @module
 */
import type { PageRequest, Paginator } from "../paginate/mod.ts";

/** A run of page numbers walked as one partition. */
export interface PageGroup {
  /** 0-based position. */
  index: number;
  /** Partition key: `pages=1`, `pages=2-26`; `""` for one unbounded walk. */
  key: string;
  /** First page number. */
  first: number;
  /** Last page number, or null when the walk ends on its own. */
  last: number | null;
}

/**
 * The groups of an asset whose first page (number `start`) announced `total` pages: the first
 * page alone (already fetched), then the rest in at most `parts` contiguous groups. Without a
 * total, one unbounded walk.
 *
 * @example
 * ```ts
 * import { pageGroups } from "./page_parallel.ts";
 * pageGroups(1, 9, 4).map((g) => g.key); // ["pages=1", "pages=2-3", "pages=4-5", "pages=6-7", "pages=8-9"]
 * ```
 */
export function pageGroups(start: number, total: number | undefined, parts: number): PageGroup[] {
  if (total === undefined) return [{ index: 0, key: "", first: start, last: null }];
  const groups: PageGroup[] = [{ index: 0, key: `pages=${start}`, first: start, last: start }];
  const rest = total - 1;
  if (rest <= 0) return groups;
  const count = Math.max(1, Math.min(parts, rest));
  const width = Math.ceil(rest / count);
  for (let first = start + 1; first < start + total; first += width) {
    const last = Math.min(first + width - 1, start + total - 1);
    groups.push({
      index: groups.length,
      key: first === last ? `pages=${first}` : `pages=${first}-${last}`,
      first,
      last,
    });
  }
  return groups;
}

/**
 * A page paginator that stops after page `last` (null: never), for walking one group. Its
 * cursor is the page number, as the `page` strategy's is.
 */
export function boundedPages(inner: Paginator, last: number | null): Paginator {
  if (last === null) return inner;
  const bounded: Paginator = {
    type: inner.type,
    endStatuses: inner.endStatuses,
    first: (base) => inner.first(base),
    next(prev: PageRequest, response) {
      const next = inner.next(prev, response);
      if (next === "done") return next;
      return Number(next.cursor) > last ? "done" : next;
    },
    resume: (base, from) => inner.resume(base, from),
  };
  return bounded;
}
