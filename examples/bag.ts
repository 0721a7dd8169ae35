/**
 * A Bag of JavaScript values (`npx tsx examples/bag.ts`): word counts of generated text files read on the workers,
 * with the functions running in the workers' Node sidecars; a groupBy, a foldBy, and what happens to a function
 * that refers to a variable outside it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow } from "daskflow";
import { Bag, DaskTaskRunner, getDaskClient } from "daskflow/dask";
import { isContentWord } from "./bag-words.ts";


const dir = mkdtempSync(join(tmpdir(), "daskflow-bag-example-"));
const words = ["the", "cat", "sat", "on", "a", "mat", "of", "red", "and", "blue", "cat"];
for (let f = 0; f < 3; f++) {
  const lines = Array.from({ length: 200 }, (_, i) => Array.from({ length: 8 }, (_, j) => words[(i * 7 + j * 3 + f) % words.length]).join(" "));
  writeFileSync(join(dir, `text-${f}.txt`), lines.join("\n") + "\n");
}

const bagFlow = flow({ name: "bag-example", taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 2, threads_per_worker: 1 } }) }, async () => {
  await using client = await getDaskClient();
  const lines = Bag.readText(join(dir, "*.txt"), { blocksize: 4096 }); // files read on the workers, in blocks
  const wordsBag = lines.flatMap((line) => line.split(" ")).filter(isContentWord); // fused: one task per block
  const top = await client.compute(wordsBag.frequencies().topk(3, ([, n]) => n));
  const lengths = await client.compute(wordsBag.foldBy((w) => w.length, (n: number) => n + 1, { initial: 0, combine: (a, b) => a + b }));
  const byLetter = await client.compute(Bag.fromSequence(["apple", "avocado", "banana", "blueberry", "cherry"]).groupBy((w) => w[0]));
  return { top, lengths: lengths.sort((a, b) => a[0] - b[0]), byLetter: byLetter.sort() };
});

try {
  const { top, lengths, byLetter } = await bagFlow();
  console.log(`top words: ${top.map(([w, n]) => `${w}=${n}`).join(", ")}`);
  console.log(`words by length: ${lengths.map(([len, n]) => `${len} letters: ${n}`).join(", ")}`);
  console.log(`groupBy first letter: ${JSON.stringify(byLetter)}`);
  const minimum = 3;
  try {
    Bag.fromSequence([1, 2, 3, 4]).filter((x) => x > minimum);
  } catch (error) {
    console.log(`a function with an outer variable: ${(error as Error).message.split(". ")[0]}.`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
