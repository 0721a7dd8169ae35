import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { REPO } from "../dask/fixtures.ts";

const HERE = join(REPO, "test", "package");

test("the built package under tsx, as a user runs it: TS tasks (also submitted by tasks) run on workers, daskflow itself compiled", async () => {
  // `npm test` builds dist/ before the tests run.
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(HERE, "user-flow.ts")], {
    cwd: REPO,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(HERE, "tsconfig.user.json") },
    timeout: 120_000,
  });
  const out = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
    flowProcessDaskflow: string;
    squares: number[];
    nested: number;
    worker: { daskflow: string; execArgv: string[]; module: string };
  };
  const dist = pathToFileURL(join(REPO, "dist", "index.js")).href;
  assert.equal(out.flowProcessDaskflow, dist, "the flow process uses the built package");
  assert.deepEqual(out.squares, [1, 4, 9]);
  assert.equal(out.nested, 30, "a task's own submits (nested runner, its own sidecars) run TypeScript tasks too");
  // The runner ships the code (docs/code-shipping.md): the worker runs the shipped copy of the same files.
  const view = /^file:\/\/.*\/views\/run-[^/]+/.exec(out.worker.module)?.[0];
  assert.ok(view, `the task ran from the shipped code folder (${out.worker.module})`);
  assert.equal(out.worker.module, view + pathToFileURL(join(HERE, "user-tasks.ts.js")).href.slice("file://".length), "the task's own module ran on the worker");
  assert.equal(out.worker.daskflow, view + dist.slice("file://".length), "the sidecar uses the same built package");
  assert.ok(!out.worker.execArgv.some((a) => a.includes("tsx")), `the sidecar starts without tsx (${out.worker.execArgv.join(" ")})`);
});
