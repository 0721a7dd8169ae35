/** Public API of "daskflow/dask". */
export { DaskTaskRunner } from "./runner.ts";
export { annotate } from "./annotate.ts";
export type {
  DaskTaskRunnerOptions,
  DaskCluster,
  PythonClusterSpec,
  ClusterFactory,
  ClusterConstructor,
} from "./options.ts";
export { BridgeError } from "./bridge.ts";
export { getDaskClient, DaskClient, DaskFuture } from "./client.ts";
export type { WorkerInfo, StartReply as ClusterInfo } from "./protocol.ts";
export { DataFrame, GroupBy, Reduction, col, lit, Expr, DataFrameError, DataFrameSetupError } from "./collections/dataframe/index.ts";
export type { AggSpec, Aggregation, ComputeOptions, Dtype, JoinHow, Operand, PlanNode, ReadCsvOptions, ReadJsonOptions, ReadParquetOptions } from "./collections/dataframe/index.ts";
