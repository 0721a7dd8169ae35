/** The history store on SQLite (node:sqlite): the shared cases, and what is SQLite's own (the file, its schema). */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { historyLocation, openHistory } from "../../src/history/index.ts";
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
