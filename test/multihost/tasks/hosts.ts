/**
 * Tasks for the multi-host test. They import a local helper module and an npm package; each reports where it ran
 * (its worker's address) and what its host sees.
 */
import { existsSync } from "node:fs";
import { decode, encode } from "@msgpack/msgpack";
import { getRunContext, task } from "../../../src/index.ts";
import { HELPER_TAG, triangle } from "./helper.ts";

export interface Placed {
  i: number;
  value: number;
  tag: string;
  worker: string;
  /** Whether the flow's repository (where this module was written) exists on the host that ran it. */
  seesRepository: boolean;
  node: string;
}

export const place = task({ name: "place" }, async (i: number, repository: string, ms: number): Promise<Placed> => {
  if (ms) await new Promise((r) => setTimeout(r, ms));
  // Through the npm package and back: it works on the host only if the package was shipped.
  const value = decode(encode({ n: triangle(i) })) as { n: number };
  return {
    i,
    value: value.n,
    tag: HELPER_TAG,
    worker: getRunContext().worker?.address ?? "not on a Dask worker",
    seesRepository: existsSync(`${repository}/package.json`),
    node: process.execPath,
  };
});

/** A task that submits tasks from its host: they go to the same scheduler, from the host's own bridge. */
export const spread = task({ name: "spread" }, async (n: number, repository: string) => {
  const children = await Promise.all(place.map(Array.from({ length: n }, (_, i) => i), repository, 0).map((f) => f.result()));
  return { parent: getRunContext().worker?.address ?? "not on a Dask worker", children };
});
