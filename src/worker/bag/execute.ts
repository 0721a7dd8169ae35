/**
 * One Bag task in the sidecar (op `bag`): the fused steps over a partition (read from a text block, or given),
 * then a per-partition reduction or a file write; or an aggregation of partials; or a shuffle's split and merge.
 * Partitions and partials travel as daskflow-encoded bytes, so values keep their types between tasks.
 */
import { serializeError } from "../../core/errors.ts";
import { decodeValue, encodeValue } from "../../core/serialization.ts";
import type { BagReducer, BagStep } from "../../dask/collections/bag/plan.ts";
import type { BagProgram, SidecarMessage, SidecarRequest } from "../../dask/protocol.ts";
import { loadFunction } from "./functions.ts";
import { hashKey, keyOf } from "./keys.ts";
import { aggregate, perPartition } from "./reducers.ts";
import { readBlock, writeLines } from "./text.ts";

type Send = (message: SidecarMessage) => void;

const steps = new Map<string, Promise<(items: unknown[]) => unknown[]>>();

/** One step as a function of a whole partition (cached by its bytes: every partition of a Bag shares them). */
function stepOf(bytes: Uint8Array): Promise<(items: unknown[]) => unknown[]> {
  const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let made = steps.get(id);
  if (!made) {
    made = compileStep(decodeValue(bytes) as BagStep);
    made.catch(() => steps.delete(id));
    steps.set(id, made);
  }
  return made;
}

async function compileStep(step: BagStep): Promise<(items: unknown[]) => unknown[]> {
  if (step.kind === "pluck") {
    const key = step.key;
    return (items) => items.map((x) => (x as Record<string | number, unknown>)[key]);
  }
  const fn = await loadFunction(step.fn);
  const extra = step.extra;
  switch (step.kind) {
    case "map":
      return extra.length ? (items) => items.map((x) => fn(x, ...extra)) : (items) => items.map((x) => fn(x));
    case "filter":
      return (items) => items.filter((x) => fn(x, ...extra));
    case "flatMap":
      return (items) => {
        const out: unknown[] = [];
        for (const x of items) for (const y of fn(x, ...extra) as Iterable<unknown>) out.push(y);
        return out;
      };
    case "mapPartitions":
      return (items) => [...(fn(items, ...extra) as Iterable<unknown>)];
  }
}

async function run(program: BagProgram, inputs: Uint8Array[]): Promise<Uint8Array | Uint8Array[]> {
  switch (program.kind) {
    case "partition": {
      let items = program.read ? readBlock(program.read) : (decodeValue(inputs[0]!) as unknown[]);
      for (const step of program.steps) items = (await stepOf(step))(items);
      if (program.write) {
        writeLines(program.write.path, items, program.write.compression);
        return encodeValue(program.write.path, "a path");
      }
      if (program.then) return encodeValue(await perPartition(decodeValue(program.then) as BagReducer, items), "a partial result of a Bag reduction");
      return encodeValue(items, "a Bag partition");
    }
    case "aggregate":
      return encodeValue(await aggregate(decodeValue(program.agg) as BagReducer, inputs.map(decodeValue), program.final), "a Bag reduction");
    case "split": {
      const key = await loadFunction(decodeValue(program.key) as Parameters<typeof loadFunction>[0]);
      const buckets: [unknown, unknown][][] = Array.from({ length: program.n }, () => []);
      for (const x of decodeValue(inputs[0]!) as unknown[]) {
        const k = key(x);
        buckets[hashKey(k) % program.n]!.push([k, x]);
      }
      return buckets.map((b) => encodeValue(b, "a Bag shuffle bucket"));
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
      return encodeValue([...groups.values()], "a Bag group");
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
