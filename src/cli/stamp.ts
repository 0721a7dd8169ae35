/** The record `setup` leaves in a finished environment: the inputs' hash and what it installed. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Stamp {
  hash: string;
  /** The base interpreter as given, reused by a later `setup` without --python. */
  base: string;
  python: string;
  extras: string[];
  /** The environment's site-packages, where the bridge's dist-info must stay (a cheap check of the fast path). */
  purelib: string;
  /** Installed versions, by distribution name. */
  versions: Record<string, string>;
}

export const stampPath = (venv: string) => join(venv, ".daskflow-setup.json");

export function readStamp(venv: string): Stamp | undefined {
  try {
    return existsSync(stampPath(venv)) ? (JSON.parse(readFileSync(stampPath(venv), "utf8")) as Stamp) : undefined;
  } catch {
    return undefined; // unreadable: treated as not set up
  }
}

export function writeStamp(venv: string, stamp: Stamp): void {
  writeFileSync(stampPath(venv), `${JSON.stringify(stamp, null, 2)}\n`);
}
