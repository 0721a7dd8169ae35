/**
 * A task that submits 50 tasks: nested submits through the task's own worker (this checkout) against another
 * checkout (e.g. main before the change: a bridge process per nested runner). Both sides run alternately as child
 * processes on the same cluster shape; figures in bench/README.md.
 *   npx tsx bench/nested-submit.ts /tmp/baseline [n=50] [rounds=5] [alternations=2]
 * The baseline directory needs its own dist/ (npm run build) and node_modules.
 */
import { join, resolve } from "node:path";
import { runJsonChild } from "./child.ts";
import { median } from "./stats.ts";

const [baseline, n = "50", rounds = "5", alternations = "2"] = process.argv.slice(2);
if (!baseline) {
  console.error("usage: npx tsx bench/nested-submit.ts <baseline checkout with dist/> [n] [rounds] [alternations]");
  process.exit(2);
}
const here = resolve(import.meta.dirname, "..");
const sides = [
  { side: "worker session (this checkout)", root: here },
  { side: "bridge per nested runner (baseline)", root: resolve(baseline) },
];
const times = new Map<string, number[]>();
for (let a = 0; a < Number(alternations); a++) {
  for (const { side, root } of sides) {
    const env = { ...process.env, TSX_TSCONFIG_PATH: join(root, "bench", "tsconfig.dist.json"), DASKFLOW_LOGGING_LEVEL: "WARNING" };
    const [out] = await runJsonChild<{ side: string; seconds: number[] }>("node", ["--import", "tsx", join(root, "bench", "nested-child.ts"), side, n, rounds], { env });
    times.set(side, [...(times.get(side) ?? []), ...out!.seconds]);
  }
}
const [mine, base] = sides.map((s) => median(times.get(s.side)!));
for (const s of sides) console.log(`${s.side}: median ${median(times.get(s.side)!).toFixed(3)} s over ${times.get(s.side)!.length} runs of a task submitting ${n} tasks`);
console.log(`ratio (this / baseline): ${(mine! / base!).toFixed(2)} (below 1: faster)`);
