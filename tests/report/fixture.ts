/**
 * Manifest records of a small run for the report tests: two assets, a retried page with a 429
 * then a 503 in its attempt history, a 304, two pages fetched concurrently.
 * @module
 */
import type { ManifestRecord } from "../../lib/provenance/manifest.ts";
import { httpRecord, RUN } from "../provenance/fixture.ts";

export { RUN };

/** Epoch ms the fixture run starts at (its run id's second). */
export const T0 = Date.UTC(2026, 10, 23, 10, 15, 0);

function at(ms: number): string {
  return new Date(T0 + ms).toISOString();
}

/** The run's manifest lines, in the order written. */
export function runRecords(): ManifestRecord[] {
  return [
    httpRecord({ page: 1, timestamp: at(100), elapsed_ms: 40, rows: 200, bytes: 5000 }),
    httpRecord({
      page: 2,
      timestamp: at(2700),
      elapsed_ms: 50,
      rows: 200,
      bytes: 5100,
      attempt: 3,
      attempts: 3,
      slept_ms: 2400,
      retry_after: 2,
      attempt_history: [
        {
          attempt: 1,
          started_at: at(150),
          kind: "http",
          status: 429,
          elapsed_ms: 10,
          queued_ms: 0,
          slept_ms: 2000,
          wait_header: "Retry-After",
        },
        {
          attempt: 2,
          started_at: at(2160),
          kind: "http",
          status: 503,
          elapsed_ms: 40,
          queued_ms: 0,
          slept_ms: 400,
        },
        {
          attempt: 3,
          started_at: at(2700),
          kind: "http",
          status: 200,
          elapsed_ms: 50,
          queued_ms: 0,
          slept_ms: 0,
        },
      ],
    }),
    httpRecord({
      asset: "Order Details",
      page: 1,
      timestamp: at(120),
      elapsed_ms: 900,
      rows: 500,
      bytes: 9000,
    }),
    httpRecord({
      asset: "Order Details",
      page: 2,
      timestamp: at(300),
      elapsed_ms: 500,
      rows: 0,
      bytes: 0,
      status: 304,
      unchanged: true,
      sha256: null,
      snapshot: null,
    }),
  ];
}
