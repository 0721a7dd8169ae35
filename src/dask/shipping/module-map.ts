/**
 * One naming rule for shipped code, used by the builder (flow process) and by workers (sidecars), so that a module's
 * identity — its URL in the flow process — is the same on both sides. Task ids and exported classes name modules by
 * their flow URL everywhere; only the import on a worker maps it to the shipped copy (`toShippedUrl`), and a module
 * loaded from the shipped copy names itself by its flow URL again (`toFlowUrl`).
 *
 * A shipped file sits under the worker's code root at its flow path without the leading "/" (so relative imports and
 * node_modules lookups between shipped files work as they did in the flow process). TypeScript and JSX sources,
 * compiled to JavaScript, keep their name with a JavaScript extension appended: `x.ts` → `x.ts.js`, `x.mts` →
 * `x.mts.mjs`, `x.cts` → `x.cts.cjs`, `x.tsx` → `x.tsx.js`; JavaScript files keep their name. The mapping is
 * therefore reversible without a manifest. No dependencies: core modules import it.
 */
import { fileURLToPath, pathToFileURL } from "node:url";

/** Set in a sidecar's environment by the worker plugin: the folder its shipped code lives in. */
export const CODE_ROOT_ENV = "DASKFLOW_CODE_ROOT";

const COMPILED: Record<string, string> = { ".ts": ".js", ".tsx": ".js", ".jsx": ".js", ".mts": ".mjs", ".cts": ".cjs" };
const COMPILED_NAME = /\.(ts|tsx|jsx|mts|cts)$/;
const SHIPPED_COMPILED = /\.(ts\.js|tsx\.js|jsx\.js|mts\.mjs|cts\.cjs)$/;

/** Whether a source file is compiled when shipped (TypeScript, JSX). */
export function isCompiled(path: string): boolean {
  return COMPILED_NAME.test(path);
}

/** Whether a file's name could be mistaken for a compiled one (`x.ts.js`): the builder refuses to ship such a file. */
export function looksCompiled(path: string): boolean {
  return SHIPPED_COMPILED.test(path);
}

/** `/a/b/x.ts` → `a/b/x.ts.js`; `/a/b/y.js` → `a/b/y.js` (the path inside the code root). */
export function shippedPath(flowPath: string): string {
  const ext = COMPILED_NAME.exec(flowPath)?.[0];
  return flowPath.replace(/^\/+/, "") + (ext ? COMPILED[ext]! : "");
}

/** The inverse of `shippedPath`. */
export function flowPath(shipped: string): string {
  return "/" + shipped.replace(SHIPPED_COMPILED, (m) => m.slice(0, m.lastIndexOf(".")));
}

/** The worker's code root, when this process runs shipped code. */
export function codeRoot(): string | undefined {
  return process.env[CODE_ROOT_ENV] || undefined;
}

/** Where a module of the flow process is on this worker (unchanged when no code was shipped here). */
export function toShippedUrl(flowUrl: string, root = codeRoot()): string {
  if (!root || !flowUrl.startsWith("file:")) return flowUrl;
  return pathToFileURL(`${root.replace(/\/+$/, "")}/${shippedPath(fileURLToPath(flowUrl))}`).href;
}

/** The flow process's URL of a module (unchanged for modules outside the code root). */
export function toFlowUrl(url: string, root = codeRoot()): string {
  if (!root || !url.startsWith("file:")) return url;
  const prefix = pathToFileURL(root.replace(/\/+$/, "")).href + "/";
  if (!url.startsWith(prefix)) return url;
  return pathToFileURL(flowPath(fileURLToPath(url).slice(fileURLToPath(prefix).length))).href;
}
