/**
 * Loads node:sqlite as WARNINGS_LOAD says, then emits other warnings, for test/core/node-warnings.test.ts:
 * "daskflow" through loadSqlite(), "plain" with process.getBuiltinModule (Node's warning unfiltered). Inside the
 * filter's window it also emits another ExperimentalWarning and a plain Warning saying "SQLite is ...", which must
 * print; after it, a user's own ExperimentalWarning. Prints "sqlite ok" when a database answered.
 */
import { loadSqlite, withoutSqliteWarning } from "../../../src/core/node-warnings.ts";

const sqlite =
  process.env.WARNINGS_LOAD === "plain" ?
    process.getBuiltinModule("node:sqlite") // eslint-disable-line no-restricted-syntax -- the unfiltered control
  : withoutSqliteWarning(() => {
      process.emitWarning("Frobnication is an experimental feature and might change at any time", "ExperimentalWarning");
      process.emitWarning("SQLite is an experimental feature, says a plain Warning");
      return loadSqlite();
    });
const db = new sqlite.DatabaseSync(":memory:");
const row = db.prepare("select 40 + 2 as answer").get() as { answer: number };
process.emitWarning("the user's own experimental thing", "ExperimentalWarning");
console.log(`sqlite ok ${row.answer} ${process.version}`);
