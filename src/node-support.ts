/**
 * The Node.js releases daskflow supports: from 22.13 (`node:sqlite` unflagged), as package.json's `engines.node`
 * and scripts/node.sh's DASKFLOW_NODE_MIN say (test/package/version.test.ts keeps the three equal). Node 24 is the
 * one the docs recommend, and the major of the `daskflow-bridge[node]` extra's Node on workers.
 */
export const MIN_NODE = { major: 22, minor: 13 } as const;

/** "22.13". */
export const MIN_NODE_TEXT = `${MIN_NODE.major}.${MIN_NODE.minor}`;

/** esbuild's target for code that runs on any supported Node (the code shipped to workers). */
export const ESBUILD_NODE_TARGET = `node${MIN_NODE_TEXT}`;

/** Whether `version` ("v22.13.0", as `process.version`) is a supported Node. */
export function nodeSupported(version: string): boolean {
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor)) return false;
  return major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor);
}
