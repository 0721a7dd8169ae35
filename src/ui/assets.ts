/**
 * The UI's static files. The page shell and its CSS are strings here; the browser code is src/ui/client/*.ts: the
 * published package serves tsc's output beside this file (dist/ui/client/*.js), a checkout run from src/ serves the
 * .ts files with their types stripped by esbuild (a dependency already), once each. Nothing is built by the user.
 */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { STYLE } from "./style.ts";

const CLIENT = join(import.meta.dirname, "client");
const NAME = /^[a-z][a-z0-9-]*$/;
const cache = new Map<string, Promise<string | undefined>>();

export const SHELL = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>daskflow runs</title><link rel="stylesheet" href="/assets/style.css">
<script type="module" src="/assets/app.js"></script></head>
<body><header class="top"><a class="brand" href="/">daskflow</a><nav><a href="/">Runs</a></nav></header>
<main id="main"><p class="muted">Loading…</p></main></body></html>
`;

export { STYLE };

/** The JavaScript of client module `name` (app, run, timeline, ...), or undefined when there is none. */
export function clientModule(name: string): Promise<string | undefined> {
  if (!NAME.test(name)) return Promise.resolve(undefined);
  let hit = cache.get(name);
  if (!hit) cache.set(name, (hit = load(name)));
  return hit;
}

async function load(name: string): Promise<string | undefined> {
  const built = join(CLIENT, `${name}.js`);
  if (existsSync(built)) return readFile(built, "utf8");
  const source = join(CLIENT, `${name}.ts`);
  if (!existsSync(source)) return undefined;
  const { transform } = await import("esbuild");
  const out = await transform(await readFile(source, "utf8"), { loader: "ts", format: "esm", target: "es2022" });
  // A checkout's modules import "./x.ts"; the browser asks the server for /assets/x.js either way.
  return out.code.replace(/(from\s*["']\.\/[a-z0-9-]+)\.ts(["'])/g, "$1.js$2");
}
