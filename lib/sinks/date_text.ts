/**
 * Dates and timestamps written as text, read exactly: ISO-8601 forms (`1996-07-04`,
 * `1996-07-04 00:00:00.000`, `2026-01-01T10:00:03.120456Z`, PostgreSQL's `…+02` and `… BC`) and
 * strftime-style formats (`%d/%m/%Y %H:%M`), into days since 1970-01-01 and microseconds since
 * the epoch. Pure, no `Date`: `Date.UTC` maps years 0–99 to 1900–1999 and holds milliseconds
 * only, and a text date must come out as the calendar day it names, whatever the local zone.
 * @module
 */

/** A date or timestamp read from text, before it is placed in a zone. */
export interface DateTimeParts {
  /** Days since 1970-01-01 of the calendar date as written. */
  days: number;
  /** Microseconds since midnight as written (0 for a date alone). */
  micros: number;
  /** The written UTC offset in minutes (`Z` → 0), or null when the text has none. */
  offsetMinutes: number | null;
  /** True when the text has a time of day (even `00:00`), false for a date alone. */
  hasTime: boolean;
  /** True when the fraction goes beyond microseconds with non-zero digits (they cannot be kept). */
  subMicro: boolean;
}

/** Microseconds in a day. */
export const MICROS_PER_DAY = 86_400_000_000;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (year 0 is 1 BC), exact for any year.
 *
 * @example
 * ```ts
 * import { daysFromCivil } from "./date_text.ts";
 * daysFromCivil(1970, 1, 1); // 0
 * daysFromCivil(1996, 7, 4); // 9681
 * ```
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  // Howard Hinnant's days_from_civil: eras of 400 years, March-based years. Written for the
  // optimizing compiler, which speculates from what a column's first page showed it: every
  // operation runs for every date (none only for January and February), and every division is
  // exact or truncated (`| 0` of a value never negative), never a floor of a quotient that
  // happened to be whole so far (1996's year of era divides by 4; 1997's does not). Either
  // would cost a deoptimization, and a new compile of every caller this is inlined into.
  const early = month <= 2 ? 1 : 0;
  const y = year - early;
  const yoe = ((y % 400) + 400) % 400;
  const era = (y - yoe) / 400;
  const mp = month - 3 + 12 * early;
  const doy = ((153 * mp + 2) / 5 | 0) + day - 1;
  const doe = yoe * 365 + (yoe / 4 | 0) - (yoe / 100 | 0) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * The proleptic Gregorian `[year, month, day]` of days since 1970-01-01.
 *
 * @example
 * ```ts
 * import { civilFromDays } from "./date_text.ts";
 * civilFromDays(9681); // [1996, 7, 4]
 * ```
 */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) -
      Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

/** Days in each month of a common year (index 0 unused). */
const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  // Every test runs for every date, as in daysFromCivil: 1 in a leap year's February, else 0.
  const leap = (year % 4 === 0 ? 1 : 0) - (year % 100 === 0 ? 1 : 0) + (year % 400 === 0 ? 1 : 0);
  return MONTH_DAYS[month] + (month === 2 ? leap : 0);
}

/** True when the fields name a real date and time (no 1996-02-30, no 24:00). */
function validFields(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) &&
    hour <= 23 && minute <= 59 && second <= 59;
}

/**
 * The microseconds since the epoch of parts, as a number while exact (years 1685–2255) and as a
 * bigint beyond. `utc`: subtract the written offset (a text without one is UTC); otherwise the
 * wall-clock time as written.
 */
export function partsToMicros(parts: DateTimeParts, utc: boolean): number | bigint {
  const offset = utc && parts.offsetMinutes !== null ? parts.offsetMinutes * 60_000_000 : 0;
  const micros = parts.days * MICROS_PER_DAY + parts.micros - offset;
  if (micros >= -MAX_SAFE && micros <= MAX_SAFE) return micros;
  return BigInt(parts.days) * BigInt(MICROS_PER_DAY) + BigInt(parts.micros) - BigInt(offset);
}

const ZERO = 48;

/** The value of the two ASCII digits of `text` at `at`, or -1 when one is not a digit. */
function two(text: string, at: number): number {
  // Straight-line, no loop: it is inlined at each of its call sites in the scanner below, and
  // a loop there multiplies the optimizing compiler's work (tens of milliseconds a compile).
  const a = text.charCodeAt(at) - ZERO;
  const b = text.charCodeAt(at + 1) - ZERO;
  // NaN past the end of the text fails these tests too.
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** The value of the four ASCII digits of `text` at `at`, or -1 when one is not a digit. */
function four(text: string, at: number): number {
  const high = two(text, at);
  const low = two(text, at + 2);
  return high >= 0 && low >= 0 ? high * 100 + low : -1;
}

/**
 * Reads an ISO-8601 date or timestamp: `YYYY-MM-DD`, then optionally `T` or a space and
 * `HH:MM[:SS[.fraction]]`, then optionally an offset (`Z`, `±HH`, `±HH:MM`, `±HHMM`) and
 * PostgreSQL's ` BC`. Returns undefined for anything else, or an impossible date or time.
 * A hand-written scanner: it runs for every cell of a text date column. With `into` (see
 * {@link scratchParts}) it fills and returns that object instead of a new one.
 *
 * @example
 * ```ts
 * import { parseIsoDateTime } from "./date_text.ts";
 * parseIsoDateTime("1996-07-04 00:00:00.000"); // { days: 9681, micros: 0, hasTime: true, … }
 * parseIsoDateTime("July 4th"); // undefined
 * ```
 */
export function parseIsoDateTime(
  text: string,
  into?: DateTimeParts,
): DateTimeParts | undefined {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 32) end--;
  let bc = false;
  if (end >= 3 && text.endsWith(" BC", end)) {
    bc = true;
    end -= 3;
  }
  if (end < 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return undefined;
  let year = four(text, 0);
  const month = two(text, 5);
  const day = two(text, 8);
  if (year < 0 || month < 0 || day < 0) return undefined;
  if (bc) year = 1 - year;
  let i = 10;
  let hour = 0, minute = 0, second = 0, micros = 0, subMicro = false, hasTime = false;
  if (i < end && (text.charCodeAt(i) === 84 || text.charCodeAt(i) === 32)) {
    // T or space, then HH:MM
    if (end < i + 6 || text.charCodeAt(i + 3) !== 58) return undefined;
    hour = two(text, i + 1);
    minute = two(text, i + 4);
    if (hour < 0 || minute < 0) return undefined;
    hasTime = true;
    i += 6;
    if (i < end && text.charCodeAt(i) === 58) {
      if (end < i + 3) return undefined;
      second = two(text, i + 1);
      if (second < 0) return undefined;
      i += 3;
      // Read only inside the text: a read past its end deoptimizes the compiled scanner.
      const c = i < end ? text.charCodeAt(i) : 0;
      if (c === 46 || c === 44) {
        i += 1;
        let count = 0;
        while (i < end) {
          const d = text.charCodeAt(i) - ZERO;
          if (!(d >= 0 && d <= 9)) break;
          if (count < 6) micros = micros * 10 + d;
          else if (d !== 0) subMicro = true;
          count++;
          i++;
        }
        if (count === 0) return undefined;
        for (let k = count; k < 6; k++) micros *= 10;
      }
    }
  }
  let offsetMinutes: number | null = null;
  if (i < end) {
    const c = text.charCodeAt(i);
    if ((c === 90 || c === 122) && i + 1 === end) {
      offsetMinutes = 0;
      i++;
    } else if (c === 43 || c === 45) {
      if (end < i + 3) return undefined;
      const hours = two(text, i + 1);
      if (hours < 0 || hours > 15) return undefined;
      let mins = 0;
      let j = i + 3;
      if (j < end && text.charCodeAt(j) === 58) j++;
      if (j < end) {
        if (end < j + 2) return undefined;
        mins = two(text, j);
        if (mins < 0 || mins > 59) return undefined;
        j += 2;
      }
      if (j !== end) return undefined;
      offsetMinutes = (c === 45 ? -1 : 1) * (hours * 60 + mins);
      i = end;
    } else {
      return undefined;
    }
  }
  if (i !== end || !validFields(year, month, day, hour, minute, second)) return undefined;
  const days = daysFromCivil(year, month, day);
  const total = ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros;
  if (into === undefined) return { days, micros: total, offsetMinutes, hasTime, subMicro };
  into.days = days;
  into.micros = total;
  into.offsetMinutes = offsetMinutes;
  into.hasTime = hasTime;
  into.subMicro = subMicro;
  return into;
}

/**
 * Parts for {@link parseIsoDateTime} to fill again and again, for a caller that reads them
 * before its next call: a column of text timestamps would otherwise allocate an object a cell.
 */
export function scratchParts(): DateTimeParts {
  return { days: 0, micros: 0, offsetMinutes: null, hasTime: false, subMicro: false };
}

/** A compiled text date format: text → parts, or undefined when the text does not match. */
export type DateFormatParser = (text: string) => DateTimeParts | undefined;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** The strftime directives {@link compileDateFormat} understands, with what each matches. */
export const FORMAT_DIRECTIVES: Readonly<Record<string, string>> = {
  "%Y": "year, 4 digits",
  "%m": "month, 1–2 digits",
  "%d": "day of the month, 1–2 digits",
  "%H": "hour 0–23, 1–2 digits",
  "%I": "hour 1–12, 1–2 digits (with %p)",
  "%p": "AM or PM",
  "%M": "minute, 2 digits",
  "%S": "second, 2 digits",
  "%f": "fraction of a second, 1–9 digits",
  "%z": "UTC offset: Z, ±HH, ±HH:MM or ±HHMM",
  "%b": "month name, 3 letters or in full (Jan, January)",
  "%%": "a literal %",
};

const PATTERNS: Record<string, string> = {
  Y: "([+-]?\\d{4})",
  m: "(\\d{1,2})",
  d: "(\\d{1,2})",
  H: "(\\d{1,2})",
  I: "(\\d{1,2})",
  p: "([AaPp][Mm])",
  M: "(\\d{2})",
  S: "(\\d{2})",
  f: "(\\d{1,9})",
  z: "([Zz]|[+-]\\d{2}(?::?\\d{2})?)",
  b: "([A-Za-z]{3,9})",
};

/**
 * Compiles a strftime-style format (see {@link FORMAT_DIRECTIVES}) into a parser. Throws a
 * `SyntaxError` naming the directive when the format holds an unknown one, or lacks a year,
 * month or day.
 *
 * @example
 * ```ts
 * import { compileDateFormat } from "./date_text.ts";
 * const parse = compileDateFormat("%d/%m/%Y %H:%M");
 * parse("04/07/1996 13:05")?.days; // 9681
 * ```
 */
export function compileDateFormat(format: string): DateFormatParser {
  const fields: string[] = [];
  let source = "^\\s*";
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== "%") {
      source += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      continue;
    }
    const directive = format[i + 1];
    i++;
    if (directive === "%") {
      source += "%";
      continue;
    }
    const pattern = directive === undefined ? undefined : PATTERNS[directive];
    if (pattern === undefined) {
      throw new SyntaxError(
        `format "${format}" holds %${directive ?? ""}, which is not a directive; use ${
          Object.keys(FORMAT_DIRECTIVES).join(" ")
        }`,
      );
    }
    if (fields.includes(directive)) {
      throw new SyntaxError(`format "${format}" holds %${directive} twice`);
    }
    fields.push(directive);
    source += pattern;
  }
  source += "\\s*$";
  if (!fields.includes("Y") || !(fields.includes("m") || fields.includes("b"))) {
    throw new SyntaxError(`format "${format}" needs a year (%Y) and a month (%m or %b)`);
  }
  if (!fields.includes("d")) throw new SyntaxError(`format "${format}" needs a day (%d)`);
  if (fields.includes("I") !== fields.includes("p")) {
    throw new SyntaxError(`format "${format}" needs %I and %p together (12-hour clock)`);
  }
  const regex = new RegExp(source);
  const index = (d: string) => fields.indexOf(d) + 1;
  const [iY, im, ib, id, iH, iI, ip, iM, iS, iF, iz] = [
    "Y",
    "m",
    "b",
    "d",
    "H",
    "I",
    "p",
    "M",
    "S",
    "f",
    "z",
  ]
    .map(index);
  const hasTime = iH > 0 || iI > 0;
  return (text: string) => {
    const m = regex.exec(text);
    if (!m) return undefined;
    const year = Number(m[iY]);
    let month: number;
    if (im > 0) {
      month = Number(m[im]);
    } else {
      const name = m[ib].toLowerCase();
      month = MONTHS.indexOf(name.slice(0, 3)) + 1;
      if (month === 0 || (name.length > 3 && !FULL_MONTHS[month - 1].startsWith(name))) {
        return undefined;
      }
    }
    const day = Number(m[id]);
    let hour = iH > 0 ? Number(m[iH]) : 0;
    if (iI > 0) {
      hour = Number(m[iI]);
      if (hour < 1 || hour > 12) return undefined;
      const pm = m[ip].toLowerCase() === "pm";
      hour = (hour % 12) + (pm ? 12 : 0);
    }
    const minute = iM > 0 ? Number(m[iM]) : 0;
    const second = iS > 0 ? Number(m[iS]) : 0;
    let micros = 0;
    let subMicro = false;
    if (iF > 0) {
      const fraction = m[iF];
      micros = Number(fraction.slice(0, 6).padEnd(6, "0"));
      subMicro = /[1-9]/.test(fraction.slice(6));
    }
    if (!validFields(year, month, day, hour, minute, second)) return undefined;
    let offsetMinutes: number | null = null;
    if (iz > 0) {
      const zone = m[iz];
      if (zone === "Z" || zone === "z") {
        offsetMinutes = 0;
      } else {
        const digitsOnly = zone.slice(1).replace(":", "");
        const minutes = Number(digitsOnly.slice(0, 2)) * 60 + Number(digitsOnly.slice(2) || 0);
        offsetMinutes = zone[0] === "-" ? -minutes : minutes;
      }
    }
    return {
      days: daysFromCivil(year, month, day),
      micros: ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros,
      offsetMinutes,
      hasTime,
      subMicro,
    };
  };
}

const FULL_MONTHS = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));

/**
 * Days since 1970-01-01 as `YYYY-MM-DD` (years before 0 and after 9999 with a sign, as
 * ISO-8601 extends them).
 *
 * @example
 * ```ts
 * import { formatDays } from "./date_text.ts";
 * formatDays(9681); // "1996-07-04"
 * ```
 */
export function formatDays(days: number): string {
  const [y, m, d] = civilFromDays(days);
  const year = y >= 0 && y <= 9999
    ? String(y).padStart(4, "0")
    : `${y < 0 ? "-" : "+"}${String(Math.abs(y)).padStart(6, "0")}`;
  return `${year}-${PAD2[m]}-${PAD2[d]}`;
}

/**
 * Microseconds since the epoch as ISO-8601: `1996-07-04T00:00:00`, with `.fff` or `.ffffff`
 * when the time has a fraction, and `Z` when `utc` (a zoned timestamp).
 *
 * @example
 * ```ts
 * import { formatMicros } from "./date_text.ts";
 * formatMicros(836438400123000, false); // "1996-07-04T00:00:00.123"
 * formatMicros(0, true); // "1970-01-01T00:00:00Z"
 * ```
 */
export function formatMicros(micros: number | bigint, utc: boolean): string {
  let days: number;
  let rest: number;
  if (typeof micros === "bigint") {
    const perDay = BigInt(MICROS_PER_DAY);
    let d = micros / perDay;
    let r = micros % perDay;
    if (r < 0n) {
      r += perDay;
      d -= 1n;
    }
    days = Number(d);
    rest = Number(r);
  } else {
    days = Math.floor(micros / MICROS_PER_DAY);
    rest = micros - days * MICROS_PER_DAY;
  }
  const seconds = Math.floor(rest / 1_000_000);
  const fraction = rest - seconds * 1_000_000;
  const hh = Math.floor(seconds / 3600);
  const mm = Math.floor((seconds % 3600) / 60);
  const ss = seconds % 60;
  let text = `${formatDays(days)}T${PAD2[hh]}:${PAD2[mm]}:${PAD2[ss]}`;
  if (fraction !== 0) {
    text += fraction % 1000 === 0
      ? `.${String(fraction / 1000).padStart(3, "0")}`
      : `.${String(fraction).padStart(6, "0")}`;
  }
  return utc ? `${text}Z` : text;
}
