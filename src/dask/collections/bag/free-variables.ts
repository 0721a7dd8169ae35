/**
 * The outer variables a function's source refers to, found with a real parser (acorn) and scope analysis
 * (eslint-scope): what a function shipped by source would miss on a worker. Globals of the JavaScript runtime
 * (Math, JSON, Map, console, ...) are there on every worker and do not count.
 */
import { parse } from "acorn";
import { analyze } from "eslint-scope";

/** esbuild's keepNames helper (tsx adds it around nested named functions); the sidecar defines it. */
const PROVIDED = new Set(["__name"]);

export type Parsed = { ok: true; free: string[] } | { ok: false; reason: string };

export function freeVariables(source: string): Parsed {
  let ast;
  try {
    ast = parse(`(${source})`, { ecmaVersion: "latest", sourceType: "script", ranges: true });
  } catch (error) {
    return { ok: false, reason: `its source does not parse as a function expression (${(error as Error).message}); pass an arrow function or a function expression` };
  }
  const names = analyze(ast, { ecmaVersion: 2022, sourceType: "script" }).globalScope.through.map((r) => r.identifier.name);
  return { ok: true, free: [...new Set(names)].filter((n) => !PROVIDED.has(n) && !(n in globalThis)) };
}
