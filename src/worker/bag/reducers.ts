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
  const counts = new Map<unknown, [unknown, number]>();
  for (const [value, n] of pairs) {
    const k = keyOf(value);
    const seen = counts.get(k);
    if (seen) seen[1] += n;
    else counts.set(k, [value, n]);
  }
  return [...counts.values()];
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

function foldPairs(pairs: Iterable<[unknown, unknown]>, fn: Fn, initial: { value: unknown } | undefined): [unknown, unknown][] {
  const acc = new Map<unknown, [unknown, unknown]>();
  for (const [key, value] of pairs) {
    const k = keyOf(key);
    const seen = acc.get(k);
    if (seen) seen[1] = fn(seen[1], value);
    else acc.set(k, [key, initial ? fn(initial.value, value) : value]);
  }
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

export async function perPartition(reducer: BagReducer, items: unknown[]): Promise<unknown> {
  switch (reducer.builtin) {
    case "count":
      return items.length;
    case "sum":
      return add(items);
    case "min":
      return extreme(items, less);
    case "max":
      return extreme(items, (a, b) => less(b, a));
    case "sumCount":
      return [add(items), items.length];
    case "frequencies":
      return frequencies(items.map((v) => [v, 1]));
    case "distinct":
      return distinct(items);
    case "topk":
      return topk(items, reducer.k, reducer.key && (await loadFunction(reducer.key)));
    case "fold":
      return fold(items, await loadFunction(reducer.fn), reducer.initial);
    case "call":
      return (await loadFunction(reducer.fn))(items);
    case "foldBy": {
      const key = await loadFunction(reducer.key);
      return foldPairs(items.map((x) => [key(x), x]), await loadFunction(reducer.fn), reducer.initial);
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
