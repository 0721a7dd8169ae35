/**
 * The benchmarks' child processes (raw Dask, Prefect, a fresh daskflow process): each runs from the repo root in its
 * own process group, which is ended when the child exits (whatever Dask or Prefect left behind) and when the
 * benchmark is interrupted. A child reports by printing JSON objects, one per line, on stdout.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
let current: ChildProcess | undefined;
const atExit: (() => void)[] = [];

/** Ends what is left of a child's process group, by its id. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    // nothing left
  }
}

/** Runs `cleanup` if the benchmark is interrupted (after the running child's group is ended). */
export function onInterrupt(cleanup: () => void): void {
  atExit.push(cleanup);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killGroup(current?.pid);
    for (const cleanup of atExit) cleanup();
    process.exit(130);
  });
}

/**
 * Runs `cmd args` and resolves with the JSON objects it printed. `onLine` sees each as it comes, with the seconds
 * since spawn (the start-up figure measured from outside).
 */
export function runJsonChild<T>(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; onLine?: (obj: T, sinceSpawn: number) => void } = {},
): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true, env: options.env ?? process.env });
    current = child;
    const objects: T[] = [];
    let partial = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        const obj = JSON.parse(line) as T;
        objects.push(obj);
        options.onLine?.(obj, (performance.now() - t0) / 1000);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-6000)));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      killGroup(child.pid);
      current = undefined;
      if (code === 0 && objects.length) resolve(objects);
      else reject(new Error(`${cmd} ${args.join(" ")} exited with ${signal ?? code}${code === 0 ? " and printed no result" : ""}\n${stderr}`));
    });
  });
}
