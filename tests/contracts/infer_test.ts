import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { join } from "node:path";
import type { z } from "zod";
import { inferContractModule, profileRows, renderContract } from "../../lib/contracts/infer.ts";
import { columnTypesOf, validateBatch } from "../../lib/contracts/mod.ts";
import { openSink } from "../../lib/sinks/mod.ts";
import { command } from "../../lib/cli/contract.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark_infer_");

const sample = [
  {
    OrderID: 10248,
    CustomerID: "VINET",
    OrderDate: "1996-07-04 00:00:00.000",
    ShippedDate: null,
    Freight: 32.38,
    Paid: true,
    Extra: { note: "x" },
  },
  {
    OrderID: 10249,
    CustomerID: "TOMSP",
    OrderDate: "1996-07-05 00:00:00.000",
    ShippedDate: "1996-07-10 00:00:00.000",
    Freight: 11.61,
    Paid: false,
    Extra: null,
  },
];

Deno.test("profiles find kinds, nullability and minimums", () => {
  assertEquals(
    profileRows([...sample, { OrderID: 2n ** 60n }]).map((
      p,
    ) => [p.name, p.kind, p.nullable, p.optional]),
    [
      ["OrderID", "bigint", false, false],
      ["CustomerID", "string", false, true],
      ["OrderDate", "timestamp", false, true],
      ["ShippedDate", "timestamp", true, true],
      ["Freight", "number", false, true],
      ["Paid", "boolean", false, true],
      ["Extra", "json", true, true],
    ],
  );
});

async function importModule(dir: string, text: string): Promise<Record<string, z.ZodType>> {
  const file = join(dir, "orders_contract.ts");
  await Deno.writeTextFile(file, text);
  const check = await new Deno.Command(Deno.execPath(), {
    args: [
      "check",
      "--quiet",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      file,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(check.code, 0, new TextDecoder().decode(check.stderr));
  return await import(new URL(`file://${file}`).href);
}

Deno.test("an inferred module type-checks and validates its own sample", async () => {
  await withDir(async (dir) => {
    const text = renderContract(profileRows(sample), {
      asset: "Orders",
      sampleRows: 2,
      source: "test",
    });
    const module = await importModule(dir, text);
    const contract = module.ordersContract;
    const { valid, rejects } = validateBatch(sample, contract);
    assertEquals(rejects, []);
    assertEquals((valid[0] as { OrderDate: Date }).OrderDate, new Date("1996-07-04T00:00:00Z"));
    const bad = validateBatch([{ ...sample[0], OrderID: 0, OrderDate: "never" }], contract);
    assertEquals(bad.rejects[0].issues.map((i) => i.path), ["OrderID", "OrderDate"]);
    assertEquals(columnTypesOf(contract), {
      OrderID: "int64",
      CustomerID: "string",
      OrderDate: "datetime",
      ShippedDate: "datetime",
      Freight: "float64",
      Paid: "boolean",
      Extra: "json",
    });
  });
});

Deno.test("asset names with spaces become camel-case exports and quoted keys stay valid", () => {
  const text = renderContract(profileRows([{ "Unit Price": 1.5 }]), {
    asset: "Order Details",
    sampleRows: 1,
    source: "test",
  });
  assertStringIncludes(text, "export const orderDetailsContract = z.looseObject({");
  assertStringIncludes(text, '  "Unit Price": z.coerce.number().min(0),');
  assertStringIncludes(text, "export type OrderDetails = z.infer<typeof orderDetailsContract>;");
});

Deno.test("a contract is inferred from an asset's Parquet folder", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(join(dir, "parquet", "Orders"), {
      format: "parquet",
      runId: "r1",
      columns: { OrderDate: "datetime", ShippedDate: "datetime" },
      partitionBy: ["CustomerID"],
    });
    await sink.writeRows(sample.map(({ Extra: _, ...r }) => r));
    await sink.close();
    const text = await inferContractModule(join(dir, "parquet", "Orders"), { asset: "Orders" });
    assertStringIncludes(text, "  OrderID: z.coerce.number().int().positive(),");
    assertStringIncludes(text, "  OrderDate: timestamp,");
    assertStringIncludes(text, "  ShippedDate: timestamp.nullable(),");
    assertStringIncludes(text, "from 2 rows of");
  });
});

Deno.test("tidemark contract infer --write writes the module; a missing asset is a usage error", async () => {
  await withDir(async (dir) => {
    const sink = await openSink(join(dir, "parquet", "Orders"), { format: "parquet", runId: "r1" });
    await sink.writeRows([{ OrderID: 1, Freight: 2.5 }]);
    await sink.close();
    const file = join(dir, "contracts", "orders.ts");
    const log = console.log;
    console.log = () => {};
    try {
      assertEquals(
        await command.run(["infer", "--out", dir, "--asset", "Orders", "--write", file]),
        0,
      );
    } finally {
      console.log = log;
    }
    assert((await Deno.readTextFile(file)).includes("export const ordersContract"));
    await assertRejects(
      () => command.run(["infer", "--out", dir, "--asset", "Order", "--write", file]),
      UsageError,
      "no asset folder",
    );
    await assertRejects(
      () => command.run(["infer", "--out", dir, "--asset", "Orders", "--write", file]),
      UsageError,
      "--force",
    );
  });
});
