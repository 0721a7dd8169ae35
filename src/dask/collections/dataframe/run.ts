/**
 * The one place a DataFrame plan reaches the cluster: `client.compute(collection)` of the shared collection
 * contract (bridge op `collection`, action `compute`), on the given client or on the current run's
 * (getDaskClient: the flow's cluster, a task's worker's scheduler, or a temporary local cluster outside a run).
 */
import { type CollectionPlan, COLLECTION, type DaskCollection } from "../collection.ts";
import type { DaskClient } from "../../client/client.ts";
import { withDaskClient } from "../../client/get-client.ts";
import { asDataFrameError } from "./errors.ts";
import type { PlanNode } from "./plan.ts";

export interface ComputeOptions {
  /** A client from getDaskClient(); without one, the current run's client is used. */
  client?: DaskClient;
}

/** A plan as a collection of kind "dataframe" (what DataFrame and its results hand to a client). */
export function planCollection(plan: PlanNode): DaskCollection {
  return { [COLLECTION]: (): CollectionPlan => ({ kind: "dataframe", plan }) };
}

export async function computePlan<T>(plan: PlanNode, options: ComputeOptions = {}): Promise<T> {
  const collection = planCollection(plan);
  try {
    if (options.client) return (await options.client.compute(collection)) as T;
    return (await withDaskClient((client) => client.compute(collection))) as T;
  } catch (error) {
    throw asDataFrameError(error);
  }
}
