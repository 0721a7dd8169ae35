/**
 * DaskTaskRunner: sends task runs to a Dask cluster through the bridge process. The cluster is created (or
 * connected to) lazily on the first submit; submits made in one tick go to the scheduler together; task states and
 * logs come back live as worker events; results stay on the cluster until the flow process has them (then they are
 * released: results-held.ts).
 */
import { randomUUID } from "node:crypto";
import { type RunScope, currentScope, rootScope } from "../core/context.ts";
import { CancelledRunError, CrashedRunError, DaskflowError } from "../core/errors.ts";
import { type TaskFuture, setDaskKey, setFutureState } from "../core/future.ts";
import { classModules } from "../core/class-identity.ts";
import { LEVELS, type LogLevel } from "../core/logger.ts";
import { Cancelled, Crashed, StateType, formatState, isFinal } from "../core/state.ts";
import type { TaskRunner, TaskSubmission } from "../core/task-runner.ts";
import { Bridge, type BridgeHandlers } from "./bridge.ts";
import { describeCluster, teardownNote } from "./cluster-start.ts";
import { type DaskRef, type Encoded, encodeBatch, encodeSubmission } from "./encode.ts";
import { Gatherer } from "./gatherer.ts";
import { type DaskCluster, type DaskTaskRunnerOptions, securityRequest, toSnakeCase, validateDaskOptions } from "./options.ts";
import { choosePython, sidecarCommand } from "./paths.ts";
import { referencedModules } from "./shipping/referenced-modules.ts";
import { ShippingSession } from "./shipping/session.ts";
import { HeldResults } from "./results-held.ts";
import { type DaskTask, type Run, RunTable } from "./run-table.ts";
import { TaskLifetimes } from "./task-lifetimes.ts";
import { NoWorkerWatch, missingResources, noWorkerMessage } from "./no-worker-watch.ts";
import { FlowSideHooks } from "../hooks/flow-side.ts";
import { LIMITS_ENV, inheritedLimits, resolveLimits } from "../limits/options.ts";
import { CONCURRENCY_SLOTS, DaskSlots, concurrencyRequest } from "../limits/slots.ts";
import { SIDECAR_ENV, eventKey, type StartReply, type SidecarSpec, type StartRequest, type SubmitTask, type WorkerInfo } from "./protocol.ts";


/** Modules no submitted task brings that the workers need: of plain functions passed by reference (their runs
 * import them), and of classes whose instances were sent (a script's own class passed to another module's task). */
const extraModules = (): string[] => [...referencedModules, ...classModules];

/** Submits made in one tick go to the scheduler together, except that the first this many go at once. */
const FIRST_SEND = 64;

/** What the runner needs of its bridge: the bridge process, or (in a sidecar) the channel to its own worker. */
export type BridgeTransport = Pick<Bridge, "request" | "send" | "close" | "kill" | "pid">;

export interface RunnerInternals {
  /** Makes the bridge instead of spawning a bridge process (a task on a worker: src/worker/worker-bridge.ts). */
  transport?: (handlers: BridgeHandlers) => BridgeTransport;
}

export class DaskTaskRunner implements TaskRunner {
  readonly name = "DaskTaskRunner";
  readonly options: Readonly<DaskTaskRunnerOptions>;
  #bridge: BridgeTransport | undefined;
  readonly #transport: RunnerInternals["transport"];
  /** Seconds a DaskClient allows for connecting to `address` (Dask's own default otherwise). */
  #connectTimeout: number | undefined;
  #started: Promise<StartReply> | undefined;
  #info: StartReply | undefined;
  #tsCluster: DaskCluster | undefined;
  #scope: RunScope | undefined;
  /** The refs of every future, as long as it lives (its runs are in #table while not final). */
  readonly #refs = new WeakMap<TaskFuture<unknown>, { ref: DaskRef; task: DaskTask }>();
  #batch: SubmitTask[] = [];
  #flushing = false;
  /** The first FIRST_SEND submits of this tick already went to the bridge. */
  #sentEarly = false;
  readonly #gatherer = new Gatherer((keys) => this.#bridge!.request<Uint8Array[]>({ op: "gather", keys }));
  #crash: Error | undefined;
  #closed = false;
  #resourcesChecked = new Set<string>();
  /** What shutdown ends, once known (see describeTeardown). */
  #teardown: ((scheduler: string | undefined) => string) | undefined;
  /** Modules of the tasks submitted before the cluster starts: sidecars import them as they start. */
  #preload = new Set<string>();
  readonly #id = randomUUID().slice(0, 8);
  /** The module of each batched task, to ship it before the task is sent. */
  #moduleOf = new WeakMap<SubmitTask, string>();
  readonly #shipping: ShippingSession;
  readonly #held = new HeldResults({
    needed: () => new Set(this.#batch.flatMap((t) => t.deps)),
    release: (keys) => {
      if (!this.#crash && !this.#closed) this.#bridge?.send({ op: "release", keys });
    },
    restore: (key, data) => this.#ensureStarted().then(() => this.#bridge!.request<null>({ op: "restore", key, data })).then(() => {}),
    restored: () => {
      if (this.#batch.length && !this.#flushing) {
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    },
    failed: (error) => this.#fail(error),
  });
  readonly #lifetimes = new TaskLifetimes((key) => this.#held.unreachable(key));
  readonly #table = new RunTable({
    held: this.#held,
    lifetimes: this.#lifetimes,
    log: (level, message) => this.#log(level, message),
    sink: (record) => (this.#scope ?? rootScope()).sink(record),
    gather: (key) => (this.#crash ? Promise.reject(this.#crash) : this.#gatherer.gather(key)),
    closed: () => this.#closed,
  });
  readonly #noWorker: NoWorkerWatch;
  readonly #hooks = new FlowSideHooks();
  /** Concurrency limits by tag (in a sidecar, those of the run the task belongs to). */
  readonly #limits;

  constructor(options: DaskTaskRunnerOptions = {}, internals: RunnerInternals = {}) {
    this.options = Object.freeze(validateDaskOptions({ ...options }));
    this.#shipping = new ShippingSession(this.options, `run-${this.#id}`, (level, message) => this.#log(level, message));
    this.#transport = internals.transport;
    this.#limits = this.options.concurrencyLimits ? resolveLimits(this.options.concurrencyLimits, this.#id) : inheritedLimits();
    this.#noWorker = new NoWorkerWatch(
      this.options.noWorkerTimeoutSeconds ?? 300,
      () => [...this.#table.tasks.values()].filter((t) => t.runs.every((r) => r.future.state.type === StateType.SCHEDULED)).map((t) => t.key),
      (keys) => this.#bridge!.request<Record<string, string | null>>({ op: "task-states", keys }),
      (key, seconds) => this.#noWorkerFor(key, seconds),
    );
  }

  /** What was shipped to the workers so far (sizes and times; for the benchmarks). */
  get shipments(): ShippingSession["shipments"] {
    return this.#shipping.shipments;
  }

  /**
   * @internal For DaskClient: this runner's bridge, the cluster started on demand. `connectTimeoutSeconds` bounds
   * connecting to an `address` when the cluster is not up yet.
   */
  async clientBridge(connectTimeoutSeconds?: number): Promise<BridgeTransport> {
    if (this.#closed) throw new DaskflowError("This DaskTaskRunner was shut down.");
    this.#scope ??= currentScope() ?? rootScope();
    if (!this.#started) this.#connectTimeout = connectTimeoutSeconds;
    await this.#ensureStarted();
    return this.#bridge!;
  }

  /** @internal concurrency(): slots of this runner's limits, as leases of the cluster's semaphores. */
  [CONCURRENCY_SLOTS](): DaskSlots {
    return new DaskSlots(this.#limits, () => this.clientBridge());
  }

  /** Set when the bridge or cluster failed: the flow run ends CRASHED. */
  get crashed(): Error | undefined {
    return this.#crash;
  }

  /** The bridge process's pid, once started (diagnostics: e.g. to see it in a process list). */
  get bridgePid(): number | undefined {
    return this.#bridge?.pid;
  }

  /** The scheduler's address and dashboard link, once the cluster is up. */
  get cluster(): StartReply | undefined {
    return this.#info;
  }

  /** The scheduler's address; starts the cluster if it is not up yet. */
  async schedulerAddress(): Promise<string> {
    if (this.#closed) throw new DaskflowError("This DaskTaskRunner was shut down.");
    return (await this.#ensureStarted()).scheduler_address;
  }

  /** The cluster's workers now (address, threads, resources); starts the cluster if it is not up yet. */
  async workers(): Promise<WorkerInfo[]> {
    if (this.#closed) throw new DaskflowError("This DaskTaskRunner was shut down.");
    await this.#ensureStarted();
    return this.#bridge!.request<WorkerInfo[]>({ op: "workers" });
  }

  duplicate(): DaskTaskRunner {
    return new DaskTaskRunner(this.options);
  }

  equals(other: unknown): boolean {
    if (!(other instanceof DaskTaskRunner)) return false;
    const a = this.options as Record<string, unknown>;
    const b = other.options as Record<string, unknown>;
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => a[k] === b[k] || JSON.stringify(a[k]) === JSON.stringify(b[k]));
  }

  // ---------------------------------------------------------------- submit

  submit(s: TaskSubmission): void {
    if (this.#closed) throw new DaskflowError("This DaskTaskRunner was shut down; submit from a new flow run.");
    const key = `${s.task.name}-${s.taskRun.id}`;
    this.#enqueue(encodeSubmission(s, key, (f) => this.#refFor(f)), [s], false);
  }

  /** `map` with a batch size: the runs go to Dask as one task, each keeping its own future and state. */
  submitBatch(submissions: readonly TaskSubmission[]): void {
    if (this.#closed) throw new DaskflowError("This DaskTaskRunner was shut down; submit from a new flow run.");
    if (submissions.length === 0) return;
    const key = `${submissions[0]!.task.name}-batch-${randomUUID()}`;
    this.#enqueue(encodeBatch(submissions, key, (f) => this.#refFor(f)), submissions, true);
  }

  /** Where a submit finds an upstream's result: its Dask task, or the key its value was put back under. */
  #refFor(future: TaskFuture<unknown>): DaskRef | undefined {
    const { ref, task } = this.#refs.get(future) ?? {};
    if (!ref || !task?.released) return ref;
    const key = this.#held.keyFor(task);
    return ref.item === undefined ? { key } : { key, item: ref.item };
  }

  #enqueue({ task, upstreams }: Encoded, submissions: readonly TaskSubmission[], batch: boolean): void {
    this.#scope ??= currentScope() ?? rootScope();
    const moduleUrl = submissions[0]!.task.moduleUrl;
    const { tags, timeoutSeconds } = submissions[0]!.task.options;
    const slots = concurrencyRequest(tags, this.#limits, timeoutSeconds, batch ? submissions.length : undefined);
    if (slots) task.concurrency = slots;
    if (moduleUrl && !this.#started) this.#preload.add(moduleUrl);
    if (moduleUrl) this.#moduleOf.set(task, moduleUrl);
    const runs: Run[] = [];
    const daskTask: DaskTask = { key: task.key, runs, open: submissions.length, batch, upstreams, annotations: task.annotations, final: () => daskTask.open === 0 };
    this.#table.tasks.set(task.key, daskTask);
    submissions.forEach((s, i) => {
      const run: Run = { future: s.future, task: daskTask };
      if (batch) run.item = i;
      daskTask.runs.push(run);
      this.#table.runs.set(eventKey(task.key, run.item), run);
      this.#refs.set(s.future, { ref: batch ? { key: task.key, item: i } : { key: task.key }, task: daskTask });
      this.#hooks.watch(s, run, () => this.#scope ?? rootScope());
      s.future[setDaskKey](task.key);
      // After the state's own handlers (results-held may take the value as local first).
      s.future.onFinal(() => {
        if (--daskTask.open === 0) queueMicrotask(() => this.#table.retire(daskTask));
      });
    });
    if (this.#crash) {
      for (const s of submissions) s.future[setFutureState](Crashed(this.#crash));
      return;
    }
    this.#batch.push(task);
    this.#checkResources(task);
    this.#noWorker.arm();
    if (this.#batch.length === FIRST_SEND && !this.#sentEarly && this.#info) {
      // A long submit loop: let the cluster start on its first tasks while the rest are still being submitted.
      this.#sentEarly = true;
      this.#sendBatch();
    }
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => void this.#flush());
    }
  }

  /** @internal Ships these modules (flow URLs) to the workers when they are not there yet: a collection's functions
   * passed by reference live in modules no submitted task may have brought. */
  async shipModules(moduleUrls: readonly string[]): Promise<void> {
    await this.#ensureStarted();
    await this.#shipping.deliver(moduleUrls, (run, pack) => this.#bridge!.request<null>({ op: "ship", run, pack }).then(() => {}));
  }

  async #flush(): Promise<void> {
    try {
      await this.#ensureStarted();
      // Tasks of modules not shipped yet wait for their code to reach the workers, as do all tasks for the modules
      // no task brings (extraModules).
      await this.#shipping.deliver(
        [...this.#batch.map((t) => this.#moduleOf.get(t)), ...extraModules()],
        (run, pack) => this.#bridge!.request<null>({ op: "ship", run, pack }).then(() => {}),
      );
      await this.#held.settled(); // upstream values being put back on the cluster
    } catch (error) {
      // #ensureStarted marked every run CRASHED with the reason; a shipment that failed does so here
      this.#fail(error as Error);
    } finally {
      this.#flushing = false;
    }
    this.#sentEarly = false;
    this.#sendBatch();
  }

  /** Hands what is batched to the bridge (dropped if it never started or crashed: those runs are CRASHED already). */
  #sendBatch(): void {
    if (this.#crash) {
      this.#batch = []; // those runs are CRASHED already
      return;
    }
    // Up to the first task whose code is not on the workers yet, or whose upstream's value is being put back (later
    // ones may depend on it): the next flush ships or waits for it and sends the rest.
    const restoring = this.#held.restoring;
    const shipping = extraModules().some((m) => !this.#shipping.isDelivered(m));
    const ready = shipping ? 0 : this.#batch.findIndex((t) => !this.#shipping.isDelivered(this.#moduleOf.get(t)) || (restoring.size > 0 && t.deps.some((d) => restoring.has(d))));
    const tasks = ready === -1 ? this.#batch : this.#batch.slice(0, ready);
    this.#batch = ready === -1 ? [] : this.#batch.slice(ready);
    if (this.#batch.length && !this.#flushing) {
      this.#flushing = true;
      setImmediate(() => void this.#flush());
    }
    if (tasks.length && this.#bridge && !this.#crash) this.#bridge.send({ op: "submit", tasks });
    this.#held.flush(); // releases that waited for these submits
  }

  #ensureStarted(): Promise<StartReply> {
    this.#started ??= this.#start().then(
      (info) => (this.#info = info),
      (error: Error) => {
        // Task runs waiting for the cluster end CRASHED with the reason. With none (a getDaskClient() call started
        // it), the caller gets the error to handle: the flow run is not crashed by what its code caught, and a
        // task submitted later still crashes with it (#flush).
        if (this.#table.runs.size > 0 || this.#batch.length > 0) this.#fail(error);
        throw error;
      },
    );
    return this.#started;
  }

  async #start(): Promise<StartReply> {
    const scope = this.#scope ?? rootScope();
    const handlers: BridgeHandlers = {
      message: (m) => this.#table.onMessage(m),
      exit: (error) => {
        if (error && !this.#closed) this.#fail(error);
      },
      output: (line, stream) => this.#table.onOutput(line, stream),
    };
    const bridge = this.#transport?.(handlers) ?? new Bridge(choosePython(this.options.python), handlers);
    this.#bridge = bridge;
    const topic = `daskflow-run-${this.#id}`;
    const sidecar: SidecarSpec = { ...sidecarCommand(), cwd: process.cwd(), node_version: process.version, topic };
    const env = sidecar.env;
    if (process.env.DASKFLOW_LOGGING_LEVEL) env.DASKFLOW_LOGGING_LEVEL = process.env.DASKFLOW_LOGGING_LEVEL;
    if (this.#preload.size) env[SIDECAR_ENV.preload] = JSON.stringify([...this.#preload]);
    if (this.#limits.size) env[LIMITS_ENV] = JSON.stringify([...this.#limits.values()]);
    // Built while the bridge's Python starts: the first shipment goes with the start request.
    await this.#shipping.prepare(sidecar, this.#preload);
    if (sidecar.code) delete env[SIDECAR_ENV.loaders];
    const request: StartRequest = {
      topic,
      plugin_name: `daskflow-sidecars-${this.#id}`,
      sidecar,
      cluster_kwargs: {},
      client_kwargs: toSnakeCase(this.options.clientKwargs),
    };
    if (this.options.performanceReportPath) request.performance_report_path = this.options.performanceReportPath;
    const security = securityRequest(this.options.security);
    if (security) request.security = security;
    const address = this.options.address ?? scope.schedulerAddress;
    if (address) {
      request.address = address;
      if (this.#connectTimeout !== undefined) request.connect_timeout = this.#connectTimeout;
    } else this.#tsCluster = await describeCluster(this.options, request);
    this.#teardown = teardownNote(request, this.#tsCluster);
    return bridge.request<StartReply>({ op: "start", ...request });
  }

  // ---------------------------------------------------------------- messages from the bridge

  #log(level: LogLevel, message: string): void {
    const scope = this.#scope ?? rootScope();
    if (LEVELS[level] < scope.threshold) return;
    scope.sink({ level, message, run: "DaskTaskRunner", timestamp: Date.now() });
  }

  #fail(error: Error): void {
    if (this.#crash) return;
    this.#crash = error instanceof CrashedRunError || error.name === "BridgeError" ? error : new CrashedRunError(error.message, { cause: error });
    if (error.stack && this.#crash !== error) this.#crash.stack = error.stack;
    for (const run of this.#table.runs.values()) {
      if (!isFinal(run.future.state)) run.future[setFutureState](Crashed(this.#crash));
    }
    this.#gatherer.rejectAll(this.#crash);
  }

  // ---------------------------------------------------------------- results, cancel, resources

  cancel(future: TaskFuture<unknown>): boolean {
    const ref = this.#refs.get(future)?.ref;
    if (!ref || isFinal(future.state)) return false;
    // A batch's item shares its Dask task with its siblings: only its own result is dropped.
    if (ref.item === undefined) this.#bridge?.send({ op: "cancel", keys: [ref.key] });
    future[setFutureState](Cancelled({ message: new CancelledRunError(`Task run '${future.taskRunName}' was cancelled.`).message }));
    return true;
  }

  /** A Dask task no worker could take within noWorkerTimeoutSeconds: its runs end CRASHED, it is cancelled. */
  #noWorkerFor(key: string, seconds: number): void {
    const task = this.#table.tasks.get(key);
    if (!task) return;
    const where = this.#info?.scheduler_address ?? "the Dask cluster";
    for (const run of task.runs) {
      if (isFinal(run.future.state)) continue;
      const crash = new CrashedRunError(noWorkerMessage(run.future.taskRunName, seconds, where, task.annotations, this.options.noWorkerTimeoutSeconds ?? 300));
      run.future[setFutureState](Crashed(crash, { message: crash.message }));
    }
    this.#bridge?.send({ op: "cancel", keys: [key] });
  }

  /** Warns once per resource name when no worker offers it (the task would wait for such a worker until the bound). */
  #checkResources(task: SubmitTask): void {
    const wanted = Object.keys(task.annotations.resources ?? {}).filter((r) => !this.#resourcesChecked.has(r));
    if (wanted.length === 0) return;
    for (const r of wanted) this.#resourcesChecked.add(r);
    void this.workers()
      .then((workers) => {
        for (const warning of missingResources(task, wanted, workers)) this.#log("warning", warning);
      })
      .catch(() => {});
  }

  // ---------------------------------------------------------------- shutdown

  describeTeardown(): string | undefined {
    return this.#teardown?.(this.#info?.scheduler_address);
  }

  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#held.stop();
    this.#lifetimes.stop();
    this.#noWorker.stop();
    for (const task of this.#table.tasks.values()) clearTimeout(task.fallback);
    const bridge = this.#bridge;
    try {
      if (bridge) {
        await this.#started?.catch(() => {});
        await bridge.close();
      }
    } finally {
      await this.#tsCluster?.close();
      // No state event can reach a run any more: one still open would keep its waiters waiting forever.
      for (const { future } of this.#table.runs.values()) {
        if (isFinal(future.state)) continue;
        const crash = new CrashedRunError(`Task run '${future.taskRunName}' had not finished (state ${formatState(future.state)}) when its DaskTaskRunner was shut down; its work on the Dask cluster was dropped.`);
        future[setFutureState](Crashed(crash));
      }
      this.#table.runs.clear();
      this.#table.tasks.clear();
      await this.#hooks.settled();
    }
  }
}
