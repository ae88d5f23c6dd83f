/**
 * Contracts of the Northwind assets: `Orders` and `"Order Details"`. Ids are positive
 * integers, dates parse (Northwind's `"1996-07-04 00:00:00.000"` text or ISO-8601), Freight ≥ 0,
 * UnitPrice ≥ 0, Quantity > 0 and Discount in [0, 1]. Valid rows come out coerced: ids and
 * quantities as integers, money as numbers, dates as `Date`s (UTC).
 *
 * Northwind's dates are wall-clock text without a zone, so the dates are written as a TIMESTAMP
 * without a zone (`columnType: "timestamp"`): DuckDB and Polars then read the very value the
 * source wrote, whatever the reader's time zone. A zoned column would show `1996-07-03 20:00`
 * to a reader in New York.
 * @module
 */
import { z } from "zod";
import { parseTimestamp } from "../sinks/column_types.ts";

/** A positive integer id (numbers or digit strings). */
export const positiveId = z.coerce.number({ error: "expected an id" }).int().positive();

/**
 * A Northwind date: `"1996-07-04 00:00:00.000"`, ISO-8601 text or a `Date`; comes out a `Date`
 * whose UTC fields are the wall-clock time written (an offset, if any, is applied first), and is
 * written as a TIMESTAMP without a zone.
 */
export const northwindDate = z
  .union([z.string(), z.date()])
  .transform((value, ctx) => {
    const ms = value instanceof Date ? value.getTime() : parseTimestamp(value);
    if (ms === undefined || Number.isNaN(ms)) {
      ctx.addIssue({
        code: "custom",
        message: `expected a date like "1996-07-04 00:00:00.000", got ${
          JSON.stringify(String(value)).slice(0, 40)
        }`,
      });
      return z.NEVER;
    }
    return new Date(ms);
  })
  .meta({ columnType: "timestamp" });

/** The `Orders` contract. */
export const ordersContract = z.looseObject({
  OrderID: positiveId,
  CustomerID: z.string().nullable(),
  EmployeeID: positiveId.nullable(),
  OrderDate: northwindDate,
  RequiredDate: northwindDate.nullable(),
  ShippedDate: northwindDate.nullable(),
  ShipVia: positiveId.nullable(),
  Freight: z.coerce.number().min(0),
  ShipName: z.string().nullable(),
  ShipAddress: z.string().nullable(),
  ShipCity: z.string().nullable(),
  ShipRegion: z.string().nullable(),
  ShipPostalCode: z.string().nullable(),
  ShipCountry: z.string().nullable(),
});

/** A valid `Orders` row after coercion. */
export type Order = z.infer<typeof ordersContract>;

/** The `"Order Details"` contract. */
export const orderDetailsContract = z.looseObject({
  OrderID: positiveId,
  ProductID: positiveId,
  UnitPrice: z.coerce.number().min(0),
  Quantity: z.coerce.number().int().positive(),
  Discount: z.coerce.number().min(0).max(1),
});

/** A valid `"Order Details"` row after coercion. */
export type OrderDetail = z.infer<typeof orderDetailsContract>;
