/** Running a command for the CLI, and the error a command ends with (printed without a stack trace). */
import { spawnSync } from "node:child_process";

/** A problem the user fixes: printed as is, exit code 1. */
export class CliError extends Error {
  override name = "CliError";
}

export interface RunResult {
  ok: boolean;
  stdout: string;
  /** stderr, or why it did not start (ENOENT, ...). */
  stderr: string;
  notFound: boolean;
}

export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): RunResult {
  const result = spawnSync(command, args, { encoding: "utf8", env, maxBuffer: 256 * 1024 * 1024 });
  const error: NodeJS.ErrnoException | undefined = result.error;
  return {
    ok: !error && result.status === 0,
    stdout: result.stdout ?? "",
    stderr: error ? error.message : (result.stderr ?? ""),
    notFound: error?.code === "ENOENT",
  };
}

/** The last lines of a command's output, for an error message. */
export function tail(result: RunResult, lines = 30): string {
  return `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-lines).join("\n");
}
