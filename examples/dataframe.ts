/**
 * A DataFrame on dask.dataframe (`npx tsx examples/dataframe.ts`): sales rows made in TypeScript, revenue per region
 * with an expression and a groupby, a merge, files written and read back, an Arrow table, and Prefect's own
 * dataframe flow — one task returns a frame, a second sums it, a third computes the sum on its worker.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow, task } from "daskflow";
import { DataFrame, DaskTaskRunner, type Reduction, col, getDaskClient, lit } from "daskflow/dask";

interface Sale {
  region: string;
  product: string;
  price: number;
  qty: number;
  day: Date;
}

const products = ["widget", "gadget", "gizmo"];
const regions = ["EU", "US", "APAC"];
const sales: Sale[] = Array.from({ length: 600 }, (_, i) => ({
  region: regions[i % 3]!,
  product: products[Math.floor(i / 3) % 3]!,
  price: 5 + ((i * 37) % 50),
  qty: 1 + ((i * 11) % 6),
  day: new Date(Date.UTC(2024, i % 12, 1 + (i % 28))),
}));

// Prefect's dataframe flow (its test of Dask collections in tasks), in TypeScript.
export const createFrame = task(() => DataFrame.fromRows([{ x: 1, y: 2 }, { x: 1, y: 2 }, { x: 1, y: 2 }], { npartitions: 1 }));
export const sumFrame = task((df: DataFrame<{ x: number; y: number }>) => df.sum());
export const computeSum = task((sum: Reduction<Record<"x" | "y", number | null>>) => sum.compute()); // on the worker's scheduler

const dir = mkdtempSync(join(tmpdir(), "daskflow-dataframe-example-"));
const dataframeFlow = flow({ name: "dataframe-example", taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 2, threads_per_worker: 1 } }) }, async () => {
  await using client = await getDaskClient();
  const df = DataFrame.fromRows(sales, { npartitions: 4 });

  const big = df.assign({ revenue: col("price").mul(col("qty")) }).filter(col("revenue").gt(100).and(col("region").eq(lit("EU"))));
  const perRegion = df
    .assign({ revenue: col("price").mul(col("qty")), month: col("day").dt.month() })
    .groupBy(["region", "product"])
    .agg({ revenue: ["revenue", "sum"], orders: ["qty", "count"], months: ["month", "nunique"] });
  const names = DataFrame.fromRows([{ region: "EU", name: "Europe" }, { region: "US", name: "United States" }]);

  await df.toParquet(join(dir, "sales.parquet"), { client });
  const fromParquet = DataFrame.readParquet(join(dir, "sales.parquet"));
  const table = await fromParquet.select(["region", "qty"]).toArrow({ client });

  return {
    bigEu: await big.length().compute({ client }),
    perRegion: await perRegion.head(4, { client }),
    merged: await df.valueCounts("region").merge(names, { on: "region", how: "left" }).sortValues("region").compute({ client }),
    parquetRows: await fromParquet.length().compute({ client }),
    arrow: `${table.numRows} rows, columns ${table.schema.fields.map((f) => `${f.name}: ${String(f.type)}`).join(", ")}`,
    prefect: await computeSum.submit(sumFrame.submit(createFrame.submit())).result(),
  };
});

try {
  const result = await dataframeFlow();
  console.log(`EU orders with revenue > 100: ${result.bigEu}`);
  console.log("revenue per region and product (first 4 groups, keys kept, in key order):");
  console.table(result.perRegion);
  console.log("orders per region, merged with region names (left join):");
  console.table(result.merged);
  console.log(`read back from Parquet: ${result.parquetRows} rows; as Arrow: ${result.arrow}`);
  console.log(`Prefect's dataframe flow: ${JSON.stringify(result.prefect)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
