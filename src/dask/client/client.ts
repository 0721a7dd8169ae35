/**
 * DaskClient: work beyond `task.submit()` on the current Dask cluster. daskflow tasks go through the runner's own
 * submit path (the task engine: retries, timeouts, states, logs); Python callables, scattered data, collections and
 * scheduler queries go through the runner's bridge. Every future it makes must be resolved inside its scope.
 */
import { randomUUID } from "node:crypto";
import { type RunScope, runInScope } from "../../core/context.ts";
import { DaskflowError, InvalidOptionError } from "../../core/errors.ts";
import { type TaskFuture, isTaskFuture } from "../../core/future.ts";
import type { Task } from "../../core/task.ts";
import type { FuturableArgs, MapArgs, Result } from "../../core/types.ts";
import { mapArgs } from "../../core/task.ts";
import { COLLECTION, type CollectionKind, type DaskCollection, FROM_RESULT, WITH_PLAN, isCollection } from "../collections/collection.ts";
import type { SchedulerInfo } from "../protocol.ts";
import type { BridgeTransport, DaskTaskRunner } from "../runner.ts";
import { referencedModules } from "../shipping/referenced-modules.ts";
import { checkImportPath, pythonArgs } from "./callable.ts";
import { type FunctionArgs, type FunctionMapArgs, functionCall, withRuns } from "./functions.ts";
import { DaskFuture, isDaskFuture } from "./future.ts";
import { type ClientFuture, unresolvedError } from "./unresolved.ts";

/** Where the client's cluster comes from: the flow's runner, a task's worker, or one it made (and closes). */
export interface ClientBinding {
  runner: DaskTaskRunner;
  /** The scope daskflow tasks are submitted in (its runner is where they go). */
  scope: RunScope;
  /** The client made this runner (outside any run): closing the client shuts it down with its cluster. */
  owned: boolean;
  bridge: BridgeTransport;
  /** How long the end of the scope waits for the work of unresolved futures (getDaskClient's closeTimeoutSeconds). */
  closeTimeoutSeconds: number;
}

type AnyTask = Task<never[], unknown>;
type AnyFunction = (...args: never[]) => unknown;

/** What computing a collection gives: the value its own `compute()` resolves with. */
export type CollectionValue<C> = C extends { compute(): Promise<infer V> } ? V : unknown;

function isTask(value: unknown): value is AnyTask {
  return typeof value === "function" && typeof (value as Partial<AnyTask>).submit === "function" && "definition" in value;
}

export class DaskClient implements AsyncDisposable {
  readonly #binding: ClientBinding;
  readonly #futures = new Set<ClientFuture>();
  readonly #datasets: string[] = [];
  #closed = false;

  /** @internal use getDaskClient() or withDaskClient() */
  constructor(binding: ClientBinding) {
    this.#binding = binding;
  }

  get #bridge(): BridgeTransport {
    if (this.#closed) throw new DaskflowError("This Dask client is closed; get a new one with getDaskClient().");
    return this.#binding.bridge;
  }

  /** The scheduler's address, e.g. `tcp://127.0.0.1:8786`. */
  get schedulerAddress(): string {
    return this.#binding.runner.cluster!.scheduler_address;
  }

  /** The Dask dashboard of the cluster, when it has one. */
  get dashboardLink(): string | null {
    return this.#binding.runner.cluster!.dashboard_link;
  }

  // ---------------------------------------------------------------- submit and map

  /**
   * A daskflow task run on the cluster (`client.submit(myTask, 1, 2)` → a TaskFuture, as `myTask.submit(1, 2)`),
   * a plain function (`client.submit((x: number) => x + 1, 41)` → a DaskFuture; arguments as for a task), or a
   * Python callable by import path (`client.submit("operator.add", [1, 2])` → a DaskFuture).
   */
  submit<A extends unknown[], R>(task: Task<A, R>, ...args: FuturableArgs<A>): TaskFuture<Result<R>>;
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: FunctionArgs<A>): DaskFuture<Awaited<R>>;
  submit<T = unknown>(callable: string, args?: unknown[], kwargs?: Record<string, unknown>): DaskFuture<T>;
  submit(target: unknown, ...rest: unknown[]): ClientFuture {
    if (isTask(target)) {
      const future = this.#inScope(() => target.submit(...(rest as never[])));
      return this.#track(future);
    }
    if (typeof target === "function") return this.#runFunction("submit", target as AnyFunction, [rest])[0]!;
    const path = checkImportPath("submit", target);
    const [args = [], kwargs = {}] = rest as [unknown[]?, Record<string, unknown>?];
    if (!Array.isArray(args)) throw new InvalidOptionError(`DaskClient.submit("${path}", args): give the arguments as an array, e.g. [1, 2].`);
    return this.#call(path, args, kwargs);
  }

  /**
   * One run per item: a daskflow task (`client.map(myTask, [1, 2, 3])`, arguments as for `myTask.map`), a plain
   * function (`client.map((x: number) => x * 2, [1, 2, 3])`, the same arguments), or a Python callable by import
   * path (`client.map("math.sqrt", [1, 4, 9])`; several arrays give several arguments).
   */
  map<A extends unknown[], R>(task: Task<A, R>, ...args: MapArgs<A>): TaskFuture<Result<R>>[];
  map<A extends unknown[], R>(fn: (...args: A) => R, ...args: FunctionMapArgs<A>): DaskFuture<Awaited<R>>[];
  map<T = unknown>(callable: string, ...iterables: Iterable<unknown>[]): DaskFuture<T>[];
  map(target: unknown, ...rest: unknown[]): ClientFuture[] {
    if (isTask(target)) {
      const futures = this.#inScope(() => target.map(...(rest as never[])));
      for (const f of futures) this.#track(f);
      return futures;
    }
    if (typeof target === "function") return this.#runFunction("map", target as AnyFunction, mapArgs("DaskClient", rest));
    const path = checkImportPath("map", target);
    return mapArgs(path, rest).map((row) => this.#call(path, row, {}));
  }

  /** A plain function's runs, one per row of arguments: runs of one daskflow task in the sidecars (functions.ts),
   * batched as a task's map is; each comes back as a DaskFuture. */
  #runFunction(what: "submit" | "map", fn: AnyFunction, rows: unknown[][]): DaskFuture<unknown>[] {
    const { ref, name, task } = functionCall(what, fn);
    const args = rows.map((row) => withRuns(what, row));
    const runs = this.#inScope(() => (what === "submit" ? [task.submit(ref, args[0]!)] : task.map(ref, args)));
    return runs.map((run) => {
      const cancel = async () => {
        run.observed = true;
        run.cancel();
      };
      return this.#track(new DaskFuture(run.daskKey ?? run.taskRunName, `${what}(${name})`, () => run.result(), cancel, undefined, run));
    });
  }

  #inScope<T>(fn: () => T): T {
    if (this.#closed) throw new DaskflowError("This Dask client is closed; get a new one with getDaskClient().");
    return runInScope(this.#binding.scope, fn);
  }

  #call(path: string, args: unknown[], kwargs: Record<string, unknown>): DaskFuture<unknown> {
    const key = `${path.split(".").pop()}-${randomUUID()}`;
    const refs: DaskFuture<unknown>[] = [];
    const message = { op: "call" as const, key, callable: path, args: pythonArgs("submit", args, refs) as unknown[], kwargs: pythonArgs("submit", kwargs, refs, "kwargs") as Record<string, unknown> };
    const bridge = this.#bridge;
    // Futures in the arguments must be held by the bridge before the call refers to them.
    const submitted = refs.length ? Promise.all(refs.map((r) => r.held)).then(() => bridge.request(message)) : bridge.request(message);
    submitted.catch(() => {}); // surfaces when the future is awaited
    return this.#held(key, `submit(${path})`, submitted);
  }

  /** A future of data the bridge holds under `key` once `ready` resolves. */
  #held<T>(key: string, description: string, ready: Promise<unknown>): DaskFuture<T> {
    const future = new DaskFuture<T>(
      key,
      description,
      () => ready.then(() => this.#bridge.request<T[]>({ op: "client-gather", keys: [key] })).then((values) => values[0]!),
      () => ready.then(() => this.#bridge.request({ op: "client-cancel", keys: [key] })).then(() => {}, () => {}),
      ready,
    );
    return this.#track(future);
  }

  #track<F extends ClientFuture>(future: F): F {
    this.#futures.add(future);
    return future;
  }

  // ---------------------------------------------------------------- data

  /** Puts data on the cluster; the future stands for it in later `submit("...", [future])` calls. */
  scatter<T>(data: T): DaskFuture<T> {
    const key = `scatter-${randomUUID()}`;
    const ready = this.#bridge.request({ op: "scatter", key, data });
    ready.catch(() => {});
    return this.#held<T>(key, "scatter()", ready);
  }

  /** The values of several futures (DaskFutures in one request; task futures by their results), in order. */
  async gather<T>(futures: Iterable<DaskFuture<T> | TaskFuture<T>>): Promise<T[]> {
    const list = [...futures];
    const own = list.filter(isDaskFuture);
    // One round trip for the Python-side futures; each still caches its value.
    await Promise.all(own.map((f) => f.result().catch(() => {})));
    return Promise.all(list.map((f) => (isTaskFuture(f) ? f.result() : f.result())));
  }

  /** Cancels the work of futures (task runs or DaskFutures); cancelled futures count as resolved. */
  async cancel(futures: Iterable<DaskFuture<unknown> | TaskFuture<unknown>>): Promise<void> {
    const own: DaskFuture<unknown>[] = [];
    for (const f of futures) {
      if (isDaskFuture(f)) own.push(f);
      else {
        f.observed = true;
        f.cancel();
      }
    }
    await Promise.all(own.map((f) => f.cancel()));
  }

  // ---------------------------------------------------------------- collections

  /** Starts computing a collection (a Bag, a DataFrame, or one of their reductions); the future is its value. */
  compute<C extends DaskCollection>(collection: C): DaskFuture<CollectionValue<C>> {
    type T = CollectionValue<C>;
    const { kind, plan } = this.#plan("compute", collection);
    const key = `compute-${kind}-${randomUUID()}`;
    const decode = collection[FROM_RESULT]?.bind(collection) ?? ((v: unknown) => v);
    const value = this.#collection(kind, "compute", plan, {}, key).then((v) => decode(v) as T);
    value.catch(() => {});
    // The bridge computes at once; the value travels with the reply. Cancelling stops the work on the cluster.
    const cancel = () => this.#bridge.request({ op: "collection-cancel", keys: [key] }).then(() => {}, () => {});
    return this.#track(new DaskFuture<T>(key, `compute(${kind})`, () => value, cancel));
  }

  /**
   * Computes a collection and keeps its partitions on the cluster (published under a dataset name): the returned
   * collection of the same kind reads them from there. They are dropped when this client's scope ends.
   */
  async persist<C extends DaskCollection>(collection: C): Promise<C> {
    const { kind, plan } = this.#plan("persist", collection);
    if (typeof collection[WITH_PLAN] !== "function") throw new InvalidOptionError(`DaskClient.persist(): a ${kind} cannot be rebuilt from a plan.`);
    const name = `daskflow-persist-${kind}-${randomUUID()}`;
    const persisted = await this.#collection(kind, "persist", plan, { name });
    this.#datasets.push(name);
    return collection[WITH_PLAN](persisted) as C;
  }

  /** @internal Another action of a collection's builder (a Bag's `take`, `to_text_files`), answered at once. */
  collectionAction(collection: DaskCollection, action: string, args: Record<string, unknown>): Promise<unknown> {
    const { kind, plan } = this.#plan(action, collection);
    return this.#collection(kind, action, plan, args);
  }

  /** One collection request; the modules of functions passed by reference reach the workers first (code shipping). */
  async #collection(kind: CollectionKind, action: string, plan: unknown, args: Record<string, unknown>, key?: string): Promise<unknown> {
    const bridge = this.#bridge;
    if (referencedModules.size) await this.#binding.runner.shipModules([...referencedModules]);
    return bridge.request<unknown>({ op: "collection", kind, action, plan, args, ...(key ? { key } : {}) });
  }

  #plan(what: string, collection: unknown) {
    if (!isCollection(collection)) {
      throw new InvalidOptionError(`DaskClient.${what}(): give a Dask collection (a Bag, a DataFrame or one of their results), got ${typeof collection}.`);
    }
    return collection[COLLECTION]();
  }

  // ---------------------------------------------------------------- cluster

  /** The scheduler's view: its address and the workers with their threads, memory and resources. */
  schedulerInfo(): Promise<SchedulerInfo> {
    return this.#bridge.request<SchedulerInfo>({ op: "scheduler-info" });
  }

  /** Waits until at least `n` workers are connected (at most `timeoutSeconds`); resolves with how many are. */
  waitForWorkers(n: number, options: { timeoutSeconds?: number } = {}): Promise<number> {
    if (!Number.isInteger(n) || n < 0) throw new InvalidOptionError(`DaskClient.waitForWorkers(n): n must be a whole number >= 0, got ${n}.`);
    const request: { op: "wait-for-workers"; n: number; timeout_seconds?: number } = { op: "wait-for-workers", n };
    if (options.timeoutSeconds !== undefined) request.timeout_seconds = options.timeoutSeconds;
    return this.#bridge.request<number>(request);
  }

  // ---------------------------------------------------------------- scope

  /**
   * Ends the client's scope once the work of every future it made has ended and values being read have arrived.
   * Futures never resolved are then named by an UnresolvedFuturesError (after what the client holds is released, and
   * a cluster it made is closed).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    const { bridge, runner, owned } = this.#binding;
    const futures = [...this.#futures];
    const left = futures.filter((f) => !f.observed);
    // No work is dropped half-way: it finishes (or fails) before the client lets go of it. Values still being read
    // (`return Promise.all(futures.map((f) => f.result()))` ends the scope first) arrive before the data they come
    // from is released, or the cluster they live on is closed with the client.
    const finished = new Set<ClientFuture>();
    const all = Promise.all(futures.map((f) => this.#finish(f, !f.observed, owned).catch(() => {}).then(() => finished.add(f))));
    let timer: NodeJS.Timeout | undefined;
    const bound = this.#binding.closeTimeoutSeconds;
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, bound * 1000)))]).finally(() => clearTimeout(timer));
    // Past the bound, the work still going is cancelled: the scope's end never waits for ever.
    const running = futures.filter((f) => !finished.has(f));
    if (running.length) await this.cancel(running).catch(() => {});
    const error = unresolvedError(left, running.length ? { running: running.filter((f) => left.includes(f)), seconds: bound } : undefined);
    this.#closed = true;
    try {
      // A function's future is a task run's, which the runner releases, not data the bridge holds for this client.
      const keys = [...this.#futures].filter(isDaskFuture).filter((f) => !f.run).map((f) => f.key);
      if (!owned) {
        if (keys.length) bridge.send({ op: "client-release", keys });
        if (this.#datasets.length) bridge.send({ op: "unpublish", names: this.#datasets });
      }
    } finally {
      this.#futures.clear();
      if (owned) await runner.shutdown();
    }
    if (error) throw error;
  }

  /** What the end of the scope waits for, for one future. */
  #finish(f: ClientFuture, unobserved: boolean, owned: boolean): Promise<unknown> {
    if (!isTaskFuture(f)) return unobserved ? f.result() : (f.reading ?? Promise.resolve());
    if (unobserved) return f.wait();
    // On the flow's (or a worker's) runner the run and its value outlive the client. On the client's own cluster
    // they do not: a value that may be being read is brought here first (once; a read in progress shares it).
    return owned ? f.result({ raiseOnFailure: false }) : Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

