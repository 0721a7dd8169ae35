/**
 * `npx daskflow ui [--port 4200] [--host 127.0.0.1] [--history URL]`: serves the run history's web UI. It listens
 * at once and opens the store on the first request. On loopback it needs nothing more; on any other address it
 * makes a token, prints the URL with it, and refuses every request without it (401).
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { CliError } from "./run.ts";

export const usage = `npx daskflow ui [--port 4200] [--host 127.0.0.1] [--history URL]
  Serves the web UI over the run history (DASKFLOW_HISTORY_URL, or --history, else .daskflow/history.db) at
  http://127.0.0.1:4200/. Read-only. On an address other than loopback (e.g. --host 0.0.0.0) it prints a URL with
  an access token; requests without it are refused. --port 0 picks a free port.`;

export async function ui(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { port: { type: "string", default: "4200" }, host: { type: "string", default: "127.0.0.1" }, history: { type: "string" } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`daskflow ui: --port must be a port number (0-65535); got '${values.port}'.`);
  const host = values.host;
  const [{ createUiServer, isLoopback }, { openHistory, historyLocation }] = await Promise.all([import("../ui/server.ts"), import("../history/index.ts")]);
  const where = historyLocation(values.history ?? process.env.DASKFLOW_HISTORY_URL);
  const token = isLoopback(host) ? undefined : randomBytes(24).toString("base64url");
  const { server } = createUiServer({ host, port, token, store: () => openHistory({ url: values.history ?? process.env.DASKFLOW_HISTORY_URL ?? where.target }) });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new CliError(`daskflow ui: port ${port} on ${host} is in use; pick another with --port.`) : error));
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  const shown = host === "0.0.0.0" || host === "::" ? hostname() : host.includes(":") ? `[${host}]` : host;
  const url = `http://${shown}:${actual}/${token ? `?token=${token}` : ""}`;
  console.log(`daskflow ui: ${url}`);
  console.log(`  history: ${where.display}${token ? "\n  off loopback: only requests with this token are answered" : ""}\n  Ctrl-C stops it.`);
  // Open event streams (live pages) would hold close() forever: end every connection.
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
