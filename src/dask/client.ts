/**
 * `getDaskClient()`: a client to the flow's Dask cluster (or the worker's, inside a task; or a new local cluster
 * outside any run) for work beyond tasks: Python functions by import path and Dask collections built by a Python
 * expression. Use it as `await using client = await getDaskClient()`; what it started is closed with the scope.
 */
import { currentScope, rootScope } from "../core/context.ts";
import { DaskflowError, InvalidOptionError } from "../core/errors.ts";
import { Bridge } from "./bridge.ts";
import { type DaskSecurity, securityRequest } from "./options.ts";
import { choosePython } from "./paths.ts";
import type { StartReply, WorkerInfo } from "./protocol.ts";
import { DaskTaskRunner } from "./runner.ts";

/** A result on its way from the cluster. Await it (or call `result()`) before the client's scope ends. */
export class DaskFuture<T> implements PromiseLike<T> {
  #settled = false;
  #observed = false;
  readonly #promise: Promise<T>;

  constructor(
    readonly description: string,
    promise: Promise<T>,
  ) {
    this.#promise = promise.finally(() => (this.#settled = true));
    this.#promise.catch(() => {}); // rejections surface where the future is awaited
  }

  get done(): boolean {
    return this.#settled;
  }

  /** @internal Awaited, or its result asked for. */
  get observed(): boolean {
    return this.#observed;
  }

  result(): Promise<T> {
    this.#observed = true;
    return this.#promise;
  }

  then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.result().then(onFulfilled, onRejected);
  }
}

export class DaskClient implements AsyncDisposable {
  readonly #bridge: Bridge;
  readonly #futures = new Set<DaskFuture<unknown>>();
  #closed = false;

  /** @internal use getDaskClient() */
  constructor(
    bridge: Bridge,
    readonly info: StartReply,
  ) {
    this.#bridge = bridge;
  }

  get schedulerAddress(): string {
    return this.info.scheduler_address;
  }

  get dashboardLink(): string | null {
    return this.info.dashboard_link;
  }

  #track<T>(description: string, promise: Promise<T>): DaskFuture<T> {
    if (this.#closed) throw new DaskflowError("This Dask client is closed; get a new one with getDaskClient().");
    const future = new DaskFuture(description, promise);
    this.#futures.add(future);
    return future;
  }

  /** Runs a Python callable, given by import path ("package.module.function"), on the cluster. */
  submit<T = unknown>(callable: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}): DaskFuture<T> {
    if (typeof callable !== "string" || !/^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$/.test(callable)) {
      throw new InvalidOptionError(`DaskClient.submit(): give the callable as a Python import path such as "operator.add", got ${JSON.stringify(callable)}.`);
    }
    return this.#track(`submit(${callable})`, this.#bridge.request<T>({ op: "call", callable, args, kwargs }));
  }

  /**
   * Evaluates a Python expression with `dask`, `db` (dask.bag), `da` (dask.array) and `dd` (dask.dataframe, when
   * installed) in scope; a Dask collection is computed on the cluster. E.g.
   * `await client.compute("db.from_sequence(range(100), npartitions=4).map(lambda x: x * x).sum()")`.
   */
  compute<T = unknown>(expression: string): DaskFuture<T> {
    if (typeof expression !== "string" || expression.trim() === "") {
      throw new InvalidOptionError("DaskClient.compute(): give a Python expression, e.g. \"db.from_sequence(range(10)).sum()\".");
    }
    return this.#track(`compute(${expression.length > 60 ? expression.slice(0, 57) + "..." : expression})`, this.#bridge.request<T>({ op: "compute", expression }));
  }

  /** Waits for several futures' results. */
  gather<T>(futures: Iterable<DaskFuture<T>>): Promise<T[]> {
    return Promise.all([...futures].map((f) => f.result()));
  }

  workers(): Promise<WorkerInfo[]> {
    return this.#bridge.request<WorkerInfo[]>({ op: "workers" });
  }

  /** Closes the client (and a cluster it created). Futures never awaited are named in a warning and dropped. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const unresolved = [...this.#futures].filter((f) => !f.observed);
    if (unresolved.length) {
      const scope = currentScope() ?? rootScope();
      scope.sink({
        level: "warning",
        run: "getDaskClient",
        timestamp: Date.now(),
        message: `${unresolved.length} Dask future(s) were never resolved before the client closed: ${unresolved
          .map((f) => f.description)
          .join(", ")}. Their results are dropped; await them (or call .result()) inside the client's scope.`,
      });
    }
    await this.#bridge.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * A client to the current cluster: the flow's DaskTaskRunner cluster in a flow, the worker's scheduler in a task
 * on a worker, else a new local cluster (closed with the client).
 */
export async function getDaskClient(options: { python?: string; security?: DaskSecurity } = {}): Promise<DaskClient> {
  const scope = currentScope();
  let address = scope?.worker?.schedulerAddress;
  if (!address && scope?.runner instanceof DaskTaskRunner) address = await scope.runner.schedulerAddress();
  // The flow's TLS credentials; on a worker, the sidecar's Dask configuration carries the worker's (security.py).
  const security = securityRequest(options.security ?? (scope?.runner instanceof DaskTaskRunner ? scope.runner.options.security : undefined));
  let failure: Error | undefined;
  const bridge = new Bridge(choosePython(options.python ?? (scope?.runner instanceof DaskTaskRunner ? scope.runner.options.python : undefined)), {
    message: (m) => {
      if (m.op === "log" && m.level !== "debug") {
        const sink = (scope ?? rootScope()).sink;
        sink({ level: m.level, message: m.message, run: "getDaskClient", timestamp: Date.now() });
      }
    },
    exit: (error) => (failure = error),
    output: () => {},
  });
  // Outside a Dask run the client gets a local cluster of its own.
  const where = address ? { address } : { cluster_class: "distributed.LocalCluster" };
  try {
    const info = await bridge.request<StartReply>({
      op: "start",
      ...where,
      cluster_kwargs: {},
      client_kwargs: {},
      topic: "",
      plugin_name: "",
      sidecar: { node: "", argv: [], cwd: process.cwd(), env: {} },
      client_only: true,
      ...(security ? { security } : {}),
    });
    return new DaskClient(bridge, info);
  } catch (error) {
    bridge.kill();
    throw failure ?? error;
  }
}
