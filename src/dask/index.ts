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
export { getDaskClient, DaskClient, DaskFuture } from "./client.ts";
export type { WorkerInfo, StartReply as ClusterInfo } from "./protocol.ts";
