/** The history store on SQLite (node:sqlite): the shared cases, and what is SQLite's own (the file, its schema). */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { historyLocation, openHistory } from "../../src/history/index.ts";
import { SCHEMA_VERSION, VERSION_TABLE, migrationsFrom } from "../../src/history/schema.ts";
import { loadSqlite } from "../../src/core/node-warnings.ts";
import { storeCases } from "./store-cases.ts";

const dir = mkdtempSync(join(tmpdir(), "daskflow-history-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

storeCases(() => openHistory({ url: join(dir, `h${n++}`, "history.db") }));

test("locations: sqlite: URLs, plain paths, postgres URLs without their password", () => {
  assert.deepEqual(historyLocation("sqlite:/tmp/a.db"), { kind: "sqlite", target: "/tmp/a.db", display: "/tmp/a.db" });
  assert.equal(historyLocation("sqlite:///tmp/b.db").target, "/tmp/b.db");
  assert.equal(historyLocation("rel/h.db").target, join(process.cwd(), "rel/h.db"));
  const pg = historyLocation("postgres://me:secret@db:5432/runs");
  assert.equal(pg.kind, "postgres");
  assert.ok(!pg.display.includes("secret"));
  // Default: the project root's .daskflow folder (this repository's root here).
  const original = process.env.DASKFLOW_HISTORY_URL;
  delete process.env.DASKFLOW_HISTORY_URL;
  try {
    assert.match(historyLocation().target, /\/\.daskflow\/history\.db$/);
  } finally {
    if (original !== undefined) process.env.DASKFLOW_HISTORY_URL = original;
  }
});

test("reopening keeps the data and the schema version; a store from a newer daskflow is refused", async () => {
  const url = join(dir, "again.db");
  const a = await openHistory({ url });
  await a.write({ logs: [{ flowRunId: "x", level: "info", timestamp: 1, message: "kept" }] });
  await a.close();
  const b = await openHistory({ url });
  assert.equal((await b.logs({ flowRunId: "x" })).items[0]?.message, "kept");
  await b.db.run("INSERT INTO schema_version (version, applied_at) VALUES (999, 0)");
  await b.close();
  await assert.rejects(openHistory({ url }), /schema version 999, newer than this daskflow/);
});

test("a store of schema version 1 is brought forward on open: its lines kept, new lines name their task run", async () => {
  const url = join(dir, "v1.db");
  const { DatabaseSync } = loadSqlite();
  const old = new DatabaseSync(url);
  for (const statement of [VERSION_TABLE, ...migrationsFrom(0, "sqlite")[0]!.statements]) old.exec(statement);
  old.exec("INSERT INTO schema_version (version, applied_at) VALUES (1, 0)");
  old.exec("INSERT INTO logs (flow_run_id, task_run_id, level, timestamp, message) VALUES ('f', 't', 20, 1, 'from version 1')");
  old.close();
  const store = await openHistory({ url });
  try {
    const versions = await store.db.all("SELECT version FROM schema_version ORDER BY version");
    assert.deepEqual(versions.map((r) => Number(r.version)), Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    await store.write({ logs: [{ flowRunId: "f", taskRunId: "t", taskRunName: "add-3f2", level: "info", timestamp: 2, message: "new" }] });
    const lines = (await store.logs({ flowRunId: "f" })).items;
    assert.deepEqual(lines.map((l) => [l.message, l.taskRunName]), [["from version 1", undefined], ["new", "add-3f2"]]);
  } finally {
    await store.close();
  }
});
