/**
 * What one DaskTaskRunner has shipped and what the next shipment adds. The first shipment (when the cluster starts)
 * holds the modules of the tasks submitted so far, everything they import and daskflow's own files (the sidecar
 * entry); a later one, made when a task of a module not yet shipped is submitted, holds only the files not shipped
 * before. Workers lay every shipment of a run into one folder, so a module shared by old and new tasks stays the
 * one module a sidecar already loaded.
 */
import { readFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ShippingError } from "./errors.ts";
import { emit, needsEmit, nearestPackageJson } from "./emit.ts";
import { scanHazards } from "./hazards.ts";
import { looksCompiled, shippedPath } from "./module-map.ts";
import { type Pack, type PackEntry, makePack } from "./pack.ts";
import { type PackageSet, collectPackageOf, collectPackages, selfReference } from "./packages.ts";
import { NODE_MODULES, esbuild, traceImports } from "./trace.ts";

export const WARN_BYTES = 10 * 1024 * 1024;
export const MAX_BYTES = 100 * 1024 * 1024;

export interface Shipment {
  pack: Pack;
  /** Said once to the user: what is not shipped, a large pack. */
  warnings: string[];
  /** Build (trace + compile + copy) and pack times, seconds. */
  timings: { build: number; pack: number };
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** Builds in flight in this process, across runners, and the stop of esbuild's service after the last one. */
let building = 0;
let stopping: Promise<void> | undefined;

export class CodeShipper {
  readonly #files = new Set<string>();
  readonly #packageDirs = new Set<string>();
  readonly #modules = new Set<string>();

  /**
   * `sidecarEntry`: the file the sidecars run (daskflow's), shipped with the first shipment.
   * `ownRoot`: daskflow's own folder (its files are not checked for what is not shipped).
   * `env`: the names the `env` option sets in the sidecars (not warned about).
   */
  constructor(
    readonly sidecarEntry: string,
    private readonly ownRoot: string,
    private readonly env: ReadonlySet<string>,
  ) {}

  /** The sidecar entry's path inside the code root. */
  get entryPath(): string {
    return shippedPath(this.sidecarEntry);
  }

  isShipped(moduleUrl: string): boolean {
    return this.#modules.has(moduleUrl);
  }

  /** The shipment that brings these task modules (file: URLs) to the workers, or undefined if all are there. */
  async ship(moduleUrls: Iterable<string>): Promise<Shipment | undefined> {
    await stopping; // a build never runs on a service being stopped
    building++;
    try {
      return await this.#build(moduleUrls);
    } finally {
      // esbuild's service process would outlive the run (a child of the flow process); stopped when no build of any
      // runner in this process is using it (concurrent flow runs share it), the next build restarts it.
      if (--building === 0) {
        stopping = esbuild().then((e) => e.stop());
        await stopping;
      }
    }
  }

  async #build(moduleUrls: Iterable<string>): Promise<Shipment | undefined> {
    const started = performance.now();
    const wanted = [...new Set(moduleUrls)].filter((url) => !this.#modules.has(url));
    const entries = wanted.map((url) => fileURLToPath(url));
    if (this.#files.size === 0) entries.push(this.sidecarEntry);
    if (entries.length === 0) return undefined;

    const parts: PackEntry[] = [];
    const links: Array<[string, string]> = [];
    const add = (entry: PackEntry) => {
      if (this.#files.has(entry.path)) return;
      this.#files.add(entry.path);
      parts.push(entry);
    };
    const local = entries.filter((file) => !NODE_MODULES.test(file));
    const packages: PackageSet[] = entries.filter((file) => NODE_MODULES.test(file)).map((file) => collectPackageOf(file, this.#packageDirs));

    const warnings: string[] = [];
    if (local.length) {
      let trace = await traceImports(local, this.ownRoot);
      // A package's own files imported by its name (daskflow's examples import "daskflow"): traced as project files.
      for (;;) {
        const selfFiles = trace.packageImports.map(([importer, spec]) => selfReference(importer, spec)).filter((f): f is string => f !== undefined && !trace.files.has(f));
        if (selfFiles.length === 0) break;
        local.push(...new Set(selfFiles));
        trace = await traceImports(local, this.ownRoot);
      }
      const fresh = [...trace.files].filter((file) => !this.#files.has(shippedPath(file)));
      for (const file of fresh) {
        if (looksCompiled(file)) throw new ShippingError(`Cannot ship ${file}: its name ends like a compiled TypeScript file's (x.ts.js), which the shipped copy of x.ts would be. Rename it.`);
      }
      const compiled = fresh.filter((file) => needsEmit(file, trace.edges.get(file)));
      const emitted = await emit(compiled, trace.edges);
      const partOf = (file: string) => (file.startsWith(this.ownRoot + "/") ? "daskflow" : "project files");
      for (const out of emitted) add({ path: out.path, mode: 0o644, data: out.data, part: partOf(out.source) });
      const scanned = emitted.map((e) => ({ source: e.source, code: Buffer.from(e.data).toString("utf8") }));
      for (const file of fresh.filter((f) => !compiled.includes(f))) {
        const data = readFileSync(file);
        add({ path: shippedPath(file), mode: 0o644, data, part: partOf(file) });
        if (/\.[cm]?js$/.test(file)) scanned.push({ source: file, code: data.toString("utf8") });
      }
      for (const file of fresh) {
        const manifest = nearestPackageJson(dirname(file)).path;
        if (manifest) add({ path: shippedPath(manifest), mode: 0o644, data: readFileSync(manifest), part: partOf(file) });
      }
      warnings.push(...scanHazards(scanned.filter((s) => partOf(s.source) === "project files"), this.env));
      packages.push(collectPackages(trace.packageImports, this.#packageDirs));
    }
    for (const set of packages) {
      for (const pkg of set.packages.values()) {
        this.#packageDirs.add(pkg.dir);
        for (const file of pkg.files) {
          if (file.link !== undefined) links.push([shippedPath(file.path), file.link]);
          else add({ path: shippedPath(file.path), mode: file.mode, data: readFileSync(file.path), part: pkg.name });
        }
      }
      for (const [at, target] of set.links) {
        const path = shippedPath(at);
        if (!this.#files.has(path)) {
          this.#files.add(path);
          links.push([path, relative(dirname(at), target)]);
        }
      }
    }
    for (const url of wanted) this.#modules.add(url);
    const built = performance.now();
    if (parts.length === 0 && links.length === 0) return undefined;

    const total = parts.reduce((n, p) => n + p.data.byteLength, 0);
    if (total > WARN_BYTES) {
      const message = `The code shipped to the Dask workers is ${mib(total)}; the largest parts: ${largestParts(parts)}.`;
      if (total > MAX_BYTES) {
        throw new ShippingError(`${message} That is over the ${mib(MAX_BYTES)} limit: keep large packages out of the modules that define tasks, or install the project on the workers at the same path and run with shipCode: false.`);
      }
      warnings.push(`${message} Every worker receives it through the scheduler; keep large packages out of the modules that define tasks to start faster.`);
    }
    const pack = makePack(parts, links);
    return { pack, warnings, timings: { build: (built - started) / 1000, pack: (performance.now() - built) / 1000 } };
  }
}

function largestParts(parts: readonly PackEntry[]): string {
  const sizes = new Map<string, number>();
  for (const p of parts) sizes.set(p.part, (sizes.get(p.part) ?? 0) + p.data.byteLength);
  return [...sizes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, bytes]) => `${name} ${mib(bytes)}`)
    .join(", ");
}

