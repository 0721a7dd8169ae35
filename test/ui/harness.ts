/**
 * The UI tests' set-up: a throwaway history file that real flows in this process record into
 * (DASKFLOW_HISTORY_URL), and the UI server over it on a free loopback port.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { openHistory, type HistoryStore } from "../../src/history/index.ts";
import { createUiServer } from "../../src/ui/server.ts";
import type { LiveHub } from "../../src/ui/live.ts";

export interface UiHarness extends AsyncDisposable {
  url: string;
  dbPath: string;
  store: HistoryStore;
  live: LiveHub;
  close(): Promise<void>;
}

/**
 * Points this process's recording at a fresh file (or at `url`, e.g. a PostgreSQL database; set before the flows
 * run) and serves the UI over it.
 */
export async function startUi(url?: string): Promise<UiHarness> {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-ui-"));
  const dbPath = url ?? join(dir, "history.db");
  const before = process.env.DASKFLOW_HISTORY_URL;
  process.env.DASKFLOW_HISTORY_URL = dbPath;
  const store = await openHistory({ url: dbPath });
  const { server, live } = createUiServer({ host: "127.0.0.1", port: 0, store: async () => store });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await store.close();
    if (before === undefined) delete process.env.DASKFLOW_HISTORY_URL;
    else process.env.DASKFLOW_HISTORY_URL = before;
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, dbPath, store, live, close, [Symbol.asyncDispose]: close };
}

/** Waits until `check` gives a value (the recorder writes in batches, a little after the events). */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
