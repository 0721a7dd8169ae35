/**
 * Tasks for the DataFrame flow tests (a module of their own: Dask workers import the module that defines a task).
 * Prefect's own dataframe flow, ported: one task returns a frame, a second sums it, a third computes the sum.
 */
import { task } from "../../src/index.ts";
import { DataFrame, type Reduction } from "../../src/dask/index.ts";

export interface XY {
  x: number;
  y: number;
}

export const createFrame = task(() => DataFrame.fromRows<XY>([{ x: 1, y: 2 }, { x: 1, y: 2 }, { x: 1, y: 2 }], { npartitions: 1 }));

export const sumFrame = task((df: DataFrame<XY>) => df.sum());

export const computeSum = task((sum: Reduction<Record<keyof XY, number | null>>) => sum.compute());

/** What arrived, as the task saw it. */
export const inspect = task((df: DataFrame<XY>) => ({ isDataFrame: df instanceof DataFrame, op: df.plan.op }));
