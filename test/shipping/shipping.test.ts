/**
 * Code shipping to Dask workers that cannot see the flow's files (hidden-workers.ts): TypeScript tasks importing a
 * local module and npm packages run from the shipped copy; a module submitted later is shipped then without a second
 * instance of a shared module; a worker joining mid-run gets the code; native addons and oversized packs are
 * reported; shipCode: false runs as before on a worker that has the code.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { flow } from "../../src/index.ts";
import { DaskTaskRunner, annotate } from "../../src/dask/index.ts";
import { captureStderr } from "../helpers.ts";
import { REPO, startCluster } from "../dask/fixtures.ts";
import { type HiddenCluster, canHide, startHiddenCluster } from "./hidden-workers.ts";

const skip = canHide();
if (skip) console.log(`# skipping the shipping tests: ${skip}`);

const runner = (address: string) => new DaskTaskRunner({ address, clientKwargs: { timeout: 30 } });

/** A project outside the repository with one npm package, whose task module imports it. */
function project(pkg: string, files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-ship-project-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "shipped-project", type: "module" }));
  const pkgDir = join(dir, "node_modules", pkg);
  mkdirSync(pkgDir, { recursive: true });
  writeFileSync(join(pkgDir, "package.json"), JSON.stringify({ name: pkg, version: "1.0.0", main: "index.js" }));
  writeFileSync(join(pkgDir, "index.js"), "module.exports = { answer: 42 };\n");
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(pkgDir, name, ".."), { recursive: true });
    writeFileSync(join(pkgDir, name), content);
  }
  writeFileSync(
    join(dir, "tasks.ts"),
    `import pkg from "${pkg}";\nimport { task } from ${JSON.stringify(join(REPO, "src", "index.ts"))};\nexport const answer = task(() => (pkg as { answer: number }).answer);\n`,
  );
  return dir;
}

describe("code shipping to workers that cannot see the flow's files", { skip }, () => {
  let cluster: HiddenCluster;
  const projects: string[] = [];
  before(async () => {
    cluster = await startHiddenCluster([{}]);
  });
  after(async () => {
    await cluster?.stop();
    for (const dir of projects) rmSync(dir, { recursive: true, force: true });
  });

  it("runs TypeScript tasks that import a local module and npm packages, from the shipped copy", async () => {
    const { durations } = await import("./fixtures/tasks.ts");
    const run = flow({ name: "shipped", taskRunner: runner(cluster.address) }, async () => durations.submit(["2 days", "1h"]).result());
    const result = await run();
    assert.deepEqual(result.described, ["2 days = 172800000 ms", "1h = 3600000 ms"]);
    assert.equal(result.satisfies, true);
    assert.equal(result.repoVisible, false, "the worker must not see the repository");
    const cache = pathToFileURL(cluster.workers[0]!.cache).href;
    assert.ok(result.module.startsWith(`${cache}/views/run-`), result.module);
    assert.ok(result.module.endsWith("/test/shipping/fixtures/tasks.ts.js"), result.module);
  });

  it("ships a module submitted later in the run (one instance of a shared module), also to a worker that joins", async () => {
    const { durations } = await import("./fixtures/tasks.ts");
    const { helperInstance } = await import("./fixtures/later-tasks.ts");
    const first = cluster.workers[0]!;
    const run = flow({ name: "later", taskRunner: runner(cluster.address) }, async () => {
      const pinned = <T>(address: string, fn: () => T) => annotate({ workers: [address], allowOtherWorkers: false }, fn);
      const early = await pinned(first.address, () => durations.submit(["1s"])).result();
      const later = await pinned(first.address, () => helperInstance.submit()).result();
      const joined = await cluster.addWorker();
      const there = await pinned(joined.address, () => helperInstance.submit()).result();
      const thereToo = await pinned(joined.address, () => durations.submit(["1m"])).result();
      return { early, later, there, thereToo, joined };
    });
    const { early, later, there, thereToo, joined } = await run();
    assert.equal(later.pid, early.pid, "one worker thread: the same sidecar ran both");
    assert.equal(later.helperInstance, early.helperInstance, "the later module imports the helper instance already loaded");
    assert.ok(there.module.startsWith(pathToFileURL(joined.cache).href), there.module);
    assert.deepEqual(thereToo.described, ["1m = 60000 ms"]);
    assert.equal(there.helperInstance, thereToo.helperInstance);
    assert.equal(readdirSync(join(joined.cache, "packs")).filter((n) => !n.startsWith(".")).length, 2, "the joining worker unpacked both packs");
  });

  it("refuses to ship a package with a native addon, naming it and saying to install it on the workers", async () => {
    const dir = project("fake-native", { "build/Release/addon.node": Buffer.from("not really an addon") });
    projects.push(dir);
    const { answer } = (await import(pathToFileURL(join(dir, "tasks.ts")).href)) as typeof import("./fixtures/native-shape.ts");
    const run = flow({ name: "native", taskRunner: runner(cluster.address) }, async () => answer.submit().result());
    await assert.rejects(run(), (error: Error) => {
      assert.match(error.message, /npm package 'fake-native' contains a native addon \(fake-native\/build\/Release\/addon\.node\)/);
      assert.match(error.message, /Install 'fake-native' on the workers/);
      return true;
    });
  });

  it("warns when the shipped code is over 10 MiB, naming the largest part", async () => {
    const dir = project("big-data", { "data.bin": randomBytes(11 * 1024 * 1024) });
    projects.push(dir);
    const { answer } = (await import(pathToFileURL(join(dir, "tasks.ts")).href)) as typeof import("./fixtures/native-shape.ts");
    const run = flow({ name: "big", taskRunner: runner(cluster.address) }, async () => answer.submit().result());
    const { value, output } = await captureStderr(() => run());
    assert.equal(value, 42);
    assert.match(output, /The code shipped to the Dask workers is 1\d\.\d MiB; the largest parts: big-data 11\.0 MiB/);
  });
});

describe("shipCode: false", () => {
  it("runs the flow's own modules on a worker that has the code at the same path, as before", async () => {
    const cluster = await startCluster([{}]);
    try {
      const { durations } = await import("./fixtures/tasks.ts");
      const taskRunner = new DaskTaskRunner({ address: cluster.address, shipCode: false, env: { SHIP_TEST: "set" } });
      const run = flow({ name: "not-shipped", taskRunner }, async () => durations.submit(["1d"]).result());
      const result = await run();
      assert.deepEqual(result.described, ["1d = 86400000 ms"]);
      assert.equal(result.module, pathToFileURL(join(REPO, "test", "shipping", "fixtures", "tasks.ts")).href);
      assert.equal(result.repoVisible, true);
      assert.ok(existsSync(join(REPO, "test", "shipping", "fixtures", "tasks.ts")));
    } finally {
      await cluster.stop();
    }
  });
});
