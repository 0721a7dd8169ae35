/**
 * DaskFuture: a value being made on the cluster by a DaskClient (a plain function's or a Python callable's result,
 * scattered data, a computed collection). Holding one keeps the work and its result on the cluster; awaiting it (or
 * `result()`, `client.gather`) brings the value here. Either way it must be resolved inside the client's scope.
 */
import type { TaskFuture } from "../../core/future.ts";

const DASK_FUTURE = Symbol.for("daskflow.DaskFuture");

export class DaskFuture<T> implements PromiseLike<T> {
  readonly [DASK_FUTURE] = true;
  #value: Promise<T> | undefined;
  #observed = false;
  #settled = false;

  /** @internal made by DaskClient */
  constructor(
    /** The key the cluster holds it under (what the Dask dashboard shows). */
    readonly key: string,
    /** What made it, e.g. `submit(operator.add)`: how an unresolved-futures error names it. */
    readonly description: string,
    private readonly fetch: () => Promise<T>,
    private readonly cancelOnCluster: () => Promise<void>,
    /** @internal Resolves once the cluster holds it (a later call may then refer to it). */
    readonly held: Promise<unknown> = Promise.resolve(),
    /** @internal A plain function's: the task run that makes it, which later calls take as an upstream. */
    readonly run?: TaskFuture<unknown>,
  ) {}

  /** True once it was awaited, its result asked for, gathered or cancelled. */
  get observed(): boolean {
    return this.#observed;
  }

  /** True once its value arrived here (or failed to). */
  get done(): boolean {
    return this.#settled;
  }

  /** @internal The read in progress (or done), if its value was asked for. */
  get reading(): Promise<T> | undefined {
    return this.#value;
  }

  /** @internal Passed as an argument to another call: that call resolves it. */
  passOn(): void {
    this.#observed = true;
  }

  /** The value, fetched from the cluster once. */
  result(): Promise<T> {
    this.#observed = true;
    this.#value ??= this.fetch().finally(() => (this.#settled = true));
    return this.#value;
  }

  then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.result().then(onFulfilled, onRejected);
  }

  /** Stops the work on the cluster and drops the result; counts as resolved. */
  async cancel(): Promise<void> {
    this.#observed = true;
    await this.cancelOnCluster();
  }

  toString(): string {
    return `DaskFuture(${this.description}, ${this.key})`;
  }
}

export function isDaskFuture(value: unknown): value is DaskFuture<unknown> {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[DASK_FUTURE] === true;
}
