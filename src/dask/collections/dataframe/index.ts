/** DataFrame: dask.dataframe driven by a plan built in TypeScript. */
export { DataFrame, GroupBy, Reduction, type AggSpec } from "./frame.ts";
export { col, lit, Expr, StringFunctions, DatetimeFunctions, type Operand } from "./expr.ts";
export { DataFrameError, DataFrameSetupError } from "./errors.ts";
export type { ComputeOptions } from "./run.ts";
export type { Aggregation, Dtype, JoinHow, PlanNode, ReadCsvOptions, ReadJsonOptions, ReadParquetOptions } from "./plan.ts";
