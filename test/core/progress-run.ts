/**
 * Runs a flow script as a user would (a child process whose stderr is a pipe, or a pseudo-terminal made by
 * util-linux `script`) and reads what it printed.
 */
import { spawn, spawnSync } from "node:child_process";
import { resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "..", "..");

export interface Ran {
  output: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** `script` from util-linux, which runs a command on a pseudo-terminal. */
export const hasScript = spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;

function quote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * Runs `node --import tsx <script>` with `env` added; stderr and stdout merged as a terminal would show them
 * (on a pseudo-terminal when `tty`). `onOutput` sees the output as it grows (to send a signal at the right moment).
 */
export function runScript(
  script: string,
  env: Record<string, string>,
  options: { tty?: boolean; timeoutMs?: number; onOutput?: (output: string, pid: number) => void } = {},
): Promise<Ran> {
  const argv = [process.execPath, "--import", "tsx", resolve(REPO, script)];
  const [command, args] = options.tty
    ? ["script", ["-qfec", argv.map(quote).join(" "), "/dev/null"]]
    : [argv[0]!, argv.slice(1)];
  const child = spawn(command, args, {
    cwd: REPO,
    env: { ...process.env, DASKFLOW_LOGGING_LEVEL: "INFO", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const take = (chunk: Buffer) => {
    output += chunk.toString();
    options.onOutput?.(output, child.pid!);
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  return new Promise((resolveRun, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolveRun({ output, code, signal });
    });
  });
}

/** The progress lines of a run: the live ones (drawn in place or printed) and the final summaries. */
export function progressLines(output: string): { live: string[]; final: string[] } {
  const live = [...output.matchAll(/Progress: \d+\/\d+ done, \d+ failed, \d+ running; [\d.]+ items\/s; (?:about [\dhms ]+ left|time left unknown)/g)].map((m) => m[0]);
  const final = [...output.matchAll(/Progress: \d+\/\d+ done, \d+ failed in [\dhms ]+ \([\d.]+ items\/s\)/g)].map((m) => m[0]);
  return { live, final };
}

/** [done, total, failed] of a progress line. */
export function counts(line: string): [number, number, number] {
  const m = /Progress: (\d+)\/(\d+) done, (\d+) failed/.exec(line);
  if (!m) throw new Error(`not a progress line: ${line}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}
