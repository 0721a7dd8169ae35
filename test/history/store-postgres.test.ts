/** The history store on a real PostgreSQL server (started by the test): the same cases as on SQLite. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import pg from "pg";
import { openHistory } from "../../src/history/index.ts";
import { startPostgres, type PostgresServer } from "./postgres.ts";
import { SCHEMA_VERSION } from "../../src/history/schema.ts";
import { storeCases } from "./store-cases.ts";

let server: PostgresServer;
let n = 0;
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());

/** A fresh database per case. */
async function freshStore() {
  const name = `history_${n++}`;
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return openHistory({ url: server.url(name) });
}

storeCases(freshStore);

test("concurrent openers of a new database migrate it once", async () => {
  const url = server.url("postgres");
  const stores = await Promise.all([1, 2, 3, 4].map(() => openHistory({ url })));
  try {
    const [one] = stores;
    const rows = await one!.db.all("SELECT version FROM schema_version");
    assert.deepEqual(rows.map((r) => Number(r.version)).sort(), Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

test("flow processes record to PostgreSQL: two at once, every run and task run there", async () => {
  const script = join(import.meta.dirname, "scripts", "writer.ts");
  const url = server.url("postgres");
  const run = () =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", script], { env: { ...process.env, DASKFLOW_HISTORY_URL: url, FLOWS: "2", TASKS: "200" }, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (status) => resolve({ status, stderr }));
      after(() => child.exitCode === null && child.kill("SIGKILL"));
    });
  const exits = await Promise.all([run(), run()]);
  for (const exit of exits) assert.equal(exit.status, 0, exit.stderr);
  for (const exit of exits) assert.doesNotMatch(exit.stderr, /Run history/);
  const store = await openHistory({ url });
  try {
    const runs = (await store.flowRuns({ flowName: "writer" })).items;
    assert.equal(runs.length, 4);
    for (const r of runs) assert.deepEqual(r.taskCounts, { COMPLETED: 200 });
  } finally {
    await store.close();
  }
});
