/**
 * What both state stores check before committing a page.
 * @module
 */
import { StateError } from "../core/errors.ts";
import type { PageCommit } from "./mod.ts";

/** Refuses a page commit whose page number or row count is not a whole number in range. */
export function checkPageCommit(p: PageCommit): void {
  if (!Number.isInteger(p.page) || p.page < 1) {
    throw new StateError(`page number must be a whole number from 1, got ${p.page}`);
  }
  if (!Number.isInteger(p.rows) || p.rows < 0) {
    throw new StateError(`page row count must be a whole number ≥ 0, got ${p.rows}`);
  }
}
