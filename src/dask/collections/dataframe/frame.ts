/**
 * `DataFrame`: a dask.dataframe built in TypeScript. Every method returns a new frame on a longer plan (plain data,
 * src/dask/collections/dataframe/plan.ts); `compute()`, `head()`, `toArrow()` and the writers run it on the cluster.
 * A DataFrame keeps its plan under one string key, so it crosses task boundaries as data and arrives as a DataFrame.
 */
import { resolve } from "node:path";
import type { Table } from "apache-arrow";
import { InvalidOptionError } from "../../../core/errors.ts";
import { REVIVE_KEY, registerReviver } from "../../../core/revive.ts";
import { COLLECTION, type CollectionPlan, type DaskCollection, WITH_PLAN } from "../collection.ts";
import { Expr, type Operand, literal, type LiteralValue } from "./expr.ts";
import type { Aggregation, Dtype, JoinHow, PlanNode, ReadCsvOptions, ReadJsonOptions, ReadParquetOptions, Reduction as ReductionName } from "./plan.ts";
import { rowsToColumns } from "./rows.ts";
import { type ComputeOptions, computePlan } from "./run.ts";
import { decodeArrow } from "./arrow.ts";

type AnyRow = Record<string, unknown>;
/** Row types: any object type (interfaces too). */
type RowShape = object;
type Column<Row> = Extract<keyof Row, string>;
type Columns<Row> = Column<Row> | readonly Column<Row>[];

/** What an aggregation of `column` gives per group. */
type AggValue<Row, C, A> = A extends "count" | "nunique" ? number : A extends "sum" | "mean" ? number | null : C extends keyof Row ? Row[C] | null : unknown;
export type AggSpec<Row> = Record<string, readonly [Column<Row>, Aggregation]>;
type AggRow<Row, K extends Column<Row>, S extends AggSpec<Row>> = { [P in K]: Row[P] } & { [O in keyof S]: AggValue<Row, S[O][0], S[O][1]> };

function names(columns: unknown, where: string): string[] {
  const list = typeof columns === "string" ? [columns] : columns;
  if (!Array.isArray(list) || list.length === 0 || !list.every((c) => typeof c === "string" && c !== "")) {
    throw new InvalidOptionError(`${where}: give a column name or a non-empty array of column names, got ${JSON.stringify(columns)}.`);
  }
  return [...(list as string[])];
}

function paths(value: string | readonly string[], where: string): string | string[] {
  const one = (p: unknown): string => {
    if (typeof p !== "string" || p === "") throw new InvalidOptionError(`${where}: give a path (or an array of paths), got ${JSON.stringify(p)}.`);
    return /^[a-z][\w+.-]*:\/\//i.test(p) ? p : resolve(p); // local paths as seen from this process; URLs as they are
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

function positiveInt(value: unknown, where: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new InvalidOptionError(`${where} must be a positive integer, got ${String(value)}.`);
  return value as number;
}

/** What DataFrame and Reduction share: a plan of kind "dataframe", kept where serialization revives it. */
abstract class PlanCollection implements DaskCollection {
  /** The plan, under the key serialization revives (src/core/revive.ts). */
  readonly [REVIVE_KEY]: CollectionPlan & { plan: PlanNode };

  constructor(plan: PlanNode) {
    this[REVIVE_KEY] = { kind: "dataframe", plan };
  }

  /** The plan as plain data (what the bridge evaluates). */
  get plan(): PlanNode {
    return this[REVIVE_KEY].plan;
  }

  [COLLECTION](): CollectionPlan {
    return this[REVIVE_KEY];
  }
}

export class DataFrame<Row extends RowShape = AnyRow> extends PlanCollection {
  /** @internal Build frames with the static readers or fromRows(). */
  constructor(plan: PlanNode) {
    super(plan);
  }

  [WITH_PLAN](plan: unknown): DataFrame<Row> {
    return new DataFrame<Row>(plan as PlanNode);
  }

  #then<R extends RowShape = Row>(node: DistributiveOmit<PlanNode, "input">): DataFrame<R> {
    return new DataFrame<R>({ ...node, input: this.plan } as PlanNode);
  }

  // ------------------------------------------------------------------------------------------- sources

  /** A frame of these rows, split into `npartitions` (default 1). Each column gets one type from its values. */
  static fromRows<R extends RowShape>(rows: readonly R[], options: { npartitions?: number } = {}): DataFrame<R> {
    const npartitions = positiveInt(options.npartitions ?? 1, "DataFrame.fromRows(): npartitions");
    return new DataFrame<R>({ op: "from_rows", columns: rowsToColumns(rows), nrows: rows.length, npartitions });
  }

  /** CSV files (a path, a glob such as "data/*.csv", or a list); relative paths are resolved here. */
  static readCsv<R extends RowShape = AnyRow>(path: string | readonly string[], options: ReadCsvOptions = {}): DataFrame<R> {
    return new DataFrame<R>({ op: "read_csv", paths: paths(path, "DataFrame.readCsv()"), options });
  }

  static readParquet<R extends RowShape = AnyRow>(path: string | readonly string[], options: ReadParquetOptions = {}): DataFrame<R> {
    return new DataFrame<R>({ op: "read_parquet", paths: paths(path, "DataFrame.readParquet()"), options });
  }

  /** JSON lines: one object per line. */
  static readJson<R extends RowShape = AnyRow>(path: string | readonly string[], options: ReadJsonOptions = {}): DataFrame<R> {
    return new DataFrame<R>({ op: "read_json", paths: paths(path, "DataFrame.readJson()"), options });
  }

  // ------------------------------------------------------------------------------------------- operations

  select<C extends Column<Row>>(columns: C | readonly C[]): DataFrame<Pick<Row, C>> {
    return this.#then({ op: "select", columns: names(columns, "select()") });
  }

  /** Rows where `condition` (a boolean expression) holds. */
  filter(condition: Expr): DataFrame<Row> {
    if (!(condition instanceof Expr)) throw new InvalidOptionError("filter(): give an expression such as col(\"qty\").gt(0).");
    return this.#then({ op: "filter", expr: condition.node });
  }

  /** New or replaced columns, in order (a later one may use an earlier one). */
  assign<A extends Record<string, Operand>>(columns: A): DataFrame<Omit<Row, keyof A> & { [K in keyof A]: unknown }> {
    const entries = Object.entries(columns);
    if (entries.length === 0) throw new InvalidOptionError("assign(): give at least one column, e.g. { total: col(\"price\").mul(col(\"qty\")) }.");
    return this.#then({ op: "assign", columns: entries.map(([name, e]) => [name, e instanceof Expr ? e.node : { lit: literal(e, `assign(${name})`) }]) });
  }

  drop<C extends Column<Row>>(columns: C | readonly C[]): DataFrame<Omit<Row, C>> {
    return this.#then({ op: "drop", columns: names(columns, "drop()") });
  }

  rename<M extends Partial<Record<Column<Row>, string>>>(mapping: M): DataFrame<AnyRow> {
    const entries = Object.entries(mapping);
    if (entries.length === 0 || !entries.every(([, v]) => typeof v === "string" && v !== "")) {
      throw new InvalidOptionError("rename(): give { oldName: \"newName\", ... }.");
    }
    return this.#then({ op: "rename", columns: Object.fromEntries(entries) as Record<string, string> });
  }

  /** Groups by `keys`; `.agg({ out: [column, "sum"] })` gives one row per group with the keys as columns, in key order. */
  groupBy<K extends Column<Row>>(keys: K | readonly K[], options: { dropna?: boolean } = {}): GroupBy<Row, K> {
    return new GroupBy<Row, K>(this.plan, names(keys, "groupBy()") as K[], options.dropna ?? true);
  }

  merge<R2 extends RowShape>(other: DataFrame<R2>, options: { on: string | readonly string[]; how?: JoinHow; suffixes?: [string, string] }): DataFrame<Row & R2> {
    if (!(other instanceof DataFrame)) throw new InvalidOptionError("merge(): the other frame must be a DataFrame.");
    const how = options.how ?? "inner";
    if (!["inner", "left", "right", "outer"].includes(how)) throw new InvalidOptionError(`merge(): how must be inner, left, right or outer, got ${String(how)}.`);
    return this.#then({ op: "merge", right: other.plan, on: names(options.on, "merge() on"), how, suffixes: options.suffixes ?? ["_x", "_y"] });
  }

  sortValues(by: Columns<Row>, options: { ascending?: boolean | readonly boolean[] } = {}): DataFrame<Row> {
    const ascending = options.ascending ?? true;
    return this.#then({ op: "sort_values", by: names(by, "sortValues()"), ascending: typeof ascending === "boolean" ? ascending : [...ascending] });
  }

  /** Count, mean, std, min, quartiles and max of the numeric columns; the `statistic` column names each row. */
  describe(): DataFrame<{ statistic: string } & Record<string, number | null>> {
    return this.#then({ op: "describe" });
  }

  /** One row per distinct combination of `columns` with its `count`, most frequent first (ties by value). */
  valueCounts<C extends Column<Row>>(columns: C | readonly C[], options: { dropna?: boolean } = {}): DataFrame<Pick<Row, C> & { count: number }> {
    return this.#then({ op: "value_counts", columns: names(columns, "valueCounts()"), dropna: options.dropna ?? true });
  }

  /** Keeps the first of equal rows (equal in `subset`, default every column). */
  dropDuplicates(subset?: Columns<Row>): DataFrame<Row> {
    return this.#then({ op: "drop_duplicates", subset: subset === undefined ? null : names(subset, "dropDuplicates()") });
  }

  /** Drops rows with a missing value (in `subset`); `how: "all"` only rows missing every one. */
  dropna(options: { subset?: Columns<Row>; how?: "any" | "all" } = {}): DataFrame<Row> {
    const subset = options.subset === undefined ? null : names(options.subset, "dropna() subset");
    return this.#then({ op: "dropna", subset, how: options.how ?? "any" });
  }

  /** Missing values replaced: one value for every column, or `{ column: value }`. */
  fillna(value: Exclude<Operand, Expr> | Partial<Record<Column<Row>, Exclude<Operand, Expr>>>): DataFrame<Row> {
    const wire: LiteralValue | Record<string, LiteralValue> =
      typeof value === "object" && value !== null && !(value instanceof Date)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, literal(v, `fillna(${k})`)]))
        : literal(value, "fillna()");
    return this.#then({ op: "fillna", value: wire });
  }

  astype(dtypes: Partial<Record<Column<Row>, Dtype>>): DataFrame<AnyRow> {
    return this.#then({ op: "astype", dtypes: dtypes as Record<string, Dtype> });
  }

  // ------------------------------------------------------------------------------------------- reductions (lazy)

  /** Non-missing values per column, as `{ column: n }`. */
  count(): Reduction<Record<Column<Row>, number>> {
    return this.#reduce("count");
  }
  sum(): Reduction<Record<Column<Row>, number | null>> {
    return this.#reduce("sum");
  }
  mean(): Reduction<Record<Column<Row>, number | null>> {
    return this.#reduce("mean");
  }
  min(): Reduction<{ [K in Column<Row>]: Row[K] | null }> {
    return this.#reduce("min");
  }
  max(): Reduction<{ [K in Column<Row>]: Row[K] | null }> {
    return this.#reduce("max");
  }
  nunique(): Reduction<Record<Column<Row>, number>> {
    return this.#reduce("nunique");
  }
  /** The number of rows. */
  length(): Reduction<number> {
    return new Reduction<number>({ op: "length", input: this.plan });
  }

  #reduce<V>(how: ReductionName): Reduction<V> {
    return new Reduction<V>({ op: "reduce", how, input: this.plan });
  }

  // ------------------------------------------------------------------------------------------- running it

  /**
   * Every row, as objects with every column (partitions in order, rows in order within each). Missing values are
   * null, datetimes Dates (UTC), integers beyond ±(2^53 − 1) an error (use toArrow() for them).
   */
  compute(options: ComputeOptions = {}): Promise<Row[]> {
    return computePlan<Row[]>(this.plan, options);
  }

  /** The first `n` rows, looking through all partitions (dask's `head(n, npartitions=-1)`). */
  head(n = 5, options: ComputeOptions = {}): Promise<Row[]> {
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidOptionError(`head(): n must be a non-negative integer, got ${n}.`);
    return computePlan<Row[]>({ op: "head", n, input: this.plan }, options);
  }

  /** The result as an Apache Arrow table (Arrow IPC from pyarrow): for large results; 64-bit integers stay exact (bigint). */
  async toArrow(options: ComputeOptions = {}): Promise<Table> {
    return decodeArrow(await computePlan<Uint8Array>({ op: "to_arrow", input: this.plan }, options));
  }

  /** Writes a Parquet dataset (a folder, one file per partition); resolves with the files written. */
  toParquet(path: string, options: ComputeOptions = {}): Promise<string[]> {
    return computePlan<string[]>({ op: "to_parquet", path: paths(path, "toParquet()") as string, input: this.plan }, options);
  }

  /** Writes CSV files: into the folder `path` (part-0.csv, …), or to a name with `*` standing for the partition. */
  toCsv(path: string, options: ComputeOptions = {}): Promise<string[]> {
    return computePlan<string[]>({ op: "to_csv", path: paths(path, "toCsv()") as string, input: this.plan }, options);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class GroupBy<Row extends RowShape, K extends Column<Row>> {
  /** @internal */
  constructor(
    readonly plan: PlanNode,
    readonly keys: K[],
    readonly dropna: boolean,
  ) {}

  /** `{ out: [column, "sum" | "mean" | "count" | "min" | "max" | "nunique"] }`: one row per group, sorted by the keys. */
  agg<S extends AggSpec<Row>>(spec: S): DataFrame<AggRow<Row, K, S>> {
    const aggs = Object.entries(spec).map(([out, pair]) => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string") {
        throw new InvalidOptionError(`groupBy().agg(): give { ${out}: [column, "sum"] }, got ${JSON.stringify(pair)} for '${out}'.`);
      }
      return [out, pair[0], pair[1]] as [string, string, Aggregation];
    });
    if (aggs.length === 0) throw new InvalidOptionError("groupBy().agg(): give at least one aggregate, e.g. { total: [\"price\", \"sum\"] }.");
    return new DataFrame({ op: "groupby_agg", input: this.plan, keys: this.keys, aggs, dropna: this.dropna });
  }
}

/** A reduction of a frame (`sum()`, `count()`, `length()`…): lazy, crosses task boundaries, computes to a value. */
export class Reduction<V> extends PlanCollection {
  compute(options: ComputeOptions = {}): Promise<V> {
    return computePlan<V>(this.plan, options);
  }
}

// A revived plan is a frame unless its root is a reduction.
registerReviver("dataframe", (plan) => {
  const op = (plan as PlanNode).op;
  return op === "reduce" || op === "length" ? new Reduction(plan as PlanNode) : new DataFrame(plan as PlanNode);
});
