/**
 * A deterministic Northwind generator: the classic schema, names and reference rows, with
 * `Orders` and `"Order Details"` generated at any scale from a seed. The same scale and seed give
 * a byte-identical SQLite file (nothing reads the clock, and rows are inserted in one fixed order).
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { createRandom } from "./random.ts";
import {
  CATEGORIES,
  CUSTOMERS,
  EMPLOYEES,
  PRODUCTS,
  referenceFields,
  SHIPPERS,
  SUPPLIERS,
} from "./northwind_reference.ts";

/** Options of {@linkcode generateNorthwind}. */
export interface GenerateNorthwindOptions {
  /** Size multiplier: about 830·scale orders and 2155·scale order lines (any number > 0). @default 1 */
  scale?: number;
  /** Seed of the generated orders (an integer). @default 42 */
  seed?: number;
}

/** Orders and order lines of the classic Northwind, which scale 1 reproduces exactly. */
export const NORTHWIND_ORDERS = 830;
/** Order lines (`"Order Details"` rows) of the classic Northwind. */
export const NORTHWIND_ORDER_LINES = 2155;

/** The classic DDL (bracket quoting, declared types and keys as in the SQLite Northwind port). */
const SCHEMA = `
CREATE TABLE [Categories] (
  [CategoryID] INTEGER PRIMARY KEY AUTOINCREMENT,
  [CategoryName] TEXT,
  [Description] TEXT,
  [Picture] BLOB
);
CREATE TABLE [Customers] (
  [CustomerID] TEXT,
  [CompanyName] TEXT,
  [ContactName] TEXT,
  [ContactTitle] TEXT,
  [Address] TEXT,
  [City] TEXT,
  [Region] TEXT,
  [PostalCode] TEXT,
  [Country] TEXT,
  [Phone] TEXT,
  [Fax] TEXT,
  PRIMARY KEY ([CustomerID])
);
CREATE TABLE [Employees] (
  [EmployeeID] INTEGER PRIMARY KEY AUTOINCREMENT,
  [LastName] TEXT,
  [FirstName] TEXT,
  [Title] TEXT,
  [TitleOfCourtesy] TEXT,
  [BirthDate] DATE,
  [HireDate] DATE,
  [Address] TEXT,
  [City] TEXT,
  [Region] TEXT,
  [PostalCode] TEXT,
  [Country] TEXT,
  [HomePhone] TEXT,
  [Extension] TEXT,
  [Photo] BLOB,
  [Notes] TEXT,
  [ReportsTo] INTEGER,
  [PhotoPath] TEXT,
  FOREIGN KEY ([ReportsTo]) REFERENCES [Employees] ([EmployeeID])
);
CREATE TABLE [Shippers] (
  [ShipperID] INTEGER PRIMARY KEY AUTOINCREMENT,
  [CompanyName] TEXT NOT NULL,
  [Phone] TEXT
);
CREATE TABLE [Suppliers] (
  [SupplierID] INTEGER PRIMARY KEY AUTOINCREMENT,
  [CompanyName] TEXT NOT NULL,
  [ContactName] TEXT,
  [ContactTitle] TEXT,
  [Address] TEXT,
  [City] TEXT,
  [Region] TEXT,
  [PostalCode] TEXT,
  [Country] TEXT,
  [Phone] TEXT,
  [Fax] TEXT,
  [HomePage] TEXT
);
CREATE TABLE [Products] (
  [ProductID] INTEGER PRIMARY KEY AUTOINCREMENT,
  [ProductName] TEXT NOT NULL,
  [SupplierID] INTEGER,
  [CategoryID] INTEGER,
  [QuantityPerUnit] TEXT,
  [UnitPrice] NUMERIC DEFAULT 0,
  [UnitsInStock] INTEGER DEFAULT 0,
  [UnitsOnOrder] INTEGER DEFAULT 0,
  [ReorderLevel] INTEGER DEFAULT 0,
  [Discontinued] TEXT NOT NULL DEFAULT '0',
  FOREIGN KEY ([CategoryID]) REFERENCES [Categories] ([CategoryID]),
  FOREIGN KEY ([SupplierID]) REFERENCES [Suppliers] ([SupplierID])
);
CREATE TABLE [Orders] (
  [OrderID] INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  [CustomerID] TEXT,
  [EmployeeID] INTEGER,
  [OrderDate] DATETIME,
  [RequiredDate] DATETIME,
  [ShippedDate] DATETIME,
  [ShipVia] INTEGER,
  [Freight] NUMERIC DEFAULT 0,
  [ShipName] TEXT,
  [ShipAddress] TEXT,
  [ShipCity] TEXT,
  [ShipRegion] TEXT,
  [ShipPostalCode] TEXT,
  [ShipCountry] TEXT,
  FOREIGN KEY ([EmployeeID]) REFERENCES [Employees] ([EmployeeID]),
  FOREIGN KEY ([CustomerID]) REFERENCES [Customers] ([CustomerID]),
  FOREIGN KEY ([ShipVia]) REFERENCES [Shippers] ([ShipperID])
);
CREATE TABLE [Order Details] (
  [OrderID] INTEGER NOT NULL,
  [ProductID] INTEGER NOT NULL,
  [UnitPrice] NUMERIC NOT NULL DEFAULT 0,
  [Quantity] INTEGER NOT NULL DEFAULT 1,
  [Discount] REAL NOT NULL DEFAULT 0,
  PRIMARY KEY ("OrderID", "ProductID"),
  CHECK ([Discount] >= (0) AND [Discount] <= (1)),
  CHECK ([Quantity] > (0)),
  CHECK ([UnitPrice] >= (0)),
  FOREIGN KEY ([OrderID]) REFERENCES [Orders] ([OrderID]),
  FOREIGN KEY ([ProductID]) REFERENCES [Products] ([ProductID])
);
`;

const FIRST_ORDER_ID = 10248;
/** Order dates run from 1996-07-04 to 1998-05-06 at every scale (more orders per day when larger). */
const FIRST_ORDER_DAY = Date.UTC(1996, 6, 4) / 86_400_000;
const LAST_ORDER_DAY = Date.UTC(1998, 4, 6) / 86_400_000;
/** Classic orders carry at most 25 lines. */
const MAX_LINES_PER_ORDER = 25;
/** Before 1997 Northwind sold at 80 % of the list price (Chai: 14.40, not 18). */
const PRICE_RISE_DAY = Date.UTC(1997, 0, 1) / 86_400_000;
const DISCOUNTS = [0.05, 0.1, 0.15, 0.2, 0.25];
/** Rows per INSERT statement: fewer native calls, well under SQLite's bound-parameter limit. */
const BATCH_ROWS = 64;

/** Order 10248 exactly as in the classic data, so the familiar first row is there at any seed. */
const CLASSIC_FIRST_ORDER = {
  customer: "VINET",
  employee: 5,
  required: 28,
  shipped: 12,
  shipVia: 3,
  freight: 32.38,
  lines: [[11, 14, 12, 0], [42, 9.8, 10, 0], [72, 34.8, 5, 0]] as const,
};

/**
 * Writes a Northwind database to `path` (a new or empty SQLite file, or `":memory:"`) and returns
 * it open. Scale 1 holds exactly 830 orders and 2155 order lines; scale N about 830·N and 2155·N.
 * Same scale and seed → byte-identical file.
 *
 * @example
 * ```ts
 * const db = generateNorthwind(":memory:", { scale: 1, seed: 42 });
 * db.prepare("SELECT count(*) AS n FROM Orders").get(); // { n: 830 }
 * db.close();
 * ```
 */
export function generateNorthwind(
  path: string,
  options: GenerateNorthwindOptions = {},
): DatabaseSync {
  const scale = options.scale ?? 1;
  const seed = options.seed ?? 42;
  if (typeof scale !== "number" || !Number.isFinite(scale) || scale <= 0) {
    throw new RangeError(`scale ${scale} is not a positive number; use e.g. 1 or 100`);
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed ${seed} is not an integer; use e.g. 42`);
  }
  // SQLite's own default (and Datasette's): foreign keys declared but not enforced.
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: false });
  try {
    const existing = db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number };
    if (existing.n > 0) {
      throw new Error(
        `database ${path} already has tables; generate into a new file or ":memory:"`,
      );
    }
    // No rollback journal while generating: the database is new, and a failure discards it.
    db.exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536");
    db.exec("BEGIN");
    db.exec(SCHEMA);
    insertReferenceRows(db);
    insertOrders(db, scale, seed);
    db.exec("COMMIT");
    db.exec("PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL; PRAGMA cache_size = -2000");
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The company-and-contact columns Suppliers and Customers share, in schema order. */
const CONTACT_COLUMNS = [
  "CompanyName",
  "ContactName",
  "ContactTitle",
  "Address",
  "City",
  "Region",
  "PostalCode",
  "Country",
  "Phone",
  "Fax",
];

function insertReferenceRows(db: DatabaseSync): void {
  insertAll(db, "Categories", ["CategoryID", "CategoryName", "Description"], CATEGORIES);
  insertAll(db, "Shippers", ["ShipperID", "CompanyName", "Phone"], SHIPPERS);
  insertAll(db, "Suppliers", ["SupplierID", ...CONTACT_COLUMNS, "HomePage"], SUPPLIERS);
  insertAll(db, "Customers", ["CustomerID", ...CONTACT_COLUMNS], CUSTOMERS);
  const products = db.prepare(
    `INSERT INTO [Products] VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const line of PRODUCTS) {
    const [id, name, supplier, category, quantity, price, stock, onOrder, reorder, discontinued] =
      referenceFields(line);
    products.run(
      Number(id),
      name,
      Number(supplier),
      Number(category),
      quantity,
      Number(price),
      Number(stock),
      Number(onOrder),
      Number(reorder),
      discontinued,
    );
  }
  const employees = db.prepare(
    `INSERT INTO [Employees] VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
  );
  for (const line of EMPLOYEES) {
    const f = referenceFields(line);
    const [id, last, first, title, courtesy, birth, hire] = f;
    employees.run(
      Number(id),
      last,
      first,
      title,
      courtesy,
      `${birth} 00:00:00.000`,
      `${hire} 00:00:00.000`,
      f[7],
      f[8],
      f[9],
      f[10],
      f[11],
      f[12],
      f[13],
      `${first} ${last} joined Northwind Traders as ${title} in ${hire!.slice(0, 4)}.`,
      f[14] === null ? null : Number(f[14]),
      `http://accweb/emmployees/${last!.toLowerCase()}.bmp`,
    );
  }
}

function insertAll(
  db: DatabaseSync,
  table: string,
  columns: string[],
  lines: readonly string[],
): void {
  const statement = db.prepare(
    `INSERT INTO [${table}] (${columns.map((c) => `[${c}]`).join(", ")}) VALUES (${
      columns.map(() => "?").join(", ")
    })`,
  );
  for (const line of lines) {
    const fields = referenceFields(line);
    statement.run(...fields.map((v, i) => i === 0 && /^\d+$/.test(v ?? "") ? Number(v) : v));
  }
}

/** Formats an epoch day number the way Northwind stores dates: `1996-07-04 00:00:00.000`. */
function dayText(day: number): string {
  return `${new Date(day * 86_400_000).toISOString().slice(0, 10)} 00:00:00.000`;
}

/** Buffers rows and inserts them `BATCH_ROWS` at a time with one prepared multi-row INSERT. */
function batchInserter(db: DatabaseSync, table: string, width: number) {
  const row = `(${new Array(width).fill("?").join(",")})`;
  const full = db.prepare(
    `INSERT INTO [${table}] VALUES ${new Array(BATCH_ROWS).fill(row).join(",")}`,
  );
  const values: (string | number | null)[] = [];
  function flush(statement: StatementSync) {
    statement.run(...values);
    values.length = 0;
  }
  return {
    values,
    add() {
      if (values.length === BATCH_ROWS * width) flush(full);
    },
    finish() {
      if (values.length === 0) return;
      const rows = values.length / width;
      flush(db.prepare(`INSERT INTO [${table}] VALUES ${new Array(rows).fill(row).join(",")}`));
    },
  };
}

/** Splits `lines` order lines over `orders` orders: each gets 1..25, the first classic 3. */
function linesPerOrder(orders: number, lines: number, random: () => number): Uint8Array {
  const counts = new Uint8Array(orders).fill(1);
  let extra = lines - orders;
  let first = 0;
  if (extra >= 2 && orders > 1) {
    counts[0] = 3;
    extra -= 2;
    first = 1;
  }
  const span = orders - first;
  while (extra > 0) {
    const index = first + Math.floor(random() * span);
    // Lines per order average 2.6, so the cap is rarely hit and rejection stays cheap.
    if (counts[index] < MAX_LINES_PER_ORDER) {
      counts[index]++;
      extra--;
    }
  }
  return counts;
}

function insertOrders(db: DatabaseSync, scale: number, seed: number): void {
  const random = createRandom(seed);
  const orderCount = Math.max(1, Math.round(NORTHWIND_ORDERS * scale));
  const lineCount = Math.min(
    orderCount * MAX_LINES_PER_ORDER,
    Math.max(orderCount, Math.round(NORTHWIND_ORDER_LINES * scale)),
  );
  const counts = linesPerOrder(orderCount, lineCount, random);

  // Two classic customers never order anything.
  const customers = CUSTOMERS.map(referenceFields).filter((c) =>
    c[0] !== "FISSA" && c[0] !== "PARIS"
  );
  const vinet = customers.findIndex((c) => c[0] === "VINET");
  const prices = PRODUCTS.map((line) => Number(referenceFields(line)[5]));
  const productIds = prices.map((_, i) => i + 1);
  const spanDays = LAST_ORDER_DAY - FIRST_ORDER_DAY + 1;
  const dayTexts = new Map<number, string>();
  function text(day: number): string {
    let value = dayTexts.get(day);
    if (value === undefined) dayTexts.set(day, value = dayText(day));
    return value;
  }

  const orders = batchInserter(db, "Orders", 14);
  const details = batchInserter(db, "Order Details", 5);
  const picked: number[] = [];
  for (let i = 0; i < orderCount; i++) {
    const orderId = FIRST_ORDER_ID + i;
    const day = FIRST_ORDER_DAY + Math.floor(i * spanDays / orderCount);
    const classic = i === 0 && counts[0] === 3;
    const customer = customers[classic ? vinet : Math.floor(random() * customers.length)];
    const employee = classic ? CLASSIC_FIRST_ORDER.employee : 1 + Math.floor(random() * 9);
    const roll = random();
    const required = classic ? 28 : roll < 0.9 ? 28 : roll < 0.95 ? 14 : 42;
    const delay = classic ? CLASSIC_FIRST_ORDER.shipped : 1 + Math.floor(random() ** 2 * 35);
    const shipVia = classic ? CLASSIC_FIRST_ORDER.shipVia : 1 + Math.floor(random() * 3);
    const freight = classic ? CLASSIC_FIRST_ORDER.freight : Math.min(
      1007.64,
      Math.max(0.02, Math.round(-Math.log(1 - random()) * 7800) / 100),
    );
    orders.values.push(
      orderId,
      customer[0],
      employee,
      text(day),
      text(day + required),
      // Orders still in transit when the data ends have no ShippedDate, as in the classic data.
      day + delay > LAST_ORDER_DAY ? null : text(day + delay),
      shipVia,
      freight,
      customer[1],
      customer[4],
      customer[5],
      customer[6],
      customer[7],
      customer[8],
    );
    orders.add();

    if (classic) {
      for (const [product, price, quantity, discount] of CLASSIC_FIRST_ORDER.lines) {
        details.values.push(orderId, product, price, quantity, discount);
        details.add();
      }
      continue;
    }
    // Partial Fisher–Yates over the product ids: k distinct products, then listed in id order.
    const k = counts[i];
    picked.length = 0;
    for (let j = 0; j < k; j++) {
      const swap = j + Math.floor(random() * (productIds.length - j));
      const chosen = productIds[swap];
      productIds[swap] = productIds[j];
      productIds[j] = chosen;
      picked.push(chosen);
    }
    picked.sort((a, b) => a - b);
    const factor = day < PRICE_RISE_DAY ? 0.8 : 1;
    for (const product of picked) {
      const r = random();
      const quantity = r < 0.6
        ? 5 * (1 + Math.floor(random() ** 2 * 24))
        : 1 + Math.floor(random() ** 2 * 130);
      const discount = random() < 0.6 ? 0 : DISCOUNTS[Math.floor(random() * DISCOUNTS.length)];
      const price = Math.round(prices[product - 1] * factor * 100) / 100;
      details.values.push(orderId, product, price, quantity, discount);
      details.add();
    }
  }
  orders.finish();
  details.finish();
}
