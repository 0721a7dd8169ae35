/**
 * The embedded store: SQLite through Node's built-in `node:sqlite`, in WAL mode (readers never block the writer).
 * Several flow processes may write at once: every write transaction begins IMMEDIATE (it takes the write lock at
 * once, so two writers never deadlock upgrading a read lock, the usual cause of "database is locked") and waits up
 * to BUSY_MS for it. Statements run synchronously; the recorder batches them into few transactions.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { loadSqlite } from "../core/node-warnings.ts";
import type { Db, Row, Tx } from "./sql-store.ts";

const BUSY_MS = 60_000;

export function openSqlite(path: string, options: { readOnly?: boolean } = {}): Db {
  if (!options.readOnly) mkdirSync(dirname(path), { recursive: true });
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
  db.exec(`PRAGMA busy_timeout = ${BUSY_MS}`);
  if (!options.readOnly) {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL"); // with WAL: durable across a crash of the process, not of the machine
  }
  return new SqliteDb(db);
}

class SqliteDb implements Db {
  readonly dialect = "sqlite" as const;
  readonly #statements = new Map<string, StatementSync>();
  /** Transactions of this connection one after the other (an async caller must not begin inside another). */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(readonly db: DatabaseSync) {}

  #prepare(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.#statements.size > 200) this.#statements.clear();
      this.#statements.set(sql, s);
    }
    return s;
  }

  all(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return Promise.resolve(this.#prepare(sql).all(...(params as SQLInputValue[])) as Row[]);
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return Promise.resolve(Number(this.#prepare(sql).run(...(params as SQLInputValue[])).changes));
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const result = this.#queue.then(async () => {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const value = await fn(this);
        this.db.exec("COMMIT");
        return value;
      } catch (error) {
        // Not `db.isTransaction`: Node 22.13 (the oldest supported) does not have it.
        try {
          this.db.exec("ROLLBACK");
        } catch {
          // SQLite rolled it back already
        }
        throw error;
      }
    });
    this.#queue = result.catch(() => {});
    return result;
  }

  close(): Promise<void> {
    if (!this.#closed) this.db.close();
    this.#closed = true;
    return Promise.resolve();
  }
}
