/**
 * What a flow run does for durability (called from src/core/flow.ts): finds the run it resumes (`myFlow.resume(id)`,
 * DASKFLOW_RESUME=<id|last>), records itself so it can be resumed (a run record at its result storage, written
 * before any task runs: a flow process killed at any point after can be resumed), and sets up its durable layer.
 */
import type { RunScope } from "../core/context.ts";
import type { RunLogger } from "../core/logger.ts";
import { type State, StateType, formatState } from "../core/state.ts";
import type { FlowOptions } from "../core/options.ts";
import type { TaskRunner } from "../core/task-runner.ts";
import { Backend, isDaskRunner } from "./backend.ts";
import { DurableRun } from "./durable.ts";
import { readRunRecord, writeRunRecord } from "./run-record.ts";
import { isRemote, resolveLocation } from "./storage.ts";

export interface Resume {
  resumedFrom: string;
  keyRunId: string;
  parameters: unknown[];
}

let envResumeUsed = false;

/** The run to resume: `explicit` (myFlow.resume), else DASKFLOW_RESUME for the process's first top-level flow run. */
export async function findResume(flowName: string, options: FlowOptions, runner: TaskRunner, explicit: string | undefined, topLevel: boolean): Promise<Resume | undefined> {
  let id = explicit;
  if (id === undefined && topLevel && !envResumeUsed && process.env.DASKFLOW_RESUME) {
    envResumeUsed = true;
    id = process.env.DASKFLOW_RESUME.trim();
  }
  if (id === undefined) return undefined;
  const backend = new Backend(resolveLocation(options.resultStorage), runner);
  const { record, parameters } = await readRunRecord(backend, id, flowName);
  return { resumedFrom: record.id, keyRunId: record.keyRunId, parameters };
}

/**
 * The default: a run on a LocalCluster it starts persists its task results (its workers share this machine's disk, and
 * write them off the task's path), so a flow process killed with `kill -9` can be resumed; elsewhere nothing is
 * persisted unless asked. DASKFLOW_PERSIST_RESULTS=0 turns the default off.
 */
function startsLocalCluster(runner: TaskRunner, scope: RunScope): boolean {
  if (!isDaskRunner(runner) || process.env.DASKFLOW_PERSIST_RESULTS === "0" || scope.schedulerAddress) return false;
  const o = (runner as unknown as { options: { address?: string; clusterClass?: unknown } }).options;
  return o.address === undefined && (o.clusterClass === undefined || o.clusterClass === "distributed.LocalCluster");
}

/** The run's durable layer, its run record written first (when it is a top-level run). */
export async function beginDurable(options: FlowOptions, scope: RunScope & { runner: TaskRunner }, resume: Resume | undefined, topLevel: boolean): Promise<DurableRun> {
  const flowRun = scope.flowRun!;
  const location = resolveLocation(options.resultStorage);
  const auto = options.persistResult === undefined && startsLocalCluster(scope.runner, scope) && !isRemote(location);
  const durable = new DurableRun(scope, {
    persistDefault: options.persistResult ?? (auto ? true : undefined),
    persistAuto: auto,
    location,
    retries: options.retries ?? 0,
    keyRunId: resume?.keyRunId ?? flowRun.id,
    ...(resume ? { resumedFrom: resume.resumedFrom } : {}),
  });
  // An object store is reached through a Dask cluster: recorded when the user named it (the run will start one).
  const record = topLevel && (!isRemote(location) || (options.resultStorage !== undefined && isDaskRunner(scope.runner)));
  if (record) {
    try {
      const fields = { id: flowRun.id, flowName: flowRun.flowName, keyRunId: durable.settings.keyRunId };
      await writeRunRecord(durable.backend, resume ? { ...fields, resumedFrom: resume.resumedFrom } : fields, flowRun.parameters);
    } catch (error) {
      // Without it the run cannot be resumed; it still runs.
      durable.recordProblem = (error as Error).message;
    }
  }
  return durable;
}

/**
 * After an attempt of the flow function: true when it failed and retries remain (the caller runs the function again
 * in the same flow run, whose completed task runs the durable layer reuses). Logs how many the attempt reused.
 */
export async function retryFlow(durable: DurableRun, options: FlowOptions, state: State<unknown>, log: RunLogger, settleAttempt: () => Promise<void>): Promise<boolean> {
  const retries = options.retries ?? 0;
  if (durable.attempt > 1) log.info(`Attempt ${durable.attempt} of the flow reused ${durable.reused} task run(s) completed in earlier attempts.`);
  if (state.type !== StateType.FAILED || durable.attempt > retries) return false;
  await settleAttempt(); // the attempt's task runs end before the next begins (their results are the ones reused)
  const delay = options.retryDelaySeconds ?? 0;
  log.warning(`Attempt ${durable.attempt} of ${retries + 1} of the flow failed (${formatState(state)}); running the flow function again${delay ? ` in ${delay}s` : ""}, reusing the task runs it completed.`);
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay * 1000));
  durable.nextAttempt();
  return true;
}
