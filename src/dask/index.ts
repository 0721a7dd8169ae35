/** Public API of "daskflow/dask". */
export { DaskTaskRunner } from "./runner.ts";
export { annotate } from "./annotate.ts";
export type {
  DaskTaskRunnerOptions,
  DaskCluster,
  PythonClusterSpec,
  ClusterFactory,
  ClusterConstructor,
  DaskSecurity,
} from "./options.ts";
export { BridgeError } from "./bridge.ts";
export { getDaskClient, withDaskClient, type DaskClientOptions } from "./client/get-client.ts";
export { DaskClient, type CollectionValue } from "./client/client.ts";
export { DaskFuture } from "./client/future.ts";
export { UnresolvedFuturesError } from "./client/unresolved.ts";
export type { WorkerInfo, SchedulerInfo, StartReply as ClusterInfo } from "./protocol.ts";
export { Bag, BagItem, type FromSequenceOptions, type ReadTextOptions } from "./collections/bag/bag.ts";
export { DataFrame, GroupBy, Reduction, col, lit, Expr, DataFrameError, DataFrameSetupError } from "./collections/dataframe/index.ts";
export type { AggSpec, Aggregation, ComputeOptions, Dtype, JoinHow, Operand, PlanNode, ReadCsvOptions, ReadJsonOptions, ReadParquetOptions } from "./collections/dataframe/index.ts";
