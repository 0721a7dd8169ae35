/**
 * The cost of keeping class identity on the codec: encode + decode of N plain objects with V8's serializer alone
 * (what daskflow did before) against daskflow's encodeValue/decodeValue (which also searches the value for class
 * instances), side by side in one process, alternating rounds; then the same N objects as class instances, and the
 * one-time inspector lookup of a class. `npx tsx bench/codec.ts [N]`.
 */
import { deserialize, serialize } from "node:v8";
import { decodeValueAsync, decodeValue, encodeValue } from "../src/core/serialization.ts";
import { Point } from "../test/dask/fixtures/values.ts";

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = 5;
const plain = Array.from({ length: N }, (_, i) => ({ id: i, name: `item-${i}`, tags: ["a", "b"], at: i * 1.5 }));
const instances = Array.from({ length: N }, (_, i) => new Point(i, i + 1));

const time = (fn: () => unknown) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const t0 = performance.now();
await decodeValueAsync(encodeValue(new Point(0, 0), "warm-up")); // first class: inspector lookup + module import
const firstLookupMs = performance.now() - t0;

const rows: Record<string, number[]> = { v8: [], daskflow: [], daskflowInstances: [] };
for (let r = 0; r < ROUNDS; r++) {
  rows.v8!.push(time(() => deserialize(serialize(plain))));
  rows.daskflow!.push(time(() => decodeValue(encodeValue(plain, "bench"))));
  rows.daskflowInstances!.push(time(() => decodeValue(encodeValue(instances, "bench"))));
}
const v8 = median(rows.v8!);
const out = {
  n: N,
  v8_plain_ms: +v8.toFixed(1),
  daskflow_plain_ms: +median(rows.daskflow!).toFixed(1),
  plain_ratio: +(median(rows.daskflow!) / v8).toFixed(2),
  daskflow_instances_ms: +median(rows.daskflowInstances!).toFixed(1),
  instances_ratio: +(median(rows.daskflowInstances!) / v8).toFixed(2),
  first_class_lookup_ms: +firstLookupMs.toFixed(1),
};
console.log(JSON.stringify(out));
