/**
 * Word count over generated text: daskflow's Bag (functions in the workers' Node sidecars) against dask.bag in
 * Python on the same cluster shape, and against a single-process Node loop. Each side counts the same file; the
 * results are checked equal. Figures in bench/README.md.
 *   npx tsx bench/bag-wordcount.ts [megabytes=32] [blocksizeMB=4] [rounds=3] [workers=2]
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow } from "daskflow";
import { Bag, DaskTaskRunner, getDaskClient } from "daskflow/dask";
import { onInterrupt, runJsonChild } from "./child.ts";
import { median } from "./stats.ts";

const [mb = "32", blockMb = "4", roundsArg = "3", workersArg = "2"] = process.argv.slice(2);
const bytes = Number(mb) * 1024 * 1024;
const blocksize = Number(blockMb) * 1024 * 1024;
const rounds = Number(roundsArg);
const workers = Number(workersArg);

/** Lines of 12 words from a 5,000-word vocabulary with a skewed (Zipf-like) choice, deterministic. */
function generate(path: string): void {
  const vocabulary = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}${"abcdefghij"[i % 10]}`);
  let seed = 42;
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const fd = openSync(path, "w");
  let written = 0;
  while (written < bytes) {
    const lines: string[] = [];
    for (let l = 0; l < 2000; l++) {
      const words: string[] = [];
      for (let w = 0; w < 12; w++) words.push(vocabulary[Math.floor(vocabulary.length * next() ** 3)]!);
      lines.push(words.join(" "));
    }
    const chunk = Buffer.from(lines.join("\n") + "\n");
    writeSync(fd, chunk);
    written += chunk.byteLength;
  }
  closeSync(fd);
}

function nodeLoop(path: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line) continue;
    for (const word of line.split(" ")) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

const dir = mkdtempSync(join(tmpdir(), "daskflow-wordcount-"));
onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "text.txt");
try {
  generate(file);
  console.log(`text: ${mb} MB in ${Math.ceil(bytes / blocksize)} blocks of ${blockMb} MB; cluster: ${workers} workers x 1 thread (processes)`);

  const loop: number[] = [];
  let expected = new Map<string, number>();
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    expected = nodeLoop(file);
    loop.push((performance.now() - t0) / 1000);
  }

  const bagFlow = flow({ name: "bag-wordcount", taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: workers, threads_per_worker: 1 } }) }, async () => {
    await using client = await getDaskClient();
    const count = () => Bag.readText(file, { blocksize }).flatMap((line) => line.split(" ")).frequencies();
    const seconds: number[] = [];
    let counts: [string, number][] = [];
    for (let i = 0; i <= rounds; i++) {
      const t0 = performance.now();
      counts = await client.compute(count());
      if (i) seconds.push((performance.now() - t0) / 1000); // round 0 warms the sidecars
    }
    return { seconds, counts };
  });
  const bag = await bagFlow();
  const got = new Map(bag.counts);
  if (got.size !== expected.size || [...expected].some(([w, n]) => got.get(w) !== n)) throw new Error("Bag word counts differ from the Node loop's");

  const [python] = await runJsonChild<{ seconds: number[]; distinct: number; total: number }>(join(".venv", "bin", "python"), ["bench/bag_wordcount.py", file, String(blocksize), String(rounds), String(workers)]);
  const total = [...expected.values()].reduce((a, b) => a + b, 0);
  if (python!.distinct !== expected.size || python!.total !== total) throw new Error("dask.bag word counts differ from the Node loop's");

  const b = median(bag.seconds);
  const p = median(python!.seconds);
  const l = median(loop);
  console.log(`Bag (daskflow, Node sidecars): median ${b.toFixed(2)} s`);
  console.log(`dask.bag (Python):             median ${p.toFixed(2)} s  -> Bag is ${(p / b).toFixed(2)}x faster (goal >= 1.5x)`);
  console.log(`single-process Node loop:      median ${l.toFixed(2)} s  -> Bag takes ${(b / l).toFixed(2)}x the loop's time`);
  console.log(`(${expected.size} distinct words, ${total} words; ${rounds} rounds each after a warm-up)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
