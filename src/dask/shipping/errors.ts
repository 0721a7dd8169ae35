import { DaskflowError } from "../../core/errors.ts";

/** The flow's code cannot be shipped to the Dask workers (the message says why and what to do). */
export class ShippingError extends DaskflowError {
  override name = "ShippingError";
}
