/**
 * Key-range partitions (`partition: { by: OrderID, parts: 4 }`): the smallest and largest key are
 * found with one sorted, size-1 request at each end (Datasette `_sort` / `_sort_desc` with
 * `_size=1`; the parameter names are configurable), and the span is cut into half-open ranges
 * sent as `OrderID__gte` / `OrderID__lt` filters. The first range has no lower bound and the last
 * no upper bound, so a row inserted outside the probed span while the run goes on is still read
 * by exactly one range. Keys are BigInt all the way (ids above 2^53 stay exact).
 * @module
 */
import type { PartitionConfig } from "../config/schema.ts";
import { PaginationError } from "../core/errors.ts";
import type { HttpClient } from "../http/client.ts";
import type { HttpResult } from "../http/request.ts";
import { select } from "../core/select.ts";

/** One range of keys: a partition of the asset, with the filters that select it. */
export interface KeyRange {
  /** 0-based position. */
  index: number;
  /** Partition key for state and manifest: `OrderID<10455`, `OrderID>=10455<10662`, `OrderID>=10662`. */
  key: string;
  /** Inclusive lower bound (text of an integer), or null for none. */
  lower: string | null;
  /** Exclusive upper bound, or null for none. */
  upper: string | null;
  /** Query parameters selecting the range. */
  params: Record<string, string>;
}

/** Options of {@link splitKeyRange}. */
export interface SplitKeyRangeOptions {
  /** Parameter of the inclusive lower bound. @default "<by>__gte" */
  lowerParam?: string;
  /** Parameter of the exclusive upper bound. @default "<by>__lt" */
  upperParam?: string;
}

/**
 * Cuts `[min, max]` into at most `parts` ranges of (nearly) equal width. Fewer keys than parts
 * give fewer ranges; one range has no filter at all.
 *
 * @example
 * ```ts
 * import { splitKeyRange } from "./key_ranges.ts";
 * splitKeyRange("OrderID", 10248n, 11077n, 2).map((r) => r.key);
 * // ["OrderID<10663", "OrderID>=10663"]
 * ```
 */
export function splitKeyRange(
  by: string,
  min: bigint,
  max: bigint,
  parts: number,
  options: SplitKeyRangeOptions = {},
): KeyRange[] {
  if (max < min) [min, max] = [max, min];
  const lowerParam = options.lowerParam ?? `${by}__gte`;
  const upperParam = options.upperParam ?? `${by}__lt`;
  const span = max - min + 1n;
  const count = BigInt(Math.max(1, Math.min(parts, Number(span > 256n ? 256n : span))));
  const width = (span + count - 1n) / count;
  const cuts: bigint[] = [];
  for (let i = 1n; i < count; i++) {
    const cut = min + i * width;
    if (cut <= max) cuts.push(cut);
  }
  if (cuts.length === 0) return [{ index: 0, key: "", lower: null, upper: null, params: {} }];
  const bounds: (bigint | null)[] = [null, ...cuts, null];
  const ranges: KeyRange[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const lower = bounds[i];
    const upper = bounds[i + 1];
    const params: Record<string, string> = {};
    if (lower !== null) params[lowerParam] = lower.toString();
    if (upper !== null) params[upperParam] = upper.toString();
    ranges.push({
      index: i,
      key: `${by}${lower !== null ? `>=${lower}` : ""}${upper !== null ? `<${upper}` : ""}`,
      lower: lower?.toString() ?? null,
      upper: upper?.toString() ?? null,
      params,
    });
  }
  return ranges;
}

/** Where and how to probe an asset's key span. */
export interface ProbeRequest {
  /** Absolute URL of the asset. */
  url: string;
  /** The asset's query parameters (filters included; page size and cursor are replaced). */
  params: Record<string, string>;
  /** HTTP method. @default "GET" */
  method?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Where the records are in the body. */
  dataPath: string;
}

/** Options of {@link probeKeyRange}. */
export interface ProbeOptions {
  /** Aborts the probe. */
  signal?: AbortSignal;
  /** Names the asset in errors. @default "partition" */
  label?: string;
  /** The asset, for limiters keyed per asset. */
  scope?: string;
  /**
   * Called with each probe's response before it is used (the harvest snapshots it and writes
   * its manifest line): which end it asked for, the result, the params sent, the records held.
   */
  onResponse?(
    end: "key_min" | "key_max",
    response: { result: HttpResult; params: Record<string, string>; records: number },
  ): Promise<void>;
}

/**
 * The smallest and largest `partition.by` key of an asset (two requests), or null when it has no
 * rows. Uses `partition.min` / `partition.max` when configured instead of asking.
 */
export async function probeKeyRange(
  client: HttpClient,
  request: ProbeRequest,
  partition: PartitionConfig,
  options: ProbeOptions = {},
): Promise<{ min: bigint; max: bigint } | null> {
  const label = options.label ?? "partition";
  const ask = async (sortParam: string, end: "key_min" | "key_max"): Promise<bigint | null> => {
    const params: Record<string, string> = { ...request.params };
    params[sortParam] = partition.by;
    params[partition.size_param ?? "_size"] = "1";
    const result = await client.fetch({
      url: request.url,
      params,
      method: request.method,
      headers: request.headers,
      conditional: false,
      scope: options.scope,
    }, { signal: options.signal });
    const records = select(result.json, request.dataPath);
    await options.onResponse?.(end, {
      result,
      params,
      records: Array.isArray(records) ? records.length : 0,
    });
    if (!Array.isArray(records) || records.length === 0) return null;
    return keyValue(select(records[0], partition.by), partition.by, label);
  };
  const min = partition.min !== undefined
    ? BigInt(partition.min)
    : await ask(partition.sort_param ?? "_sort", "key_min");
  if (min === null) return null;
  const max = partition.max !== undefined
    ? BigInt(partition.max)
    : await ask(partition.sort_desc_param ?? "_sort_desc", "key_max");
  if (max === null) return null;
  return { min, max };
}

function keyValue(value: unknown, by: string, label: string): bigint {
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value === "bigint") return value;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return BigInt(value.trim());
  throw new PaginationError(
    `${label}: partition.by "${by}" must be a whole-number key to split into ranges, got ${
      JSON.stringify(value) ?? "nothing"
    }; partition on an integer column or remove partition`,
  );
}
