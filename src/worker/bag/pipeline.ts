/**
 * A partition's fused steps as a push pipeline: each element flows from the source (a text block's lines, or a
 * decoded partition) through every element-wise step into the end (a reduction's accumulator, or the output
 * array) before the next element starts. No step materializes its whole output, as dask.bag's fused iterators do
 * not: a word count over a 16 MB block keeps no array of its 3 million words. `mapPartitions` takes a whole
 * partition, so the pipeline collects before it and pushes its result on.
 */
import { decodeValue } from "../../core/serialization.ts";
import type { BagStep } from "../../dask/collections/bag/plan.ts";
import { loadFunction } from "./functions.ts";

export type Sink = (item: unknown) => void;
/** A source pushes every element of the partition into the sink it is given. */
export type Source = (sink: Sink) => void;

type Stage = { each: (down: Sink) => Sink } | { whole: (items: unknown[]) => unknown[] };

const stages = new Map<string, Promise<Stage>>();

/** One step (cached by its bytes: every partition of a Bag shares them). */
function stageOf(bytes: Uint8Array): Promise<Stage> {
  const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let made = stages.get(id);
  if (!made) {
    made = compile(decodeValue(bytes) as BagStep);
    made.catch(() => stages.delete(id));
    stages.set(id, made);
  }
  return made;
}

async function compile(step: BagStep): Promise<Stage> {
  if (step.kind === "pluck") {
    const key = step.key;
    return { each: (down) => (x) => down((x as Record<string | number, unknown>)[key]) };
  }
  const fn = await loadFunction(step.fn);
  const extra = step.extra;
  const call = extra.length ? (x: unknown) => fn(x, ...extra) : (x: unknown) => fn(x);
  switch (step.kind) {
    case "map":
      return { each: (down) => (x) => down(call(x)) };
    case "filter":
      return { each: (down) => (x) => void (call(x) && down(x)) };
    case "flatMap":
      return {
        each: (down) => (x) => {
          const out = call(x);
          if (Array.isArray(out)) for (let i = 0; i < out.length; i++) down(out[i]);
          else for (const y of out as Iterable<unknown>) down(y);
        },
      };
    case "mapPartitions":
      return { whole: (items) => [...(fn(items, ...extra) as Iterable<unknown>)] };
  }
}

export function arraySource(items: readonly unknown[]): Source {
  return (sink) => {
    for (let i = 0; i < items.length; i++) sink(items[i]);
  };
}

/** Runs `source` through the steps into `end`. */
export async function runSteps(source: Source, steps: readonly Uint8Array[], end: Sink): Promise<void> {
  const compiled = await Promise.all(steps.map(stageOf));
  // Split at whole-partition stages: each segment is a source, element-wise stages, then the next collector.
  let from = source;
  let start = 0;
  for (let i = 0; i <= compiled.length; i++) {
    const stage = compiled[i];
    if (stage && "each" in stage) continue;
    const segment = compiled.slice(start, i) as Extract<Stage, { each: unknown }>[];
    if (!stage) {
      from(chain(segment, end));
      return;
    }
    const collected: unknown[] = [];
    from(chain(segment, (x) => collected.push(x)));
    from = arraySource(stage.whole(collected));
    start = i + 1;
  }
}

function chain(segment: readonly Extract<Stage, { each: unknown }>[], end: Sink): Sink {
  let sink = end;
  for (let i = segment.length - 1; i >= 0; i--) sink = segment[i]!.each(sink);
  return sink;
}
