/** Python callables by import path, and the arguments sent to them (DaskFutures become references to held data). */
import { InvalidOptionError } from "../../core/errors.ts";
import { isTaskFuture } from "../../core/future.ts";
import { type DaskFuture, isDaskFuture } from "./future.ts";

const IMPORT_PATH = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/;
/** Mirrors client_ops.FUTURE_REF. */
const FUTURE_REF = "__daskflow_future__";

export function checkImportPath(what: string, callable: unknown): string {
  if (typeof callable !== "string" || !IMPORT_PATH.test(callable)) {
    throw new InvalidOptionError(
      `DaskClient.${what}(): give a daskflow task, a function, or a Python callable as an import path such as "operator.add", got ${typeof callable === "string" ? JSON.stringify(callable) : typeof callable}.`,
    );
  }
  return callable;
}

/** Plain data for a Python call; a DaskFuture of this client anywhere inside stands for its value on the cluster. */
export function pythonArgs(what: string, value: unknown, refs: DaskFuture<unknown>[], path = "args"): unknown {
  if (isDaskFuture(value) && value.run) {
    throw new InvalidOptionError(
      `DaskClient.${what}(): ${path} is the future of a TypeScript function's run ('${value.run.taskRunName}'); a Python callable takes plain data. Pass \`await future\` instead.`,
    );
  }
  if (isDaskFuture(value)) {
    refs.push(value);
    value.passOn();
    return { [FUTURE_REF]: value.key };
  }
  if (isTaskFuture(value)) {
    throw new InvalidOptionError(
      `DaskClient.${what}(): ${path} is the future of task run '${value.taskRunName}'; a Python callable takes plain data. Pass \`await future.result()\` instead.`,
    );
  }
  if (Array.isArray(value)) return value.map((v, i) => pythonArgs(what, v, refs, `${path}[${i}]`));
  if (typeof value === "function" || typeof value === "symbol") {
    throw new InvalidOptionError(`DaskClient.${what}(): ${path} is a ${typeof value}, which cannot be sent to Python.`);
  }
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pythonArgs(what, v, refs, `${path}.${k}`)]));
  }
  return value;
}
