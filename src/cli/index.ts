#!/usr/bin/env node
/** The `daskflow` command (package.json `bin`): `daskflow setup`, `daskflow doctor`, `daskflow runs`, `daskflow history`; one file per command. */
import { CliError } from "./run.ts";

const [command, ...rest] = process.argv.slice(2);
const help = async () => {
  const [setup, doctor, ui] = await Promise.all([import("./setup.ts"), import("./doctor.ts"), import("./ui.ts")]);
  return `Usage:\n${setup.usage}\n\n${doctor.usage}\n\n${ui.usage}`;
};

try {
  // Each command loads only its own module.
  if (command === "setup") (await import("./setup.ts")).setup(rest);
  else if (command === "doctor") process.exitCode = (await import("./doctor.ts")).doctor(rest);
  else if (command === "runs") await (await import("./runs.ts")).runs(rest);
  else if (command === "history") await (await import("./history.ts")).historyCommand(rest);
  else if (command === "ui") await (await import("./ui.ts")).ui(rest);
  else if (command === undefined || command === "help" || command === "--help" || command === "-h") console.log(await help());
  else throw new CliError(`daskflow: unknown command '${command}'.\n${await help()}`);
} catch (error) {
  // Bad options (node:util parseArgs) and CliErrors are the user's to fix: no stack trace.
  if (error instanceof CliError || (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
    console.error(error instanceof CliError ? error.message : `daskflow ${command}: ${(error as Error).message}`);
    process.exitCode = 1;
  } else throw error;
}
