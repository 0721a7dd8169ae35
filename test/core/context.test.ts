import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, task, getRunContext, getRunLogger, MissingContextError } from "../../src/index.ts";
import { captureStderr, withLoggingLevel } from "../helpers.ts";

test("getRunContext() tells the flow run and task run wherever it is called", async () => {
  const inner = task(async () => {
    await Promise.resolve();
    const ctx = getRunContext();
    return { task: ctx.taskRun?.taskName, run: ctx.taskRun?.name, count: ctx.taskRun?.runCount, flow: ctx.flowRun?.flowName };
  });
  const f = flow({ name: "ctx-flow" }, async () => {
    const outer = getRunContext();
    const fromTask = await inner.submit().result();
    return { outerFlow: outer.flowRun?.flowName, outerTask: outer.taskRun, runner: outer.taskRunner?.name, fromTask };
  });
  const result = await f();
  assert.equal(result.outerFlow, "ctx-flow");
  assert.equal(result.outerTask, undefined);
  assert.equal(result.runner, "ConcurrentTaskRunner");
  assert.equal(result.fromTask.task, "inner");
  assert.match(result.fromTask.run ?? "", /^inner-[0-9a-f]{3}$/);
  assert.equal(result.fromTask.count, 1);
  assert.equal(result.fromTask.flow, "ctx-flow");
});

test("getRunLogger() and getRunContext() outside a run throw MissingContextError", () => {
  assert.throws(() => getRunLogger(), (e: Error) => e instanceof MissingContextError && /outside a flow or task run/.test(e.message));
  assert.throws(() => getRunContext(), MissingContextError);
});

test("logs carry the run name, and state transitions read like Prefect's", async () => {
  const shout = task(async (x: number) => {
    getRunLogger().info(`value is ${x}`);
    return x;
  });
  const f = flow({ name: "logging-flow" }, async () => {
    getRunLogger().warning("from the flow");
    return shout.submit(7).result();
  });
  const { output } = await withLoggingLevel("DEBUG", () => captureStderr(() => f()));
  assert.match(output, /\d\d:\d\d:\d\d\.\d{3} \| INFO    \| Flow run '[a-z]+-[a-z]+' - Beginning flow run '[a-z]+-[a-z]+' for flow 'logging-flow'/);
  assert.match(output, /\| WARNING \| Flow run '[a-z]+-[a-z]+' - from the flow/);
  assert.match(output, /\| INFO    \| Task run 'shout-[0-9a-f]{3}' - value is 7/);
  // A completed task run's final state is a DEBUG line (a large map would otherwise print one line per item).
  assert.match(output, /\| DEBUG   \| Task run 'shout-[0-9a-f]{3}' - Finished in state Completed\(\)/);
  assert.match(output, /Flow run '[a-z]+-[a-z]+' - Finished in state Completed\(\)/);
});

test("DASKFLOW_LOGGING_LEVEL sets the threshold", async () => {
  const quiet = task(() => {
    getRunLogger().info("info line");
    getRunLogger().error("error line");
  });
  const f = flow(async () => quiet.submit().result());
  const { output } = await withLoggingLevel("ERROR", () => captureStderr(() => f()));
  assert.doesNotMatch(output, /info line|Finished in state/);
  assert.match(output, /ERROR   \| Task run 'quiet-[0-9a-f]{3}' - error line/);
  const debug = await withLoggingLevel("debug", () => captureStderr(() => f()));
  assert.match(debug.output, /info line/);
});
