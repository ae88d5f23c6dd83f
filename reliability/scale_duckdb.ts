/**
 * The comparison of `deno task scale:accept`, done by DuckDB (python3's `duckdb` module): the
 * Parquet a queued run left under `units/<asset>/` of a downloaded bucket folder against the
 * source's SQLite tables (exported to CSV by python3's sqlite3, since DuckDB cannot load its
 * sqlite extension offline). Per table: rows, distinct keys, keys missing and extra, and a
 * checksum of every row's compared columns (numbers as DOUBLE, text as is), equal as multisets.
 * @module
 */

/** The compared tables: key and columns (the dates are left out: their Parquet type differs). */
const TABLES = {
  "Orders": {
    key: ["OrderID"],
    columns: [
      "OrderID",
      "CustomerID",
      "EmployeeID",
      "ShipVia",
      "Freight",
      "ShipCity",
      "ShipCountry",
    ],
    numeric: ["OrderID", "EmployeeID", "ShipVia", "Freight"],
  },
  "Order Details": {
    key: ["OrderID", "ProductID"],
    columns: ["OrderID", "ProductID", "UnitPrice", "Quantity", "Discount"],
    numeric: ["OrderID", "ProductID", "UnitPrice", "Quantity", "Discount"],
  },
};

const SCRIPT = String.raw`
import csv, json, os, sqlite3, sys, tempfile
import duckdb
db, root, tables = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
src = sqlite3.connect(db)
con = duckdb.connect()
tmp = tempfile.mkdtemp()
q = lambda c: '"' + c + '"'
report = {}
for name, t in tables.items():
    path = os.path.join(tmp, name.replace(" ", "_") + ".csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(t["columns"])
        w.writerows(src.execute("SELECT " + ",".join(q(c) for c in t["columns"]) + " FROM " + q(name)))
    norm = lambda c: ("CAST(CAST(" + q(c) + " AS DOUBLE) AS VARCHAR)") if c in t["numeric"] else ("CAST(" + q(c) + " AS VARCHAR)")
    row = "concat_ws('|', " + ", ".join("coalesce(nullif(" + norm(c) + ", ''), '-')" for c in t["columns"]) + ")"
    key = "concat_ws('|', " + ", ".join(norm(c) for c in t["key"]) + ")"
    glob = os.path.join(root, "units", name, "**", "*.parquet")
    con.execute("CREATE OR REPLACE TABLE s AS SELECT " + key + " AS k, md5(" + row + ") AS h FROM read_csv('" + path + "', all_varchar = true)")
    con.execute("CREATE OR REPLACE TABLE o AS SELECT " + key + " AS k, md5(" + row + ") AS h FROM read_parquet('" + glob + "', union_by_name = true)")
    one = lambda sql: con.execute(sql).fetchone()[0]
    report[name] = {
        "source_rows": one("SELECT count(*) FROM s"),
        "output_rows": one("SELECT count(*) FROM o"),
        "output_distinct_keys": one("SELECT count(DISTINCT k) FROM o"),
        "missing_keys": one("SELECT count(*) FROM (SELECT k FROM s EXCEPT SELECT k FROM o)"),
        "extra_keys": one("SELECT count(*) FROM (SELECT k FROM o EXCEPT SELECT k FROM s)"),
        "rows_differing": one("SELECT (SELECT count(*) FROM (SELECT h FROM s EXCEPT ALL SELECT h FROM o)) + (SELECT count(*) FROM (SELECT h FROM o EXCEPT ALL SELECT h FROM s))"),
        "source_checksum": one("SELECT md5(string_agg(h, '' ORDER BY h)) FROM s"),
        "output_checksum": one("SELECT md5(string_agg(h, '' ORDER BY h)) FROM o"),
    }
print(json.dumps(report))
`;

/** What DuckDB found for one table. */
interface TableReport {
  source_rows: number;
  output_rows: number;
  output_distinct_keys: number;
  missing_keys: number;
  extra_keys: number;
  rows_differing: number;
  source_checksum: string;
  output_checksum: string;
}

/** Why the comparison cannot run (no python3, or no duckdb module), or undefined. */
export async function duckDbUnavailable(): Promise<string | undefined> {
  try {
    const probe = await new Deno.Command("python3", {
      args: ["-c", "import duckdb"],
      stdout: "null",
      stderr: "null",
    }).output();
    return probe.success ? undefined : "python3 has no duckdb module (pip install duckdb)";
  } catch {
    return "python3 is not installed";
  }
}

/**
 * Compares the source SQLite file `db` with the Parquet under `<root>/units/`; lines to print
 * and the problems found (none when both tables equal the source).
 */
export async function compareWithDuckDb(
  db: string,
  root: string,
): Promise<{ lines: string[]; problems: string[] }> {
  const result = await new Deno.Command("python3", {
    args: ["-c", SCRIPT, db, root, JSON.stringify(TABLES)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    return {
      lines: [],
      problems: [`DuckDB comparison failed: ${new TextDecoder().decode(result.stderr)}`],
    };
  }
  const report = JSON.parse(new TextDecoder().decode(result.stdout)) as Record<
    string,
    TableReport
  >;
  const lines: string[] = [];
  const problems: string[] = [];
  for (const [table, r] of Object.entries(report)) {
    const same = r.source_checksum === r.output_checksum;
    lines.push(
      `${table}: source ${r.source_rows} rows, bucket ${r.output_rows} (${r.output_distinct_keys} ` +
        `distinct keys, ${r.missing_keys} missing, ${r.extra_keys} extra, ${r.rows_differing} ` +
        `rows differing); checksum ${r.output_checksum.slice(0, 12)} ${same ? "=" : "≠"} ` +
        `source ${r.source_checksum.slice(0, 12)}`,
    );
    if (
      !same || r.output_rows !== r.source_rows || r.output_distinct_keys !== r.source_rows ||
      r.missing_keys + r.extra_keys + r.rows_differing > 0
    ) problems.push(`${table} differs from the source`);
  }
  return { lines, problems };
}
