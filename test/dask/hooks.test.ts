import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { flow, getRunContext, StateType, type State } from "../../src/index.ts";
import { DaskTaskRunner } from "../../src/dask/index.ts";
import { HOOKS_DIR, hookedFlaky, hookedInc, hookedKill, hookedNap, hookedThrows } from "./hooks-tasks.ts";
import { captureStderr } from "../helpers.ts";
import { fileCluster } from "./fixtures.ts";

// allowed-failures 0: the first worker death of a task makes it KilledWorker (Dask's own rule, made quick).
const cluster = fileCluster([{ nthreads: 1 }, { nthreads: 1 }], { DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES: "0" });
const onCluster = () => new DaskTaskRunner({ address: cluster.address });

/** What the hook `hook` of run `runId` left: one line per call, `pid stateName`. */
function marks(runId: string, hook: string): Array<{ pid: number; state: string }> {
  const file = join(HOOKS_DIR, `${runId}-${hook}`);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").trim().split("\n").map((line) => {
    const [pid, state] = line.split(" ");
    return { pid: Number(pid), state: state! };
  });
}

test("task hooks run on the worker, with the run's logger; onFailure once after retries, onRunning per attempt", async () => {
  const workerSide = new Set<number>();
  const f = flow({ taskRunner: onCluster() }, async () => {
    const ok = hookedInc.submit(1);
    const bad = hookedFlaky.submit();
    return { value: await ok.result(), okId: ok.taskRunId, bad: (await bad.wait()).type, badId: bad.taskRunId };
  });
  const { value: r, output } = await captureStderr(() => f());
  assert.equal(r.value, 2);
  assert.equal(r.bad, StateType.FAILED);
  const completion = marks(r.okId, "completion");
  assert.deepEqual(completion.map((m) => m.state), ["Completed"]);
  assert.deepEqual(marks(r.okId, "running").map((m) => m.state), ["Running"]);
  assert.deepEqual(marks(r.badId, "running").map((m) => m.state), ["Running", "Retrying", "Retrying"]);
  assert.deepEqual(marks(r.badId, "failure").map((m) => m.state), ["Failed"]);
  for (const m of [...completion, ...marks(r.badId, "failure")]) workerSide.add(m.pid);
  assert.ok(!workerSide.has(process.pid), "hooks ran in the worker's sidecar, not the flow process");
  assert.match(output, /Task run 'hookedInc-[^']*' \[tcp:[^\]]*\] - completion hook ran for Completed/);
});

test("a hook that throws on the worker is logged as an ERROR naming it; the run stays COMPLETED", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const fut = hookedThrows.submit();
    return { value: await fut.result(), id: fut.taskRunId };
  });
  const { value: r, output } = await captureStderr(() => f());
  assert.equal(r.value, 5);
  assert.match(output, /ERROR.*onCompletion hook 'brokenHook' failed \(the run's state stays Completed\): Error: hook boom/);
  assert.deepEqual(marks(r.id, "completion").map((m) => m.state), ["Completed"]);
});

test("a task CRASHED by its worker's death fires onCrashed in the flow process", async () => {
  await cluster.addWorker({ nthreads: 1 }); // keep two workers after this test kills one
  const f = flow({ taskRunner: onCluster() }, async () => {
    const fut = hookedKill.submit();
    return { type: (await fut.wait()).type, id: fut.taskRunId };
  });
  const r = await f();
  assert.equal(r.type, StateType.CRASHED);
  const running = marks(r.id, "running");
  assert.equal(running.length, 1);
  assert.notEqual(running[0]!.pid, process.pid);
  assert.deepEqual(marks(r.id, "crashed"), [{ pid: process.pid, state: "Crashed" }], "onCrashed ran once, in the flow process");
});

test("the bridge dying crashes the flow run: its onCrashed fires once, and a pending task's onCrashed in the flow process", async () => {
  const seen: string[] = [];
  let napId = "";
  const f = flow(
    {
      taskRunner: new DaskTaskRunner({ address: cluster.address }),
      onCrashed: (_f, _r, s: State<unknown>) => void seen.push(`crashed:${s.type}`),
      onCompletion: () => void seen.push("completion"),
      onFailure: () => void seen.push("failure"),
    },
    async () => {
      const nap = hookedNap.submit(30_000);
      napId = nap.taskRunId;
      await hookedInc.submit(1).result(); // the bridge is up and running tasks
      process.kill((getRunContext().taskRunner as DaskTaskRunner).bridgePid!, "SIGKILL");
      await nap.wait();
    },
  );
  const state = await f.returnState();
  assert.equal(state.type, StateType.CRASHED);
  assert.deepEqual(seen, ["crashed:CRASHED"]);
  assert.deepEqual(marks(napId, "crashed"), [{ pid: process.pid, state: "Crashed" }]);
});
