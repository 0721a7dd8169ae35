/**
 * `getDaskClient()` / `withDaskClient()`: a client on the cluster of where the code runs.
 * - In a flow with a DaskTaskRunner: the runner's cluster (started on demand) through the runner's own bridge.
 * - In a task on a Dask worker: that worker's scheduler through the worker itself (no bridge process, no new
 *   cluster); the task's thread slot is given up while it waits, so a 1-thread cluster does not deadlock.
 * - Anywhere else: a temporary local cluster (or `address`), closed with the client.
 * Clients of one run share its bridge: getting a client costs no process.
 */
import { type RunScope, currentScope, rootScope } from "../../core/context.ts";
import { DaskflowError, InvalidOptionError } from "../../core/errors.ts";
import type { TaskRunner } from "../../core/task-runner.ts";
import type { DaskSecurity, DaskTaskRunnerOptions } from "../options.ts";
import { DaskTaskRunner } from "../runner.ts";
import { RunFutures } from "../../core/run-futures.ts";
import { type ClientBinding, DaskClient } from "./client.ts";

export interface DaskClientOptions {
  /** Fail when the cluster is not reachable within this many seconds (the error names the address). */
  timeoutSeconds?: number;
  /**
   * Default 300: how long the end of the client's scope waits for the work of futures left unresolved; past it
   * that work is cancelled, and the UnresolvedFuturesError says which was still running.
   */
  closeTimeoutSeconds?: number;
  /** Outside a Dask run: connect to this scheduler instead of starting a temporary local cluster. */
  address?: string;
  /** Outside a Dask run: the Python with `distributed` for the client's own bridge. */
  python?: string;
  /** Outside a Dask run: TLS credentials for a `tls://` address or the temporary cluster (as DaskTaskRunner's). */
  security?: DaskSecurity;
}

/** A runner a client can use: the flow's DaskTaskRunner, or the one a task on a worker submits through. */
function daskRunnerOf(runner: TaskRunner | undefined): DaskTaskRunner | undefined {
  if (!runner) return undefined;
  // Duck-typed: a sidecar may hold two copies of daskflow (its own and the user's), so instanceof can fail.
  if (typeof (runner as Partial<DaskTaskRunner>).clientBridge === "function") return runner as DaskTaskRunner;
  const nested = (runner as { daskRunner?: () => DaskTaskRunner }).daskRunner;
  return typeof nested === "function" ? nested.call(runner) : undefined;
}

function checkOptions(options: DaskClientOptions): void {
  for (const name of ["timeoutSeconds", "closeTimeoutSeconds"] as const) {
    const t = options[name];
    if (t !== undefined && !(typeof t === "number" && t > 0 && Number.isFinite(t))) {
      throw new InvalidOptionError(`getDaskClient(): ${name} must be a positive number of seconds, got ${String(t)}.`);
    }
  }
  if (options.address !== undefined && (typeof options.address !== "string" || !options.address.includes("://"))) {
    throw new InvalidOptionError(`getDaskClient(): address must be a scheduler address such as "tcp://127.0.0.1:8786", got ${JSON.stringify(options.address)}.`);
  }
}

async function within<T>(promise: Promise<T>, seconds: number | undefined, what: () => string): Promise<T> {
  if (seconds === undefined) return promise;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    // A moment past the bridge's own connect timeout, whose error says more (what Dask saw).
    timer = setTimeout(() => reject(new DaskflowError(`${what()} did not become reachable within ${seconds}s.`)), seconds * 1000 + 500);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A client on the current cluster. Use it as `await using client = await getDaskClient()`: when the block ends,
 * the client checks that every future it made was resolved (else throws UnresolvedFuturesError) and closes what
 * it started.
 */
export async function getDaskClient(options: DaskClientOptions = {}): Promise<DaskClient> {
  checkOptions(options);
  const scope = currentScope();
  const shared = options.address === undefined ? daskRunnerOf(scope?.runner) : undefined;
  let binding: Omit<ClientBinding, "bridge" | "closeTimeoutSeconds">;
  if (shared) {
    binding = { runner: shared, scope: scope!, owned: false };
  } else {
    const runnerOptions: DaskTaskRunnerOptions = options.address ? { address: options.address } : {};
    if (options.python) runnerOptions.python = options.python;
    if (options.security) runnerOptions.security = options.security;
    const runner = new DaskTaskRunner(runnerOptions);
    // Tasks submitted through this client go to its own cluster; their futures are the client's to resolve.
    const own: RunScope = { ...(scope ?? rootScope()), runner, futures: new RunFutures() };
    binding = { runner, scope: own, owned: true };
  }
  const address = options.address ?? binding.runner.options.address ?? scope?.schedulerAddress;
  try {
    const bridge = await within(binding.runner.clientBridge(options.timeoutSeconds), options.timeoutSeconds, () =>
      address ? `The Dask scheduler at ${address}` : "The Dask cluster",
    );
    return new DaskClient({ ...binding, bridge, closeTimeoutSeconds: options.closeTimeoutSeconds ?? 300 });
  } catch (error) {
    if (binding.owned) await binding.runner.shutdown().catch(() => {});
    throw error;
  }
}

/**
 * Runs `fn` with a client on the current cluster and closes it after, as `await using` does: if `fn` left futures
 * unresolved, their work is waited for and an UnresolvedFuturesError is thrown (suppressing nothing: when `fn`
 * itself threw, that error is thrown with the unresolved-futures error as its `cause`).
 */
export async function withDaskClient<T>(fn: (client: DaskClient) => Promise<T> | T, options: DaskClientOptions = {}): Promise<T> {
  const client = await getDaskClient(options);
  let result: T;
  try {
    result = await fn(client);
  } catch (error) {
    try {
      await client.close();
    } catch (closeError) {
      if (error instanceof Error && error.cause === undefined) error.cause = closeError;
    }
    throw error;
  }
  await client.close();
  return result;
}
