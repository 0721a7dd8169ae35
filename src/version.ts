/** The daskflow version: package.json's, written here by scripts/sync-version.mjs (test/package/version.test.ts checks). */
export const version = "0.1.0";
