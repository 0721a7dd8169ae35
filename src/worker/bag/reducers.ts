/**
 * The reductions of a Bag in the sidecar: `per` turns a partition into a partial, `agg` combines partials at every
 * level of the tree (`final` at its root). The partials of min/max are [] or [value], so empty partitions drop out.
 */
import { DaskflowError } from "../../core/errors.ts";
import type { BagReducer } from "../../dask/collections/bag/plan.ts";
import { loadFunction } from "./functions.ts";
import { keyOf } from "./keys.ts";

type Fn = (...args: unknown[]) => unknown;

const less = (a: unknown, b: unknown) => (a as number) < (b as number);

function extreme(values: unknown[], better: (a: unknown, b: unknown) => boolean): unknown[] {
  if (values.length === 0) return [];
  let best = values[0];
  for (let i = 1; i < values.length; i++) if (better(values[i], best)) best = values[i];
  return [best];
}

function add(values: unknown[]): number {
  let total = 0;
  for (const v of values) total += v as number;
  return total;
}

function frequencies(pairs: Iterable<[unknown, number]>): [unknown, number][] {
  const counts = counter();
  for (const [value, n] of pairs) counts.add(value, n);
  return counts.pairs();
}

function distinct(values: unknown[]): unknown[] {
  const seen = new Map<unknown, unknown>();
  for (const v of values) {
    const k = keyOf(v);
    if (!seen.has(k)) seen.set(k, v);
  }
  return [...seen.values()];
}

function topk(values: unknown[], k: number, key: Fn | undefined): unknown[] {
  const scored = values.map((v) => [key ? key(v) : v, v] as const);
  scored.sort((a, b) => (a[0]! < b[0]! ? 1 : a[0]! > b[0]! ? -1 : 0));
  return scored.slice(0, k).map((s) => s[1]);
}

/** Folds `value` into its key's entry of `acc` (entries keep the key as first seen). */
function foldInto(acc: Map<unknown, [unknown, unknown]>, key: unknown, value: unknown, fn: Fn, initial: { value: unknown } | undefined): void {
  const k = keyOf(key);
  const seen = acc.get(k);
  if (seen) seen[1] = fn(seen[1], value);
  else acc.set(k, [key, initial ? fn(initial.value, value) : value]);
}

function foldPairs(pairs: Iterable<[unknown, unknown]>, fn: Fn, initial: { value: unknown } | undefined): [unknown, unknown][] {
  const acc = new Map<unknown, [unknown, unknown]>();
  for (const [key, value] of pairs) foldInto(acc, key, value, fn, initial);
  return [...acc.values()];
}

function fold(values: unknown[], fn: Fn, initial: { value: unknown } | undefined): unknown {
  if (initial) return values.reduce((a, x) => fn(a, x), initial.value);
  if (values.length === 0) throw new DaskflowError("Bag.fold() of an empty partition without an initial value; give { initial }.");
  return values.reduce((a, x) => fn(a, x));
}

function emptyError(what: string): never {
  throw new DaskflowError(`Bag.${what}() of an empty Bag has no value.`);
}

/** A per-partition reduction fed one element at a time (pipeline.ts), and its partial at the end. */
export interface Accumulator {
  add: (item: unknown) => void;
  result: () => unknown;
}

/** Collects the partition, then reduces it whole (reductions that need every element at once). */
function whole(reduce: (items: unknown[]) => unknown): Accumulator {
  const items: unknown[] = [];
  return { add: (x) => void items.push(x), result: () => reduce(items) };
}

/** Counts by key: primitives as they are, objects by their JSON (keyOf), each kept as first seen. */
function counter(): { add: (value: unknown, n: number) => void; pairs: () => [unknown, number][] } {
  const counts = new Map<unknown, number>();
  const objects = new Map<unknown, unknown>();
  return {
    add(value, n) {
      let k = value;
      if (typeof value === "object" && value !== null) {
        k = keyOf(value);
        if (!objects.has(k)) objects.set(k, value);
      }
      counts.set(k, (counts.get(k) ?? 0) + n);
    },
    pairs: () => Array.from(counts, ([k, n]) => [objects.size && objects.has(k) ? objects.get(k) : k, n]),
  };
}

export async function accumulator(reducer: BagReducer): Promise<Accumulator> {
  switch (reducer.builtin) {
    case "count": {
      let n = 0;
      return { add: () => void n++, result: () => n };
    }
    case "sum":
    case "sumCount": {
      let total = 0;
      let n = 0;
      const add = (x: unknown) => {
        total += x as number;
        n++;
      };
      return { add, result: () => (reducer.builtin === "sum" ? total : [total, n]) };
    }
    case "min":
    case "max": {
      const better = reducer.builtin === "min" ? less : (a: unknown, b: unknown) => less(b, a);
      let best: unknown[] = [];
      return { add: (x) => void ((best.length === 0 || better(x, best[0])) && (best = [x])), result: () => best };
    }
    case "frequencies": {
      const counts = counter();
      return { add: (x) => counts.add(x, 1), result: counts.pairs };
    }
    case "distinct": {
      const seen = new Map<unknown, unknown>();
      return {
        add: (v) => {
          const k = keyOf(v);
          if (!seen.has(k)) seen.set(k, v);
        },
        result: () => [...seen.values()],
      };
    }
    case "topk": {
      const key = reducer.key && (await loadFunction(reducer.key));
      return whole((items) => topk(items, reducer.k, key));
    }
    case "fold": {
      const fn = await loadFunction(reducer.fn);
      let started = reducer.initial !== undefined;
      let acc = reducer.initial?.value;
      return {
        add: (x) => {
          acc = started ? fn(acc, x) : x;
          started = true;
        },
        result: () => {
          if (!started) throw new DaskflowError("Bag.fold() of an empty partition without an initial value; give { initial }.");
          return acc;
        },
      };
    }
    case "call": {
      const fn = await loadFunction(reducer.fn);
      return whole((items) => fn(items));
    }
    case "foldBy": {
      const key = await loadFunction(reducer.key);
      const fn = await loadFunction(reducer.fn);
      const acc = new Map<unknown, [unknown, unknown]>();
      return {
        add: (x) => foldInto(acc, key(x), x, fn, reducer.initial),
        result: () => [...acc.values()],
      };
    }
    default:
      throw new DaskflowError(`Bag: '${reducer.builtin}' is not a per-partition reduction.`);
  }
}

export async function aggregate(reducer: BagReducer, partials: unknown[], final: boolean): Promise<unknown> {
  switch (reducer.builtin) {
    case "sum":
      return add(partials);
    case "min":
    case "max": {
      const best = extreme(partials.flat(), reducer.builtin === "min" ? less : (a, b) => less(b, a));
      if (!final) return best;
      return best.length ? best[0] : emptyError(reducer.builtin);
    }
    case "mean": {
      const [sum, count] = (partials as [number, number][]).reduce((a, p) => [a[0] + p[0], a[1] + p[1]], [0, 0]);
      if (!final) return [sum, count];
      return count ? sum / count : emptyError("mean");
    }
    case "frequencies":
      return frequencies((partials as [unknown, number][][]).flat());
    case "distinct":
      return distinct(partials.flat());
    case "topk":
      return topk(partials.flat(), reducer.k, reducer.key && (await loadFunction(reducer.key)));
    case "fold":
      return fold(partials, await loadFunction(reducer.fn), reducer.initial);
    case "call":
      return (await loadFunction(reducer.fn))(partials);
    case "foldByCombine":
      return foldPairs((partials as [unknown, unknown][][]).flat(), await loadFunction(reducer.fn), reducer.initial);
    default:
      throw new DaskflowError(`Bag: '${reducer.builtin}' is not an aggregation.`);
  }
}
