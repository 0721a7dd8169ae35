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

/** The stamp, or undefined when there is none or it is unreadable or of another format (then: not set up). */
export function readStamp(venv: string): Stamp | undefined {
  let stamp: Partial<Stamp>;
  try {
    if (!existsSync(stampPath(venv))) return undefined;
    stamp = JSON.parse(readFileSync(stampPath(venv), "utf8")) as Partial<Stamp>;
  } catch {
    return undefined;
  }
  const strings = [stamp.hash, stamp.base, stamp.python, stamp.purelib].every((v) => typeof v === "string");
  return strings && Array.isArray(stamp.extras) && typeof stamp.versions === "object" ? (stamp as Stamp) : undefined;
}

export function writeStamp(venv: string, stamp: Stamp): void {
  writeFileSync(stampPath(venv), `${JSON.stringify(stamp, null, 2)}\n`);
}
