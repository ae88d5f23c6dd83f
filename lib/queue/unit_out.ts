/**
 * Where a unit harvests. With a shared out folder, straight into `<out>/<unit folder>`. With
 * `--out s3://BUCKET/PREFIX`, into a local scratch folder mirrored to `s3://…/PREFIX/<unit
 * folder>/` exactly as a Deploy slice is (lib/object_store/mirror.ts): the scratch is hydrated
 * with what the unit needs (its manifest, parts and the snapshots of its unfinished runs), every
 * state write in PostgreSQL first flushes the scratch to the bucket, and the scratch is removed
 * after. So a worker killed mid-unit leaves nothing the state claims missing from the bucket, and
 * the next attempt — on any worker — resumes from the bucket and the state alone.
 * @module
 */
import { join } from "node:path";
import type { Env } from "../config/load.ts";
import { type Bucket, openBucket } from "../object_store/bucket.ts";
import { mirroredState, OutMirror } from "../object_store/mirror.ts";
import { deferWrites } from "../state/deferred.ts";
import type { StateStore } from "../state/mod.ts";

/** The folder a unit's harvest writes and the state it commits to. */
export interface UnitOut extends AsyncDisposable {
  /** The local folder the engine writes (the unit's folder, or a scratch copy of it). */
  readonly dir: string;
  /** The unit's state as the engine must use it (each write flushes the mirror first). */
  readonly state: StateStore;
  /** After the harvest: copies what the engine wrote last to the bucket (no-op when local). */
  finish(): Promise<void>;
}

/** Options of {@link openUnitOut}. */
export interface UnitOutOptions {
  /** Environment with the `AWS_*` variables of an s3:// out. @default Deno.env.toObject() */
  env?: Env;
  /** Opens a bucket folder (tests pass an in-memory one). @default {@link openBucket} */
  openBucket?: (url: string, env: Env) => Bucket;
  /** Where scratch folders are made. @default the system temporary folder */
  scratchRoot?: string;
  /**
   * Throws when this attempt no longer holds its unit (its lease expired and another worker
   * took it): asked before every upload to the bucket. @default none
   */
  fence?: () => Promise<void>;
}

/** Whether an out is a folder of object storage rather than a path. */
export function isBucketOut(out: string): boolean {
  return out.startsWith("s3://");
}

/**
 * Opens the unit folder `folder` (relative) of the run's out `out` (a path, or `s3://…`) with
 * the unit's `state`; disposing it closes the state and removes any scratch.
 *
 * @example
 * ```ts
 * import { openUnitOut } from "./unit_out.ts";
 * import { openPostgresState } from "../state/postgres.ts";
 * await using unit = await openUnitOut("s3://lake/runs", "units/Orders",
 *   await openPostgresState("postgres://etl@db/ops"));
 * // harvest(loaded, { out: unit.dir, openState: () => Promise.resolve(unit.state) })
 * await unit.finish();
 * ```
 */
export async function openUnitOut(
  out: string,
  folder: string,
  state: StateStore,
  options: UnitOutOptions = {},
): Promise<UnitOut> {
  if (!isBucketOut(out)) {
    // The engine closes the state it was given when its run ends; disposing closes it again
    // (an attempt that failed before its run began), so the second close is a no-op.
    let closed: Promise<void> | undefined;
    const close = () => closed ??= state.close();
    return {
      dir: join(out, folder),
      state: deferWrites(state, () => Promise.resolve(), { close }),
      finish: () => Promise.resolve(),
      [Symbol.asyncDispose]: close,
    };
  }
  const open = options.openBucket ?? openBucket;
  let bucket: Bucket | undefined;
  let scratch: string | undefined;
  try {
    bucket = open(out, options.env ?? Deno.env.toObject()).child(folder);
    scratch = await Deno.makeTempDir({
      prefix: "tidemark-unit-",
      ...(options.scratchRoot ? { dir: options.scratchRoot } : {}),
    });
    const mirror = new OutMirror(scratch, bucket);
    // A killed attempt's run is unfinished: its resumed pages are re-read from their snapshots.
    const unfinished = (await state.listRuns(50)).filter((r) => r.status === "running");
    await mirror.hydrate({ runIds: new Set(unfinished.map((r) => r.runId)) });
    const dir = scratch;
    const used = bucket;
    return {
      dir,
      state: mirroredState(state, mirror, { fence: options.fence }),
      finish: async () => {
        await options.fence?.();
        await mirror.flush();
      },
      async [Symbol.asyncDispose]() {
        await state.close();
        used.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  } catch (error) {
    await state.close().catch(() => {});
    bucket?.close();
    if (scratch) await Deno.remove(scratch, { recursive: true }).catch(() => {});
    throw error;
  }
}
