// Empties dist/ before a build, so files of removed or renamed sources are not packed.
import { rmSync } from "node:fs";
import { join } from "node:path";

rmSync(join(import.meta.dirname, "..", "dist"), { recursive: true, force: true });
