/**
 * A DataFrame plan: a tree of plain-data nodes, evaluated by dask.dataframe in the bridge
 * (python/daskflow_bridge/collections/dataframe_plan.py, which holds the fixed table of operations).
 */

/** A literal as it travels: dates as epoch milliseconds, bigints as decimal strings. */
export type LiteralValue = number | string | boolean | null | { date: number } | { bigint: string };

/** A column expression as it travels (expr.ts builds them). */
export type ExprNode = { col: string } | { lit: LiteralValue } | { fn: string; args: unknown[] };

/** Column types as fromRows() sends them (dataframe_plan.py `_from_rows`). */
export type RowColumnType = "int" | "float" | "bigint" | "string" | "boolean" | "datetime" | "null";

export interface RowColumn {
  name: string;
  type: RowColumnType;
  /** Dates as epoch milliseconds, bigints as decimal strings, missing values as null. */
  values: (number | string | boolean | null)[];
}

/** Dtype names astype() and cast() accept (dataframe_expr.py DTYPES). */
export type Dtype =
  | "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32" | "uint64"
  | "float32" | "float64" | "Int64" | "bool" | "boolean" | "string" | "category" | "datetime";

export type Aggregation = "sum" | "mean" | "count" | "min" | "max" | "nunique";
export type Reduction = Aggregation;
export type JoinHow = "inner" | "left" | "right" | "outer";

export interface ReadCsvOptions {
  sep?: string;
  /** Only these columns (pandas `usecols`). */
  columns?: string[];
  dtype?: Record<string, Dtype>;
  parseDates?: string[];
  /** Bytes per partition, e.g. 64_000_000 or "64MB". */
  blocksize?: number | string;
  header?: number | null;
}

export interface ReadParquetOptions {
  columns?: string[];
}

export interface ReadJsonOptions {
  blocksize?: number | string;
  dtype?: Record<string, Dtype>;
}

type Input = { input: PlanNode };

export type PlanNode =
  | { op: "from_rows"; columns: RowColumn[]; nrows: number; npartitions: number }
  | { op: "read_csv"; paths: string | string[]; options: ReadCsvOptions }
  | { op: "read_parquet"; paths: string | string[]; options: ReadParquetOptions }
  | { op: "read_json"; paths: string | string[]; options: ReadJsonOptions }
  | { op: "dataset"; name: string }
  | (Input & { op: "select"; columns: string[] })
  | (Input & { op: "filter"; expr: ExprNode })
  | (Input & { op: "assign"; columns: [string, ExprNode][] })
  | (Input & { op: "drop"; columns: string[] })
  | (Input & { op: "rename"; columns: Record<string, string> })
  | (Input & { op: "groupby_agg"; keys: string[]; aggs: [string, string, Aggregation][]; dropna: boolean })
  | (Input & { op: "merge"; right: PlanNode; on: string[]; how: JoinHow; suffixes: [string, string] })
  | (Input & { op: "sort_values"; by: string[]; ascending: boolean | boolean[] })
  | (Input & { op: "head"; n: number })
  | (Input & { op: "describe" })
  | (Input & { op: "value_counts"; columns: string[]; dropna: boolean })
  | (Input & { op: "drop_duplicates"; subset: string[] | null })
  | (Input & { op: "dropna"; subset: string[] | null; how: "any" | "all" })
  | (Input & { op: "fillna"; value: LiteralValue | Record<string, LiteralValue> })
  | (Input & { op: "astype"; dtypes: Record<string, Dtype> })
  | (Input & { op: "reduce"; how: Reduction })
  | (Input & { op: "length" })
  | (Input & { op: "to_arrow" })
  | (Input & { op: "to_parquet" | "to_csv"; path: string });
