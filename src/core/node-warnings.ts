/**
 * Node's warnings about daskflow's own internals are not its users' to read. `node:sqlite` prints
 * "ExperimentalWarning: SQLite is an experimental feature and might change at any time" when it first loads on some
 * releases (22.13.0 does, 24.22.3 does not): daskflow loads it through `loadSqlite()`, which drops exactly that
 * warning while the module loads and puts `process.emitWarning` back at once. Every other warning, a user's own
 * included, prints as usual, and a process that loaded `node:sqlite` itself before daskflow did saw its warning.
 *
 * Why not a filter installed by daskflow's entry points: the builtins a module graph imports statically load
 * before any module body of it runs, so `import "node:sqlite"` anywhere in daskflow would print the warning before a
 * filter imported first could act; and a filter left in place would also hide the warning from a user's own use of
 * `node:sqlite`. ESLint rejects `node:sqlite` imports outside this file (eslint.config.js).
 */
import type * as Sqlite from "node:sqlite";

const SQLITE_EXPERIMENTAL = /^SQLite is an experimental feature/;

/** Whether a `process.emitWarning(warning, typeOrOptions)` call is Node's ExperimentalWarning about SQLite. */
export function isSqliteExperimentalWarning(warning: unknown, typeOrOptions?: unknown): boolean {
  const message = warning instanceof Error ? warning.message : typeof warning === "string" ? warning : undefined;
  const type =
    warning instanceof Error ? warning.name
    : typeof typeOrOptions === "string" ? typeOrOptions
    : typeof typeOrOptions === "object" && typeOrOptions !== null ? (typeOrOptions as { type?: unknown }).type
    : undefined;
  return type === "ExperimentalWarning" && message !== undefined && SQLITE_EXPERIMENTAL.test(message);
}

/** Runs `load` with Node's SQLite ExperimentalWarning dropped, and only that one; `process.emitWarning` is restored after. */
export function withoutSqliteWarning<T>(load: () => T): T {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept as it is, to be put back as it was
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    if (isSqliteExperimentalWarning(warning, rest[0])) return;
    Reflect.apply(emitWarning, this, [warning, ...rest]);
  };
  try {
    return load();
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** `node:sqlite`, loaded without printing Node's ExperimentalWarning about it (synchronous, as `require`). */
export function loadSqlite(): typeof Sqlite {
  // getBuiltinModule is itself from Node 22.3 / 20.16; node:sqlite from 22.5. Older: undefined, or no function.
  const sqlite = withoutSqliteWarning<typeof Sqlite | undefined>(() => (process.getBuiltinModule as typeof process.getBuiltinModule | undefined)?.("node:sqlite"));
  if (!sqlite) {
    throw new Error(`SQLite through node:sqlite needs Node.js 22.13 or newer; this is Node ${process.version}. Run on Node 22.13+ (daskflow's supported releases), or set DASKFLOW_HISTORY_URL=postgres://… for the run history.`);
  }
  return sqlite;
}
