/**
 * Cache keys, from what already crosses the wire: the task's identity (its module, relative to the project root, and
 * name), the encoded argument bytes (daskflow's own encoding), its source, the flow's parameters or run id. A future
 * among the arguments contributes its upstream's key, never its value: a chain of cached tasks is looked up without
 * moving data. An argument that cannot be part of a key is reported by its path (the run goes uncached).
 */
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describeClassProblem } from "../core/class-codec.ts";
import { isTaskFuture, type TaskFuture } from "../core/future.ts";
import { encodeValue, describeUnserializable } from "../core/serialization.ts";
import type { CachePolicy, TaskDefinition } from "../core/task-definition.ts";
import { KEEP, forEachDeep, isPlainObject, mapDeep } from "../core/walk.ts";
import { isAllowFailure } from "../core/wrappers.ts";
import { findProjectRoot } from "../dask/environment.ts";
import { sha256 } from "./storage.ts";

/** The key of a persisted run without a cache policy (what a resume looks up): its inputs and source. */
export const RESUME_POLICY: readonly CachePolicy[] = ["inputs", "taskSource"];
const KEY_MARK = "\u0000daskflow.cacheKey";
const VERSION = "daskflow-cache-1";

export interface KeyContext {
  flowRunId: string;
  /** The run id keys use: a resumed run's is its first run's, so "runId"-cached tasks are found again. */
  keyRunId: string;
  parameters: readonly unknown[];
  /** The key of an upstream future, when it has one. */
  keyOf: (future: TaskFuture<unknown>) => string | undefined;
  /** The digest of the flow's parameters (computed once per run). */
  parametersDigest(): string | { unhashable: string };
}

export type KeyResult = { key: string } | { unhashable: string };

let projectRoot: string | undefined | null = null;
const sources = new WeakMap<object, string>();

export function taskIdentity(def: TaskDefinition): string {
  let module = def.moduleUrl ?? "anonymous";
  if (module.startsWith("file:")) {
    if (projectRoot === null) projectRoot = findProjectRoot(process.cwd());
    const path = fileURLToPath(module);
    module = projectRoot ? relative(projectRoot, path) : path;
  }
  return `${module}#${def.name}`;
}

export function policiesOf(def: TaskDefinition): readonly CachePolicy[] | undefined {
  const p = def.options.cachePolicy;
  if (p === undefined) return undefined;
  return typeof p === "string" ? [p] : p;
}

/** Whether a task's runs are looked up before they run (the "none" policy persists but never looks up). */
export function isCached(def: TaskDefinition): boolean {
  const p = policiesOf(def);
  return (p !== undefined && !p.includes("none")) || def.options.cacheKeyFn !== undefined;
}

/** Whether a task's runs are written to the result storage (any cache option implies it). */
export function persists(def: TaskDefinition, flowDefault: boolean | undefined): boolean {
  const o = def.options;
  if (o.persistResult !== undefined) return o.persistResult || isCached(def);
  return isCached(def) || o.cacheExpirationSeconds !== undefined || o.refreshCache === true || (flowDefault ?? false);
}

/** The digest of encoded values (arguments or parameters), futures replaced by their upstream keys. */
export function valuesDigest(values: readonly unknown[], keyOf: (f: TaskFuture<unknown>) => string | undefined, root: string): string | { unhashable: string } {
  let missing: string | undefined;
  forEachDeep(values, (v, path) => {
    if (missing) return false;
    const future = isTaskFuture(v) ? v : isAllowFailure(v) ? v.future : undefined;
    if (!future) return true;
    if (keyOf(future) === undefined) {
      missing = `${path} is the future of task run '${future.taskRunName}', which has no cache key (give its task persistResult or a cachePolicy; flow({ persistResult: true }) gives all of them one)`;
    }
    return false;
  }, root);
  if (missing) return { unhashable: missing };
  try {
    return sha256(encodeValue(canonical(values, keyOf), "a cache key"));
  } catch {
    const where = describeClassProblem(values, root) ?? describeUnserializable(values, root);
    return { unhashable: where ?? `${root} cannot be encoded` };
  }
}

/**
 * `value` with futures replaced by their upstream keys and every array rebuilt packed. V8 writes a holey array (one
 * made by `new Array(n)`, as `Array.prototype.map` may make them once optimized) in its sparse form and a packed one
 * densely: equal values would get different keys, varying with the JIT.
 */
export function canonical(value: unknown, keyOf: (f: TaskFuture<unknown>) => string | undefined): unknown {
  if (isTaskFuture(value)) return { [KEY_MARK]: keyOf(value) };
  if (isAllowFailure(value)) return { [KEY_MARK]: keyOf(value.future), allowFailure: true };
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(canonical(value[i], keyOf));
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = canonical(value[key], keyOf);
    return out;
  }
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, canonical(v, keyOf)]));
  if (value instanceof Set) return new Set([...value].map((v) => canonical(v, keyOf)));
  return value;
}

function sourceDigest(def: TaskDefinition): string {
  let digest = sources.get(def.fn);
  if (!digest) sources.set(def.fn, (digest = sha256(def.fn.toString())));
  return digest;
}

/** The key of one run under `policies` (or the task's cacheKeyFn). */
export function computeKey(def: TaskDefinition, policies: readonly CachePolicy[], args: readonly unknown[], ctx: KeyContext): KeyResult {
  const parts = [VERSION, taskIdentity(def)];
  const keyFn = def.options.cacheKeyFn;
  if (keyFn) {
    const shown = mapDeep(args, (v) => (isTaskFuture(v) ? ctx.keyOf(v) ?? null : isAllowFailure(v) ? ctx.keyOf(v.future) ?? null : KEEP)) as unknown[];
    let value: unknown;
    try {
      value = keyFn(shown, { taskName: def.name, flowRunId: ctx.flowRunId, parameters: ctx.parameters });
    } catch (error) {
      return { unhashable: `cacheKeyFn threw ${(error as Error).name}: ${(error as Error).message}` };
    }
    if (typeof value !== "string") return { unhashable: `cacheKeyFn returned ${typeof value}, not a string` };
    parts.push("keyFn", value);
  } else {
    for (const policy of policies) {
      parts.push(policy);
      if (policy === "inputs") {
        const digest = valuesDigest(args, ctx.keyOf, "args");
        if (typeof digest !== "string") return digest;
        parts.push(digest);
      } else if (policy === "taskSource") parts.push(sourceDigest(def));
      else if (policy === "flowParameters") {
        const digest = ctx.parametersDigest();
        if (typeof digest !== "string") return digest;
        parts.push(digest);
      } else if (policy === "runId") parts.push(ctx.keyRunId);
    }
  }
  return { key: sha256(parts.join("\u0000")) };
}
