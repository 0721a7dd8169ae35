/**
 * A throwaway PostgreSQL server for the tests: `initdb` a cluster in a temp folder, start it with `pg_ctl` on a free
 * port, and stop and delete it after (also when a test fails or the process exits). initdb refuses to run as root:
 * as root (CI), the server runs as `nobody` with the folder given to it. Without PostgreSQL's binaries it fails,
 * saying what to install, rather than skipping.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  stop(): void;
}

function findBinaries(): string {
  const onPath = (process.env.PATH ?? "").split(delimiter);
  const debian = existsSync("/usr/lib/postgresql") ? readdirSync("/usr/lib/postgresql").sort().reverse().map((v) => join("/usr/lib/postgresql", v, "bin")) : [];
  const dir = [...onPath, ...debian].find((d) => existsSync(join(d, "initdb")) && existsSync(join(d, "pg_ctl")));
  if (!dir) {
    throw new Error(
      "The PostgreSQL history tests start a real server, but `initdb` and `pg_ctl` were not found on PATH or in /usr/lib/postgresql/*/bin. Install PostgreSQL's server binaries (Debian/Ubuntu: `apt-get install postgresql`), or put their bin folder on PATH.",
    );
  }
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = findBinaries();
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "daskflow-pg-"));
  const data = join(dir, "data");
  // As root, run the server's commands as nobody, who owns the folder.
  const as = (cmd: string, args: string[]) =>
    root ? execFileSync("runuser", ["-u", "nobody", "--", join(bin, cmd), ...args], { stdio: "pipe", cwd: dir }) : execFileSync(join(bin, cmd), args, { stdio: "pipe", cwd: dir });
  if (root) chownSync(dir, 65534, 65534);
  let started = false;
  const stop = () => {
    process.off("exit", stop);
    try {
      if (started) as("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
    } catch {
      // already stopped
    }
    started = false;
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", stop);
  try {
    as("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    as("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]);
    started = true;
    return { url: (database = "postgres") => `postgres://postgres@127.0.0.1:${port}/${database}`, stop };
  } catch (error) {
    const e = error as Error & { stderr?: Buffer };
    stop();
    throw new Error(`Could not start a throwaway PostgreSQL server: ${e.message}\n${e.stderr?.toString() ?? ""}`);
  }
}
