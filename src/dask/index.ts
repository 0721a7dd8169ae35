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
