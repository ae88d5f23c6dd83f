/**
 * Bad configs, each with the exact problem list it must produce: the field path as written in
 * the file and a message saying what was expected and what was found.
 */
import { writeModeOf } from "../../lib/config/schema.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { ConfigError, type ConfigIssue } from "../../lib/core/errors.ts";
import { assertEquals, assertStringIncludes, assertThrows } from "../assert.ts";

const ENV = { API_TOKEN: "super-secret-token" };

/** A valid config with one asset; `extra` is appended to the asset, `top` before `assets:`. */
function config(extra = "", top = ""): string {
  return `name: northwind
base_url: http://127.0.0.1:9000
auth: { type: bearer, token: \${API_TOKEN} }
${top}assets:
  - name: Orders
    path: /northwind/Orders.json
    data_path: rows
${extra}`;
}

function issuesOf(text: string): ConfigIssue[] {
  const error = assertThrows(
    () => parseConfig(text, { env: ENV, source: "bad.yaml" }),
    ConfigError,
  );
  assertEquals(error.exitCode, 2);
  return error.issues;
}

const CASES: { name: string; text: string; issues: ConfigIssue[] }[] = [
  {
    name: "a misspelled pagination type lists the accepted types",
    text: config("    pagination: { type: cursr, param: _next }\n"),
    issues: [{
      path: "assets[0].pagination.type",
      message: 'expected one of cursor, offset, page, link, body_link, timeline, none; got "cursr"',
    }],
  },
  {
    name: "a misspelled field is an error with a suggestion, not silently ignored",
    text: config("    paginaton: { type: cursor, param: _next }\n"),
    issues: [{ path: "assets[0].paginaton", message: 'unknown field; did you mean "pagination"?' }],
  },
  {
    name: "cursor pagination without the param it sends the cursor in",
    text: config("    pagination: { type: cursor }\n"),
    issues: [{ path: "assets[0].pagination.param", message: "missing; expected text" }],
  },
  {
    name: "a malformed selector names the position",
    text: config("    pagination: { type: cursor, param: _next, response_path: 'meta..next' }\n"),
    issues: [{
      path: "assets[0].pagination.response_path",
      message:
        'bad selector "meta..next": empty key at position 5; write dotted keys like "meta.next_cursor", indexes like "data.-1.id", or "" for the root',
    }],
  },
  {
    name: "zero workers",
    text: config("", "workers: 0\n"),
    issues: [{ path: "workers", message: "must be at least 1; got 0" }],
  },
  {
    name: "an unknown output format",
    text: config("    output: { format: xlsx }\n"),
    issues: [{
      path: "assets[0].output.format",
      message: 'expected one of parquet, csv, jsonl, raw; got "xlsx"',
    }],
  },
  {
    name: "merge mode without a primary key",
    text: config("    output: { mode: merge }\n"),
    issues: [{
      path: "assets[0].primary_key",
      message: "required by output.mode merge; list the columns that identify a record",
    }],
  },
  {
    name: "a misspelled param placeholder",
    text: config("    params: { OrderDate__gte: '{watermrk}' }\n"),
    issues: [{
      path: "assets[0].params.OrderDate__gte",
      message:
        "unknown placeholder {watermrk}; known: {watermark}, {last_id}, {today}, {now}, {run_id}, {record.<field>} (write {{ and }} for literal braces)",
    }],
  },
  {
    name: "asset names that differ only by case",
    text: config("  - name: orders\n    path: /x\n    data_path: rows\n"),
    issues: [{
      path: "assets[1].name",
      message:
        'duplicate asset name "orders" (also assets[0]); names must be unique, ignoring case',
    }],
  },
  {
    name: "an unknown auth type",
    text: config().replace("type: bearer", "type: bearr"),
    issues: [{
      path: "auth.type",
      message: 'expected one of none, bearer, header, query, basic, oauth2, login; got "bearr"',
    }],
  },
  {
    name: "a secret written in the file instead of the environment",
    text: config().replace("${API_TOKEN}", "super-secret-token"),
    issues: [{
      path: "auth.token",
      message:
        "a secret written in the config; put it in the environment and write ${VARIABLE} here",
    }],
  },
  {
    name: "an unset environment variable without a default names the variable and the field",
    text: config().replace("${API_TOKEN}", "${NOPE_TOKEN}"),
    issues: [{
      path: "auth.token",
      message:
        "environment variable NOPE_TOKEN is not set; export it or write ${NOPE_TOKEN:-default}",
    }],
  },
  {
    name: "a base_url without a scheme",
    text: config().replace("http://127.0.0.1:9000", "127.0.0.1:9000"),
    issues: [{
      path: "base_url",
      message: 'expected an http(s) URL like http://127.0.0.1:9000; got "127.0.0.1:9000"',
    }],
  },
  {
    name: "a relative asset path with no base_url",
    text: config().replace("base_url: http://127.0.0.1:9000\n", ""),
    issues: [{
      path: "base_url",
      message: "required because assets[0].path is relative; e.g. base_url: http://127.0.0.1:9000",
    }],
  },
  {
    name: "an id watermark with a duration lookback",
    text: config("    incremental: { cursor_field: id, kind: id, lookback: 2d }\n"),
    issues: [{
      path: "assets[0].incremental.lookback",
      message: 'an id watermark takes a number of ids as lookback, got "2d"',
    }],
  },
  {
    name: "a timestamp watermark with a lookback without a unit",
    text: config("    incremental: { cursor_field: OrderDate, lookback: 30 }\n"),
    issues: [{
      path: "assets[0].incremental.lookback",
      message: 'a timestamp watermark takes a duration with a unit ("30s", "30m"), got "30"',
    }],
  },
  {
    name: "a negative max_pages",
    text: config("    max_pages: -1\n"),
    issues: [{ path: "assets[0].max_pages", message: "must be at least 1; got -1" }],
  },
  {
    name: "a list where a param value belongs",
    text: config("    params: { ids: [1, 2] }\n"),
    issues: [{
      path: "assets[0].params.ids",
      message: "expected text, a number or true/false; got a list",
    }],
  },
  {
    name: "no assets at all",
    text: "name: x\nbase_url: http://127.0.0.1:9000\nassets: []\n",
    issues: [{
      path: "assets",
      message: "a config needs at least one asset (or an extract: step)",
    }],
  },
  {
    name: "for_each naming an asset that does not exist",
    text: config("    for_each: Customers\n"),
    issues: [{
      path: "assets[0].for_each",
      message: 'expected the name of another asset of this config (there is none); got "Customers"',
    }],
  },
  {
    name: "an asset name that would escape its folder",
    text: config().replace("name: Orders", "name: ../etc"),
    issues: [{
      path: "assets[0].name",
      message:
        `asset names are used as folder names: letters, digits, spaces, '_', '.', '-', not starting with '.' or a space; got "../etc"`,
    }],
  },
  {
    name: "a success status as a WordPress-style end status",
    text: config("    pagination: { type: page, end_statuses: [200] }\n"),
    issues: [{
      path: "assets[0].pagination.end_statuses[0]",
      message: "must be at least 400; got 200",
    }],
  },
  {
    name: "a malformed variable reference names the line",
    text: config().replace("${API_TOKEN}", "${API-TOKEN}"),
    issues: [{
      path: "line 3",
      message: 'bad variable reference "${API-TOKEN}"; write ${NAME} or ${NAME:-default}',
    }],
  },
  {
    name: "duplicate YAML keys name the line and column",
    text: "name: x\nname: y\n",
    issues: [{ path: "line 2, column 1", message: "duplicated mapping key" }],
  },
  {
    name: "a PostgreSQL state backend without its URL",
    text: config("", "state: { backend: postgres, path: out/state.sqlite }\n"),
    issues: [{
      path: "state.path",
      message: "backend postgres needs path: postgres://user@host:port/database",
    }],
  },
  {
    name: "a KV state backend given a PostgreSQL URL",
    text: config("", "state: { backend: kv, path: postgres://etl@db/ops }\n"),
    issues: [{
      path: "state.backend",
      message: "a postgres:// path is a PostgreSQL state; set backend: postgres (or leave it out)",
    }],
  },
  {
    name: "a list at the top instead of a mapping",
    text: "- a\n- b\n",
    issues: [{ path: "", message: "expected a mapping at the top (name:, base_url:, assets:)" }],
  },
];

for (const c of CASES) {
  Deno.test(`config error: ${c.name}`, () => {
    assertEquals(issuesOf(c.text), c.issues);
  });
}

Deno.test("config error: every problem is listed at once, in file order", () => {
  const text = `name: northwind
base_url: http://127.0.0.1:9000
workers: 0
auth: { type: bearer, token: \${API_TOKEN} }
rate_limit: { requests_per_second: 0, burstt: 2 }
assets:
  - name: Orders
    path: northwind/Orders.json
    pagination: { type: cursr }
    data_path: rows
  - name: Lines
    path: /x
    data_path: 3
    output: { format: xls }
`;
  assertEquals(issuesOf(text).map((i) => i.path), [
    "workers",
    "rate_limit.requests_per_second",
    "rate_limit.burstt",
    "assets[0].path",
    "assets[0].pagination.type",
    "assets[1].data_path",
    "assets[1].output.format",
  ]);
});

Deno.test("config error: the message has a summary line, then one line per problem", () => {
  const error = assertThrows(
    () => parseConfig(config("", "workers: 0\n"), { env: ENV, source: "jobs/x.yaml" }),
    ConfigError,
  );
  assertEquals(
    error.message,
    "invalid jobs/x.yaml: 1 problem\n  workers: must be at least 1; got 0",
  );
});

Deno.test("the docs/design.md §7 example validates with its defaults filled in", () => {
  const text = `name: northwind
base_url: http://127.0.0.1:9000
auth: { type: bearer, token: \${API_TOKEN} }      # bearer | header | query | basic | oauth2 | login
rate_limit: { requests_per_second: 5, burst: 5, max_wait_s: 120 }
retry: { max_attempts: 6, base_ms: 500, cap_ms: 8000, budget_s: 60, timeout_s: 30 }
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: 1000 }
    pagination: { type: cursor, param: _next, response_path: next }
    data_path: rows
    primary_key: [OrderID]
    incremental: { cursor_field: OrderDate, param: OrderDate__gte, initial: "1997-01-01" }
    contract: orders                                  # a zod schema in lib/contracts
    output: { format: parquet, partition_by: [ShipCountry] }
`;
  const { config: parsed } = parseConfig(text, { env: ENV });
  const asset = parsed.assets[0];
  assertEquals(asset.params, { _size: "1000" });
  assertEquals(asset.pagination, {
    type: "cursor",
    param: "_next",
    response_path: "next",
    limit_param: "limit",
  });
  assertEquals(asset.incremental?.kind, "timestamp");
  assertEquals([asset.max_pages, asset.batch_size, asset.output.mode], [10_000, 10_000, undefined]);
  assertEquals(writeModeOf(asset).mode, "merge", "incremental with a primary key merges");
  assertEquals(asset.incremental?.param_format, "auto");
  assertEquals(parsed.workers, 4);
  assertEquals(parsed.retry.budget_s, 60);
  assertEquals(parsed.auth, { type: "bearer", token: "super-secret-token" });
});

Deno.test("the write mode follows from the asset when output.mode is not written", () => {
  const mode = (asset: Parameters<typeof writeModeOf>[0]) => writeModeOf(asset).mode;
  assertEquals(mode({ output: { format: "parquet" } }), "replace");
  assertEquals(mode({ output: { format: "csv" } }), "replace");
  assertEquals(
    mode({ output: { format: "parquet" }, incremental: {}, primary_key: ["id"] }),
    "merge",
  );
  assertEquals(
    mode({ output: { format: "jsonl" }, incremental: {}, primary_key: ["id"] }),
    "append",
  );
  assertEquals(mode({ output: { format: "parquet" }, incremental: {} }), "append");
  assertEquals(mode({ output: { format: "raw" } }), "append");
  assertEquals(mode({ output: { format: "parquet", mode: "append" } }), "append");
  assertEquals(
    writeModeOf({ output: { format: "parquet", mode: "append" } }).reason,
    "output.mode",
  );
});

Deno.test("a primary key may be written as a single column", () => {
  const { config: parsed } = parseConfig(config("    primary_key: OrderID\n"), { env: ENV });
  assertEquals(parsed.assets[0].primary_key, ["OrderID"]);
});

Deno.test("schedule, for_each and extract steps validate", () => {
  const text = config(
    `    schedule: "*/15 * * * *"
  - name: Customer Orders
    path: /northwind/Orders.json
    data_path: rows
    for_each: Orders
    for_each_batch: 10
    params: { CustomerID: "{record.CustomerID}" }
`,
    "schedule: \"0 * * * *\"\nextract:\n  - { name: line_items, db: northwind.db, query: 'SELECT 1 WHERE x >= :start', params: { start: '1997-01-01' } }\n",
  );
  const { config: parsed } = parseConfig(text, { env: ENV });
  assertEquals(parsed.assets[1].for_each, "Orders");
  assertEquals(parsed.extract?.[0].chunk_rows, 100_000);
  assertStringIncludes(parsed.schedule ?? "", "*");
});

Deno.test("REST columns: an unknown type names the accepted ones", () => {
  const issues = issuesOf(config("    columns: { OrderDate: datetim }\n"));
  assertEquals(issues.map((i) => i.path), ["assets[0].columns.OrderDate.type"]);
  assertStringIncludes(issues[0].message, '"datetim" is not a column type; use one of string');
});

Deno.test("REST columns: a declared column left out of select, or two columns written under one name", () => {
  const issues = issuesOf(config(
    "    select: [OrderID]\n    columns: { OrderID: { type: int, rename: id }, Freight: float }\n",
  ));
  assertEquals(issues.map((i) => i.path), ["assets[0].columns.Freight"]);
  assertStringIncludes(issues[0].message, "declared but not in select (OrderID)");
  const renamed = issuesOf(config(
    "    select: [OrderID, ShipVia]\n    columns: { ShipVia: { type: int, rename: OrderID } }\n",
  ));
  assertStringIncludes(renamed[0].message, 'two columns are written as "OrderID"');
});

Deno.test("REST columns: select lists a field once, and needs flattened records", () => {
  assertStringIncludes(
    issuesOf(config("    select: [OrderID, OrderID]\n"))[0].message,
    "lists a field twice",
  );
  const issues = issuesOf(config("    select: [OrderID]\n    transform: { flatten: false }\n"));
  assertEquals(issues.map((i) => i.path), ["assets[0].select"]);
});

Deno.test("REST columns: type, format, nullable and rename parse as on a SQL step", () => {
  const { config: parsed } = parseConfig(
    config(
      '    columns: { OrderDate: { type: date, format: "%d/%m/%Y", rename: order_date }, OrderID: int }\n',
    ),
    { env: ENV },
  );
  assertEquals(parsed.assets[0].columns, {
    OrderDate: { type: "date", format: "%d/%m/%Y", nullable: true, rename: "order_date" },
    OrderID: { type: "int64", nullable: true },
  });
});

Deno.test("REST columns: a key or cursor field keeps its name and stays selected", () => {
  const renamed = issuesOf(config(
    "    primary_key: [OrderID]\n    columns: { OrderID: { type: int, rename: order_id } }\n",
  ));
  assertEquals(renamed.map((i) => i.path), ["assets[0].columns"]);
  assertStringIncludes(renamed[0].message, "OrderID is a key or cursor field");
  const dropped = issuesOf(config(
    "    incremental: { cursor_field: OrderDate, param: OrderDate__gte }\n    select: [OrderID]\n",
  ));
  assertEquals(dropped.map((i) => i.path), ["assets[0].select"]);
  assertStringIncludes(dropped[0].message, "keep it in select");
});
