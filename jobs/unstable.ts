/**
 * `deno task unstable`: harvests `jobs/unstable.yaml` — login/refresh auth against an
 * API that fails (500 10 %, 503 5 %, 429 5 %, truncated 2 %, reset 2 %) and whose access tokens
 * live 2 seconds — into streamed CSV under `out/unstable/`, each finished file uploaded to
 * `out/unstable/lake/` (a local folder destination). `--s3rver` starts a local S3 server
 * (s3rver, 127.0.0.1, bucket `lake`, files in `out/unstable/s3rver/`) and uploads there instead.
 * Serves its own mock unless `--base-url URL` or `TIDEMARK_BASE_URL` is given; other arguments
 * go to `tidemark harvest`.
 * @module
 */
import { fileURLToPath } from "node:url";
import { type JobScript, runJobScript } from "../lib/cli/job_script.ts";

/** The unstable-API job. */
export const UNSTABLE_JOB: JobScript = {
  name: "unstable",
  summary: "an API with faults and expiring tokens, to streamed CSV uploaded to storage",
  config: fileURLToPath(new URL("./unstable.yaml", import.meta.url)),
  out: "out/unstable",
  mock: {
    auth: "jwt",
    tokenTtlMs: 2_000,
    faults: { "500": 0.1, "503": 0.05, "429": 0.05, truncate: 0.02, reset: 0.02 },
    faultSeed: 1,
  },
  mockSummary: "jwt login, 2 s tokens, faults 500=10% 503=5% 429=5% truncate=2% reset=2%",
};

/** Starts s3rver on 127.0.0.1 and points the job's destination at it; returns its stop. */
async function startS3rver(): Promise<() => Promise<void>> {
  const { default: S3rver } = await import("s3rver");
  const directory = "out/unstable/s3rver";
  await Deno.mkdir(directory, { recursive: true });
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: "lake" }],
  });
  const { port } = await server.run() as { port: number };
  Deno.env.set("S3_ENDPOINT", `http://127.0.0.1:${port}`);
  Deno.env.set("AWS_ACCESS_KEY_ID", "S3RVER");
  Deno.env.set("AWS_SECRET_ACCESS_KEY", "S3RVER");
  Deno.env.set("TIDEMARK_DESTINATION", "s3://lake/unstable");
  console.error(
    `tidemark unstable: s3rver at http://127.0.0.1:${port}, bucket lake, files in ${directory}/`,
  );
  return () => server.close();
}

if (import.meta.main) {
  const s3 = Deno.args.includes("--s3rver");
  const stop = s3 ? await startS3rver() : undefined;
  let code: number;
  try {
    code = await runJobScript(UNSTABLE_JOB, Deno.args.filter((a) => a !== "--s3rver"));
  } finally {
    await stop?.();
  }
  Deno.exit(code);
}
