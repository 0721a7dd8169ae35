/**
 * npm packages shipped as they are installed: each package reached from a project file is copied whole (its files
 * as they are, without its nested node_modules), and so are the packages it depends on, found the way Node finds
 * them (the nearest node_modules folder up from the package's real location). Copying, not re-bundling, keeps what
 * Node decides on the worker — ESM or CommonJS, `exports` conditions, `type`, files a package reads next to itself —
 * the same as in the flow process. A package directory reached through a symlink (pnpm, workspaces) keeps its link.
 */
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { ShippingError } from "./errors.ts";

export interface PackageFile {
  path: string;
  mode: number;
  /** Symlink target, for links inside a package. */
  link?: string;
}

export interface ShippedPackage {
  name: string;
  /** Real directory (what is copied). */
  dir: string;
  files: PackageFile[];
  bytes: number;
}

export interface PackageSet {
  packages: Map<string, ShippedPackage>;
  /** Lookup path → real directory, where a package is reached through a symlink. */
  links: Map<string, string>;
}

/** Dependencies of a package that run in the flow process only, never on a worker: daskflow's esbuild compiles and
 * traces the shipped code (22 MiB with its platform binary, which every worker would otherwise receive). A project
 * module that imports esbuild itself still ships it. */
const FLOW_ONLY: Record<string, readonly string[]> = { daskflow: ["esbuild"] };

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** Node's lookup of a package from a folder: `<dir>/node_modules/<name>` up to the root. */
function lookup(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json")) || existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * A package importing itself by name (`import "daskflow"` inside daskflow's own folder), which Node resolves through
 * the nearest package.json's `exports`: the file it resolves to, or undefined for any other import.
 */
export function selfReference(importer: string, specifier: string): string | undefined {
  const name = packageName(specifier);
  for (let dir = dirname(importer); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name !== name) return undefined;
        return createRequire(manifest).resolve(specifier);
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The package a file of node_modules belongs to: the folder right below the last `node_modules/`. */
export function packageDirOf(file: string): { name: string; dir: string } {
  const at = file.lastIndexOf("/node_modules/");
  const rest = file.slice(at + "/node_modules/".length).split("/");
  const name = rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  return { name, dir: file.slice(0, at + "/node_modules/".length) + name };
}

function listFiles(root: string, pkg: ShippedPackage): void {
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === "node_modules" && dir === root) continue; // its own dependencies: shipped as packages
        walk(path);
      } else if (entry.isSymbolicLink()) {
        pkg.files.push({ path, mode: 0o777, link: readlinkSync(path) });
      } else if (entry.isFile()) {
        if (entry.name.endsWith(".node")) {
          throw new ShippingError(
            `The npm package '${pkg.name}' contains a native addon (${relative(dirname(root), path)}), which cannot be shipped to Dask workers: it is built for one platform and Node version. ` +
              `Install '${pkg.name}' on the workers (with the project at the same path) and run with shipCode: false, or keep it out of the modules that define tasks.`,
          );
        }
        const stat = lstatSync(path);
        pkg.files.push({ path, mode: stat.mode & 0o111 ? 0o755 : 0o644 });
        pkg.bytes += stat.size;
      }
    }
  };
  walk(root);
}

function dependencies(dir: string): string[] {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
    return [...new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})])];
  } catch {
    return [];
  }
}

/**
 * The packages to ship for these imports ([importer, specifier] of project files), with everything they depend on.
 * `known`: real directories shipped earlier (in this run's earlier packs), skipped.
 */
export function collectPackages(imports: ReadonlyArray<readonly [string, string]>, known: ReadonlySet<string>): PackageSet {
  return collect(imports.map(([importer, spec]) => [packageName(spec), dirname(importer)]), known);
}

/** The package a file of node_modules belongs to, with its dependencies (daskflow's own sidecar entry, when installed). */
export function collectPackageOf(file: string, known: ReadonlySet<string>): PackageSet {
  const { name } = packageDirOf(file);
  return collect([[name, file.slice(0, file.lastIndexOf("/node_modules/"))]], known);
}

function collect(start: Array<[string, string]>, known: ReadonlySet<string>): PackageSet {
  const set: PackageSet = { packages: new Map(), links: new Map() };
  const queue = [...start];
  while (queue.length) {
    const [name, from] = queue.shift()!;
    const found = lookup(name, from);
    if (!found) continue; // an optional or unused dependency that is not installed
    const dir = realpathSync(found);
    if (found !== dir) set.links.set(found, dir);
    if (known.has(dir) || set.packages.has(dir)) continue;
    const pkg: ShippedPackage = { name, dir, files: [], bytes: 0 };
    listFiles(dir, pkg);
    set.packages.set(dir, pkg);
    // Type declarations are never imported at run time (apache-arrow lists @types/node as a dependency).
    for (const dep of dependencies(dir)) if (!dep.startsWith("@types/") && !FLOW_ONLY[name]?.includes(dep)) queue.push([dep, dir]);
  }
  return set;
}
