/**
 * A ConcurrentTaskRunner run's tag slots: taken before the run takes a `maxWorkers` slot, so a run waiting for a tag
 * holds nothing else. A run that waited past its bound ends FAILED (TimedOut) naming the limit, its hooks fired here
 * (it never reached the engine).
 */
import { type RunScope, scopeLog } from "../core/context.ts";
import type { Cancellation } from "../core/cancellation.ts";
import { type State, Failed, formatState, makeState, StateType } from "../core/state.ts";
import type { TaskSubmission } from "../core/task-runner.ts";
import { fireHooks } from "../hooks/fire.ts";
import { type ResolvedLimit, limitsOf, slotTimeout } from "./options.ts";
import type { LocalSlots, Release } from "./slots.ts";

const none: Release = () => Promise.resolve();

/** The release of the run's slots once it has them; undefined when it ended instead (timed out, cancelled). At once
 * (no promise) for a run without limits: it starts in the same tick, as it did before limits existed. */
export function waitForSlots(
  slots: LocalSlots,
  s: TaskSubmission,
  scope: RunScope,
  setState: (state: State<unknown>) => void,
  cancel: Cancellation,
): Release | Promise<Release | undefined> {
  const found = limitsOf(s.task.options.tags, slots.limits);
  return found ? waitForThese(found, slots, s, scope, setState, cancel) : none;
}

async function waitForThese(
  found: ResolvedLimit[],
  slots: LocalSlots,
  s: TaskSubmission,
  scope: RunScope,
  setState: (state: State<unknown>) => void,
  cancel: Cancellation,
): Promise<Release | undefined> {
  const tags = found.map((l) => `'${l.tag}'`).join(", ");
  setState(makeState(StateType.SCHEDULED, "AwaitingConcurrencySlot", { message: `Waiting for a slot of tag ${tags}` }));
  try {
    const release = await slots.takeAll(found, slotTimeout(found, s.task.options.timeoutSeconds), `Task run '${s.taskRun.name}'`);
    if (cancel.aborted) {
      await release();
      await fireHooks(s.task, s.taskRun, s.future.state, { ...scope, taskRun: s.taskRun }); // cancelled while it waited
      return undefined;
    }
    return release;
  } catch (raw) {
    const error = raw as Error;
    const failed = Failed(error, { name: "TimedOut" });
    const runScope = { ...scope, taskRun: s.taskRun };
    scopeLog(runScope, "error", error.message);
    await fireHooks(s.task, s.taskRun, failed, runScope);
    setState(failed);
    scopeLog(runScope, "info", `Finished in state ${formatState(failed)}`);
    return undefined;
  }
}
