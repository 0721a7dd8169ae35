/**
 * The durable layer of one flow run, between `submit`/`map` and the task runner: it keys the runs that persist or
 * cache, looks them up in batches (a map of 10,000 items is one lookup), ends hits COMPLETED "Cached" without a Dask
 * task (their value is read when something needs it), reuses the runs an earlier attempt of the flow completed, and
 * hands the rest to the runner with where to persist them: a Dask worker writes its own result
 * (python/daskflow_bridge/results/); for in-process runners this process is the worker and writes here.
 * A run that uses none of it goes straight to the runner (nothing on the hot path).
 */
import { rm } from "node:fs/promises";
import { fireHooks } from "../hooks/fire.ts";
import { type RunScope, runInScope, scopeLog } from "../core/context.ts";
import { setFutureState, isTaskFuture, type TaskFuture } from "../core/future.ts";
import { type State, Crashed, StateType, makeState } from "../core/state.ts";
import type { TaskRunner, TaskSubmission } from "../core/task-runner.ts";
import { decodeEnvelopeAsync, encodeResult, encodeValue } from "../core/serialization.ts";
import { KEEP, forEachDeep, mapDeep } from "../core/walk.ts";
import { isAllowFailure } from "../core/wrappers.ts";
import { ValueParts } from "../transfer/value-bytes.ts";
import { Backend, isDaskRunner } from "./backend.ts";
import { type KeyContext, RESUME_POLICY, canonical, computeKey, isCached, persists, policiesOf } from "./keys.ts";
import { type PersistSpec, RECORD_SUFFIX, isRemote, sha256, writeLocal } from "./storage.ts";

export interface DurableSettings {
  persistDefault: boolean | undefined;
  /** Persisting by default (a LocalCluster): its workers share this disk, probed here; no warnings for what cannot be. */
  persistAuto?: boolean;
  location: string;
  /** Flow retries: completed runs of an attempt are reused by the next. */
  retries: number;
  /** Set in a resumed run: every persisted run is looked up. */
  resumedFrom?: string;
  keyRunId: string;
}

interface Planned {
  s: TaskSubmission;
  key?: string;
  /** The key runs are reused under within this flow run (flow retries). */
  memoryKey?: string;
  lookup?: boolean;
  persist?: PersistSpec;
}

const runs = new WeakMap<object, DurableRun>();
/** A hit's value bytes up to this size are kept from its lookup until it is loaded. */
const KEEP_BYTES = 64 * 1024;

export function durableFor(scope: RunScope): DurableRun | undefined {
  return scope.flowRun ? runs.get(scope.flowRun) : undefined;
}

/** Sends submissions to the runner, through the flow run's durable layer when it has one. */
export function dispatch(scope: RunScope & { runner: TaskRunner }, subs: TaskSubmission[], batch: boolean): void {
  const durable = durableFor(scope);
  if (durable) durable.dispatch(subs, batch);
  else if (batch) scope.runner.submitBatch!(subs);
  else scope.runner.submit(subs[0]!);
}

export class DurableRun {
  readonly backend: Backend;
  /** The key of each future run here (its cache key, else its inputs-and-source key). */
  readonly #keys = new WeakMap<TaskFuture<unknown>, string>();
  /** Submitted here and not yet handed on (or resolved here). */
  readonly #pending = new WeakSet<TaskFuture<unknown>>();
  /** Resolved here (hits, reuses): their runner never saw them. */
  readonly #local = new WeakSet<TaskFuture<unknown>>();
  /** Completed runs of this flow run by memory key (for flow retries; held so their values stay reachable). */
  readonly #done = new Map<string, TaskFuture<unknown>>();
  #engaged = false;
  #queue: Array<{ planned: Planned[]; batch: boolean }> = [];
  #autoOff = false;
  #chain: Promise<void> = Promise.resolve();
  readonly #writes = new Set<Promise<void>>();
  /** Keys persisted only because of the LocalCluster default, and keys persisted because a task asked. */
  readonly #defaultKeys = new Set<string>();
  readonly #askedKeys = new Set<string>();
  #paramsDigest: string | { unhashable: string } | undefined;
  attempt = 1;
  reused = 0;
  /** Why the run record could not be written (the run cannot be resumed). */
  recordProblem: string | undefined;
  cachedCount = 0;

  constructor(
    private readonly scope: RunScope & { runner: TaskRunner },
    readonly settings: DurableSettings,
  ) {
    this.backend = new Backend(settings.location, scope.runner);
    runs.set(scope.flowRun!, this);
  }

  #ctx(): KeyContext {
    const flowRun = this.scope.flowRun!;
    return {
      flowRunId: flowRun.id,
      keyRunId: this.settings.keyRunId,
      parameters: flowRun.parameters,
      keyOf: (f) => this.#keys.get(f),
      parametersDigest: () => {
        if (this.#paramsDigest === undefined) {
          try {
            this.#paramsDigest = sha256(encodeValue(canonical(flowRun.parameters, () => undefined), "the flow's parameters"));
          } catch {
            this.#paramsDigest = { unhashable: "the flow's parameters cannot be encoded" };
          }
        }
        return this.#paramsDigest;
      },
    };
  }

  #involves(s: TaskSubmission): boolean {
    if (this.settings.retries > 0 || this.settings.resumedFrom) return true;
    if (persists(s.task, this.settings.persistDefault)) return true;
    return this.#engaged && this.#refersToHeld(s);
  }

  #refersToHeld(s: TaskSubmission): boolean {
    let found = false;
    forEachDeep([s.args, s.waitFor], (v) => {
      if (found) return false;
      const f = isTaskFuture(v) ? v : isAllowFailure(v) ? v.future : undefined;
      if (!f) return true;
      if (this.#pending.has(f) || this.#local.has(f)) found = true;
      return false;
    });
    return found;
  }

  dispatch(subs: TaskSubmission[], batch: boolean): void {
    if (!subs.some((s) => this.#involves(s))) {
      if (batch) this.scope.runner.submitBatch!(subs);
      else this.scope.runner.submit(subs[0]!);
      return;
    }
    this.#engaged = true;
    this.#queue.push({ planned: subs.map((s) => this.#plan(s)), batch });
    // Everything dispatched until the queue is drained (a submit loop, all the batches of a map) is looked up at once.
    if (this.#queue.length === 1) this.#chain = this.#chain.then(() => this.#drain());
  }

  async #drain(): Promise<void> {
    const groups = this.#queue;
    this.#queue = [];
    const all = groups.flatMap((g) => g.planned);
    try {
      await this.#probe(all);
      const found = await this.backend.lookup(all.filter((p) => p.lookup).map((p) => p.key!));
      for (const { planned, batch } of groups) await this.#process(planned, batch, found);
    } catch (raw) {
      const error = raw instanceof Error ? raw : new Error(String(raw));
      for (const p of all) if (this.#pending.has(p.s.future)) p.s.future[setFutureState](Crashed(error));
      scopeLog(this.scope, "error", error.message);
    }
  }

  /** Keys a run (synchronously, at submit: a downstream submitted next needs its key). */
  #plan(s: TaskSubmission): Planned {
    const def = s.task;
    const planned: Planned = { s };
    this.#pending.add(s.future);
    const persist = persists(def, this.settings.persistDefault);
    const cached = isCached(def);
    if (!persist && this.settings.retries === 0) return planned;
    const ctx = this.#ctx();
    // One encode of the arguments per run, two only for a cached task in a flow with retries.
    const own = computeKey(def, cached ? (policiesOf(def) ?? []) : RESUME_POLICY, s.args, ctx);
    const base = cached && this.settings.retries > 0 ? computeKey(def, RESUME_POLICY, s.args, ctx) : own;
    if ("key" in base) planned.memoryKey = base.key;
    if (!("key" in own)) {
      if (persist) scopeLog({ ...this.scope, taskRun: s.taskRun }, this.#asked(def) ? "warning" : "debug", `Task run '${s.taskRun.name}' runs uncached and its result is not persisted: ${own.unhashable}.`);
      return planned;
    }
    planned.key = own.key;
    this.#keys.set(s.future, own.key);
    if (!persist) return planned;
    planned.lookup = (cached && !def.options.refreshCache) || this.settings.resumedFrom !== undefined;
    const expires = def.options.cacheExpirationSeconds;
    planned.persist = { location: this.settings.location, key: own.key, task: `${def.name}` };
    if (expires !== undefined) planned.persist.expires = Date.now() / 1000 + expires;
    return planned;
  }

  /** The user asked this task to persist or cache (not only the LocalCluster default). */
  #asked(def: TaskSubmission["task"]): boolean {
    return !this.settings.persistAuto || def.options.persistResult === true || isCached(def);
  }

  async #probe(planned: Planned[]): Promise<void> {
    if (planned.some((p) => p.persist)) {
      try {
        await this.backend.probe(this.settings.persistAuto);
      } catch (error) {
        if (!this.settings.persistAuto) throw error;
        // Only the default asked for it: the run goes on without persisting (and says so once).
        if (!this.#autoOff) scopeLog(this.scope, "warning", `${(error as Error).message} Task results of this run are not persisted (it cannot be resumed from them).`);
        this.#autoOff = true;
      }
      if (this.#autoOff) for (const p of planned) if (!this.#asked(p.s.task)) delete p.persist;
    }
  }

  async #process(planned: Planned[], batch: boolean, found: Awaited<ReturnType<Backend["lookup"]>>): Promise<void> {
    const misses: TaskSubmission[] = [];
    for (const p of planned) {
      const { s } = p;
      const earlier = p.memoryKey ? this.#done.get(p.memoryKey) : undefined;
      if (earlier && earlier.state.type === StateType.COMPLETED) {
        this.reused++;
        this.#resolve(s, makeState(StateType.COMPLETED, earlier.state.name, { ...earlier.state, load: () => earlier.result(), data: undefined, timestamp: Date.now() }));
        continue;
      }
      const hit = p.key ? found.get(p.key) : undefined;
      if (hit?.hit) {
        this.cachedCount++;
        const key = p.key!;
        if (this.settings.persistAuto && !this.#asked(s.task)) this.#defaultKeys.add(key); // a resumed run's reuse
        scopeLog({ ...this.scope, taskRun: s.taskRun }, "info", `Finished in state Cached(): the result of an earlier run (key ${key.slice(0, 12)}…) is reused.`);
        // A small value's verified bytes are kept from the lookup (decoded only when needed); a large one is read again.
        const fromLookup = (hit as { bytes?: Uint8Array }).bytes;
        let kept = fromLookup && fromLookup.byteLength <= KEEP_BYTES ? fromLookup : undefined;
        const load = () => {
          const bytes = kept;
          kept = undefined;
          return this.#load(key, bytes);
        };
        this.#resolve(s, makeState(StateType.COMPLETED, "Cached", { cacheKey: key, cacheHit: true, resultLocation: this.#where(key), load }));
        continue;
      }
      if (hit && !hit.hit && hit.problem) {
        scopeLog({ ...this.scope, taskRun: s.taskRun }, "warning", `The stored result of task run '${s.taskRun.name}' (key ${p.key}) is not used: ${hit.problem}. Running it again.`);
      }
      misses.push(await this.#prepare(p));
    }
    if (misses.length === 0) return;
    runInScope(this.scope, () => {
      if (batch && misses.length > 1) this.scope.runner.submitBatch!(misses);
      else for (const m of misses) this.scope.runner.submit(m);
    });
    for (const m of misses) this.#pending.delete(m.future);
  }

  #where(key: string): string {
    return `${this.settings.location}/${key}${RECORD_SUFFIX}`;
  }

  async #load(key: string, bytes?: Uint8Array): Promise<unknown> {
    const envelope = await decodeEnvelopeAsync(bytes ?? (await this.backend.read(key)));
    return envelope.data;
  }

  /** A run ended here without running (a cache hit, a reuse): its onCompletion hooks fire before its future is final,
   * as the engine's would. */
  #resolve(s: TaskSubmission, state: State<unknown>): void {
    this.#pending.delete(s.future);
    this.#local.add(s.future);
    const hooks = fireHooks(s.task, s.taskRun, state, { ...this.scope, taskRun: s.taskRun });
    if (hooks) void hooks.then(() => s.future[setFutureState](state));
    else s.future[setFutureState](state);
  }

  /** A miss as its runner gets it: where to persist it; on Dask, upstreams resolved here passed as values. */
  async #prepare(p: Planned): Promise<TaskSubmission> {
    let s = p.s;
    const future = s.future;
    if (p.memoryKey && this.settings.retries > 0) {
      // Held for a later attempt only when there can be one: a held future keeps its result from being released.
      const memoryKey = p.memoryKey;
      future.onFinal((state) => {
        if (state.type === StateType.COMPLETED) this.#done.set(memoryKey, future);
      });
    }
    if (p.persist) {
      const persist = p.persist;
      (this.#asked(s.task) ? this.#askedKeys : this.#defaultKeys).add(persist.key);
      // First listener on the future: the state a reader sees carries where its result is.
      future.onFinal((state) => {
        if (state.type !== StateType.COMPLETED) return;
        Object.assign(state, { cacheKey: persist.key, resultLocation: this.#where(persist.key) });
        if (!isDaskRunner(this.scope.runner)) this.#writeHere(s, state, persist);
      });
    }
    if (isDaskRunner(this.scope.runner) && this.#refersToHeld(s)) {
      const values = new Map<TaskFuture<unknown>, unknown>();
      const locals: TaskFuture<unknown>[] = [];
      forEachDeep([s.args, s.waitFor], (v) => {
        const f = isTaskFuture(v) ? v : isAllowFailure(v) ? v.future : undefined;
        if (f && this.#local.has(f)) locals.push(f);
        return !f;
      });
      for (const f of locals) values.set(f, await f.result());
      const swap = (v: unknown) => (isTaskFuture(v) && values.has(v) ? values.get(v) : isAllowFailure(v) && values.has(v.future) ? values.get(v.future) : KEEP);
      s = { ...s, args: mapDeep(s.args, swap) as unknown[], waitFor: (s.waitFor as unknown[]).filter((w) => !(isTaskFuture(w) && values.has(w))) };
    }
    return p.persist && isDaskRunner(this.scope.runner) ? { ...s, persist: p.persist } : s;
  }

  /** In-process runners: this process computed the value, so it writes it (off the run's path). */
  #writeHere(s: TaskSubmission, state: State<unknown>, persist: PersistSpec): void {
    const { envelope, record } = encodeResult(state);
    if (record.type !== "COMPLETED") {
      scopeLog({ ...this.scope, taskRun: s.taskRun }, "warning", `The result of task run '${s.taskRun.name}' is not persisted: ${record.message ?? "it cannot be encoded"}.`);
      return;
    }
    const bytes = envelope instanceof ValueParts ? envelope.concat() : envelope;
    const write = writeLocal(persist, bytes)
      .catch((error: Error) => scopeLog(this.scope, "warning", `The result of task run '${s.taskRun.name}' could not be written to '${persist.location}': ${error.message}`))
      .finally(() => this.#writes.delete(write));
    this.#writes.add(write);
  }

  /** A new attempt of the flow function begins (flow retries). */
  nextAttempt(): void {
    this.attempt++;
    this.reused = 0;
  }

  /**
   * After a top-level run that completed (its runner shut down, so its workers' writes are done): the records only the
   * LocalCluster default wrote are there to resume a run that fails or dies, so a completed run removes them, in the
   * background, instead of leaving one file per task run of every run on disk. Records a task asked for stay.
   */
  forgetDefaultRecords(state: State<unknown>): void {
    if (state.type !== StateType.COMPLETED || !this.settings.persistAuto || isRemote(this.settings.location)) return;
    const keys = [...this.#defaultKeys].filter((k) => !this.#askedKeys.has(k));
    this.#defaultKeys.clear();
    if (keys.length === 0) return;
    void Promise.all(keys.map((key) => rm(this.#where(key), { force: true }).catch(() => undefined)));
  }

  /** Waits for what is being looked up and written here. */
  async settled(): Promise<void> {
    await this.#chain;
    while (this.#writes.size) await Promise.all([...this.#writes]);
  }
}
