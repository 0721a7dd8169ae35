import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../dask/fixtures.ts";

test("README's \"Use it in your project\" comes right after the repository's two commands and shows the flow install.test.ts runs", () => {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const start = readme.indexOf("## Start here");
  const section = readme.indexOf("## Use it in your project");
  assert.ok(start >= 0 && section > start, "the section follows 'Start here'");
  assert.deepEqual([...readme.slice(start, section).matchAll(/^npm \w+$/gm)].map((m) => m[0]), ["npm start", "npm test"]);
  const body = readme.slice(section, readme.indexOf("\n## ", section + 1));
  for (const command of ["npm install daskflow tsx", "npx daskflow setup", "npx tsx flow.ts", "npx daskflow doctor", "--with dataframe"]) {
    assert.ok(body.includes(command), `the section mentions ${command}`);
  }
  const flow = /```ts\n([\s\S]*?)```/.exec(body)?.[1];
  assert.equal(flow, readFileSync(join(REPO, "test", "package", "project", "flow.ts"), "utf8"));
});
