/** Versions of Python distributions in an environment, read from their metadata (nothing is imported). */
import { run } from "./run.ts";

/** What a daskflow environment holds: Dask, its dashboard, the wire format, and the bridge. */
export const CORE_DISTRIBUTIONS = ["distributed", "dask", "bokeh", "msgpack", "daskflow-bridge"];
export const EXTRA_DISTRIBUTIONS: Record<string, string[]> = { dataframe: ["pandas", "pyarrow"], s3: ["s3fs"] };

const PROBE = `import json, sys, sysconfig, importlib.metadata as m
def version(name):
    try:
        return m.version(name)
    except m.PackageNotFoundError:
        return None
print(json.dumps({"python": sys.version.split()[0], "purelib": sysconfig.get_paths()["purelib"], "versions": {name: version(name) for name in sys.argv[1:]}}))`;

export interface Installed {
  python: string;
  purelib: string;
  versions: Record<string, string | null>;
}

/** undefined when the interpreter does not run. */
export function installedVersions(python: string, distributions: string[]): Installed | undefined {
  const probe = run(python, ["-c", PROBE, ...distributions]);
  return probe.ok ? (JSON.parse(probe.stdout) as Installed) : undefined;
}

export const describe = (versions: Record<string, string | null>) =>
  Object.entries(versions).map(([name, v]) => `${name} ${v ?? "(missing)"}`).join(", ");
