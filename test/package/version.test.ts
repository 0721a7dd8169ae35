import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { version } from "daskflow";
import { REPO, VENV_BIN } from "../dask/fixtures.ts";

const packageVersion = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;

test("`import { version } from \"daskflow\"` is package.json's version (npm version runs scripts/sync-version.mjs)", () => {
  assert.equal(version, packageVersion);
});

test("python/ builds the wheel daskflow-bridge at the npm package's version, with its subpackages and without tests", () => {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-wheel-"));
  try {
    // Built from a copy: pip builds in the source tree. pip's downloads (setuptools) stay in the repo's .cache/pip.
    cpSync(join(REPO, "python"), join(dir, "src"), { recursive: true, filter: (src) => !/__pycache__|\.egg-info|[/\\]build$/.test(src) });
    execFileSync(join(VENV_BIN, "python"), ["-m", "pip", "wheel", "--no-deps", "-q", "-w", join(dir, "out"), join(dir, "src")], {
      env: { ...process.env, PIP_CACHE_DIR: join(REPO, ".cache", "pip"), PIP_DISABLE_PIP_VERSION_CHECK: "1" },
      stdio: ["ignore", "ignore", "inherit"],
    });
    assert.deepEqual(readdirSync(join(dir, "out")), [`daskflow_bridge-${packageVersion}-py3-none-any.whl`]);
    const names = execFileSync(join(VENV_BIN, "python"), ["-c", "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))", join(dir, "out", `daskflow_bridge-${packageVersion}-py3-none-any.whl`)], { encoding: "utf8" }).split("\n");
    for (const file of ["daskflow_bridge/__main__.py", "daskflow_bridge/bridge/process.py", "daskflow_bridge/collections/__init__.py"]) assert.ok(names.includes(file), `${file} in the wheel`);
    assert.ok(!names.some((name) => name.startsWith("tests/")), "python/tests is not shipped");
    const metadata = execFileSync(join(VENV_BIN, "python"), ["-c", "import importlib.metadata as m; print(m.version('daskflow-bridge'))"], { encoding: "utf8" }).trim();
    assert.equal(metadata, packageVersion, "the repo's .venv has the bridge at the same version (scripts/setup-python.sh)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
