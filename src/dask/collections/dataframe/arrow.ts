/**
 * Arrow IPC bytes from the bridge (pyarrow) to an apache-arrow Table. Loaded on first use, so processes that never
 * call toArrow() (every worker sidecar) do not load apache-arrow.
 */
import type { Table } from "apache-arrow";

export async function decodeArrow(bytes: Uint8Array): Promise<Table> {
  const { tableFromIPC } = await import("apache-arrow");
  return tableFromIPC(bytes);
}
