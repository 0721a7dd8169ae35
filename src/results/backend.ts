/**
 * One flow run's result storage as the durable layer uses it: probe, batched lookups, lazy reads, run records. A
 * local path is handled here in Node; an object-store URL through the Dask runner's bridge (fsspec in Python:
 * python/daskflow_bridge/results/), so the same library the workers write with reads it.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DaskflowError } from "../core/errors.ts";
import type { TaskRunner } from "../core/task-runner.ts";
import { type Lookup, RECORD_SUFFIX, checkRecord, isRemote, lookupLocal, probeLocal } from "./storage.ts";

interface BridgeLike {
  request<T>(message: Record<string, unknown>): Promise<T>;
}

export function isDaskRunner(runner: TaskRunner | undefined): boolean {
  return runner?.name === "DaskTaskRunner";
}

async function bridgeOf(runner: TaskRunner): Promise<BridgeLike> {
  const get = (runner as unknown as { clientBridge?: () => Promise<BridgeLike> }).clientBridge;
  if (!get) throw new DaskflowError(`Runner ${runner.name} cannot reach an object store.`);
  return get.call(runner);
}

export class Backend {
  readonly remote: boolean;
  #probed: Promise<void> | undefined;

  constructor(
    readonly location: string,
    private readonly runner: TaskRunner,
  ) {
    this.remote = isRemote(location);
  }

  /** Once per run: every worker (or this process, for in-process runners) can write the location. */
  probe(local = false): Promise<void> {
    this.#probed ??= local ? this.#probeHere() : this.#probe();
    return this.#probed;
  }

  async #probe(): Promise<void> {
    if (isDaskRunner(this.runner)) {
      const bridge = await bridgeOf(this.runner);
      const failed = await bridge.request<Record<string, string | null>>({ op: "results", action: "probe", location: this.location });
      const bad = Object.entries(failed).filter(([, e]) => e);
      if (bad.length) {
        const list = bad.map(([w, e]) => `worker ${w}: ${e}`).join("; ");
        throw new DaskflowError(`Result storage '${this.location}' cannot be written by ${bad.length} worker(s): ${list}. Give resultStorage a location every worker can write (a shared path, or an s3://, gs://, az:// URL whose credentials the workers have).`);
      }
      return;
    }
    if (this.remote) {
      throw new DaskflowError(`Result storage '${this.location}' is an object-store URL, which ${this.runner.name} cannot write (it runs tasks in the flow process; object stores are written by Dask workers through fsspec). Use a DaskTaskRunner, or a local path for resultStorage.`);
    }
    return this.#probeHere();
  }

  async #probeHere(): Promise<void> {
    const problem = await probeLocal(this.location);
    if (problem) throw new DaskflowError(`Result storage '${this.location}' cannot be written by this process (the worker of ${this.runner.name}): ${problem}. Give resultStorage a writable path.`);
  }

  /** Looks many keys up in one round trip. */
  async lookup(keys: readonly string[]): Promise<Map<string, Lookup | { hit: true }>> {
    if (keys.length === 0) return new Map();
    if (!this.remote) return lookupLocal(this.location, keys);
    const bridge = await bridgeOf(this.runner);
    const found = await bridge.request<Record<string, string | null>>({ op: "results", action: "lookup", location: this.location, keys });
    const out = new Map<string, Lookup | { hit: true }>();
    for (const key of keys) {
      const v = found[key];
      out.set(key, v === "ok" ? { hit: true } : v ? { hit: false, problem: v } : { hit: false });
    }
    return out;
  }

  /** The verified bytes of a record (read when a value is needed). */
  async read(key: string): Promise<Uint8Array> {
    if (this.remote) {
      const bridge = await bridgeOf(this.runner);
      return bridge.request<Uint8Array>({ op: "results", action: "read", location: this.location, key });
    }
    const checked = checkRecord(await readFile(join(this.location, key + RECORD_SUFFIX)), 0);
    if ("problem" in checked) throw new DaskflowError(`The stored result '${key}' at '${this.location}' changed after it was looked up: ${checked.problem}.`);
    return checked.bytes;
  }

  async putText(path: string, text: string): Promise<void> {
    if (this.remote) {
      const bridge = await bridgeOf(this.runner);
      await bridge.request<null>({ op: "results", action: "put", location: this.location, path, text });
      return;
    }
    const full = join(this.location, path);
    await mkdir(join(full, ".."), { recursive: true });
    await writeFile(full, text);
  }

  async getText(path: string): Promise<string | undefined> {
    if (this.remote) {
      const bridge = await bridgeOf(this.runner);
      return (await bridge.request<string | null>({ op: "results", action: "get", location: this.location, path })) ?? undefined;
    }
    return readFile(join(this.location, path), "utf8").catch(() => undefined);
  }
}
