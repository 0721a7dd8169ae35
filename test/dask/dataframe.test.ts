/**
 * DataFrame operations and expressions on a real local Dask cluster (getDaskClient() outside a run), each checked
 * against the same computation done in plain TypeScript on the same rows.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { DataFrame, DataFrameError, col, lit, getDaskClient, type DaskClient } from "../../src/dask/index.ts";
import { type Sale, groupRows, present, sales, sum } from "./dataframe-data.ts";

const ROWS = sales(240);
const df = DataFrame.fromRows(ROWS, { npartitions: 4 });
let client: DaskClient;

before(async () => {
  client = await getDaskClient();
});
after(async () => {
  await client?.close();
});

const close = (actual: number | null | undefined, expected: number, what: string) =>
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);

test("compute() returns every row with every key, in order, missing values as null and datetimes as Dates", async () => {
  const rows = await df.compute({ client });
  assert.deepEqual(rows, ROWS);
  assert.ok(rows.some((r) => r.price === null) && rows.some((r) => r.at === null) && rows.some((r) => r.region === null));
});

test("filter and assign with arithmetic, comparison and boolean expressions", async () => {
  const got = await df
    .assign({ revenue: col("price").mul(col("qty")) })
    .filter(col("revenue").gt(100).and(col("region").eq(lit("EU"))))
    .compute({ client });
  const expected = ROWS.map((r) => ({ ...r, revenue: r.price === null ? null : r.price * r.qty })).filter(
    (r) => r.revenue !== null && r.revenue > 100 && r.region === "EU",
  );
  assert.ok(expected.length > 5);
  assert.deepEqual(got, expected);
});

test("every arithmetic, comparison, boolean, membership and missing-value function", async () => {
  const got = await df
    .assign({
      add: col("qty").add(2), sub: col("qty").sub(col("id")), mul: col("qty").mul(3), div: col("id").div(4),
      floordiv: col("id").floordiv(7), mod: col("id").mod(7), pow: col("qty").pow(2), neg: col("qty").neg(),
      abs: col("qty").sub(4).abs(), round: col("price").round(1),
      eq: col("qty").eq(3), ne: col("qty").ne(3), lt: col("qty").lt(3), le: col("qty").le(3), gt: col("qty").gt(3), ge: col("qty").ge(3),
      and: col("qty").gt(2).and(col("id").lt(100)), or: col("qty").gt(7).or(col("id").lt(3)), xor: col("qty").gt(4).xor(col("id").gt(120)),
      not: col("qty").gt(4).not(), isin: col("region").isin(["EU", "APAC"]), isNull: col("price").isNull(), notNull: col("price").notNull(),
      fillNull: col("price").fillNull(-1), cast: col("qty").cast("float64"), sumOfTwo: col("qty").add(col("id")).gt(lit(100)),
    })
    .select(["id", "add", "sub", "mul", "div", "floordiv", "mod", "pow", "neg", "abs", "round", "eq", "ne", "lt", "le", "gt", "ge",
      "and", "or", "xor", "not", "isin", "isNull", "notNull", "fillNull", "cast", "sumOfTwo"])
    .compute({ client });
  const expected = ROWS.map((r) => ({
    id: r.id, add: r.qty + 2, sub: r.qty - r.id, mul: r.qty * 3, div: r.id / 4, floordiv: Math.floor(r.id / 7), mod: r.id % 7,
    pow: r.qty ** 2, neg: 0 - r.qty, abs: Math.abs(r.qty - 4), round: r.price === null ? null : Math.round(r.price * 10) / 10,
    eq: r.qty === 3, ne: r.qty !== 3, lt: r.qty < 3, le: r.qty <= 3, gt: r.qty > 3, ge: r.qty >= 3,
    and: r.qty > 2 && r.id < 100, or: r.qty > 7 || r.id < 3, xor: r.qty > 4 !== r.id > 120, not: !(r.qty > 4),
    isin: r.region === "EU" || r.region === "APAC", isNull: r.price === null, notNull: r.price !== null,
    fillNull: r.price ?? -1, cast: r.qty, sumOfTwo: r.qty + r.id > 100,
  }));
  assert.deepEqual(got, expected);
});

test("str.* and dt.* functions; missing values stay null", async () => {
  const got = await df
    .assign({
      lower: col("name").str.lower(), upper: col("name").str.upper(), strip: col("name").str.strip(), len: col("name").str.len(),
      contains: col("name").str.contains("dget"), starts: col("name").str.startsWith("wid"), ends: col("name").str.endsWith("XL"),
      replace: col("name").str.replace("g", "G"), slice: col("name").str.slice(1, 4),
      year: col("at").dt.year(), month: col("at").dt.month(), day: col("at").dt.day(), hour: col("at").dt.hour(),
      minute: col("at").dt.minute(), second: col("at").dt.second(), weekday: col("at").dt.weekday(),
      dayOfYear: col("at").dt.dayOfYear(), date: col("at").dt.date(),
    })
    .drop(["region", "price", "qty"])
    .compute({ client });
  const mondayFirst = (d: Date) => (d.getUTCDay() + 6) % 7;
  const dayOfYear = (d: Date) => Math.round((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
  const s = <T>(name: string | null, f: (v: string) => T) => (name === null ? null : f(name));
  const t = <T>(at: Date | null, f: (v: Date) => T) => (at === null ? null : f(at));
  const expected = ROWS.map(({ id, name, at }) => ({
    id, name, at,
    lower: s(name, (v) => v.toLowerCase()), upper: s(name, (v) => v.toUpperCase()), strip: s(name, (v) => v.trim()), len: s(name, (v) => v.length),
    contains: s(name, (v) => v.includes("dget")), starts: s(name, (v) => v.startsWith("wid")), ends: s(name, (v) => v.endsWith("XL")),
    replace: s(name, (v) => v.replaceAll("g", "G")), slice: s(name, (v) => v.slice(1, 4)),
    year: t(at, (d) => d.getUTCFullYear()), month: t(at, (d) => d.getUTCMonth() + 1), day: t(at, (d) => d.getUTCDate()),
    hour: t(at, (d) => d.getUTCHours()), minute: t(at, (d) => d.getUTCMinutes()), second: t(at, (d) => d.getUTCSeconds()),
    weekday: t(at, mondayFirst), dayOfYear: t(at, dayOfYear), date: t(at, (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()))),
  }));
  assert.deepEqual(got, expected);
});

test("groupBy().agg(): one row per group with the keys as columns, sorted by key, every aggregation", async () => {
  const got = await df
    .groupBy("region")
    .agg({ total: ["qty", "sum"], avg: ["price", "mean"], n: ["price", "count"], low: ["price", "min"], high: ["name", "max"], names: ["name", "nunique"] })
    .compute({ client });
  const expected = groupRows(ROWS, "region").map(([region, rows]) => {
    const prices = present(rows.map((r) => r.price));
    const names = present(rows.map((r) => r.name));
    return { region, total: sum(rows.map((r) => r.qty)), avg: sum(prices) / prices.length, n: prices.length, low: Math.min(...prices), high: names.sort().at(-1), names: new Set(names).size };
  });
  assert.deepEqual(got.map((r) => r.region), ["APAC", "EU", "US"]);
  assert.deepEqual(got.map(({ avg: _avg, ...rest }) => rest), expected.map(({ avg: _avg, ...rest }) => rest));
  got.forEach((r, i) => close(r.avg, expected[i]!.avg, `mean of ${r.region}`));
  // Two keys: both stay columns of each row.
  const two = await df.groupBy(["region", "qty"]).agg({ n: ["id", "count"] }).head(2, { client });
  assert.deepEqual(two, [{ region: "APAC", qty: 0, n: ROWS.filter((r) => r.region === "APAC" && r.qty === 0).length }, { region: "APAC", qty: 1, n: ROWS.filter((r) => r.region === "APAC" && r.qty === 1).length }]);
});

test("merge() inner and left, select, drop and rename", async () => {
  const names = DataFrame.fromRows([{ region: "EU", label: "Europe" }, { region: "US", label: "United States" }], { npartitions: 1 });
  const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
  const inner = await df.select(["id", "region"]).merge(names, { on: "region" }).sortValues("id").compute({ client });
  const label = (r: string | null) => (r === "EU" ? "Europe" : r === "US" ? "United States" : null);
  assert.deepEqual(inner, ROWS.filter((r) => label(r.region)).map((r) => ({ id: r.id, region: r.region, label: label(r.region) })));
  const left = await df.select(["id", "region"]).merge(names, { on: "region", how: "left" }).compute({ client });
  assert.deepEqual(left.sort(byId), ROWS.map((r) => ({ id: r.id, region: r.region, label: label(r.region) })));
  const renamed = await df.drop(["name", "at", "price"]).rename({ qty: "quantity" }).head(2, { client });
  assert.deepEqual(renamed, ROWS.slice(0, 2).map((r) => ({ id: r.id, region: r.region, quantity: r.qty })));
});

test("sortValues() ascending and descending over several columns; head() looks through all partitions", async () => {
  const got = await df.select(["id", "qty"]).sortValues(["qty", "id"], { ascending: [false, true] }).compute({ client });
  const expected = ROWS.map((r) => ({ id: r.id, qty: r.qty })).sort((a, b) => b.qty - a.qty || a.id - b.id);
  assert.deepEqual(got, expected);
  // The first partitions hold no row with id > 200: head must reach the last one.
  const late = await df.filter(col("id").gt(200)).select("id").head(3, { client });
  assert.deepEqual(late, [{ id: 201 }, { id: 202 }, { id: 203 }]);
});

test("describe(), valueCounts(), dropDuplicates(), dropna(), fillna(), astype()", async () => {
  const stats = await df.select(["qty", "price"]).describe().compute({ client });
  assert.deepEqual(stats.map((r) => r.statistic), ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]);
  const qty = ROWS.map((r) => r.qty);
  assert.equal(stats[0]!.qty, qty.length);
  close(stats[1]!.qty, sum(qty) / qty.length, "mean qty");
  assert.equal(stats[3]!.qty, Math.min(...qty));
  assert.equal(stats[7]!.price, Math.max(...present(ROWS.map((r) => r.price))));

  const counts = await df.valueCounts("qty").compute({ client });
  const tally = new Map<number, number>();
  for (const r of ROWS) tally.set(r.qty, (tally.get(r.qty) ?? 0) + 1);
  assert.deepEqual(counts, [...tally].map(([q, count]) => ({ qty: q, count })).sort((a, b) => b.count - a.count || a.qty - b.qty));

  const firsts = await df.dropDuplicates("region").select(["id", "region"]).compute({ client });
  const seen = new Set<string | null>();
  assert.deepEqual(firsts, ROWS.filter((r) => !seen.has(r.region) && seen.add(r.region)).map((r) => ({ id: r.id, region: r.region })));

  assert.deepEqual(await df.dropna({ subset: ["price", "at"] }).compute({ client }), ROWS.filter((r) => r.price !== null && r.at !== null));
  assert.deepEqual(await df.dropna().compute({ client }), ROWS.filter((r) => Object.values(r).every((v) => v !== null)));
  const filled = await df.fillna({ price: 0, region: "none" }).select(["price", "region"]).compute({ client });
  assert.deepEqual(filled, ROWS.map((r) => ({ price: r.price ?? 0, region: r.region ?? "none" })));
  const typed = await df.astype({ qty: "string", id: "float64" }).select(["id", "qty"]).head(3, { client });
  assert.deepEqual(typed, ROWS.slice(0, 3).map((r) => ({ id: r.id, qty: String(r.qty) })));
});

test("reductions: count(), sum(), mean(), min(), max(), nunique(), length()", async () => {
  const numbers = df.select(["qty", "price"]);
  assert.deepEqual(await df.count().compute({ client }), Object.fromEntries(Object.keys(ROWS[0]!).map((k) => [k, ROWS.filter((r) => r[k as keyof Sale] !== null).length])));
  const sums = await numbers.sum().compute({ client });
  assert.equal(sums.qty, sum(ROWS.map((r) => r.qty)));
  close(sums.price, sum(present(ROWS.map((r) => r.price))), "sum of price");
  const means = await numbers.mean().compute({ client });
  close(means.qty, sum(ROWS.map((r) => r.qty)) / ROWS.length, "mean qty");
  assert.deepEqual(await numbers.min().compute({ client }), { qty: 0, price: Math.min(...present(ROWS.map((r) => r.price))) });
  assert.deepEqual(await numbers.max().compute({ client }), { qty: 8, price: Math.max(...present(ROWS.map((r) => r.price))) });
  assert.deepEqual(await df.select(["region", "qty"]).nunique().compute({ client }), { region: 3, qty: 9 });
  assert.equal(await df.length().compute({ client }), ROWS.length);
  assert.equal(await client.compute(df.filter(col("qty").eq(0)).length()), ROWS.filter((r) => r.qty === 0).length);
});

test("bad plans are clear errors: unknown columns, wrong types, mixed fromRows columns, big integers", async () => {
  await assert.rejects(new DataFrame(df.plan).select(["nope"]).compute({ client }), (e: Error) => e instanceof DataFrameError && /select\(\): no column 'nope'; the columns are 'id', 'region'/.test(e.message));
  await assert.rejects(df.filter(col("region").mul(2).gt(1)).compute({ client }), /filter\(\): mul needs numbers; col\('region'\) is string/);
  await assert.rejects(df.assign({ y: col("price").dt.year() }).compute({ client }), /dt\.year needs datetimes; col\('price'\) is numeric/);
  await assert.rejects(df.filter(col("qty")).compute({ client }), /filter\(\): the condition must be a boolean/);
  await assert.rejects(df.groupBy("region").agg({ s: ["name", "sum"] }).compute({ client }), /agg\('s'\): column 'name' is .*not numeric/);
  await assert.rejects(df.groupBy("nope" as "id").agg({ n: ["id", "count"] }).compute({ client }), /groupBy\(\): no column 'nope'/);
  await assert.rejects(df.merge(df.select("id"), { on: "region" }).compute({ client }), /merge\(\) right: no column 'region'/);
  await assert.rejects(df.astype({ qty: "object" as "string" }).compute({ client }), /unknown dtype 'object'/);
  assert.throws(() => DataFrame.fromRows([{ a: 1 }, { a: "x" }]), /column 'a' mixes int \(row 0\) and string \(row 1\) values/);
  assert.throws(() => DataFrame.fromRows([{ a: { nested: 1 } }]), /row 0 column 'a' is a Object; values must be numbers/);
  assert.throws(() => lit(undefined as unknown as null), /a literal must be a number/);
  const big = DataFrame.fromRows([{ id: 2n ** 60n + 1n }]);
  await assert.rejects(big.compute({ client }), /column 'id' holds the integer 1152921504606846977, beyond ±\(2\^53 - 1\).*toArrow\(\)/);
});
