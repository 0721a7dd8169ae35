/**
 * The shipping build on its own (no cluster): what is not shipped is warned about where the compiled code shows it,
 * and the pack keeps one module per source module under the shared naming rule (module-map.ts).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { after, it } from "node:test";
import { pathToFileURL } from "node:url";
import { Decoder } from "@msgpack/msgpack";
import { REPO } from "../dask/fixtures.ts";
import { CodeShipper } from "../../src/dask/shipping/shipper.ts";
import { flowPath, shippedPath, toFlowUrl, toShippedUrl } from "../../src/dask/shipping/module-map.ts";

const dir = mkdtempSync(join(tmpdir(), "daskflow-ship-build-"));
after(() => rmSync(dir, { recursive: true, force: true }));

it("warns about environment variables, files next to a module and module-level state changed at run time", async () => {
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(dir, "util.ts"), `export const double = (x: number): number => x * 2;\n`);
  writeFileSync(
    join(dir, "tasks.ts"),
    [
      `import { readFileSync } from "node:fs";`,
      `import { double } from "./util.ts";`,
      `let calls = 0;`,
      `export const config = (): string => readFileSync(new URL("./config.json", import.meta.url), "utf8");`,
      `export function count(): number { calls += 1; return double(calls); }`,
      `export const url = (): string | undefined => process.env.SHIP_TEST_URL ?? process.env.SHIP_TEST_PASSED;`,
    ].join("\n"),
  );
  process.env.SHIP_TEST_URL = "http://example.invalid";
  process.env.SHIP_TEST_PASSED = "yes";
  try {
    const shipper = new CodeShipper(join(REPO, "src", "worker", "sidecar.ts"), join(REPO, "src"), new Set(["SHIP_TEST_PASSED"]));
    const shipment = (await shipper.ship([pathToFileURL(join(dir, "tasks.ts")).href]))!;
    const text = shipment.warnings.join("\n");
    assert.match(text, /reads the environment variable SHIP_TEST_URL, set in this process/);
    assert.doesNotMatch(text, /SHIP_TEST_PASSED/, "a variable given in `env` is not warned about");
    assert.match(text, /tasks\.ts reads files by a path next to the module/);
    assert.match(text, /module-level variable 'calls' is changed at run time/);
    assert.doesNotMatch(text, /util\.ts/);
    // One compiled module per source module, named by the shared rule; the import points at the compiled name.
    const body = new Decoder().decode(inflateSync(shipment.pack.data)) as { files: Array<[string, number, Uint8Array]> };
    const files = new Map(body.files.map(([path, , data]) => [path, Buffer.from(data).toString("utf8")]));
    assert.match(files.get(shippedPath(join(dir, "tasks.ts")))!, /from "\.\/util\.ts\.js"/);
    assert.ok(files.has(shippedPath(join(dir, "util.ts"))));
    assert.equal(await shipper.ship([pathToFileURL(join(dir, "tasks.ts")).href]), undefined, "nothing new: no second pack");
  } finally {
    delete process.env.SHIP_TEST_URL;
    delete process.env.SHIP_TEST_PASSED;
  }
});

it("maps a module's flow URL to its shipped copy and back", () => {
  const root = "/cache/views/run-1";
  for (const path of ["/p/src/a.ts", "/p/src/b.js", "/p/src/c.mts", "/p/src/d.cts", "/p/src/e.tsx"]) {
    const url = pathToFileURL(path).href;
    const shipped = toShippedUrl(url, root);
    assert.ok(shipped.startsWith(`file://${root}/p/src/`), shipped);
    assert.equal(toFlowUrl(shipped, root), url);
    assert.equal(flowPath(shippedPath(path)), path);
  }
  assert.equal(toShippedUrl("file:///p/a.ts", root), "file:///cache/views/run-1/p/a.ts.js");
  assert.equal(toFlowUrl("file:///elsewhere/x.js", root), "file:///elsewhere/x.js", "modules outside the code root keep their URL");
});
