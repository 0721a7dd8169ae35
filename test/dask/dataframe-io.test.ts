/**
 * DataFrame files and Arrow on a real local Dask cluster: CSV, Parquet and JSON lines in a temporary folder; toArrow
 * with its types; compute() outside any run; and a Python without pandas.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataFrame, DataFrameSetupError, col, getDaskClient, type DaskClient } from "../../src/dask/index.ts";
import { sales } from "./dataframe-data.ts";

const ROWS = sales(60);
const df = DataFrame.fromRows(ROWS, { npartitions: 3 });
let client: DaskClient;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "daskflow-dataframe-"));
  client = await getDaskClient();
});
after(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("toParquet() writes one file per partition; readParquet() reads the same rows back", async () => {
  const files = await df.toParquet(join(dir, "sales.parquet"), { client });
  assert.equal(files.length, 3);
  assert.ok(files.every((f) => f.startsWith(join(dir, "sales.parquet")) && f.endsWith(".parquet")));
  assert.deepEqual(await DataFrame.readParquet(join(dir, "sales.parquet")).compute({ client }), ROWS);
  const some = await DataFrame.readParquet(join(dir, "sales.parquet"), { columns: ["id", "qty"] }).head(2, { client });
  assert.deepEqual(some, [{ id: 0, qty: 0 }, { id: 1, qty: 4 }]);
});

test("toCsv() writes part files; readCsv() with dtypes and parsed dates reads them back", async () => {
  const files = await df.toCsv(join(dir, "csv"), { client });
  assert.deepEqual(files, [0, 1, 2].map((i) => join(dir, "csv", `part-${i}.csv`)));
  const back = await DataFrame.readCsv(join(dir, "csv", "*.csv"), { parseDates: ["at"], dtype: { region: "string", name: "string" } }).compute({ client });
  assert.deepEqual(back, ROWS);
});

test("readCsv() and readJson() of files written here (relative paths resolve from this process)", async () => {
  const csv = join(dir, "plain.csv");
  writeFileSync(csv, "city,temp\nOslo,3.5\nRome,18\nLima,\n");
  assert.deepEqual(await DataFrame.readCsv(csv, { sep: "," }).compute({ client }), [
    { city: "Oslo", temp: 3.5 }, { city: "Rome", temp: 18 }, { city: "Lima", temp: null },
  ]);
  mkdirSync(join(dir, "json"));
  writeFileSync(join(dir, "json", "a.jsonl"), '{"k": "a", "v": 1}\n{"k": "b", "v": 2}\n');
  writeFileSync(join(dir, "json", "b.jsonl"), '{"k": "a", "v": 10}\n');
  const grouped = await DataFrame.readJson([join(dir, "json", "a.jsonl"), join(dir, "json", "b.jsonl")]).groupBy("k").agg({ v: ["v", "sum"] }).compute({ client });
  assert.deepEqual(grouped, [{ k: "a", v: 11 }, { k: "b", v: 2 }]);
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const relative = DataFrame.readCsv("plain.csv");
    process.chdir(cwd); // the path was resolved when the frame was made
    assert.equal(await relative.length().compute({ client }), 3);
  } finally {
    process.chdir(cwd);
  }
  await assert.rejects(DataFrame.readCsv(join(dir, "missing-*.csv")).compute({ client }), /read_csv: cannot read/);
});

test("toArrow(): an Arrow table with int64 as exact bigint, nulls, strings and timestamps", async () => {
  const table = await df.assign({ big: col("id").mul(2 ** 40).mul(2 ** 20) }).toArrow({ client });
  assert.equal(table.numRows, ROWS.length);
  assert.deepEqual(table.schema.fields.map((f) => [f.name, String(f.type)]), [
    ["id", "Int64"], ["region", "LargeUtf8"], ["name", "LargeUtf8"], ["price", "Float64"], ["qty", "Int64"], ["at", "Timestamp<MICROSECOND>"], ["big", "Int64"],
  ]);
  // 7 * 2^60 is beyond 2^53: exact as a bigint (compute() refuses it instead of rounding).
  assert.equal(table.getChild("big")!.get(7), 7n * 2n ** 60n);
  assert.deepEqual([...table.getChild("id")!].slice(0, 3), [0n, 1n, 2n]);
  assert.deepEqual([...table.getChild("region")!], ROWS.map((r) => r.region));
  assert.deepEqual([...table.getChild("price")!], ROWS.map((r) => r.price));
  const at = table.getChild("at")!;
  ROWS.forEach((r, i) => assert.equal(at.get(i) === null ? null : Number(at.get(i)), r.at?.getTime() ?? null, `at of row ${i}`));
  await assert.rejects(df.assign({ big: col("id").mul(2 ** 40).mul(2 ** 20) }).compute({ client }), /column 'big' holds the integer/);
});

test("compute() outside any run uses a temporary local cluster", async () => {
  assert.equal(await df.filter(col("qty").ge(4)).length().compute(), ROWS.filter((r) => r.qty >= 4).length);
});

test("a Python without pandas: a clear error naming `npx daskflow setup --with dataframe`", async () => {
  const fake = join(dir, "no-pandas");
  mkdirSync(join(fake, "pandas"), { recursive: true });
  writeFileSync(join(fake, "pandas", "__init__.py"), "raise ImportError(\"No module named 'pandas'\", name='pandas')\n");
  const saved = process.env.PYTHONPATH;
  process.env.PYTHONPATH = fake;
  try {
    const bare = await getDaskClient();
    try {
      await assert.rejects(df.compute({ client: bare }), (e: Error) =>
        e instanceof DataFrameSetupError && /cannot import 'pandas'/.test(e.message) && e.message.includes("npx daskflow setup --with dataframe"));
    } finally {
      await bare.close();
    }
  } finally {
    if (saved === undefined) delete process.env.PYTHONPATH;
    else process.env.PYTHONPATH = saved;
  }
});
