/** Test helpers: capture what a run prints to stderr (where daskflow logs go); the Nodes pinned in scripts/node.sh. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export async function captureStderr<T>(fn: () => Promise<T>): Promise<{ value: T; output: string }> {
  const original = process.stderr.write.bind(process.stderr);
  let output = "";
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    output += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    void rest;
    return true;
  });
  try {
    const value = await fn();
    return { value, output };
  } finally {
    process.stderr.write = original;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` with DASKFLOW_LOGGING_LEVEL set, restoring it after. */
export async function withLoggingLevel<T>(level: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.DASKFLOW_LOGGING_LEVEL;
  process.env.DASKFLOW_LOGGING_LEVEL = level;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.DASKFLOW_LOGGING_LEVEL;
    else process.env.DASKFLOW_LOGGING_LEVEL = before;
  }
}

/**
 * The bin folder of a Node pinned in scripts/node.sh: "current" (Node 24, what the repository runs on where the
 * machine's Node is too old) or "lowest" (the oldest supported Node 22); fetched from the npm registry into
 * .cache/node on first use (one line on stderr says so). Undefined on a platform without pins.
 */
export function pinnedNodeBin(which: "current" | "lowest"): string | undefined {
  const repo = resolve(import.meta.dirname, "..");
  const pin = nodePins().find((p) => p.which === which && p.platform === `${process.platform}-${process.arch}`);
  if (!pin) return undefined;
  return execFileSync("bash", [join(repo, "scripts", "node.sh"), "--bin", which], { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

export interface NodePin {
  which: "current" | "lowest";
  platform: string;
  version: string;
  integrity: string;
}

/** The pin table of scripts/node.sh. */
export function nodePins(): NodePin[] {
  const text = readFileSync(resolve(import.meta.dirname, "..", "scripts", "node.sh"), "utf8");
  return [...text.matchAll(/^(current|lowest) +(\S+) +(\S+) +(sha512-\S+)$/gm)].map(([, which, platform, version, integrity]) => ({
    which: which as NodePin["which"],
    platform: platform!,
    version: version!,
    integrity: integrity!,
  }));
}
