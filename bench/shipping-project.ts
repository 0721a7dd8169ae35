/**
 * A generated project for the shipping benchmarks: `modules` TypeScript modules in a chain of imports (each imports
 * the next two and a part of one npm dependency), the first defining a task, and a CommonJS npm package of about
 * `depMiB` MiB (generated files of plain functions, so the size is code, not data). Made in a temporary folder.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function generateProject(daskflowIndex: string, modules = 200, depMiB = 5): { dir: string; entry: string } {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-ship-bench-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "generated", type: "module", dependencies: { "big-dep": "1.0.0" } }));
  const dep = join(dir, "node_modules", "big-dep");
  mkdirSync(join(dep, "lib"), { recursive: true });
  const files = 250;
  const perFile = Math.round((depMiB * 1024 * 1024) / files);
  const body = (i: number) => {
    let code = `"use strict";\n`;
    for (let f = 0; code.length < perFile; f++) code += `exports.f${f} = function f${f}(x) { return x * ${i} + ${f}; /* ${"pad ".repeat(8)} */ };\n`;
    return code;
  };
  for (let i = 0; i < files; i++) writeFileSync(join(dep, "lib", `part${i}.js`), body(i));
  writeFileSync(join(dep, "index.js"), Array.from({ length: files }, (_, i) => `exports.part${i} = require("./lib/part${i}.js");`).join("\n") + "\n");
  writeFileSync(join(dep, "package.json"), JSON.stringify({ name: "big-dep", version: "1.0.0", main: "index.js" }));
  mkdirSync(join(dir, "src"));
  for (let i = 0; i < modules; i++) {
    const next = [i + 1, i + 2].filter((n) => n < modules);
    const lines = [
      `import dep from "big-dep";`,
      ...next.map((n) => `import { value${n} } from "./m${n}.ts";`),
      ...(i === 0 ? [`import { task } from ${JSON.stringify(daskflowIndex)};`] : []),
      `export interface Shape${i} { n: number; label: string }`,
      `export const value${i}: Shape${i} = { n: ${i} + ${next.map((n) => `value${n}.n`).join(" + ") || 0}, label: "m${i}" };`,
      `export function use${i}(x: number): number { return (dep as Record<string, Record<string, (x: number) => number>>).part${i % files}!.f0!(x); }`,
      ...(i === 0 ? [`export const total = task((x: number) => use0(x) + value0.n);`] : []),
    ];
    writeFileSync(join(dir, "src", `m${i}.ts`), lines.join("\n") + "\n");
  }
  return { dir, entry: join(dir, "src", "m0.ts") };
}
