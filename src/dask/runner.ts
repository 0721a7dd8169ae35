/**
 * DaskTaskRunner: sends task runs to a Dask cluster through the bridge process. The cluster is created (or
 * connected to) lazily on the first submit; submits made in one tick go to the scheduler together; task states and
 * logs come back live as worker events; results stay on the cluster until the flow process has them (then they are
 * released: results-held.ts).
 */
import { randomUUID } from "node:crypto";
import { type RunScope, currentScope, rootScope } from "../core/context.ts";
import { CancelledRunError, CrashedRunError, DaskflowError, InvalidOptionError } from "../core/errors.ts";
import { type TaskFuture, setDaskKey, setFutureState } from "../core/future.ts";
import { LEVELS, type LogLevel, type LogRecord } from "../core/logger.ts";
import { type BatchEnvelope, type Envelope, decodeEnvelope, decodeEnvelopeAsync, recordToState } from "../core/serialization.ts";
import { type State, Cancelled, Crashed, StateType, formatState, isFinal, isNotReady, withFields } from "../core/state.ts";
import { notReadyFor, upstreamRun } from "../core/upstream.ts";
import type { TaskRunner, TaskSubmission } from "../runners/task-runner.ts";
import { Bridge, type BridgeHandlers } from "./bridge.ts";
import { type DaskRef, type Encoded, encodeBatch, encodeSubmission } from "./encode.ts";
import {
  type DaskCluster,
  type DaskTaskRunnerOptions,
  isClassConstructor,
  securityRequest,
  toSnakeCase,
  validateDaskOptions,
} from "./options.ts";
import { choosePython, sidecarCommand } from "./paths.ts";
import { referencedModules } from "./shipping/referenced-modules.ts";
import { ShippingSession } from "./shipping/session.ts";
import { type HeldTask, HeldResults } from "./results-held.ts";
import { TaskLifetimes } from "./task-lifetimes.ts";
import { SIDECAR_ENV, eventKey, type BridgeMessage, type StartReply, type SidecarSpec, type StartRequest, type SubmitTask, type WorkerEvent, type WorkerInfo } from "./protocol.ts";

/** One task run; `item` is its position when it runs in a batch. */
interface Run {
  future: TaskFuture<unknown>;
  task: DaskTask;
  item?: number;
}

/** One Dask task: a single run, or a batch of runs of one task; released from the cluster once its results are
 * here (results-held.ts). */
interface DaskTask extends HeldTask {
  runs: Run[];
  /** Runs not final yet: at 0 the runner lets go of the task (#retire). */
  open: number;
  /** Emptied when the task is retired: only a task still running needs its upstreams (for NotReady). */
  upstreams: TaskFuture<unknown>[];
  /** The size of its result envelope(s) when they did not come inline (the final state event says). */
  nbytes?: number;
  /** Fallback for a finished Dask task whose final state events have not arrived. */
  fallback?: NodeJS.Timeout;
  /** Its result envelope(s), fetched once when someone needs data that did not come inline. */
  loaded?: Promise<Envelope[]>;
}

/** An inline envelope with its data (decodeEnvelope leaves the data out while class modules are imported). */
const whole = (envelope: Envelope): boolean => envelope.state.type !== StateType.COMPLETED || "data" in envelope;

/** How long a finished task's final state event may lag its Dask completion before the envelope is fetched. */
const FINAL_EVENT_GRACE_MS = 1500;

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
  /** Runs (by event key: protocol.ts `eventKey`) and Dask tasks not final yet (#retire lets go of them); the refs of
   * every future, as long as it lives. */
  #runs = new Map<string, Run>();
  #tasks = new Map<string, DaskTask>();
  readonly #refs = new WeakMap<TaskFuture<unknown>, { ref: DaskRef; task: DaskTask }>();
  #batch: SubmitTask[] = [];
  #flushing = false;
  /** The first FIRST_SEND submits of this tick already went to the bridge. */
  #sentEarly = false;
  #gathers = new Map<string, Array<{ resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>>();
  #gatherScheduled = false;
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

  constructor(options: DaskTaskRunnerOptions = {}, internals: RunnerInternals = {}) {
    this.options = Object.freeze(validateDaskOptions({ ...options }));
    this.#shipping = new ShippingSession(this.options, `run-${this.#id}`, (level, message) => this.#log(level, message));
    this.#transport = internals.transport;
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
    if (moduleUrl && !this.#started) this.#preload.add(moduleUrl);
    if (moduleUrl) this.#moduleOf.set(task, moduleUrl);
    const runs: Run[] = [];
    const daskTask: DaskTask = { key: task.key, runs, open: submissions.length, batch, upstreams, final: () => daskTask.open === 0 };
    this.#tasks.set(task.key, daskTask);
    submissions.forEach((s, i) => {
      const run: Run = { future: s.future, task: daskTask };
      if (batch) run.item = i;
      daskTask.runs.push(run);
      this.#runs.set(eventKey(task.key, run.item), run);
      this.#refs.set(s.future, { ref: batch ? { key: task.key, item: i } : { key: task.key }, task: daskTask });
      s.future[setDaskKey](task.key);
      // After the state's own handlers (results-held may take the value as local first).
      s.future.onFinal(() => {
        if (--daskTask.open === 0) queueMicrotask(() => this.#retire(daskTask));
      });
    });
    if (this.#crash) {
      for (const s of submissions) s.future[setFutureState](Crashed(this.#crash));
      return;
    }
    this.#batch.push(task);
    this.#checkResources(task);
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
      // of functions passed by reference (a plain function's run imports its module).
      await this.#shipping.deliver(
        [...this.#batch.map((t) => this.#moduleOf.get(t)), ...referencedModules],
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
    const shipping = [...referencedModules].some((m) => !this.#shipping.isDelivered(m));
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
        if (this.#runs.size > 0 || this.#batch.length > 0) this.#fail(error);
        throw error;
      },
    );
    return this.#started;
  }

  async #start(): Promise<StartReply> {
    const scope = this.#scope ?? rootScope();
    const handlers: BridgeHandlers = {
      message: (m) => this.#onMessage(m),
      exit: (error) => {
        if (error && !this.#closed) this.#fail(error);
      },
      output: (line, stream) => this.#onOutput(line, stream),
    };
    const bridge = this.#transport?.(handlers) ?? new Bridge(choosePython(this.options.python), handlers);
    this.#bridge = bridge;
    const topic = `daskflow-run-${this.#id}`;
    const sidecar: SidecarSpec = { ...sidecarCommand(), cwd: process.cwd(), node_version: process.version, topic };
    const env = sidecar.env;
    if (process.env.DASKFLOW_LOGGING_LEVEL) env.DASKFLOW_LOGGING_LEVEL = process.env.DASKFLOW_LOGGING_LEVEL;
    if (this.#preload.size) env[SIDECAR_ENV.preload] = JSON.stringify([...this.#preload]);
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
    } else await this.#describeCluster(request);
    this.#teardown = teardownNote(request, this.#tsCluster);
    return bridge.request<StartReply>({ op: "start", ...request });
  }

  /** Fills the cluster part of the start request from clusterClass / clusterKwargs / adaptKwargs. */
  async #describeCluster(request: StartRequest): Promise<void> {
    const kwargs = toSnakeCase(this.options.clusterKwargs);
    const cls = this.options.clusterClass;
    if (this.options.adaptKwargs) request.adapt_kwargs = toSnakeCase(this.options.adaptKwargs);
    if (cls === undefined || typeof cls === "string") {
      request.cluster_class = cls ?? "distributed.LocalCluster";
      request.cluster_kwargs = kwargs;
      return;
    }
    const made = isClassConstructor(cls) ? new cls(kwargs) : await cls(kwargs);
    if (typeof made === "string") {
      if (made.includes("://")) request.address = made;
      else {
        request.cluster_class = made;
        request.cluster_kwargs = kwargs;
      }
    } else if ("pythonClass" in made) {
      request.cluster_class = made.pythonClass;
      request.cluster_kwargs = toSnakeCase(made.kwargs ?? kwargs);
    } else {
      this.#tsCluster = made;
      request.address = await made.address;
      delete request.adapt_kwargs; // the bridge only connects: adaptive scaling is the TypeScript cluster's own
      if (this.options.adaptKwargs) await adaptTsCluster(made, this.options.adaptKwargs);
    }
  }

  // ---------------------------------------------------------------- messages from the bridge

  #onMessage(m: Exclude<BridgeMessage, { op: "reply" }>): void {
    switch (m.op) {
      case "event":
        return this.#onEvent(m.data);
      case "done":
        return this.#onDone(m.key, m.status, m.error);
      case "log":
        return this.#log(m.level, m.message);
    }
  }

  #onEvent(event: WorkerEvent): void {
    if (event.kind === "worker-log") {
      const level: LogLevel = event.level in LEVELS ? (event.level as LogLevel) : "warning";
      return this.#log(level, event.worker ? `Worker ${event.worker}: ${event.message}` : event.message);
    }
    if (event.kind === "batch-states") {
      const task = this.#tasks.get(event.key);
      if (!task) return;
      if (event.nbytes !== undefined) task.nbytes = event.nbytes;
      const inline = event.envelope ? (decodeEnvelope(event.envelope) as unknown as BatchEnvelope).items : undefined;
      event.states.forEach((record, i) => {
        const run = task.runs[i];
        const item = inline?.[i];
        if (run) this.#setState(run, recordToState(record, item && "data" in item ? { data: item.data } : {}));
      });
      if (inline?.every(whole)) this.#held.haveLocally(task, inline, true);
      return;
    }
    if (event.kind === "log") {
      const level: LogLevel = event.level in LEVELS ? (event.level as LogLevel) : "info";
      const record: LogRecord = { level, message: event.message, run: event.run ?? `Task run '${event.task_run_name}'`, timestamp: event.timestamp };
      if (event.worker) record.worker = event.worker;
      const scope = this.#scope ?? rootScope();
      scope.sink(record);
      return;
    }
    const run = this.#runs.get(event.key);
    if (!run) return;
    if (event.nbytes !== undefined) run.task.nbytes = event.nbytes;
    const inline = event.envelope ? decodeEnvelope(event.envelope) : undefined;
    this.#setState(run, recordToState(event.state, inline && "data" in inline ? { data: inline.data } : {}));
    if (inline && isFinal(run.future.state) && whole(inline)) this.#held.haveLocally(run.task, [inline], true);
  }

  #setState(run: Run, state: State<unknown>): void {
    if (state.type === StateType.COMPLETED && !("data" in state)) {
      state = withFields(state, { load: () => this.#envelopes(run.task).then((envelopes) => envelopes[run.item ?? 0]?.data) });
    }
    run.future[setFutureState](state);
    if (run.task.fallback && run.task.runs.every((r) => isFinal(r.future.state))) clearTimeout(run.task.fallback);
    this.#held.offer(run.task);
  }

  /** Every run of `task` is final: the runner lets go of it. Its result stays on the cluster while a future or state
   * of it can still fetch it (task-lifetimes.ts), unless the flow process has it already. */
  #retire(task: DaskTask): void {
    if (this.#tasks.get(task.key) !== task) return;
    this.#tasks.delete(task.key);
    for (const run of task.runs) this.#runs.delete(eventKey(task.key, run.item));
    task.upstreams = [];
    if (!task.released) this.#lifetimes.watch(task, task.key, task.nbytes ?? 0);
    if (this.#tasks.size === 0) this.#lifetimes.idle();
  }

  /** The Dask task's result envelope(s), one per run, fetched once. */
  #envelopes(task: DaskTask): Promise<Envelope[]> {
    task.loaded ??= task.local
      ? Promise.resolve(task.local)
      : this.#gather(task.key).then(async (bytes) => {
          const decoded = await decodeEnvelopeAsync(bytes);
          const envelopes = task.batch ? (decoded as unknown as BatchEnvelope).items : [decoded];
          this.#held.haveLocally(task, envelopes, false);
          return envelopes;
        });
    return task.loaded;
  }

  #onDone(key: string, status: "finished" | "error" | "cancelled", error?: { name: string; message: string; stack?: string }): void {
    const task = this.#tasks.get(key);
    if (!task) return;
    const open = task.runs.filter((r) => !isFinal(r.future.state));
    if (open.length === 0) return;
    if (status === "finished") {
      // The final state events normally arrive within milliseconds; fetch the envelopes only if they do not.
      task.fallback = setTimeout(() => {
        this.#envelopes(task).then(
          (envelopes) => {
            for (const run of task.runs) {
              const envelope = envelopes[run.item ?? 0];
              if (envelope && !isFinal(run.future.state)) {
                this.#setState(run, recordToState(envelope.state, "data" in envelope ? { data: envelope.data } : {}));
              }
            }
          },
          (err: Error) => task.runs.forEach((r) => r.future[setFutureState](Crashed(err))),
        );
      }, FINAL_EVENT_GRACE_MS);
      return;
    }
    if (status === "cancelled") {
      for (const run of open) run.future[setFutureState](Cancelled({ message: `Task run '${run.future.taskRunName}' was cancelled on the Dask cluster.` }));
      return;
    }
    // Dask reports an upstream's crash on every dependent: those did not run, like Prefect's NotReady.
    for (const upstream of task.upstreams) {
      const notReady = notReadyFor(upstreamRun(upstream), upstream.state, false);
      if (notReady && (isFinal(upstream.state) || isNotReady(upstream.state))) {
        for (const run of open) run.future[setFutureState](notReady);
        return;
      }
    }
    const reason = error ? `${error.name}: ${error.message}` : "the Dask task failed";
    for (const run of open) {
      const crash = new CrashedRunError(`Task run '${run.future.taskRunName}' crashed on the Dask cluster: ${reason}`);
      run.future[setFutureState](Crashed(crash, { message: crash.message }));
    }
  }

  #onOutput(line: string, stream: "stdout" | "stderr"): void {
    if (!line.trim()) return;
    if (stream === "stdout") return this.#log("info", `[worker output] ${line}`);
    // Dask's complaints while a cluster is being torn down (heartbeats to a closed scheduler) are not news.
    const important = !this.#closed && /Traceback|ERROR|CRITICAL|Error:/.test(line);
    this.#log(important ? "warning" : "debug", `[dask] ${line}`);
  }

  #log(level: LogLevel, message: string): void {
    const scope = this.#scope ?? rootScope();
    if (LEVELS[level] < scope.threshold) return;
    scope.sink({ level, message, run: "DaskTaskRunner", timestamp: Date.now() });
  }

  #fail(error: Error): void {
    if (this.#crash) return;
    this.#crash = error instanceof CrashedRunError || error.name === "BridgeError" ? error : new CrashedRunError(error.message, { cause: error });
    if (error.stack && this.#crash !== error) this.#crash.stack = error.stack;
    for (const run of this.#runs.values()) {
      if (!isFinal(run.future.state)) run.future[setFutureState](Crashed(this.#crash));
    }
    for (const waiters of this.#gathers.values()) for (const w of waiters) w.reject(this.#crash);
    this.#gathers.clear();
  }

  // ---------------------------------------------------------------- results, cancel, resources

  #gather(key: string): Promise<Uint8Array> {
    if (this.#crash) return Promise.reject(this.#crash);
    return new Promise((resolve, reject) => {
      const list = this.#gathers.get(key) ?? [];
      list.push({ resolve, reject });
      this.#gathers.set(key, list);
      if (!this.#gatherScheduled) {
        this.#gatherScheduled = true;
        setImmediate(() => void this.#flushGathers());
      }
    });
  }

  async #flushGathers(): Promise<void> {
    this.#gatherScheduled = false;
    const batch = this.#gathers;
    this.#gathers = new Map();
    const keys = [...batch.keys()];
    try {
      const values = await this.#bridge!.request<Uint8Array[]>({ op: "gather", keys });
      keys.forEach((k, i) => batch.get(k)!.forEach((w) => w.resolve(values[i]!)));
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error as Error);
    }
  }

  cancel(future: TaskFuture<unknown>): boolean {
    const ref = this.#refs.get(future)?.ref;
    if (!ref || isFinal(future.state)) return false;
    // A batch's item shares its Dask task with its siblings: only its own result is dropped.
    if (ref.item === undefined) this.#bridge?.send({ op: "cancel", keys: [ref.key] });
    future[setFutureState](Cancelled({ message: new CancelledRunError(`Task run '${future.taskRunName}' was cancelled.`).message }));
    return true;
  }

  /** Warns once per resource name when no worker offers it (the task would wait for such a worker forever). */
  #checkResources(task: SubmitTask): void {
    const wanted = Object.keys(task.annotations.resources ?? {}).filter((r) => !this.#resourcesChecked.has(r));
    if (wanted.length === 0) return;
    for (const r of wanted) this.#resourcesChecked.add(r);
    void this.workers()
      .then((workers) => {
        for (const resource of wanted) {
          if (workers.some((w) => (w.resources[resource] ?? 0) >= (task.annotations.resources?.[resource] ?? 0))) continue;
          const offered = [...new Set(workers.flatMap((w) => Object.keys(w.resources)))];
          this.#log(
            "warning",
            `No worker of the Dask cluster offers the resource '${resource}' (${task.annotations.resources?.[resource]} wanted by task run '${task.meta.task_run_name}'); ` +
              `such tasks wait until a worker with it joins. Workers offer: ${offered.length ? offered.join(", ") : "no resources"}. ` +
              `Give workers resources with clusterKwargs: { resources: { ${resource}: 1 } } or \`dask worker --resources "${resource}=1"\`.`,
          );
        }
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
    for (const task of this.#tasks.values()) clearTimeout(task.fallback);
    const bridge = this.#bridge;
    try {
      if (bridge) {
        await this.#started?.catch(() => {});
        await bridge.close();
      }
    } finally {
      await this.#tsCluster?.close();
      // No state event can reach a run any more: one still open would keep its waiters waiting forever.
      for (const { future } of this.#runs.values()) {
        if (isFinal(future.state)) continue;
        const crash = new CrashedRunError(`Task run '${future.taskRunName}' had not finished (state ${formatState(future.state)}) when its DaskTaskRunner was shut down; its work on the Dask cluster was dropped.`);
        future[setFutureState](Crashed(crash));
      }
      this.#runs.clear();
      this.#tasks.clear();
    }
  }
}

/** For the interrupt line: what this runner's shutdown ends. */
function teardownNote(request: StartRequest, tsCluster: DaskCluster | undefined): (scheduler: string | undefined) => string {
  if (tsCluster) return () => `the Dask cluster of ${tsCluster.constructor.name} at ${request.address} (its close())`;
  if (request.address) return () => `the connection to the Dask scheduler at ${request.address} (the cluster keeps running)`;
  return (scheduler) => `the temporary Dask cluster (${request.cluster_class}${scheduler ? ` at ${scheduler}` : ", still starting"})`;
}

/** `adaptKwargs` for a cluster made in TypeScript: its own `adapt(kwargs)`, or a clear error when it has none. */
async function adaptTsCluster(cluster: DaskCluster, kwargs: Record<string, unknown>): Promise<void> {
  if (typeof cluster.adapt !== "function") {
    const name = (cluster as object).constructor?.name ?? "the cluster";
    throw new InvalidOptionError(
      `DaskTaskRunner: adaptKwargs were given, but ${name} (from clusterClass) has no adapt(kwargs) method. Remove adaptKwargs, or give the class an adapt method that scales it.`,
    );
  }
  await cluster.adapt(kwargs);
}
