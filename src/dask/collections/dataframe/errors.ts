import { DaskflowError } from "../../../core/errors.ts";

/** A plan the bridge cannot evaluate (unknown column, wrong type…), or a value that has no exact JavaScript form. */
export class DataFrameError extends DaskflowError {
  override name = "DataFrameError";
}

/** The Python that runs the plan lacks pandas or pyarrow; the message names `npx daskflow setup --with dataframe`. */
export class DataFrameSetupError extends DaskflowError {
  override name = "DataFrameSetupError";
}

/** Bridge errors of these names come back as the classes above, keeping the Python traceback. */
export function asDataFrameError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const Ctor = error.name === "DataFrameError" ? DataFrameError : error.name === "DataFrameSetupError" ? DataFrameSetupError : undefined;
  if (!Ctor || error instanceof Ctor) return error;
  const converted = new Ctor(error.message);
  if (error.stack) converted.stack = error.stack;
  return converted;
}
