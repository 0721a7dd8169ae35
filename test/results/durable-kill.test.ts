/** A flow process killed with SIGKILL mid-run is resumed from the shell (DASKFLOW_RESUME=last) with the defaults:
 * only the links whose results its LocalCluster's workers had not written run again, and once it completes, the records
 * the default wrote are gone. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { sleep } from "../helpers.ts";
import { REPO, descendants } from "../dask/fixtures.ts";

const storage = mkdtempSync(join(tmpdir(), "daskflow-kill-"));
const started: ChildProcess[] = [];
const orphans = new Set<number>();
after(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const pid of orphans) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // ended already
    }
  }
  rmSync(storage, { recursive: true, force: true });
});

function runScript(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "test/results/scripts/kill-chain.ts")], {
    cwd: REPO,
    env: { ...process.env, PYTHONPATH: join(REPO, "python"), DASKFLOW_RESULT_STORAGE: storage, DASKFLOW_PROGRESS: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

const records = () => (existsSync(storage) ? readdirSync(storage).filter((f) => f.endsWith(".dfr")).length : 0);

test("kill -9 of the flow process, then DASKFLOW_RESUME=last: the new run has the same parameters and reruns only the links not persisted", async () => {
  const first = runScript({});
  for (let i = 0; i < 1200 && records() < 8; i++) await sleep(100);
  assert.ok(records() >= 8, `no results were persisted in time:\n${first.output()}`);
  for (const d of descendants(first.child.pid)) orphans.add(d.pid);
  first.child.kill("SIGKILL");
  await first.exited;
  // Its bridge and cluster end once they notice the flow process is gone.
  for (let i = 0; i < 300 && [...orphans].some((pid) => existsSync(`/proc/${pid}`)); i++) await sleep(100);
  const persisted = records();
  assert.ok(persisted < 30, "killed before the chain ended");

  const resumed = runScript({ DASKFLOW_RESUME: "last", CHAIN_LINKS: "7" }); // the parameters come from the run record
  const code = await resumed.exited;
  assert.equal(code, 0, resumed.output());
  const [, value, rerun] = /RESULT (\d+) RERUN (\d+)/.exec(resumed.output()) ?? [];
  assert.equal(Number(value), (30 * 31) / 2, "the earlier run's parameter (30 links), not CHAIN_LINKS");
  assert.equal(Number(rerun), 30 - persisted);
  // The records the default wrote were there to resume it; once a run completed, they are removed.
  for (let i = 0; i < 50 && records() > 0; i++) await sleep(100);
  assert.equal(records(), 0, "a completed run leaves no default records behind");
});
