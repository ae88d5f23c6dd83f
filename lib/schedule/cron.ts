/**
 * Cron expressions, read by `croner` (no hand-written parser): the next fire times of a
 * standard 5-field pattern (`*\/15 * * * *`, `0 6 * * MON-FRI`) or a nickname (`@hourly`), in
 * UTC by default, as `Deno.cron` on Deno Deploy reads them. Only instants are computed here:
 * croner never starts a timer, so whoever waits chooses the clock.
 * @module
 */
import { Cron } from "croner";
import { ConfigError } from "../core/errors.ts";

/** Options of {@link cronSchedule}. */
export interface CronScheduleOptions {
  /** IANA time zone the pattern is read in. @default "UTC" */
  timezone?: string;
  /** Where the pattern came from, for error messages (`schedule`, `assets[1].schedule`). @default "schedule" */
  path?: string;
  /** The file the pattern came from, for error messages. */
  source?: string;
}

/** A parsed cron pattern. */
export interface CronSchedule {
  /** The pattern as written. */
  readonly pattern: string;
  /** The time zone it is read in. */
  readonly timezone: string;
  /** The first fire time strictly after `after`, or null when there is none. */
  next(after: Date): Date | null;
  /** The next `count` fire times strictly after `after` (fewer if the pattern runs out). */
  upcoming(count: number, after: Date): Date[];
}

/**
 * Parses a cron pattern; a bad pattern or time zone is a {@link ConfigError} naming it.
 * @example
 * ```ts
 * const every15 = cronSchedule("*\/15 * * * *");
 * every15.next(new Date("2026-01-01T10:07:00Z")); // 2026-01-01T10:15:00.000Z
 * ```
 */
export function cronSchedule(pattern: string, options: CronScheduleOptions = {}): CronSchedule {
  const timezone = options.timezone ?? "UTC";
  const path = options.path ?? "schedule";
  let cron: Cron;
  try {
    // 5-part: minute precision, as Deno.cron; a seconds field would not run the same on Deploy.
    cron = new Cron(pattern, { timezone, mode: "5-part" });
    cron.nextRun(new Date(0)); // a bad time zone only shows when a date is computed
  } catch (error) {
    const why = String((error as Error).message).replace(/^Cron(Pattern|Date): /, "");
    const zone = /timezone/i.test(why);
    throw new ConfigError(`invalid schedule${options.source ? ` in ${options.source}` : ""}`, [{
      path: zone ? `${path} (timezone)` : path,
      message: zone
        ? `unknown time zone "${timezone}"; use an IANA name such as UTC or Europe/Paris`
        : `"${pattern}" is not a valid cron pattern (5 fields: minute hour day-of-month month day-of-week, e.g. "*/15 * * * *", or @hourly/@daily/@weekly/@monthly): ${
          why.charAt(0).toLowerCase() + why.slice(1)
        }`,
    }]);
  }
  return {
    pattern,
    timezone,
    next(after: Date): Date | null {
      return cron.nextRun(after);
    },
    upcoming(count: number, after: Date): Date[] {
      return cron.nextRuns(Math.max(0, Math.floor(count)), after);
    },
  };
}
