#!/usr/bin/env node
/** The `daskflow` command (package.json `bin`): `daskflow setup`, `daskflow doctor`; one file per command. */
import { doctor, usage as doctorUsage } from "./doctor.ts";
import { CliError } from "./run.ts";
import { setup, usage as setupUsage } from "./setup.ts";

const help = `Usage:\n${setupUsage}\n\n${doctorUsage}`;
const [command, ...rest] = process.argv.slice(2);

try {
  if (command === "setup") setup(rest);
  else if (command === "doctor") process.exitCode = doctor(rest);
  else if (command === undefined || command === "help" || command === "--help" || command === "-h") console.log(help);
  else throw new CliError(`daskflow: unknown command '${command}'.\n${help}`);
} catch (error) {
  // Bad options (node:util parseArgs) and CliErrors are the user's to fix: no stack trace.
  if (error instanceof CliError || (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
    console.error(error instanceof CliError ? error.message : `daskflow ${command}: ${(error as Error).message}`);
    process.exitCode = 1;
  } else throw error;
}
