/**
 * Values a part keeps in the state as JSON text under an asset's watermark rows (a harvest's plan
 * and boundary, an extraction's boundary): read back through their schema, and refused with the
 * command that forgets them when they cannot be read (a hand-edited database, a newer version).
 * @module
 */
import type { z } from "zod";
import { StateError } from "../core/errors.ts";
import type { StateStore } from "./mod.ts";
import { PARSE_ONCE } from "../core/parse_once.ts";

/** The command that forgets an asset's state, quoted for a shell (`'Order Details'`). */
export function resetCommand(asset: string, out = "OUT"): string {
  const quote = (arg: string) =>
    /^[\w./:@-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
  return `tidemark state reset --out ${quote(out)} --asset ${quote(asset)}`;
}

/** Where a stored value is and how errors name it. */
export interface StoredJsonOptions<T> {
  /** The asset whose row holds it. */
  asset: string;
  /** Its watermark row's data type (`harvest_plan`, `sql_boundary`). */
  dataType: string;
  /** What it must be. */
  schema: z.ZodType<T>;
  /** What it is, in words (`watermark boundary`). */
  what: string;
  /** The out folder, for the reset command in the error. */
  out?: string;
  /** Another way out, after the reset command (`run it with --full-refresh`). */
  orElse?: string;
}

/**
 * The value stored for `options.asset` under `options.dataType`, parsed by its schema; undefined
 * when there is none. Throws {@link StateError} with the reset command when it is unreadable.
 */
export async function readStoredJson<T>(
  state: StateStore,
  options: StoredJsonOptions<T>,
): Promise<T | undefined> {
  const row = await state.getWatermark(options.asset, options.dataType);
  if (!row?.lastId) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(row.lastId);
  } catch {
    value = undefined;
  }
  const parsed = options.schema.safeParse(value, PARSE_ONCE);
  if (!parsed.success) {
    throw new StateError(
      `the stored ${options.what} of asset "${options.asset}" is unreadable; the asset's next ` +
        `run starts over once you forget it: ${resetCommand(options.asset, options.out)}` +
        (options.orElse ? `, or ${options.orElse}` : ""),
    );
  }
  return parsed.data;
}
