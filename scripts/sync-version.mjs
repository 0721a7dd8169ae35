// Writes package.json's version into src/version.ts and python/daskflow_bridge/__init__.py (run by `npm version`),
// so `import { version } from "daskflow"` and the wheel daskflow-bridge always carry the npm package's version.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const edit = (file, pattern, line) => {
  const path = join(root, file);
  const text = readFileSync(path, "utf8");
  if (!pattern.test(text)) throw new Error(`${file}: no version line matching ${pattern}`);
  writeFileSync(path, text.replace(pattern, line));
};
edit("src/version.ts", /^export const version = ".*";$/m, `export const version = ${JSON.stringify(version)};`);
edit("python/daskflow_bridge/__init__.py", /^__version__ = ".*"$/m, `__version__ = ${JSON.stringify(version)}`);
console.log(`version ${version} written to src/version.ts and python/daskflow_bridge/__init__.py`);
