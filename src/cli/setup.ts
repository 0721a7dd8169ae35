/**
 * `npx daskflow setup`: the project's Python environment, `.daskflow/venv` at the project root, with the pinned
 * Dask (python/requirements.lock), opt-in extras and the bridge installed as a package. Idempotent: when the stamp
 * matches the inputs it returns at once.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { ENV_DIR, findProjectRoot, venvPython } from "../dask/environment.ts";
import { PYTHON_SOURCES } from "../dask/paths.ts";
import { version } from "../version.ts";
import { basePython } from "./base-python.ts";
import { EXTRAS, REQUIREMENTS, checkExtras, inputsHash, pins } from "./inputs.ts";
import { CliError, run, tail } from "./run.ts";
import { readStamp, writeStamp } from "./stamp.ts";
import { CORE_DISTRIBUTIONS, EXTRA_DISTRIBUTIONS, describe, installedVersions } from "./versions.ts";

export const usage = `npx daskflow setup [--python PATH] [--with dataframe,s3]
  Creates or updates ${ENV_DIR} at the project root (the nearest folder with a package.json) with the pinned
  distributed, dask, bokeh, msgpack and the daskflow bridge. A second run returns at once when nothing changed.
  --python PATH   base interpreter (>= 3.10); default DASKFLOW_PYTHON, else the one used before, else python3
  --with NAME     also install an extra, kept on later runs: ${Object.entries(EXTRAS).map(([n, e]) => `${n} (${e.what})`).join(", ")}`;

const say = (line: string) => console.log(`daskflow setup: ${line}`);

export function setup(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { python: { type: "string" }, with: { type: "string", multiple: true } } });
  const root = findProjectRoot(process.cwd());
  if (!root) throw new CliError(`daskflow setup: no package.json in '${process.cwd()}' or its parents; run it inside your npm project (\`npm init -y\` makes one).`);
  const venv = join(root, ENV_DIR);
  const python = venvPython(venv);
  const previous = existsSync(python) ? readStamp(venv) : undefined;
  const extras = checkExtras([...(previous?.extras ?? []), ...(values.with ?? []).flatMap((w) => w.split(","))]);
  const explicitBase = values.python ?? process.env.DASKFLOW_PYTHON;
  // Fast path: no interpreter is started when the stamp matches and the bridge's metadata is still this version's
  // (a `pip install` of another daskflow-bridge into the environment replaces it).
  const bridgeInfo = previous && join(previous.purelib, `daskflow_bridge-${version}.dist-info`);
  if (previous && bridgeInfo && existsSync(bridgeInfo) && previous.hash === inputsHash(explicitBase ?? previous.base, extras)) {
    say(`${venv} is up to date (Python ${previous.python}; ${describe(previous.versions)}); nothing to install.`);
    return;
  }

  const base = basePython(values.python, previous?.base);
  if (base.executable.startsWith(venv)) throw new CliError(`daskflow setup: the base interpreter '${base.spec}' (from ${base.source}) is inside ${venv} itself; pass --python with the Python to build it from.`);
  const hash = inputsHash(base.spec, extras);
  const fresh = !existsSync(python) || !previous || previous.base !== base.spec || !installedVersions(python, []);
  say(`environment: ${venv} (project root ${root})`);
  say(`base interpreter: ${base.executable} (Python ${base.version}, from ${base.source})`);
  if (fresh) {
    rmSync(venv, { recursive: true, force: true });
    mkdirSync(dirname(venv), { recursive: true });
    // Keep the environment out of the project's git without editing its .gitignore.
    writeFileSync(join(dirname(venv), ".gitignore"), "# made by `npx daskflow setup`\n*\n");
    say(`creating the virtual environment`);
    const made = run(base.executable, ["-m", "venv", venv]);
    if (!made.ok) {
      rmSync(venv, { recursive: true, force: true });
      throw new CliError(`daskflow setup: '${base.executable} -m venv' failed:\n${tail(made)}\nOn Debian/Ubuntu install the venv module (\`sudo apt-get install python3-venv\`), or pass --python with another Python >= 3.10.`);
    }
  }
  const env = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1", PIP_NO_INPUT: "1" };
  const pip = (what: string, args: string[]) => {
    const result = run(python, ["-m", "pip", "install", "--progress-bar", "off", ...args], env);
    if (!result.ok) throw new CliError(`daskflow setup: pip failed installing ${what}:\n${tail(result)}\nFix the cause and run \`npx daskflow setup\` again.`);
  };

  const locks = [REQUIREMENTS, ...extras.map((name) => EXTRAS[name]!.lock)];
  const named = [...CORE_DISTRIBUTIONS.slice(0, -1), ...extras.flatMap((name) => EXTRA_DISTRIBUTIONS[name] ?? [])];
  const others = new Set(locks.flatMap(pins).map((pin) => pin.split("==")[0]!.toLowerCase())).size - named.length;
  say(`installing ${named.join(", ")} and ${others} more packages, pinned in ${locks.map((l) => l.slice(PYTHON_SOURCES.length + 1)).join(" + ")} (a minute or two the first time)`);
  pip("the pinned requirements", locks.flatMap((lock) => ["-r", lock]));

  // Built from a copy: pip builds in the source tree, which is inside node_modules.
  say(`installing the bridge daskflow-bridge ${version} from ${PYTHON_SOURCES}`);
  const copy = mkdtempSync(join(tmpdir(), "daskflow-bridge-"));
  try {
    cpSync(join(PYTHON_SOURCES, "pyproject.toml"), join(copy, "pyproject.toml"));
    cpSync(join(PYTHON_SOURCES, "daskflow_bridge"), join(copy, "daskflow_bridge"), { recursive: true, filter: (src) => !src.includes("__pycache__") });
    pip("the bridge", ["--no-deps", "--force-reinstall", copy]);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }

  const installed = installedVersions(python, [...CORE_DISTRIBUTIONS, ...extras.flatMap((name) => EXTRA_DISTRIBUTIONS[name] ?? [])]);
  const missing = Object.entries(installed?.versions ?? {}).filter(([, v]) => v === null).map(([name]) => name);
  if (!installed || missing.length) throw new CliError(`daskflow setup: ${venv} lacks ${missing.join(", ") || "a working interpreter"} after installing; delete it and run \`npx daskflow setup\` again.`);
  const versions = installed.versions as Record<string, string>;
  writeStamp(venv, { hash, base: base.spec, python: installed.python, extras, purelib: installed.purelib, versions });
  say(`ready: ${venv} (Python ${installed.python}; ${describe(versions)})`);
  say(`flows anywhere under ${root} use it; \`npx daskflow doctor\` checks it`);
}
