/**
 * Durable runs with an `s3://` result location served by a real S3-compatible server that the test starts on a
 * loopback address (moto's server, from PyPI: `moto[server]`, see python/requirements-s3-test.lock). The workers
 * write through fsspec (s3fs); the next run's lookups and its lazy reads go through the bridge.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { flow } from "../../src/index.ts";
import { DaskTaskRunner } from "../../src/dask/index.ts";
import { captureStderr, sleep } from "../helpers.ts";
import { Point, square } from "../results/fixtures/durable-tasks.ts";
import { REPO, VENV_BIN } from "./fixtures.ts";

const MOTO = join(VENV_BIN, "moto_server");
const skip = existsSync(MOTO) || process.env.CI ? false : "moto_server is not installed (python/requirements-s3-test.lock)";
let server: ChildProcess | undefined;
let endpoint = "";
const saved: Record<string, string | undefined> = {};
const BUCKET = "s3://daskflow-test/results";

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const python = (code: string) =>
  execFileSync(join(VENV_BIN, "python"), ["-c", code], { env: { ...process.env, PYTHONPATH: join(REPO, "python") }, encoding: "utf8" }).trim();

before(async () => {
  if (skip) return;
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  server = spawn(MOTO, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const env = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_DEFAULT_REGION: "us-east-1", AWS_ENDPOINT_URL: endpoint };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v; // the bridge and the LocalCluster's workers inherit them
  }
  for (let i = 0; i < 100; i++) {
    try {
      python("import s3fs; s3fs.S3FileSystem().mkdir('daskflow-test')");
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`the S3 server at ${endpoint} did not come up`);
});

after(() => {
  server?.kill("SIGKILL");
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const storedRecords = () => Number(python(`import s3fs; print(len([p for p in s3fs.S3FileSystem().ls('daskflow-test/results', refresh=True) if p.endswith('.dfr')]))`));

test("results in an s3:// location: written by the workers, hits in the next run, values read back as they were", { skip }, async () => {
  const run = flow({ taskRunner: new DaskTaskRunner({ clusterKwargs: { nWorkers: 1, threadsPerWorker: 2 } }), resultStorage: BUCKET }, async (xs: number[]) => {
    const futures = square.map(xs);
    const states = await Promise.all(futures.map((f) => f.wait()));
    return { names: states.map((s) => s.name), values: await Promise.all(futures.map((f) => f.result())) };
  });
  const first = await run([1, 2, 3, 4]);
  assert.deepEqual(first.names, ["Completed", "Completed", "Completed", "Completed"]);
  for (let i = 0; i < 100 && storedRecords() < 4; i++) await sleep(100);
  assert.equal(storedRecords(), 4);
  const second = await run([1, 2, 3, 4]);
  assert.deepEqual(second.names, ["Cached", "Cached", "Cached", "Cached"]);
  assert.deepEqual(second.values.map((v) => v.sq), [1, 4, 9, 16]);
  assert.ok(second.values[1]!.point instanceof Point);
});

test("an s3:// location with the in-process runner is a clear error saying to use the Dask runner", { skip }, async () => {
  const run = flow({ resultStorage: BUCKET }, async () => square.submit(2).result());
  const { value: state } = await captureStderr(() => run.returnState());
  assert.equal(state.type, "FAILED");
  assert.match(state.error?.message ?? "", /is an object-store URL, which ConcurrentTaskRunner cannot write .* Use a DaskTaskRunner/);
});
