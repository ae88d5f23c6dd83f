/**
 * Hive partition paths (`ShipCountry=USA/year=1997/`) from `partition_by` entries: plain
 * columns, values derived from a date column (`year(OrderDate)`, `month(OrderDate)`,
 * `day(OrderDate)`) and the run's load time (`load_date`, `load_time`). Pure.
 *
 * Values are made path-safe by percent-encoding (`/`, `=`, `%`, `:`, control characters, …);
 * null becomes `__null__` and the empty string `__empty__`, so every row has exactly one folder.
 * @module
 */
import { ConfigError, ContractError } from "../core/errors.ts";
import { epochMsOf, formatDatetime } from "./column_types.ts";
import { civilFromDays, formatDays, formatMicros, MICROS_PER_DAY } from "./date_text.ts";
import { cellAt, type VectorBatch, type VectorColumn } from "./vectors.ts";

/** One parsed `partition_by` entry. */
export interface PartitionSpec {
  /** The entry as written, e.g. `year(OrderDate)`. */
  source: string;
  /** The folder key: the column name, or `year`/`month`/`day`/`load_date`/`load_time`. */
  key: string;
  /** What the value is: the column's value, a part of a date column, or the run's load time. */
  kind: "column" | "year" | "month" | "day" | "load_date" | "load_time";
  /** The column read (absent for `load_date`/`load_time`). */
  column?: string;
}

/** Value of a partition whose row holds null. */
export const NULL_PARTITION = "__null__";
/** Value of a partition whose row holds the empty string. */
export const EMPTY_PARTITION = "__empty__";

const DERIVED = /^\s*(year|month|day)\s*\(\s*(.+?)\s*\)\s*$/;
// deno-lint-ignore no-control-regex -- control characters are exactly what must be encoded
const UNSAFE = /[\u0000-\u001f\u007f"#%*/:<=>?\\|]/g;

/**
 * Parses `partition_by` entries; throws {@link ConfigError} naming a bad or repeated entry.
 *
 * @example
 * ```ts
 * import { parsePartitionSpecs } from "./partition.ts";
 * parsePartitionSpecs(["ShipCountry", "year(OrderDate)"]).map((s) => s.key); // ["ShipCountry", "year"]
 * ```
 */
export function parsePartitionSpecs(entries: readonly string[]): PartitionSpec[] {
  const specs: PartitionSpec[] = [];
  const issues: { path: string; message: string }[] = [];
  entries.forEach((source, i) => {
    const spec = parseOne(source);
    if (typeof spec === "string") {
      issues.push({ path: `partition_by[${i}]`, message: spec });
      return;
    }
    const clash = specs.find((s) => s.key === spec.key);
    if (clash) {
      issues.push({
        path: `partition_by[${i}]`,
        message: `"${source}" and "${clash.source}" both make the folder key "${spec.key}"; ` +
          `keep one of them`,
      });
      return;
    }
    specs.push(spec);
  });
  if (issues.length > 0) throw new ConfigError("bad partition_by", issues);
  return specs;
}

function parseOne(source: string): PartitionSpec | string {
  const text = source.trim();
  if (text === "load_date" || text === "load_time") return { source, key: text, kind: text };
  const derived = DERIVED.exec(text);
  if (derived) {
    const kind = derived[1] as "year" | "month" | "day";
    return { source, key: kind, kind, column: derived[2] };
  }
  if (text === "" || /[()]/.test(text)) {
    return `"${source}" is not a column name nor one of year(col), month(col), day(col), ` +
      `load_date, load_time`;
  }
  return { source, key: text, kind: "column", column: text };
}

/**
 * Makes a partition value path-safe: null → `__null__`, "" → `__empty__`, `Date` → ISO-8601,
 * then percent-encodes `/ \ = % : * ? " < > | #`, control characters and a leading dot.
 *
 * @example
 * ```ts
 * import { encodePartitionValue } from "./partition.ts";
 * encodePartitionValue("a/b=c"); // "a%2Fb%3Dc"
 * encodePartitionValue(null); // "__null__"
 * ```
 */
export function encodePartitionValue(value: unknown): string {
  const text = partitionText(value);
  if (text === NULL_PARTITION || text === EMPTY_PARTITION) return text;
  const encoded = text.replace(
    UNSAFE,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
  // "." and ".." are not folder names; a leading dot would hide the folder from readers.
  return encoded.startsWith(".") ? `%2E${encoded.slice(1)}` : encoded;
}

/** The text of a partition value before encoding (what {@link PartitionRow} reports). */
export function partitionText(value: unknown): string {
  if (value === null || value === undefined) return NULL_PARTITION;
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? NULL_PARTITION : value.toISOString();
  }
  if (typeof value === "object") return JSON.stringify(value);
  const text = String(value);
  return text === "" ? EMPTY_PARTITION : text;
}

/** The partition of one group of rows: its folder and its values by key. */
export interface PartitionRow {
  /** Folder relative to the sink's dir, `""` when unpartitioned, e.g. `ShipCountry=USA/year=1997`. */
  path: string;
  /** Values by key, unencoded (`__null__` for null). */
  values: Record<string, string>;
}

/** Rows of a batch grouped by partition. */
export interface PartitionGroup extends PartitionRow {
  /** Row indexes of the batch in this partition, ascending. */
  rows: number[];
}

/** Options of {@link groupByPartition}. */
export interface GroupByPartitionOptions {
  /** Number of rows in the batch. */
  length: number;
  /** Time of the run for `load_date`/`load_time`. @default new Date() */
  loadTime?: Date;
}

/**
 * Groups the rows of a batch by their partition folder, in order of first appearance. Throws
 * {@link ContractError} when a date-derived partition's column holds something not a date.
 *
 * @example
 * ```ts
 * import { groupByPartition, parsePartitionSpecs } from "./partition.ts";
 * const specs = parsePartitionSpecs(["year(OrderDate)"]);
 * groupByPartition(specs, { columns: { OrderDate: ["1996-07-04", "1997-01-02"] }, length: 2 })
 *   .map((g) => g.path); // ["year=1996", "year=1997"]
 * ```
 */
export function groupByPartition(
  specs: readonly PartitionSpec[],
  batch: { columns: Readonly<Record<string, readonly unknown[]>> } & GroupByPartitionOptions,
): PartitionGroup[] {
  const { columns, length } = batch;
  if (specs.length === 0) {
    const rows = new Array<number>(length);
    for (let i = 0; i < length; i++) rows[i] = i;
    return [{ path: "", values: {}, rows }];
  }
  const loadTime = batch.loadTime ?? new Date();
  const perSpec = specs.map((spec) => segmentsOf(spec, columns, length, loadTime));
  const groups = new Map<string, PartitionGroup>();
  for (let i = 0; i < length; i++) {
    let path = "";
    for (let s = 0; s < perSpec.length; s++) {
      path += (s === 0 ? "" : "/") + perSpec[s].segment(i);
    }
    let group = groups.get(path);
    if (!group) {
      const values: Record<string, string> = {};
      for (let s = 0; s < perSpec.length; s++) values[specs[s].key] = perSpec[s].text(i);
      group = { path, values, rows: [] };
      groups.set(path, group);
    }
    group.rows.push(i);
  }
  return [...groups.values()];
}

interface SpecValues {
  segment(row: number): string;
  text(row: number): string;
}

function segmentsOf(
  spec: PartitionSpec,
  columns: Readonly<Record<string, readonly unknown[]>>,
  length: number,
  loadTime: Date,
): SpecValues {
  const key = encodePartitionValue(spec.key);
  if (spec.kind === "load_date" || spec.kind === "load_time") {
    const iso = loadTime.toISOString();
    const text = spec.kind === "load_date"
      ? iso.slice(0, 10)
      : `${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
    const segment = `${key}=${text}`;
    return { segment: () => segment, text: () => text };
  }
  const values = columns[spec.column!] ?? new Array(length);
  const texts: string[] = new Array(length);
  const cache = new Map<unknown, string>();
  for (let i = 0; i < length; i++) {
    const value = values[i];
    if (spec.kind === "column") {
      texts[i] = partitionText(value);
      continue;
    }
    let text = cache.get(value);
    if (text === undefined) {
      text = datePart(spec, value, i);
      // Cache only primitives: two equal Date objects are different keys anyway.
      if (typeof value !== "object" || value === null) cache.set(value, text);
    }
    texts[i] = text;
  }
  const segments = new Map<string, string>();
  return {
    text: (row) => texts[row],
    segment: (row) => {
      const text = texts[row];
      let segment = segments.get(text);
      if (segment === undefined) {
        segment = `${key}=${encodeText(text)}`;
        segments.set(text, segment);
      }
      return segment;
    },
  };
}

function encodeText(text: string): string {
  return text === NULL_PARTITION || text === EMPTY_PARTITION ? text : encodePartitionValue(text);
}

function datePart(spec: PartitionSpec, value: unknown, row: number): string {
  if (value === null || value === undefined) return NULL_PARTITION;
  const ms = epochMsOf(value);
  if (ms === undefined) {
    throw new ContractError(
      `partition ${spec.source} needs a date in column "${spec.column}" but row ${row} holds ` +
        `${
          JSON.stringify(String(value)).slice(0, 60)
        }; partition by a date column or fix the source`,
    );
  }
  const iso = new Date(ms).toISOString();
  return spec.kind === "year"
    ? iso.slice(0, 4)
    : spec.kind === "month"
    ? iso.slice(5, 7)
    : iso.slice(8, 10);
}

/** The rows of a batch in one partition: a range `start..end-1`, or the rows listed. */
export interface VectorGroup extends PartitionRow {
  /** First row. */
  start: number;
  /** One past the last row. */
  end: number;
  /** Rows of the group, ascending; null when they are exactly `start..end-1` (sorted input). */
  rows: Int32Array | null;
}

/**
 * {@link groupByPartition} for a batch of column vectors: the same folders and values, read
 * from typed arrays (a date-derived partition of a date or timestamp column computes the day
 * from the stored number, once per distinct day). A group whose rows are consecutive — every
 * group, when the rows come sorted by the partition column — is returned as a range, which the
 * sink slices without copying. Throws {@link ContractError} when a date-derived partition's
 * column is not a date or timestamp, or a plain column is missing.
 *
 * @example
 * ```ts
 * import { groupVectorsByPartition, parsePartitionSpecs } from "./partition.ts";
 * const days = { name: "d", type: "date" as const, values: Int32Array.of(9681, 9862), valid: null };
 * groupVectorsByPartition(parsePartitionSpecs(["year(d)"]), { length: 2, columns: [days] })
 *   .map((g) => [g.path, g.start, g.end]); // [["year=1996", 0, 1], ["year=1997", 1, 2]]
 * ```
 */
export function groupVectorsByPartition(
  specs: readonly PartitionSpec[],
  batch: VectorBatch,
  loadTime: Date = new Date(),
): VectorGroup[] {
  const { length } = batch;
  if (specs.length === 0) return [{ path: "", values: {}, start: 0, end: length, rows: null }];
  const perSpec = specs.map((spec) => specCodes(spec, batch, loadTime));
  const keys = specs.map((spec) => encodePartitionValue(spec.key));
  const groups: (VectorGroup & { count: number })[] = [];
  const byKey = new Map<string, number>();
  const groupOf = new Int32Array(length);
  let last = -1;
  for (let i = 0; i < length; i++) {
    // Rows of one partition come in runs (sorted results): only a change needs a lookup.
    let same = last >= 0;
    for (let s = 0; same && s < perSpec.length; s++) {
      same = perSpec[s].codes[i] === perSpec[s].codes[i - 1];
    }
    if (!same) {
      let key = "";
      for (let s = 0; s < perSpec.length; s++) key += `${perSpec[s].codes[i]},`;
      let g = byKey.get(key);
      if (g === undefined) {
        const values: Record<string, string> = {};
        const segments: string[] = [];
        for (let s = 0; s < perSpec.length; s++) {
          const text = perSpec[s].texts[perSpec[s].codes[i]];
          values[specs[s].key] = text;
          segments.push(`${keys[s]}=${encodeText(text)}`);
        }
        g = groups.push({
          path: segments.join("/"),
          values,
          start: i,
          end: i + 1,
          rows: null,
          count: 0,
        }) - 1;
        byKey.set(key, g);
      }
      last = g;
    }
    groupOf[i] = last;
    const group = groups[last];
    group.end = i + 1;
    group.count++;
  }
  return groups.map(({ count, ...group }) => {
    if (group.end - group.start === count) return group;
    const rows = new Int32Array(count);
    const g = groupOf[group.start];
    let k = 0;
    for (let i = group.start; i < group.end; i++) if (groupOf[i] === g) rows[k++] = i;
    return { ...group, rows };
  });
}

/** Each row's partition value for one spec, as an index into its distinct texts. */
interface SpecCodes {
  codes: Int32Array;
  texts: string[];
}

/** The partition values of every row of a batch for one spec (see {@link SpecCodes}). */
function specCodes(spec: PartitionSpec, batch: VectorBatch, loadTime: Date): SpecCodes {
  const { length } = batch;
  const codes = new Int32Array(length);
  if (spec.kind === "load_date" || spec.kind === "load_time") {
    const iso = loadTime.toISOString();
    const text = spec.kind === "load_date"
      ? iso.slice(0, 10)
      : `${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
    return { codes, texts: [text] };
  }
  const column = batch.columns.find((c) => c.name === spec.column);
  if (!column) {
    throw new ConfigError("bad partition_by", [{
      path: "partition_by",
      message: `"${spec.source}" reads column "${spec.column}", which the rows do not have ` +
        `(columns: ${batch.columns.map((c) => c.name).slice(0, 12).join(", ") || "none"})`,
    }]);
  }
  const texts: string[] = [];
  const index = new Map<string, number>();
  const codeOf = (text: string) => {
    let code = index.get(text);
    if (code === undefined) {
      code = texts.push(text) - 1;
      index.set(text, code);
    }
    return code;
  };
  if (spec.kind === "column") {
    const text = cellText(column);
    let last: unknown = NaN;
    let lastCode = 0;
    for (let i = 0; i < length; i++) {
      const cell = cellAt(column, i);
      if (cell !== last) {
        last = cell;
        lastCode = codeOf(text(cell));
      }
      codes[i] = lastCode;
    }
    return { codes, texts };
  }
  const days = dayNumbers(spec, column, length);
  let lastDay = NaN;
  let lastCode = 0;
  for (let i = 0; i < length; i++) {
    const day = days[i];
    if (day !== lastDay) {
      lastDay = day;
      if (Number.isNaN(day)) {
        lastCode = codeOf(NULL_PARTITION);
      } else {
        const [y, m, d] = civilFromDays(day);
        lastCode = codeOf(
          spec.kind === "year"
            ? String(y).padStart(4, "0")
            : String(spec.kind === "month" ? m : d).padStart(2, "0"),
        );
      }
    }
    codes[i] = lastCode;
  }
  return { codes, texts };
}

/** How a plain partition column's cells read as folder values. */
function cellText(column: VectorColumn): (cell: unknown) => string {
  switch (column.type) {
    case "date":
      return (cell) => cell === null ? NULL_PARTITION : formatDays(cell as number);
    case "timestamp":
    case "timestamp_tz": {
      const utc = column.type === "timestamp_tz";
      return (cell) => cell === null ? NULL_PARTITION : formatMicros(cell as number | bigint, utc);
    }
    case "datetime":
      return (cell) => cell === null ? NULL_PARTITION : formatDatetime(cell as number);
    default:
      return partitionText;
  }
}

/** Days since 1970-01-01 of every row of a date-derived partition's column (NaN for null). */
function dayNumbers(spec: PartitionSpec, column: VectorColumn, length: number): Float64Array {
  const days = new Float64Array(length);
  const valid = column.valid;
  const values = column.values;
  switch (column.type) {
    case "date": {
      const stored = values as Int32Array;
      for (let i = 0; i < length; i++) days[i] = stored[i];
      break;
    }
    case "timestamp":
    case "timestamp_tz":
    case "datetime": {
      const unit = column.type === "datetime" ? 86_400_000 : MICROS_PER_DAY;
      if (values instanceof BigInt64Array) {
        const perDay = BigInt(unit);
        for (let i = 0; i < length; i++) {
          const v = values[i];
          const d = v / perDay;
          days[i] = Number(v < 0n && d * perDay !== v ? d - 1n : d);
        }
      } else {
        const numbers = values as Float64Array;
        for (let i = 0; i < length; i++) days[i] = Math.floor(numbers[i] / unit);
      }
      break;
    }
    default:
      // Text or numbers: read as the row-based partitions do (ISO text, epoch milliseconds).
      for (let i = 0; i < length; i++) {
        const cell = cellAt(column, i);
        if (cell === null) {
          days[i] = NaN;
          continue;
        }
        const ms = epochMsOf(cell);
        if (ms === undefined) {
          throw new ContractError(
            `partition ${spec.source} needs a date in column "${spec.column}" but row ${i} ` +
              `holds ${
                JSON.stringify(String(cell)).slice(0, 60)
              }; partition by a date column or fix the source`,
          );
        }
        days[i] = Math.floor(ms / 86_400_000);
      }
      return days;
  }
  if (valid !== null) { for (let i = 0; i < length; i++) if (valid[i] === 0) days[i] = NaN; }
  return days;
}
