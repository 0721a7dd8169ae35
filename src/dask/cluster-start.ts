/**
 * The cluster part of a runner's `start` request, from its options: a Python cluster class by import path (the
 * bridge makes it), or what a TypeScript class or factory made (an address to connect to, a Python class with its
 * kwargs, or a running cluster the runner closes at the end); and what shutting the runner down ends.
 */
import { InvalidOptionError } from "../core/errors.ts";
import { type DaskCluster, type DaskTaskRunnerOptions, isClassConstructor, toSnakeCase } from "./options.ts";
import type { StartRequest } from "./protocol.ts";

/** Fills the cluster part of `request`; gives the cluster a TypeScript class or factory made, when it did. */
export async function describeCluster(options: Readonly<DaskTaskRunnerOptions>, request: StartRequest): Promise<DaskCluster | undefined> {
  const kwargs = toSnakeCase(options.clusterKwargs);
  const cls = options.clusterClass;
  if (options.adaptKwargs) request.adapt_kwargs = toSnakeCase(options.adaptKwargs);
  if (cls === undefined || typeof cls === "string") {
    request.cluster_class = cls ?? "distributed.LocalCluster";
    request.cluster_kwargs = kwargs;
    return undefined;
  }
  const made = isClassConstructor(cls) ? new cls(kwargs) : await cls(kwargs);
  if (typeof made === "string") {
    if (made.includes("://")) request.address = made;
    else {
      request.cluster_class = made;
      request.cluster_kwargs = kwargs;
    }
    return undefined;
  }
  if ("pythonClass" in made) {
    request.cluster_class = made.pythonClass;
    request.cluster_kwargs = toSnakeCase(made.kwargs ?? kwargs);
    return undefined;
  }
  request.address = await made.address;
  delete request.adapt_kwargs; // the bridge only connects: adaptive scaling is the TypeScript cluster's own
  if (options.adaptKwargs) await adaptTsCluster(made, options.adaptKwargs);
  return made;
}

/** For the interrupt line: what this runner's shutdown ends. */
export function teardownNote(request: StartRequest, tsCluster: DaskCluster | undefined): (scheduler: string | undefined) => string {
  if (tsCluster) return () => `the Dask cluster of ${tsCluster.constructor.name} at ${request.address} (its close())`;
  if (request.address) return () => `the connection to the Dask scheduler at ${request.address} (the cluster keeps running)`;
  return (scheduler) => `the temporary Dask cluster (${request.cluster_class}${scheduler ? ` at ${scheduler}` : ", still starting"})`;
}

/** `adaptKwargs` for a cluster made in TypeScript: its own `adapt(kwargs)`, or a clear error when it has none. */
async function adaptTsCluster(cluster: DaskCluster, kwargs: Record<string, unknown>): Promise<void> {
  if (typeof cluster.adapt !== "function") {
    const name = (cluster as object).constructor?.name ?? "the cluster";
    throw new InvalidOptionError(
      `DaskTaskRunner: adaptKwargs were given, but ${name} (from clusterClass) has no adapt(kwargs) method. Remove adaptKwargs, or give the class an adapt method that scales it.`,
    );
  }
  await cluster.adapt(kwargs);
}
