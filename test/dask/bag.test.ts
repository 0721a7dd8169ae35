/** Bag on a real cluster: every operation against the same computation in plain JavaScript. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { flow } from "../../src/index.ts";
import { Bag, type DaskClient, DaskTaskRunner, getDaskClient } from "../../src/dask/index.ts";
import { bagInTask, shout, slowMark } from "./bag-tasks.ts";
import { type TestCluster, startCluster } from "./fixtures.ts";

let cluster: TestCluster;
let client: DaskClient;
let dir: string;
before(async () => {
  cluster = await startCluster([{ nthreads: 2 }]);
  client = await getDaskClient({ address: cluster.address });
  dir = mkdtempSync(join(tmpdir(), "daskflow-bag-"));
});
after(async () => {
  await client?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const numbers = Array.from({ length: 101 }, (_, i) => (i * 37) % 101); // 0..100, shuffled
const records = numbers.map((n) => ({ id: n, group: ["a", "b", "c"][n % 3]!, tags: [n % 2 ? "odd" : "even", `d${n % 10}`] }));
const sorted = <T>(xs: T[]) => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

test("element-wise steps (fused) keep order and types", async () => {
  const bag = Bag.fromSequence(records, { npartitions: 7 });
  const got = await bag
    .filter((r) => r.id % 2 === 0)
    .map((r, k: number) => ({ ...r, scaled: r.id * k, when: new Date(r.id * 1000) }), 3)
    .compute({ client });
  const want = records.filter((r) => r.id % 2 === 0).map((r) => ({ ...r, scaled: r.id * 3, when: new Date(r.id * 1000) }));
  assert.deepEqual(got, want);
  assert.ok(got[0]!.when instanceof Date);
  assert.deepEqual(await bag.pluck("group").compute({ client }), records.map((r) => r.group));
  assert.deepEqual(await bag.flatMap((r) => r.tags).compute({ client }), records.flatMap((r) => r.tags));
  assert.deepEqual(await bag.mapPartitions((part) => [part.length]).compute({ client }), [15, 15, 15, 15, 15, 15, 11]);
  // A whole-partition step between element-wise ones, and partitions a filter empties.
  const chained = await bag
    .map((r) => r.id)
    .mapPartitions((ids) => [ids.length, ...ids.filter((id) => id > 90)])
    .filter((x) => x > 14)
    .map((x) => x * 2)
    .compute({ client });
  const parts = Array.from({ length: 7 }, (_, i) => records.slice(i * 15, i * 15 + 15).map((r) => r.id));
  assert.deepEqual(chained, parts.flatMap((ids) => [ids.length, ...ids.filter((id) => id > 90)]).filter((x) => x > 14).map((x) => x * 2));
});

test("reductions: count, sum, min, max, mean, fold, reduction", async () => {
  const bag = Bag.fromSequence(numbers, { npartitions: 20 }); // 20 partitions: a two-level tree with splitEvery 8
  const total = numbers.reduce((a, b) => a + b, 0);
  assert.equal(await bag.count().compute({ client }), numbers.length);
  assert.equal(await bag.sum().compute({ client }), total);
  assert.equal(await bag.min().compute({ client }), 0);
  assert.equal(await bag.max().compute({ client }), 100);
  assert.equal(await bag.mean().compute({ client }), total / numbers.length);
  assert.equal(await bag.fold((a, b) => a + b).compute({ client }), total);
  assert.equal(await bag.fold((acc: string[], x) => (x > 95 ? [...acc, String(x)] : acc), { initial: [], combine: (a, b) => [...a, ...b] }).compute({ client }).then((xs) => xs.sort().join()), "100,96,97,98,99");
  assert.deepEqual(await bag.reduction((part) => Math.max(...part), (maxes) => Math.max(...maxes), { splitEvery: 3 }).compute({ client }), 100);
  await assert.rejects(Bag.fromSequence<number>([]).max().compute({ client }), /max\(\) of an empty Bag/);
  const sparse = bag.filter((x) => x > 90); // most of the 20 partitions end up empty
  assert.equal(await sparse.min().compute({ client }), 91);
  assert.equal(await sparse.max().compute({ client }), 100);
  assert.equal(await sparse.count().compute({ client }), 10);
});

test("frequencies, topk, distinct, groupBy, foldBy", async () => {
  const words = "the cat and the hat and the bat".split(" ");
  const bag = Bag.fromSequence(words, { npartitions: 3 });
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  assert.deepEqual(sorted(await bag.frequencies().compute({ client })), sorted([...counts]));
  assert.deepEqual(sorted(await bag.distinct().compute({ client })), sorted([...counts.keys()]));
  // Objects are counted by their contents, and come back as the objects they were.
  const pairs = await Bag.fromSequence(records, { npartitions: 4 }).map((r) => ({ group: r.group, odd: r.id % 2 === 1 })).frequencies().compute({ client });
  assert.deepEqual(
    sorted(pairs),
    sorted(["a", "b", "c"].flatMap((g) => [true, false].map((odd) => [{ group: g, odd }, records.filter((r) => r.group === g && r.id % 2 === 1 === odd).length]))),
  );
  const nums = Bag.fromSequence(numbers, { npartitions: 9 });
  assert.deepEqual(await nums.topk(4).compute({ client }), [100, 99, 98, 97]);
  assert.deepEqual(await nums.topk(2, (x) => -x).compute({ client }), [0, 1]);
  const byGroup = await Bag.fromSequence(records, { npartitions: 5 }).groupBy((r) => r.group).compute({ client });
  assert.deepEqual(
    sorted(byGroup.map(([k, rs]) => [k, rs.map((r) => r.id).sort((a, b) => a - b)])),
    sorted(["a", "b", "c"].map((g) => [g, records.filter((r) => r.group === g).map((r) => r.id).sort((a, b) => a - b)])),
  );
  const sums = await Bag.fromSequence(records, { npartitions: 5 }).foldBy((r) => r.group, (acc: number, r) => acc + r.id, { initial: 0, combine: (a, b) => a + b }).compute({ client });
  assert.deepEqual(sorted(sums), sorted(["a", "b", "c"].map((g) => [g, records.filter((r) => r.group === g).reduce((a, r) => a + r.id, 0)])));
});

test("readText (blocks, gzip, globs), take, toTextFiles round trip", async () => {
  const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${"é".repeat(i % 7)}`);
  writeFileSync(join(dir, "plain.txt"), lines.join("\n") + "\n");
  writeFileSync(join(dir, "more.txt.gz"), gzipSync(lines.slice(0, 10).join("\r\n")));
  assert.deepEqual(await Bag.readText(join(dir, "plain.txt"), { blocksize: 333 }).compute({ client }), lines);
  const both = await Bag.readText(join(dir, "*.t*"), { blocksize: 1000 }).compute({ client });
  assert.deepEqual(both, [...lines.slice(0, 10), ...lines]); // glob matches in sorted order: more.txt.gz, plain.txt
  assert.deepEqual(await Bag.readText(join(dir, "plain.txt"), { blocksize: 333 }).take(3, { client }), lines.slice(0, 3));
  const paths = await Bag.fromSequence(lines, { npartitions: 12 }).map((l) => l.toUpperCase()).toTextFiles(join(dir, "out", "part-*.txt"), { client });
  assert.equal(paths.length, 12);
  assert.match(paths[0]!, /part-00\.txt$/);
  assert.deepEqual(paths.flatMap((p) => readFileSync(p, "utf8").trimEnd().split("\n")), lines.map((l) => l.toUpperCase()));
  await assert.rejects(Bag.readText(join(dir, "nothing-*.txt")).compute({ client }), /no file matches/);
});

test("a function referring to an outer variable is an error when the Bag is built; exported ones go by reference", async () => {
  const threshold = 10;
  assert.throws(
    () => Bag.fromSequence(numbers).filter((x) => x > threshold),
    /Bag\.filter\(\): the function refers to `threshold`, from outside the function\..*bag\.map\(\(x, threshold\) => \.\.\., threshold\).*export the function/s,
  );
  assert.throws(() => Bag.fromSequence(numbers).map(Math.sqrt), /built-in or bound function/);
  assert.deepEqual(await Bag.fromSequence(["/a/b.txt", "c"]).map(shout).compute({ client }), ["B.TXT!", "C!"]);
  assert.deepEqual(await Bag.fromSequence(numbers).filter((x, t: number) => x > t, threshold).count().compute({ client }), numbers.filter((x) => x > threshold).length);
});

test("persist keeps partitions for the client's scope; compute gives a future; a Bag in a flow and in a task", async () => {
  const persisted = await Bag.fromSequence(numbers, { npartitions: 4 }).map((x) => x + 1).persist(client);
  assert.equal(await persisted.sum().compute({ client }), numbers.reduce((a, b) => a + b + 1, 0));
  const future = client.compute(persisted.count());
  assert.equal(await future, numbers.length);
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => ({
    here: await Bag.fromSequence([1, 2, 3]).map((x) => x * 10).compute(),
    inTask: await bagInTask.submit(10).result(),
  }));
  assert.deepEqual(await f(), { here: [10, 20, 30], inTask: { sum: 285, evens: 5 } });
});

test("cancelling a compute() future stops its work on the cluster and the future rejects as cancelled", async () => {
  const marks = join(dir, "marks.txt");
  writeFileSync(marks, "");
  const ran = () => readFileSync(marks, "utf8").split("\n").filter(Boolean).length;
  // 40 partitions of one element, 300 ms each, on 2 threads: about 6 s of work if nothing stops it.
  const future = client.compute(Bag.fromSequence(Array.from({ length: 40 }, (_, i) => i), { npartitions: 40 }).map(slowMark, marks, 300).sum());
  const started = Date.now();
  while (ran() === 0 && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ran() > 0, "the work started");
  await future.cancel();
  await assert.rejects(future.result(), (e: Error) => e.name === "FutureCancelled" && /cancelled/.test(e.message));
  await new Promise((r) => setTimeout(r, 1000)); // partitions already running finish
  const after = ran();
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(ran(), after, "nothing more runs after the cancel");
  assert.ok(after < 40, `only part of the work ran (${after} of 40 partitions)`);
  // The client still works.
  assert.equal(await Bag.fromSequence([1, 2, 3]).sum().compute({ client }), 6);
});
