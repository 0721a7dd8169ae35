/**
 * Bag: a collection of JavaScript values in partitions, processed by the worker sidecars, with dask.bag's shape of
 * graph (one task per partition, element-wise steps fused, tree reductions). A Bag is a plan of plain data, so it
 * crosses task boundaries; it computes on the current cluster (the flow's, the worker's, or a temporary one).
 */
import { InvalidOptionError } from "../../../core/errors.ts";
import { decodeValue, encodeValue } from "../../../core/serialization.ts";
import { withDaskClient } from "../../client/get-client.ts";
import type { DaskClient } from "../../client/client.ts";
import { COLLECTION, type CollectionPlan, type DaskCollection, FROM_RESULT, WITH_PLAN } from "../collection.ts";
import { shipFunction } from "./functions.ts";
import type { BagNode, BagPlan, BagReducer, BagStep, FnRef } from "./plan.ts";

/** dask.bag's default number of partitions for from_sequence: about 100. */
const DEFAULT_PARTITIONS = 100;
const SPLIT_EVERY = 8;

type Key = string | number;

function encode(value: unknown, what: string): Uint8Array {
  return encodeValue(value, what);
}

function checkCount(what: string, n: unknown, min = 1): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min) throw new InvalidOptionError(`${what} must be a whole number >= ${min}, got ${String(n)}.`);
  return n;
}

/** Runs `fn` with the client of where the code runs: a caller's `client` option, else one for the call. */
function withClient<R>(client: DaskClient | undefined, fn: (client: DaskClient) => Promise<R>): Promise<R> {
  return client ? fn(client) : withDaskClient(fn);
}

abstract class BagBase<V> implements DaskCollection {
  protected constructor(protected readonly node: BagNode) {}

  protected abstract readonly out: BagPlan["out"];

  [COLLECTION](): CollectionPlan {
    const plan: BagPlan = { node: this.node, out: this.out };
    return { kind: "bag", plan };
  }

  abstract [FROM_RESULT](result: unknown): unknown;

  /** Computes on the current cluster (pass `client` to reuse one you hold). */
  compute(options: { client?: DaskClient } = {}): Promise<V> {
    return withClient(options.client, async (client) => (await client.compute(this)) as V);
  }
}

/** The result of a reduction of a Bag (`count()`, `sum()`, `fold(...)`, ...): one value. */
export class BagItem<T> extends BagBase<T> {
  protected readonly out = "item";

  /** @internal */
  constructor(node: BagNode) {
    super(node);
  }

  [FROM_RESULT](result: unknown): T {
    return decodeValue((result as { value: Uint8Array }).value) as T;
  }
}

export interface FromSequenceOptions {
  /** How many partitions (default: about 100, as dask.bag). */
  npartitions?: number;
  /** Or how many items per partition. */
  partitionSize?: number;
}

export interface ReadTextOptions {
  /** Split plain files into blocks of this many bytes (a line belongs to the block its first byte is in). */
  blocksize?: number;
  /** "infer" (default: gzip for *.gz), "gzip", or null for plain text. Compressed files are one partition each. */
  compression?: "infer" | "gzip" | null;
}

export class Bag<T> extends BagBase<T[]> {
  protected readonly out = "bag";

  /** @internal use Bag.fromSequence / Bag.readText */
  constructor(node: BagNode) {
    super(node);
  }

  /** A Bag of the items, in contiguous partitions. */
  static fromSequence<T>(items: Iterable<T>, options: FromSequenceOptions = {}): Bag<T> {
    const list = [...items];
    let size: number;
    if (options.partitionSize !== undefined) size = checkCount("Bag.fromSequence(): partitionSize", options.partitionSize);
    else if (options.npartitions !== undefined) size = Math.max(1, Math.ceil(list.length / checkCount("Bag.fromSequence(): npartitions", options.npartitions)));
    else size = Math.max(1, Math.ceil(list.length / DEFAULT_PARTITIONS));
    const partitions: Uint8Array[] = [];
    for (let i = 0; i < list.length; i += size) partitions.push(encode(list.slice(i, i + size), "Bag.fromSequence() items"));
    return new Bag<T>({ op: "from_sequence", partitions });
  }

  /** Lines of text files (a path, a glob, or a list of them), without their line endings; read on the workers. */
  static readText(paths: string | readonly string[], options: ReadTextOptions = {}): Bag<string> {
    const list = typeof paths === "string" ? [paths] : [...paths];
    if (list.length === 0 || list.some((p) => typeof p !== "string" || p === "")) throw new InvalidOptionError("Bag.readText(): give a path, a glob or a list of them.");
    const blocksize = options.blocksize === undefined ? null : checkCount("Bag.readText(): blocksize", options.blocksize);
    const compression = options.compression === undefined ? "infer" : options.compression;
    if (compression !== null && compression !== "infer" && compression !== "gzip") {
      throw new InvalidOptionError(`Bag.readText(): compression must be "infer", "gzip" or null, got ${JSON.stringify(compression)}.`);
    }
    return new Bag<string>({ op: "read_text", paths: list, blocksize, compression });
  }

  [FROM_RESULT](result: unknown): T[] {
    return ((result as { parts: Uint8Array[] }).parts ?? []).flatMap((p) => decodeValue(p) as T[]);
  }

  [WITH_PLAN](plan: unknown): Bag<T> {
    return new Bag<T>((plan as BagPlan).node);
  }

  // ---------------------------------------------------------------- element-wise (fused)

  #step<U>(step: BagStep): Bag<U> {
    const encoded = encode(step, "a Bag step");
    if (this.node.op === "steps") return new Bag<U>({ ...this.node, steps: [...this.node.steps, encoded] });
    return new Bag<U>({ op: "steps", input: this.node, steps: [encoded] });
  }

  #fn(what: string, fn: unknown, extra = true): FnRef {
    const passIn = extra ? (v: string) => `Pass data in as extra arguments instead, e.g. bag.map((x, ${v}) => ..., ${v})` : () => "Put the data in the Bag's elements instead";
    return shipFunction(`Bag.${what}()`, fn, passIn);
  }

  /** `fn(x, ...extra)` for every element; `extra` is data shipped with the function. */
  map<U, E extends unknown[] = []>(fn: (x: T, ...extra: E) => U, ...extra: E): Bag<U> {
    return this.#step({ kind: "map", fn: this.#fn("map", fn), extra });
  }

  filter<S extends T>(fn: (x: T) => x is S): Bag<S>;
  filter<E extends unknown[] = []>(fn: (x: T, ...extra: E) => unknown, ...extra: E): Bag<T>;
  filter(fn: (x: T, ...extra: unknown[]) => unknown, ...extra: unknown[]): Bag<T> {
    return this.#step({ kind: "filter", fn: this.#fn("filter", fn), extra });
  }

  /** Each element to any number of elements. */
  flatMap<U, E extends unknown[] = []>(fn: (x: T, ...extra: E) => Iterable<U>, ...extra: E): Bag<U> {
    return this.#step({ kind: "flatMap", fn: this.#fn("flatMap", fn), extra });
  }

  /** A property (or index) of every element. */
  pluck<K extends keyof T & Key>(key: K): Bag<T[K]> {
    if (typeof key !== "string" && typeof key !== "number") throw new InvalidOptionError(`Bag.pluck(): key must be a string or a number, got ${typeof key}.`);
    return this.#step({ kind: "pluck", key });
  }

  /** A whole partition (an array) to a new partition. */
  mapPartitions<U, E extends unknown[] = []>(fn: (partition: T[], ...extra: E) => Iterable<U>, ...extra: E): Bag<U> {
    return this.#step({ kind: "mapPartitions", fn: this.#fn("mapPartitions", fn), extra });
  }

  // ---------------------------------------------------------------- reductions (trees of splitEvery inputs)

  #reduction<R>(per: BagReducer, agg: BagReducer, splitEvery = SPLIT_EVERY): BagItem<R> {
    return new BagItem<R>(this.#reductionNode(per, agg, "item", splitEvery));
  }

  #reductionNode(per: BagReducer, agg: BagReducer, out: "item" | "bag", splitEvery = SPLIT_EVERY): BagNode {
    checkCount("splitEvery", splitEvery, 2);
    return { op: "reduction", input: this.node, per: encode(per, "a Bag reduction"), agg: encode(agg, "a Bag reduction"), split_every: splitEvery, out };
  }

  count(): BagItem<number> {
    return this.#reduction({ builtin: "count" }, { builtin: "sum" });
  }

  sum(this: Bag<number>): BagItem<number> {
    return this.#reduction({ builtin: "sum" }, { builtin: "sum" });
  }

  min(): BagItem<T> {
    return this.#reduction({ builtin: "min" }, { builtin: "min" });
  }

  max(): BagItem<T> {
    return this.#reduction({ builtin: "max" }, { builtin: "max" });
  }

  mean(this: Bag<number>): BagItem<number> {
    return this.#reduction({ builtin: "sumCount" }, { builtin: "mean" });
  }

  /** `binop` folds each partition (from `initial` when given); `combine` (default `binop`) folds the partials. */
  fold<A = T>(binop: (acc: A, x: T) => A, options: { combine?: (a: A, b: A) => A; initial?: A; splitEvery?: number } = {}): BagItem<A> {
    const fn = this.#fn("fold", binop, false);
    const per: BagReducer = "initial" in options ? { builtin: "fold", fn, initial: { value: options.initial } } : { builtin: "fold", fn };
    return this.#reduction(per, { builtin: "fold", fn: options.combine ? this.#fn("fold", options.combine, false) : fn }, options.splitEvery);
  }

  /** `perPartition(partition)` for every partition, then `aggregate(partials)` at each level of the tree. */
  reduction<P, R>(perPartition: (partition: T[]) => P, aggregate: (partials: P[]) => R, options: { splitEvery?: number } = {}): BagItem<R> {
    return this.#reduction({ builtin: "call", fn: this.#fn("reduction", perPartition, false) }, { builtin: "call", fn: this.#fn("reduction", aggregate, false) }, options.splitEvery);
  }

  /** Every distinct value with how many times it occurs, as [value, count] pairs. */
  frequencies(): Bag<[T, number]> {
    return new Bag<[T, number]>(this.#reductionNode({ builtin: "frequencies" }, { builtin: "frequencies" }, "bag"));
  }

  /** The `k` largest elements (by `key` when given), largest first. */
  topk(k: number, key?: (x: T) => number | string | bigint): Bag<T> {
    checkCount("Bag.topk(): k", k);
    const reducer: BagReducer = key ? { builtin: "topk", k, key: this.#fn("topk", key, false) } : { builtin: "topk", k };
    return new Bag<T>(this.#reductionNode(reducer, reducer, "bag"));
  }

  /** Each distinct element once (objects compare by their JSON). */
  distinct(): Bag<T> {
    return new Bag<T>(this.#reductionNode({ builtin: "distinct" }, { builtin: "distinct" }, "bag"));
  }

  /**
   * Per key: elements folded with `binop` (from `initial` when given), partials combined with `combine` (default
   * `binop`, from `combineInitial` when given); a Bag of [key, value] pairs. No shuffle: prefer it to groupBy.
   */
  foldBy<K, A = T>(
    key: (x: T) => K,
    binop: (acc: A, x: T) => A,
    options: { initial?: A; combine?: (a: A, b: A) => A; combineInitial?: A; splitEvery?: number } = {},
  ): Bag<[K, A]> {
    const keyFn = this.#fn("foldBy", key, false);
    const fn = this.#fn("foldBy", binop, false);
    const per: BagReducer = "initial" in options ? { builtin: "foldBy", key: keyFn, fn, initial: { value: options.initial } } : { builtin: "foldBy", key: keyFn, fn };
    const combineFn = options.combine ? this.#fn("foldBy", options.combine, false) : fn;
    const agg: BagReducer = "combineInitial" in options ? { builtin: "foldByCombine", fn: combineFn, initial: { value: options.combineInitial } } : { builtin: "foldByCombine", fn: combineFn };
    return new Bag<[K, A]>(this.#reductionNode(per, agg, "bag", options.splitEvery));
  }

  /** Elements grouped by `key`, as [key, elements] pairs, through a shuffle of the partitions between tasks. */
  groupBy<K>(key: (x: T) => K, options: { npartitions?: number } = {}): Bag<[K, T[]]> {
    const n = options.npartitions === undefined ? 0 : checkCount("Bag.groupBy(): npartitions", options.npartitions);
    return new Bag<[K, T[]]>({ op: "group_by", input: this.node, key: encode(this.#fn("groupBy", key, false), "a Bag key"), npartitions: n });
  }

  // ---------------------------------------------------------------- actions

  /** The first `n` elements, from the first `npartitions` partitions (default 1, as dask.bag; -1 for all). */
  async take(n: number, options: { npartitions?: number; client?: DaskClient } = {}): Promise<T[]> {
    checkCount("Bag.take(): n", n, 0);
    const npartitions = options.npartitions ?? 1;
    if (npartitions !== -1) checkCount("Bag.take(): npartitions", npartitions);
    const result = await withClient(options.client, (client) => client.collectionAction(this, "take", { npartitions }));
    return this[FROM_RESULT](result).slice(0, n);
  }

  /** Writes each partition as lines (`String(element)`) to `pattern` with its `*` replaced by the partition number. */
  async toTextFiles(pattern: string, options: { client?: DaskClient } = {}): Promise<string[]> {
    if (typeof pattern !== "string" || pattern.split("*").length !== 2) {
      throw new InvalidOptionError(`Bag.toTextFiles(): give a path pattern with one '*', e.g. "out/part-*.txt", got ${JSON.stringify(pattern)}.`);
    }
    const result = await withClient(options.client, (client) => client.collectionAction(this, "to_text_files", { pattern }));
    return (result as { paths: string[] }).paths;
  }

  /** Computes the partitions and keeps them on the cluster for the `client`'s scope; the Bag returned reads them. */
  persist(client: DaskClient): Promise<Bag<T>> {
    return client.persist(this);
  }
}
