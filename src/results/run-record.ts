/**
 * Run records: what a resume needs, kept with the results (not in the history store, which may be off): the flow's
 * name and its run's parameters in daskflow's encoding. `runs/<id>.json`, and `runs/last-<flow>` naming the newest
 * run of a flow (DASKFLOW_RESUME=last). Written when the run starts, before any task: a flow process killed at any
 * point after that can be resumed.
 */
import { DaskflowError } from "../core/errors.ts";
import { decodeValueAsync, encodeValue } from "../core/serialization.ts";
import type { Backend } from "./backend.ts";
import { sha256 } from "./storage.ts";

export interface RunRecord {
  id: string;
  flowName: string;
  /** The run id "runId"-cached tasks are keyed by (a resumed run keeps its first run's). */
  keyRunId: string;
  resumedFrom?: string;
  created: string;
  /** base64 of the encoded parameter list. */
  parameters: string;
}

const lastFile = (flowName: string) => `runs/last-${sha256(flowName).slice(0, 16)}`;

/** Writes the record; false when the parameters cannot be encoded (such a run cannot be resumed). */
export async function writeRunRecord(backend: Backend, record: Omit<RunRecord, "parameters" | "created">, parameters: readonly unknown[]): Promise<boolean> {
  let encoded: Buffer;
  try {
    encoded = encodeValue([...parameters], "the flow's parameters");
  } catch {
    return false;
  }
  const full: RunRecord = { ...record, created: new Date().toISOString(), parameters: encoded.toString("base64") };
  await backend.putText(`runs/${record.id}.json`, JSON.stringify(full));
  await backend.putText(lastFile(record.flowName), record.id);
  return true;
}

/** The record of `idOrLast` ("last": the newest run of `flowName`), with its parameters decoded. */
export async function readRunRecord(backend: Backend, idOrLast: string, flowName: string): Promise<{ record: RunRecord; parameters: unknown[] }> {
  let id = idOrLast;
  if (idOrLast === "last") {
    const last = await backend.getText(lastFile(flowName));
    if (!last) throw new DaskflowError(`Cannot resume the last run of flow '${flowName}': no run of it is recorded at '${backend.location}'. Run it once first, or check resultStorage / DASKFLOW_RESULT_STORAGE.`);
    id = last.trim();
  }
  if (!/^[0-9a-zA-Z-]+$/.test(id)) throw new DaskflowError(`Cannot resume flow run '${id}': that is not a flow run id (a UUID, or "last").`);
  const text = await backend.getText(`runs/${id}.json`);
  if (!text) throw new DaskflowError(`Cannot resume flow run '${id}': no record of it at '${backend.location}' (runs are recorded where their results are stored; check resultStorage).`);
  const record = JSON.parse(text) as RunRecord;
  if (record.flowName !== flowName) throw new DaskflowError(`Cannot resume flow run '${id}' with flow '${flowName}': it is a run of flow '${record.flowName}'.`);
  const parameters = (await decodeValueAsync(Buffer.from(record.parameters, "base64"))) as unknown[];
  return { record, parameters };
}
