/** Tasks with state hooks for test/dask/hooks.test.ts: each hook leaves a file named after the run and the hook,
 * holding the pid of the process it ran in (a hook on a worker cannot reach the test's memory). */
import { appendFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRunLogger, task, type State, type TaskRunInfo } from "../../src/index.ts";

export const HOOKS_DIR = join(tmpdir(), `daskflow-hooks-${process.getuid?.() ?? 0}`);

function mark(hook: string) {
  return function markHook(_task: unknown, run: TaskRunInfo, state: State<unknown>) {
    mkdirSync(HOOKS_DIR, { recursive: true });
    appendFileSync(join(HOOKS_DIR, `${run.id}-${hook}`), `${process.pid} ${state.name}\n`);
    getRunLogger().warning(`${hook} hook ran for ${state.name}`);
  };
}

export const hookedInc = task({ onRunning: mark("running"), onCompletion: mark("completion") }, (x: number) => x + 1);

export const hookedFlaky = task({ retries: 2, onRunning: mark("running"), onFailure: mark("failure") }, () => {
  throw new Error("always fails");
});

export const hookedThrows = task({ onCompletion: [function brokenHook() { throw new Error("hook boom"); }, mark("completion")] }, () => 5);

/** Kills the Dask worker it runs on: its onCrashed can only run in the flow process. */
export const hookedKill = task({ onRunning: mark("running"), onCrashed: mark("crashed") }, () => {
  process.kill(process.ppid, "SIGKILL");
  return "unreachable";
});

export const hookedNap = task({ onCrashed: mark("crashed") }, (ms: number) => new Promise((r) => setTimeout(r, ms)));
