/**
 * The team store: PostgreSQL through the `pg` package, an optional peer dependency loaded only when a postgres://
 * URL is given. Same schema and statements as SQLite (`?` placeholders become `$1`, `$2`, ...).
 */
import type { Pool, PoolClient } from "pg";
import { DaskflowError } from "../core/errors.ts";
import type { Db, Row, Tx } from "./sql-store.ts";

/** Held in a variable: code shipping's tracer (src/dask/shipping/trace.ts) follows literal imports, and workers,
 * which never record, must not be sent the driver. */
const DRIVER = "pg";

/** Any constant: the advisory lock that makes concurrent openers apply migrations one at a time. */
const MIGRATION_LOCK = 7_240_424;

export async function openPostgres(url: string): Promise<Db> {
  let pg: typeof import("pg");
  try {
    const loaded = (await import(DRIVER)) as { default?: typeof import("pg") } & typeof import("pg");
    pg = loaded.default ?? loaded;
  } catch (error) {
    throw new DaskflowError(
      `DASKFLOW_HISTORY_URL points at PostgreSQL, which needs the 'pg' package: run \`npm install pg\` in your project (${(error as Error).message}).`,
    );
  }
  const pool = new pg.Pool({ connectionString: url, max: 4, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 10_000, allowExitOnIdle: true });
  // An idle client losing its server (a restart) must not crash the flow process.
  pool.on("error", () => {});
  return new PostgresDb(pool);
}

/** `?` → `$n` (the shared statements have no `?` inside string literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

class ClientTx implements Tx {
  constructor(private readonly client: Pool | PoolClient) {}

  async all(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.client.query(numbered(sql), params as unknown[])).rows as Row[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.client.query(numbered(sql), params as unknown[])).rowCount ?? 0;
  }
}

class PostgresDb extends ClientTx implements Db {
  readonly dialect = "postgres" as const;

  constructor(private readonly pool: Pool) {
    super(pool);
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>, options: { exclusive?: boolean } = {}): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      if (options.exclusive) await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      const value = await fn(new ClientTx(client));
      await client.query("COMMIT");
      return value;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
