/**
 * Code shipping for one DaskTaskRunner: the first shipment rides in the start request (the worker plugin lays it
 * out before the sidecars start), later ones go out with `ship` before the tasks that need them are submitted.
 * In a sidecar that runs shipped code (a task that submits tasks), the run's code folder is already on every worker:
 * nothing is built, the new sidecars reuse it.
 */
import { basename, relative } from "node:path";
import type { LogLevel } from "../../core/logger.ts";
import { PACKAGE_ROOT, sidecarCommand } from "../paths.ts";
import { SHIP_CODE_ENV, type ShippedPack, type SidecarSpec } from "../protocol.ts";
import { codeRoot } from "./module-map.ts";
import { CodeShipper, type Shipment } from "./shipper.ts";

export interface ShippingOptions {
  shipCode?: boolean;
  env?: Record<string, string>;
}

type Log = (level: LogLevel, message: string) => void;

export class ShippingSession {
  readonly enabled: boolean;
  /** Set in a sidecar running shipped code: the run's folder, reused. */
  readonly #reuse = codeRoot();
  #shipper: CodeShipper | undefined;
  readonly #delivered = new Set<string>();
  #queue: Promise<void> = Promise.resolve();
  /** Measured shipments, for the benchmarks. */
  readonly shipments: Array<Pick<Shipment, "timings"> & { bytes: number; packed: number; files: number }> = [];

  constructor(
    private readonly options: ShippingOptions,
    private readonly run: string,
    private readonly log: Log,
  ) {
    this.enabled = options.shipCode !== false && process.env[SHIP_CODE_ENV] !== "0";
  }

  /** Whether tasks of this module can be submitted now. */
  isDelivered(moduleUrl: string | undefined): boolean {
    return !this.enabled || this.#reuse !== undefined || moduleUrl === undefined || this.#delivered.has(moduleUrl);
  }

  /** Fills the sidecar spec at start: command, environment and (shipping) the first pack with these modules. */
  async prepare(spec: SidecarSpec, modules: Iterable<string>): Promise<void> {
    Object.assign(spec.env, this.options.env ?? {});
    if (!this.enabled) {
      spec.env[SHIP_CODE_ENV] = "0";
      return;
    }
    const command = sidecarCommand(true);
    spec.node = command.node;
    spec.argv = command.argv;
    if (this.#reuse) {
      spec.code = { run: basename(this.#reuse), entry: relative(this.#reuse, command.entry), packs: [] };
      return;
    }
    if (command.dropped.length) {
      this.log("warning", `Node flags ${command.dropped.join(" ")} are not passed to the Dask workers' sidecars: loaders are not shipped (the code is, compiled to JavaScript).`);
    }
    this.#shipper = new CodeShipper(command.entry, PACKAGE_ROOT, new Set(Object.keys(this.options.env ?? {})));
    const wanted = [...modules];
    const shipment = await this.#shipper.ship(wanted);
    spec.code = { run: this.run, entry: this.#shipper.entryPath, packs: shipment ? [this.#take(shipment)] : [] };
    for (const url of wanted) this.#delivered.add(url);
  }

  /** Ships the modules not delivered yet (one shipment at a time); resolves when every worker has them. */
  deliver(modules: Iterable<string | undefined>, send: (run: string, pack: ShippedPack) => Promise<void>): Promise<void> {
    const wanted = [...new Set(modules)].filter((m): m is string => !this.isDelivered(m));
    if (wanted.length === 0) return this.#queue;
    this.#queue = this.#queue.then(async () => {
      const missing = wanted.filter((m) => !this.#delivered.has(m));
      if (missing.length === 0 || !this.#shipper) return;
      const shipment = await this.#shipper.ship(missing);
      if (shipment) await send(this.run, this.#take(shipment));
      for (const url of missing) this.#delivered.add(url);
    });
    return this.#queue;
  }

  #take(shipment: Shipment): ShippedPack {
    for (const warning of shipment.warnings) this.log("warning", warning);
    const { pack } = shipment;
    this.shipments.push({ timings: shipment.timings, bytes: pack.bytes, packed: pack.data.byteLength, files: pack.files });
    this.log("debug", `Shipping ${pack.files} files (${(pack.bytes / 1024).toFixed(0)} KiB, ${(pack.data.byteLength / 1024).toFixed(0)} KiB packed) to the Dask workers as ${pack.hash}`);
    return { hash: pack.hash, data: pack.data };
  }
}
