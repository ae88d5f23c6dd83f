import { assertEquals, assertRejects, assertThrows } from "../assert.ts";
import {
  checkRejectRatio,
  getContract,
  orderDetailsContract,
  pruneRejects,
  readRejects,
  validateBatch,
  writeRejects,
} from "../../lib/contracts/mod.ts";
import { ConfigError, ContractError } from "../../lib/core/errors.ts";
import { tempFolders } from "../temp_dir.ts";

const withDir = tempFolders("tidemark_rejects_");

const line = { OrderID: 10248, ProductID: 11, UnitPrice: 14, Quantity: 12, Discount: 0 };

Deno.test("rejects land in rejects/<asset>/<run_id>.jsonl with issues and provenance", async () => {
  await withDir(async (out) => {
    const page7 = validateBatch(
      [line, { ...line, Quantity: 0, Discount: 2 }],
      orderDetailsContract,
    );
    const page8 = validateBatch([{ ...line, OrderID: -1 }], orderDetailsContract);
    await writeRejects(out, page7.rejects, {
      asset: "Order Details",
      runId: "r1",
      provenance: { snapshot: "raw/Order Details/r1/00007.json", page: 7, sha256: "aa" },
    });
    const path = await writeRejects(out, page8.rejects, {
      asset: "Order Details",
      runId: "r1",
      provenance: { snapshot: "raw/Order Details/r1/00008.json", page: 8, sha256: "bb" },
    });
    assertEquals(path, `${out}/rejects/Order Details/r1.jsonl`);
    const lines = await readRejects(path);
    assertEquals(lines.length, 2);
    assertEquals(lines[0], {
      asset: "Order Details",
      run_id: "r1",
      index: 1,
      reason: "contract",
      row: { ...line, Quantity: 0, Discount: 2 },
      issues: [
        { path: "Quantity", message: "Too small: expected number to be >0" },
        { path: "Discount", message: "Too big: expected number to be <=1" },
      ],
      provenance: { snapshot: "raw/Order Details/r1/00007.json", page: 7, sha256: "aa" },
    });
    assertEquals(lines[1].provenance.page, 8);
  });
});

Deno.test("rejected rows with big ids are written exactly", async () => {
  await withDir(async (out) => {
    const path = await writeRejects(
      out,
      [{ row: { id: 2n ** 60n }, index: 0, issues: [{ path: "id", message: "bad" }] }],
      { asset: "t", runId: "r", provenance: { snapshot: null, page: null, sha256: null } },
    );
    assertEquals((await Deno.readTextFile(path)).includes('"id":1152921504606846976'), true);
  });
});

Deno.test("a reject ratio above max_reject_ratio fails naming asset, count and ratio", () => {
  assertEquals(checkRejectRatio({ rejected: 10, total: 1000 }, { asset: "Orders" }), 0.01);
  const error = assertThrows(
    () => checkRejectRatio({ rejected: 11, total: 1000 }, { asset: "Orders" }),
    ContractError,
  );
  assertEquals(
    error.message.startsWith('asset "Orders" rejected 11 of 1000 rows (ratio 0.0110)'),
    true,
  );
  assertThrows(
    () => checkRejectRatio({ rejected: 1, total: 4 }, { asset: "x", maxRejectRatio: 0.2 }),
    ContractError,
    "max_reject_ratio 0.2",
  );
});

Deno.test("an unknown contract name is a config error listing the known ones", () => {
  assertThrows(() => getContract("order"), ConfigError, "known: order_details, orders");
});

Deno.test("a torn last line in a rejects file is skipped on read", async () => {
  await withDir(async (out) => {
    const path = await writeRejects(out, [{ row: { a: 1 }, index: 0, issues: [] }], {
      asset: "a",
      runId: "r",
      provenance: { snapshot: null, page: null, sha256: null },
    });
    await Deno.writeTextFile(path, '{"asset":"a","run_', { append: true });
    assertEquals((await readRejects(path)).length, 1);
    await assertRejects(() => readRejects(`${out}/missing.jsonl`), Deno.errors.NotFound);
  });
});

Deno.test("pruneRejects keeps the lines a predicate accepts, in every asset's file of the run", async () => {
  await withDir(async (out) => {
    assertEquals(await pruneRejects(out, "r1", () => false), 0, "no rejects folder: nothing");
    const rows = [{ row: { OrderID: 1 }, index: 0, issues: [{ path: "x", message: "bad" }] }];
    for (const page of [1, 2, 3]) {
      for (const asset of ["Orders", "Order Details"]) {
        await writeRejects(out, rows, {
          asset,
          runId: "r1",
          provenance: { snapshot: `raw/${asset}/r1/0000${page}.json`, page, sha256: "aa" },
        });
      }
    }
    await writeRejects(out, rows, {
      asset: "Orders",
      runId: "r2",
      provenance: { snapshot: "raw/Orders/r2/00001.json", page: 1, sha256: "bb" },
    });
    const dropped = await pruneRejects(out, "r1", (line) => line.provenance.page !== 3);
    assertEquals(dropped, 2);
    for (const asset of ["Orders", "Order Details"]) {
      const lines = await readRejects(`${out}/rejects/${asset}/r1.jsonl`);
      assertEquals(lines.map((l) => l.provenance.page), [1, 2]);
    }
    assertEquals((await readRejects(`${out}/rejects/Orders/r2.jsonl`)).length, 1, "r2 untouched");
  });
});
