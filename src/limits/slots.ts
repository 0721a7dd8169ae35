/**
 * Where a runner's concurrency slots are: on the Dask scheduler (DaskSlots: distributed.Semaphore leases taken by the
 * bridge, or by the worker's session in a sidecar) or in this process (LocalSlots: the ConcurrentTaskRunner, and
 * concurrency() outside a Dask run). Runners expose theirs under CONCURRENCY_SLOTS (duck-typed: the TaskRunner
 * contract stays as it is).
 */
import { InvalidOptionError, TaskTimeoutError } from "../core/errors.ts";
import type { ConcurrencyRequest, SlotRequest } from "../dask/protocol.ts";
import { type ResolvedLimit, limitsOf, slotTimeout } from "./options.ts";

export const CONCURRENCY_SLOTS = Symbol.for("daskflow.concurrencySlots");

/** Releases what an acquire took. */
export type Release = () => Promise<void>;

export interface ConcurrencySlots {
  /** Takes `occupy` slots of the limit of tag `name`; throws TaskTimeoutError naming it past `timeoutSeconds`. */
  acquire(name: string, occupy: number, timeoutSeconds: number | undefined): Promise<Release>;
}

/** A runner that has concurrency slots. */
export interface HasSlots {
  [CONCURRENCY_SLOTS](): ConcurrencySlots;
}

export function slotsOf(runner: unknown): ConcurrencySlots | undefined {
  const get = (runner as Partial<HasSlots> | undefined)?.[CONCURRENCY_SLOTS];
  return typeof get === "function" ? get.call(runner) : undefined;
}

function known(limits: ReadonlyMap<string, ResolvedLimit>, name: string, occupy: number, where: string): ResolvedLimit {
  const limit = limits.get(name);
  if (!limit) {
    const have = [...limits.keys()].map((t) => `'${t}'`).join(", ") || "none";
    throw new InvalidOptionError(`concurrency(): no concurrency limit named '${name}' on this flow run's ${where} (it has ${have}). Add it to the runner's concurrencyLimits, e.g. { ${name}: 3 }.`);
  }
  if (occupy > limit.limit) throw new InvalidOptionError(`concurrency(): occupy ${occupy} is more than limit '${name}' has (${limit.limit}): it could never run. Occupy at most ${limit.limit}.`);
  return limit;
}

const slotOf = (l: ResolvedLimit, occupy?: number): SlotRequest => ({ semaphore: l.semaphore, tag: l.tag, limit: l.limit, scope: l.scope, ...(occupy && occupy > 1 ? { occupy } : {}) });

export function timedOut(what: string, limit: ResolvedLimit, seconds: number): TaskTimeoutError {
  return new TaskTimeoutError(`${what} waited more than ${seconds}s for a slot of concurrency limit '${limit.tag}' (${limit.limit} at a time, ${limit.scope} scope).`);
}

/** What the bridge needs to hold a task back until it has its slots (undefined for a task without limits). */
export function concurrencyRequest(tags: readonly string[] | undefined, limits: ReadonlyMap<string, ResolvedLimit>, taskTimeout: number | undefined, items?: number): ConcurrencyRequest | undefined {
  const found = limitsOf(tags, limits);
  if (!found) return undefined;
  const request: ConcurrencyRequest = { slots: found.map((l) => slotOf(l)) };
  const timeout = slotTimeout(found, taskTimeout);
  if (timeout !== undefined) request.timeout_seconds = timeout;
  if (items !== undefined) request.items = items;
  return request;
}

interface Requester {
  request<T>(message: { op: "limit-acquire"; slots: SlotRequest[]; timeout_seconds?: number } | { op: "limit-release"; handle: string }): Promise<T>;
}

/** Slots on the Dask scheduler, through a bridge (the flow's bridge process, or a sidecar's worker session). */
export class DaskSlots implements ConcurrencySlots {
  constructor(
    private readonly limits: ReadonlyMap<string, ResolvedLimit>,
    private readonly bridge: () => Promise<Requester>,
  ) {}

  async acquire(name: string, occupy: number, timeoutSeconds: number | undefined): Promise<Release> {
    const limit = known(this.limits, name, occupy, "DaskTaskRunner");
    const bridge = await this.bridge();
    const message = { op: "limit-acquire" as const, slots: [slotOf(limit, occupy)], ...(timeoutSeconds === undefined ? {} : { timeout_seconds: timeoutSeconds }) };
    const reply = await bridge.request<{ handle?: string; timed_out?: string }>(message);
    if (!reply.handle) throw timedOut("concurrency()", limit, timeoutSeconds ?? 0);
    const handle = reply.handle;
    return () => bridge.request<null>({ op: "limit-release", handle }).then(() => {});
  }
}

interface Pool {
  free: number;
  waiters: Array<{ n: number; grant: () => void }>;
}

/** Slot pools of this process by semaphore name: a cluster-scope limit is shared by the runners of this process. */
const KEY = Symbol.for("daskflow.localSlotPools");
const g = globalThis as unknown as Record<symbol, Map<string, Pool> | undefined>;
const pools: Map<string, Pool> = (g[KEY] ??= new Map<string, Pool>());

/** Slots in this process (first come, first served). */
export class LocalSlots implements ConcurrencySlots {
  constructor(readonly limits: ReadonlyMap<string, ResolvedLimit>) {}

  acquire(name: string, occupy: number, timeoutSeconds: number | undefined): Promise<Release> {
    const limit = known(this.limits, name, occupy, "task runner");
    return this.take(limit, occupy, timeoutSeconds, "concurrency()");
  }

  /** A task's slots, one limit after another in name order (two tasks never hold parts the other waits for). */
  async takeAll(found: readonly ResolvedLimit[], timeoutSeconds: number | undefined, what: string): Promise<Release> {
    const deadline = timeoutSeconds === undefined ? undefined : Date.now() + timeoutSeconds * 1000;
    const releases: Release[] = [];
    const releaseAll = async () => {
      for (const r of releases.splice(0)) await r();
    };
    try {
      for (const limit of [...found].sort((a, b) => a.semaphore.localeCompare(b.semaphore))) {
        const left = deadline === undefined ? undefined : Math.max(0, deadline - Date.now()) / 1000;
        releases.push(await this.take(limit, 1, left, what, timeoutSeconds));
      }
    } catch (error) {
      await releaseAll();
      throw error;
    }
    return releaseAll;
  }

  take(limit: ResolvedLimit, n: number, timeoutSeconds: number | undefined, what: string, shownTimeout = timeoutSeconds): Promise<Release> {
    let pool = pools.get(limit.semaphore);
    if (!pool) pools.set(limit.semaphore, (pool = { free: limit.limit, waiters: [] }));
    const p = pool;
    const release: Release = async () => {
      p.free += n;
      while (p.waiters.length && p.waiters[0]!.n <= p.free) {
        const next = p.waiters.shift()!;
        p.free -= next.n;
        next.grant();
      }
      if (p.free === limit.limit && p.waiters.length === 0) pools.delete(limit.semaphore);
    };
    if (p.waiters.length === 0 && p.free >= n) {
      p.free -= n;
      return Promise.resolve(release);
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter = { n, grant: () => (clearTimeout(timer), resolve(release)) };
      const timer = timeoutSeconds === undefined ? undefined : setTimeout(() => {
        p.waiters.splice(p.waiters.indexOf(waiter), 1);
        reject(timedOut(what, limit, shownTimeout ?? timeoutSeconds));
      }, timeoutSeconds * 1000);
      p.waiters.push(waiter);
    });
  }
}
