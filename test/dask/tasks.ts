/**
 * Tasks used by the Dask tests. They live in their own module because Dask workers import the module that defines
 * a task (a test file would run its tests when imported).
 */
import { existsSync, writeFileSync } from "node:fs";
import { getRunContext, getRunLogger, task } from "../../src/index.ts";

export const add = task(async (x: number, y: number) => x + y);

export const inc = task((x: number) => x + 1);

export const echo = task((value: unknown) => value);

export const fail = task((message: string): number => {
  throw new TypeError(message);
});

export const describe = task((value: unknown) => (value instanceof Error ? `error ${value.name}: ${value.message}` : `value ${JSON.stringify(value)}`));

/** Where the task ran: the sidecar's pid and its worker's pid. */
export const whereAmI = task((_item?: number) => ({ pid: process.pid, workerPid: process.ppid, taskRun: getRunContext().taskRun?.name }));

/** A task that submits tasks: they must go to this worker's scheduler. */
export const fanOut = task(async (n: number) => {
  const futures = whereAmI.map(Array.from({ length: n }, (_, i) => i));
  return { self: process.ppid, children: await Promise.all(futures.map((f) => f.result())) };
});

/** Kills the worker process that runs it (its sidecar's parent). */
export const killMyWorker = task(() => {
  process.kill(process.ppid, "SIGKILL");
  return "unreachable";
});

export const say = task((message: string) => {
  getRunLogger().info(message);
  getRunLogger().warning(`${message} (warning)`);
  return message;
});

let flakyCalls = 0;
/** Fails until its sidecar has seen `failures` calls; shows that retries run in the sidecar, delays included. */
export const flaky = task({ retries: 3, retryDelaySeconds: [0.2, 0.4] }, (failures: number) => {
  flakyCalls++;
  const attempt = getRunContext().taskRun?.runCount ?? 0;
  if (attempt <= failures) throw new Error(`attempt ${attempt} fails`);
  return { attempt, at: Date.now() };
});
void flakyCalls;

export const sleepAsync = task({ timeoutSeconds: 0.5 }, async (ms: number) => {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});

/** A synchronous busy loop: only recycling the sidecar stops it. */
/** Writes its sidecar's pid to `pidFile`, then runs synchronous code for `ms` (a rerun returns at once). */
export const pidThenSpin = task((pidFile: string, ms: number) => {
  if (existsSync(pidFile)) return 0;
  writeFileSync(pidFile, String(process.pid));
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // a busy event loop: this sidecar cannot see its worker go
  }
  return ms;
});

export const spin = task({ timeoutSeconds: 1 }, (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // burn
  }
  return ms;
});

export const exitProcess = task((code: number) => {
  process.exit(code);
});

export const napMs = task(async (ms: number) => {
  const start = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  return { start, end: Date.now(), pid: process.pid };
});

export const getFunction = task(() => 1);

/** For batched maps: fails on negative numbers, and on 13 until its third attempt. */
export const checked = task({ retries: 2 }, (x: number) => {
  if (x < 0) throw new RangeError(`negative: ${x}`);
  if (x === 13 && (getRunContext().taskRun?.runCount ?? 0) < 3) throw new Error("unlucky");
  return x * 10;
});

/** A result too big to travel with its state event (it is fetched when asked for). */
export const bigResult = task((n: number) => "x".repeat(n));
