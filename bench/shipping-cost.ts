/**
 * What shipping costs (issue 9): build (trace + compile + copy), pack, and unpack + lay-out on a worker host, for the
 * task modules of examples/ and for a generated project of 200 modules with a ~5 MB npm dependency
 * (shipping-project.ts). The build is measured fresh (a new CodeShipper each round, esbuild's service warm after the
 * first); the unpack runs in the bridge's Python (daskflow_bridge.shipping) into a fresh cache folder each round.
 *
 *   bash bench/run.sh shipping-cost            # or: npx tsx bench/shipping-cost.ts
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PACKAGE_ROOT, pythonEnv, sidecarCommand } from "../src/dask/paths.ts";
import { CodeShipper } from "../src/dask/shipping/shipper.ts";
import { best, median } from "./stats.ts";
import { generateProject } from "./shipping-project.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PYTHON = process.env.DASKFLOW_PYTHON ?? join(PACKAGE_ROOT, ".venv", "bin", "python");
const UNPACK = `
import json, sys, time
from daskflow_bridge import shipping
pack = {"hash": sys.argv[2], "data": open(sys.argv[1], "rb").read()}
t = time.perf_counter(); folder = shipping.unpack_once(sys.argv[3], pack["hash"], pack["data"]); u = time.perf_counter()
shipping.add_to_view(shipping.view_dir(sys.argv[3], "bench"), folder); v = time.perf_counter()
print(json.dumps({"unpack_s": u - t, "layout_s": v - u}))
`;

interface Row {
  build: number;
  pack: number;
  unpack: number;
  layout: number;
  files: number;
  bytes: number;
  packed: number;
}

async function measure(modules: string[]): Promise<Row> {
  const shipper = new CodeShipper(sidecarCommand(true).entry, PACKAGE_ROOT, new Set());
  const shipment = (await shipper.ship(modules.map((m) => pathToFileURL(m).href)))!;
  const dir = mkdtempSync(join(tmpdir(), "daskflow-ship-cost-"));
  try {
    writeFileSync(join(dir, "pack"), shipment.pack.data);
    const r = spawnSync(PYTHON, ["-c", UNPACK, join(dir, "pack"), shipment.pack.hash, join(dir, "cache")], { env: pythonEnv(), encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
    const host = JSON.parse(r.stdout) as { unpack_s: number; layout_s: number };
    const { pack } = shipment;
    return { ...shipment.timings, unpack: host.unpack_s, layout: host.layout_s, files: pack.files, bytes: pack.bytes, packed: pack.data.byteLength };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MiB`;

async function report(label: string, modules: string[]): Promise<string> {
  const rows: Row[] = [];
  for (let r = 0; r < ROUNDS; r++) rows.push(await measure(modules));
  const col = (k: keyof Row) => rows.map((row) => row[k]);
  const line =
    `${label}: ${rows[0]!.files} files, ${mib(rows[0]!.bytes)} (${mib(rows[0]!.packed)} packed); ` +
    `build ${ms(median(col("build")))} [${ms(best(col("build")))}], pack ${ms(median(col("pack")))}, ` +
    `unpack ${ms(median(col("unpack")))}, lay-out ${ms(median(col("layout")))} (medians of ${ROUNDS}, best in brackets)`;
  console.log(line);
  return line;
}

const examples = readdirSync(join(PACKAGE_ROOT, "examples")).filter((f) => f.endsWith(".ts")).map((f) => join(PACKAGE_ROOT, "examples", f));
console.log(`shipping cost; ${ROUNDS} rounds each; daskflow from ${sidecarCommand(true).entry.includes("/dist/") ? "dist/ (built)" : "src/ (sources)"}`);
await report(`examples/ (${examples.length} task modules)`, examples);
const generated = generateProject(join(PACKAGE_ROOT, "src", "index.ts"));
try {
  await report("generated project (200 modules, 5 MiB npm dependency)", [generated.entry]);
} finally {
  rmSync(generated.dir, { recursive: true, force: true });
}
