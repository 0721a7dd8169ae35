/**
 * One Bag task in the sidecar (op `bag`): the fused steps over a partition (read from a text block, or given),
 * pushed element by element into a per-partition reduction, a file write or the output partition (pipeline.ts);
 * or an aggregation of partials; or a shuffle's split and merge.
 * Partitions and partials travel as daskflow-encoded bytes, so values keep their types between tasks.
 */
import { serializeError } from "../../core/errors.ts";
import { decodeValue, encodeValueParts } from "../../core/serialization.ts";
import type { BagReducer } from "../../dask/collections/bag/plan.ts";
import type { ValueBytes } from "../../transfer/value-bytes.ts";
import type { BagProgram, SidecarMessage, SidecarRequest } from "../../dask/protocol.ts";
import { loadFunction } from "./functions.ts";
import { hashKey, keyOf } from "./keys.ts";
import { accumulator, aggregate } from "./reducers.ts";
import { arraySource, runSteps } from "./pipeline.ts";
import { blockSource, writeLines } from "./text.ts";

type Send = (message: SidecarMessage) => void;

async function run(program: BagProgram, inputs: Uint8Array[]): Promise<ValueBytes | ValueBytes[]> {
  switch (program.kind) {
    case "partition": {
      const source = program.read ? blockSource(program.read) : arraySource(decodeValue(inputs[0]!) as unknown[]);
      if (program.then) {
        const partial = await accumulator(decodeValue(program.then) as BagReducer);
        await runSteps(source, program.steps, partial.add);
        return encodeValueParts(partial.result(), "a partial result of a Bag reduction");
      }
      const items: unknown[] = [];
      await runSteps(source, program.steps, (x) => items.push(x));
      if (program.write) {
        writeLines(program.write.path, items, program.write.compression);
        return encodeValueParts(program.write.path, "a path");
      }
      return encodeValueParts(items, "a Bag partition");
    }
    case "aggregate":
      return encodeValueParts(await aggregate(decodeValue(program.agg) as BagReducer, inputs.map(decodeValue), program.final), "a Bag reduction");
    case "split": {
      const key = await loadFunction(decodeValue(program.key) as Parameters<typeof loadFunction>[0]);
      const buckets: [unknown, unknown][][] = Array.from({ length: program.n }, () => []);
      for (const x of decodeValue(inputs[0]!) as unknown[]) {
        const k = key(x);
        buckets[hashKey(k) % program.n]!.push([k, x]);
      }
      return buckets.map((b) => encodeValueParts(b, "a Bag shuffle bucket"));
    }
    case "group": {
      const groups = new Map<unknown, [unknown, unknown[]]>();
      for (const bucket of inputs) {
        for (const [k, x] of decodeValue(bucket) as [unknown, unknown][]) {
          const id = keyOf(k);
          const group = groups.get(id);
          if (group) group[1].push(x);
          else groups.set(id, [k, [x]]);
        }
      }
      return encodeValueParts([...groups.values()], "a Bag group");
    }
  }
}

export async function handleBag(request: Extract<SidecarRequest, { op: "bag" }>, send: Send): Promise<void> {
  try {
    send({ op: "bag-done", ok: true, data: await run(request.program, request.inputs) });
  } catch (error) {
    send({ op: "bag-done", ok: false, error: serializeError(error) });
  }
}
