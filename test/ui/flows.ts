/** Flows the UI tests run for real (ConcurrentTaskRunner, in this process), recorded into the test's history file. */
import { flow, task, getRunLogger, ConcurrentTaskRunner, type State } from "../../src/index.ts";

export const EVIL = "<img src=x onerror=alert(1)>";

export const square = task({ name: "square" }, (x: number) => {
  getRunLogger().info(`squaring ${x}`);
  return x * x;
});

export const boom = task({ name: "boom" }, () => {
  throw new TypeError("bad input for boom");
});

const tries = new Map<string, number>();
/** Fails its first attempt, then completes: one task run with 2 attempts. */
export const flaky = task({ name: "flaky", retries: 1, retryDelaySeconds: 0 }, (key: string) => {
  const n = (tries.get(key) ?? 0) + 1;
  tries.set(key, n);
  if (n === 1) throw new Error("first attempt fails");
  return n;
});

export const plus = task({ name: "plus" }, (a: number, b: number) => a + b);

export const evil = task({ name: EVIL }, () => {
  getRunLogger().warning(`a message with markup ${EVIL}`);
  return 1;
});

/** Ten squares, a failing task, a retried one, a task with markup in its name, and logs at each level. */
export const etl = flow({ name: "etl" }, async (n: number) => {
  const log = getRunLogger();
  log.debug("debug detail from the flow");
  log.info(`starting with n=${n}`);
  const squares = square.map(Array.from({ length: n }, (_, i) => i));
  const bad = boom.submit();
  const retried = flaky.submit(`etl-${n}-${Date.now()}`);
  const marked = evil.submit();
  const pair = plus.submit(squares[1]!, squares[2]!);
  await Promise.all([...squares, bad, retried, marked, pair].map((f) => f.wait()));
  log.error("one task failed, as it should");
  return squares;
});

export const report = flow({ name: "report" }, async () => {
  await square.submit(3).result();
  return "ok";
});

/** A flow whose task waits until `release()` is called: a run that stays RUNNING while a page watches it. */
export function gated(): { run: Promise<State<number>>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const waiter = task({ name: "waiter" }, async () => {
    getRunLogger().warning("waiting for the gate");
    await gate;
    getRunLogger().warning("through the gate");
    return 1;
  });
  const live = flow({ name: "live" }, async () => waiter.submit().result());
  return { run: live.returnState(), release };
}

export const tiny = task({ name: "tiny" }, async (x: number) => {
  await new Promise((r) => setTimeout(r, x % 3));
  return x;
});

/** More task runs than the timeline draws one by one, 8 at a time (so zooming in separates them). */
export const crowd = flow({ name: "crowd", taskRunner: new ConcurrentTaskRunner({ maxWorkers: 8 }) }, async (n: number) => {
  const all = tiny.map(Array.from({ length: n }, (_, i) => i));
  await Promise.all(all.map((f) => f.wait()));
});
