/** The interpreter `setup` builds the environment from: --python, else DASKFLOW_PYTHON, else python3; >= 3.10. */
import { CliError, run } from "./run.ts";

export interface BasePython {
  /** As given (a path or a command on PATH). */
  spec: string;
  /** Where it came from, for messages. */
  source: string;
  executable: string;
  version: string;
}

const MINIMUM: [number, number] = [3, 10];
const PROBE = "import sys, json; print(json.dumps({'executable': sys.executable, 'version': list(sys.version_info[:3])}))";

export function basePython(option: string | undefined, remembered: string | undefined): BasePython {
  const [spec, source] = option
    ? [option, "--python"]
    : process.env.DASKFLOW_PYTHON
      ? [process.env.DASKFLOW_PYTHON, "DASKFLOW_PYTHON"]
      : remembered
        ? [remembered, "the interpreter of the existing environment"]
        : ["python3", "python3 on PATH"];
  const how = `Install Python ${MINIMUM.join(".")} or newer (e.g. \`sudo apt-get install python3 python3-venv\`, or from https://www.python.org), or pass \`npx daskflow setup --python /path/to/python3\` (or set DASKFLOW_PYTHON).`;
  const probe = run(spec, ["-c", PROBE]);
  if (probe.notFound) throw new CliError(`daskflow setup: Python '${spec}' (from ${source}) was not found. ${how}`);
  if (!probe.ok) throw new CliError(`daskflow setup: Python '${spec}' (from ${source}) does not run:\n${probe.stderr.trim()}\n${how}`);
  const { executable, version } = JSON.parse(probe.stdout) as { executable: string; version: number[] };
  const [major = 0, minor = 0] = version;
  if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
    throw new CliError(`daskflow setup: Python >= ${MINIMUM.join(".")} is required, but '${spec}' (from ${source}) is Python ${version.join(".")}. ${how}`);
  }
  return { spec, source, executable, version: version.join(".") };
}
