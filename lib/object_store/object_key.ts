/**
 * Object keys of uploaded files: `<prefix>/<asset>/load_date=YYYY-MM-DD/
 * load_time=HHMMSS/<rest>`, stamped with the run's load time in UTC, so every run lands in its
 * own folder and a reader can find the newest load by listing. Pure.
 * @module
 */
/** The `load_date` / `load_time` values of a load time (UTC; same text as the sinks' partitions). */
export interface LoadStamp {
  /** `YYYY-MM-DD`. */
  load_date: string;
  /** `HHMMSS`. */
  load_time: string;
}

/**
 * The load stamp of a time, in UTC.
 *
 * @example
 * ```ts
 * import { loadStamp } from "./object_key.ts";
 * loadStamp(new Date("2026-11-23T10:15:00Z")); // { load_date: "2026-11-23", load_time: "101500" }
 * ```
 */
export function loadStamp(loadTime: Date): LoadStamp {
  if (Number.isNaN(loadTime.getTime())) {
    throw new RangeError("load time is an invalid Date; pass the run's start time");
  }
  const iso = loadTime.toISOString();
  return {
    load_date: iso.slice(0, 10),
    load_time: `${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`,
  };
}

/** Options of {@link objectKey}. */
export interface ObjectKeyOptions {
  /** The destination's key prefix (no leading or trailing `/`). @default "" */
  prefix?: string;
  /** The run's load time, stamped into the key. */
  loadTime: Date;
}

/**
 * The full object key of a file given its key relative to the destination: the first segment
 * is the asset, and `load_date=…/load_time=…` goes right after it. A relative key that already
 * holds a `load_date=` segment (a sink partitioned by `load_date`) is not stamped twice.
 * Backslashes are read as `/`; empty, `.` and `..` segments are an error.
 *
 * @example
 * ```ts
 * import { objectKey } from "./object_key.ts";
 * objectKey("Orders/ShipCountry=USA/part-r1-00001.parquet", {
 *   prefix: "raw/northwind",
 *   loadTime: new Date("2026-11-23T10:15:00Z"),
 * });
 * // "raw/northwind/Orders/load_date=2026-11-23/load_time=101500/ShipCountry=USA/part-r1-00001.parquet"
 * ```
 */
export function objectKey(relativeKey: string, options: ObjectKeyOptions): string {
  const segments = relativeKey.replace(/\\/g, "/").split("/");
  if (
    relativeKey === "" || segments.some((s) => s === "" || s === "." || s === "..")
  ) {
    throw new RangeError(
      `${JSON.stringify(relativeKey)} is not a relative object key; ` +
        `pass <asset>/<file> with no empty, "." or ".." segments`,
    );
  }
  const stamp = loadStamp(options.loadTime);
  const stamped = segments.some((s) => s.startsWith("load_date="))
    ? segments
    : segments.length === 1
    ? [`load_date=${stamp.load_date}`, `load_time=${stamp.load_time}`, ...segments]
    : [
      segments[0],
      `load_date=${stamp.load_date}`,
      `load_time=${stamp.load_time}`,
      ...segments.slice(1),
    ];
  const prefix = (options.prefix ?? "").replace(/^\/+|\/+$/g, "");
  return prefix === "" ? stamped.join("/") : `${prefix}/${stamped.join("/")}`;
}
