/**
 * What a user reads when the bridge's Python is missing, lacks a module or carries another daskflow-bridge: what was
 * found, where an environment was looked for, and the command that fixes it (`npx daskflow setup`).
 */
import { spawnSync } from "node:child_process";
import { ENV_DIR } from "./environment.ts";
import { IN_REPOSITORY, PYTHON_SOURCES, type PythonChoice } from "./paths.ts";

/** What the bridge imports first, in the order a user installs them. */
const BRIDGE_MODULES = ["distributed", "dask", "msgpack", "daskflow_bridge"];

export function setupHint(python: PythonChoice): string {
  const searched = python.searched.length
    ? ` (no ${ENV_DIR} was found in ${python.searched.map((dir) => `'${dir}'`).join(" or ")} or their parents)`
    : "";
  const repository = IN_REPOSITORY ? " (in this repository, `npm test` / `npm start` set up its .venv: bash scripts/setup-python.sh)" : "";
  const chosen = python.searched.length ? "" : ` (${python.source} takes precedence over ${ENV_DIR})`;
  return (
    `Run \`npx daskflow setup\` at your project's root to create ${ENV_DIR} with the pinned Dask and the bridge${searched}${repository}, ` +
    `or set DASKFLOW_PYTHON (or the \`python\` option) to a Python that has them${chosen}.`
  );
}

/** The modules of BRIDGE_MODULES that `python` cannot find (without importing them), or undefined if it does not run. */
function missingModules(python: string): string[] | undefined {
  const probe = "import sys, importlib.util as u\nprint(','.join(m for m in sys.argv[1:] if u.find_spec(m) is None))";
  const run = spawnSync(python, ["-c", probe, ...BRIDGE_MODULES], { encoding: "utf8", timeout: 10_000 });
  return run.status === 0 ? run.stdout.trim().split(",").filter(Boolean) : undefined;
}

/** A message for a bridge that ended because of its environment (its stderr's tail), else undefined. */
export function setupProblem(python: PythonChoice, stderrTail: string): string | undefined {
  const where = `Python '${python.path}' (from ${python.source})`;
  const mismatch = /version mismatch: daskflow-bridge (\S+) is installed in (.+), daskflow is (\S+)/.exec(stderrTail);
  if (mismatch) {
    return (
      `${where} has daskflow-bridge ${mismatch[1]} (in ${mismatch[2]}), but this daskflow is ${mismatch[3]}: ` +
      `run \`npx daskflow setup\` to update the environment, or \`pip install ${PYTHON_SOURCES}\` into it.`
    );
  }
  const imported = /No module named '?([\w.]+)/.exec(stderrTail)?.[1];
  if (!imported) return undefined;
  const missing = missingModules(python.path);
  const names = missing?.length ? missing : [imported];
  const onlyBridge = names.length === 1 && names[0] === "daskflow_bridge";
  return (
    `${where} cannot import ${names.map((name) => `'${name}'`).join(", ")}. ${setupHint(python)}` +
    (onlyBridge ? ` To use that Python, install the bridge into it: \`${python.path} -m pip install ${PYTHON_SOURCES}\`.` : "")
  );
}
