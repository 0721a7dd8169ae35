/**
 * A worker that joins a run after its start-up probe and cannot write the result location: its first write is the
 * check, and the flow's log names the worker and the location (the task itself completes; its result is just not
 * persisted). The late worker sees the location read-only through a mount namespace of its own (root: `unshare`).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { flow } from "../../src/index.ts";
import { DaskTaskRunner, annotate } from "../../src/dask/index.ts";
import { captureStderr, sleep, withLoggingLevel } from "../helpers.ts";
import { square } from "../results/fixtures/durable-tasks.ts";
import { REPO, VENV_BIN, fileCluster, stopProcess, waitFor } from "./fixtures.ts";

const skip = process.getuid?.() === 0 ? false : "needs root (a mount namespace for the read-only worker)";
const cluster = fileCluster([{ nthreads: 1 }]);
const storage = mkdtempSync(join(tmpdir(), "daskflow-late-"));
let late: ChildProcess | undefined;
after(async () => {
  if (late) await stopProcess(late);
  rmSync(storage, { recursive: true, force: true });
});

/** A worker whose view of `storage` is read-only; resolves with its address. */
async function startReadOnlyWorker(address: string): Promise<string> {
  const dask = join(VENV_BIN, "dask");
  const script = `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" worker "$3" --host 127.0.0.1 --nthreads 1 --no-nanny --no-dashboard --death-timeout 20s`;
  late = spawn("unshare", ["-m", "sh", "-c", script, "sh", storage, dask, address], {
    env: { ...process.env, PYTHONPATH: join(REPO, "python") },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  late.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  await waitFor("the read-only worker to register", () => (/Registered to/.test(log) ? true : undefined));
  return /Start worker at:\s+(tcp:\/\/[\d.]+:\d+)/.exec(log)![1]!;
}

test("a worker that joins after the probe and cannot write the location: the flow's log names it and the location", { skip }, async () => {
  const run = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }), resultStorage: storage }, async () => {
    const first = await square.submit(1).result(); // probed: the first worker can write
    const worker = await startReadOnlyWorker(cluster.address);
    const second = await annotate({ workers: worker }, () => square.submit(2)).result();
    await sleep(1500); // the worker's warning travels with its next event batch
    return { worker, values: [first.sq, second.sq] };
  });
  const { value, output } = await withLoggingLevel("WARNING", () => captureStderr(() => run()));
  assert.deepEqual(value.values, [1, 4], "the task completes; only its persistence fails");
  assert.match(output, new RegExp(`Worker ${value.worker.replaceAll(".", "\\.")}: cannot write task results to result storage '${storage}' \\(OSError: .*Read-only file system`));
});
