/**
 * DaskTaskRunner options, each the counterpart of a parameter of Prefect's DaskTaskRunner, validated in one place.
 */
import { InvalidOptionError } from "../core/errors.ts";
import { validateOptions } from "../core/options.ts";
import type { StartSecurity } from "./protocol.ts";
import { type ConcurrencyLimits, checkConcurrencyLimits } from "../limits/options.ts";

/** A cluster the TypeScript side manages itself: the runner connects to `address` and calls `close()` at the end. */
export interface DaskCluster {
  readonly address: string | Promise<string>;
  readonly dashboardLink?: string;
  /** Adaptive scaling: called with `adaptKwargs` (as given, camelCase kept) when the runner has them. */
  adapt?(kwargs: Record<string, unknown>): Promise<void> | void;
  close(): Promise<void> | void;
}

/** Tells the runner to create a Python cluster class with keyword arguments (what a factory may return). */
export interface PythonClusterSpec {
  readonly pythonClass: string;
  readonly kwargs?: Record<string, unknown>;
}

export type ClusterFactoryResult = DaskCluster | PythonClusterSpec | string;
/** A (sync or async) function creating a cluster from `clusterKwargs`. */
export type ClusterFactory = (kwargs: Record<string, unknown>) => ClusterFactoryResult | Promise<ClusterFactoryResult>;
/** A TypeScript class whose instances are clusters. */
export type ClusterConstructor = new (kwargs: Record<string, unknown>) => DaskCluster;

/** TLS credentials as Dask's `distributed.security.Security` takes them: one certificate and key for every role. */
export interface DaskSecurity {
  /** PEM file of the certificate authority that signed the cluster's certificates. */
  caFile: string;
  /** PEM certificate of this client (and of the scheduler and workers of a cluster the runner creates). */
  certFile: string;
  /** PEM private key of `certFile`; leave out when the key is appended to the certificate file. */
  keyFile?: string;
  /** Refuse unencrypted connections (default true). */
  requireEncryption?: boolean;
}

export interface DaskTaskRunnerOptions {
  /** Address of a running scheduler (`tcp://host:8786`, `tls://...`). The runner never shuts it down. */
  address?: string;
  /** Default "distributed.LocalCluster": a Python import path, a TypeScript class, or a factory function. */
  clusterClass?: string | ClusterConstructor | ClusterFactory;
  /** Keyword arguments for the cluster class (camelCase keys become snake_case). */
  clusterKwargs?: Record<string, unknown>;
  /** Arguments for `cluster.adapt(...)`, e.g. `{ minimum: 1, maximum: 10 }`; adaptive scaling only when given. */
  adaptKwargs?: Record<string, unknown>;
  /** Extra `distributed.Client` arguments. */
  clientKwargs?: Record<string, unknown>;
  /** Write Dask's HTML performance report for the run to this path. */
  performanceReportPath?: string;
  /** The Python interpreter that has `distributed`. */
  python?: string;
  /** TLS for a `tls://` scheduler, or for the cluster the runner creates (a LocalCluster then listens on TLS only). */
  security?: DaskSecurity;
  /**
   * Default true: the runner ships the flow's code (task modules, what they import, npm packages, daskflow) to the
   * workers, which then need only `pip install daskflow-bridge[node]`. `false`: workers have the code at the same path.
   */
  shipCode?: boolean;
  /** Environment variables set in the workers' Node sidecars (the flow process's own are not shipped). */
  env?: Record<string, string>;
  /**
   * Default 300: a task run that no worker of the cluster can take (the resources or workers it asks for, or no
   * workers at all) for this many seconds ends CRASHED, naming what it waits for, instead of waiting for ever.
   * Raise it for a cluster that takes longer to scale up; 0 waits for ever.
   */
  noWorkerTimeoutSeconds?: number;
  /**
   * Most task runs with a tag running at once: `{ db: 3 }` for this flow run's tasks, `{ db: { limit: 3, scope:
   * "cluster" } }` for every flow run on the same scheduler (a Dask Semaphore there). A task waits for its slots
   * before it is sent to a worker (docs/hooks-and-limits.md).
   */
  concurrencyLimits?: ConcurrencyLimits;
}

const isObject = (v: unknown) => (typeof v === "object" && v !== null && !Array.isArray(v) ? undefined : `must be an object of keyword arguments, got ${typeof v}`);
const isString = (v: unknown) => (typeof v === "string" && v !== "" ? undefined : `must be a non-empty string`);

const SECURITY_FIELDS: Record<keyof DaskSecurity, (v: unknown) => boolean> = {
  caFile: (v) => typeof v === "string" && v !== "",
  certFile: (v) => typeof v === "string" && v !== "",
  keyFile: (v) => v === undefined || (typeof v === "string" && v !== ""),
  requireEncryption: (v) => v === undefined || typeof v === "boolean",
};
/** Paths are checked where they are read (the bridge), not here: a worker importing the flow's module builds runners too. */
const isSecurity = (v: unknown) => {
  const shape = "must be { caFile, certFile, keyFile?, requireEncryption? } with paths of PEM files";
  if (typeof v !== "object" || v === null || Array.isArray(v)) return `${shape}, got ${typeof v}`;
  const fields = v as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !(k in SECURITY_FIELDS));
  if (unknown.length) return `${shape}; unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")}`;
  const bad = Object.entries(SECURITY_FIELDS).find(([k, ok]) => !ok(fields[k]));
  return bad ? `${shape}; '${bad[0]}' is ${JSON.stringify(fields[bad[0]]) ?? "missing"}` : undefined;
};

/** The `start` request's `security` map (snake_case, as the bridge reads it). */
export function securityRequest(security: DaskSecurity | undefined): StartSecurity | undefined {
  if (!security) return undefined;
  const out: StartSecurity = { ca_file: security.caFile, cert_file: security.certFile, require_encryption: security.requireEncryption ?? true };
  if (security.keyFile) out.key_file = security.keyFile;
  return out;
}

/** `nWorkers` → `n_workers`; keys already in snake_case stay. Nested values are left as given. */
export function toSnakeCase(kwargs: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kwargs ?? {})) {
    out[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
  }
  return out;
}

export function validateDaskOptions(options: DaskTaskRunnerOptions): DaskTaskRunnerOptions {
  const where = "DaskTaskRunner";
  validateOptions<DaskTaskRunnerOptions>(where, options, {
    address: (v) => (typeof v === "string" && /^[a-z+]+:\/\/.+/.test(v) ? undefined : `must be a scheduler address such as "tcp://127.0.0.1:8786", got ${JSON.stringify(v)}`),
    clusterClass: (v) =>
      typeof v === "function" || (typeof v === "string" && /^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+$/.test(v))
        ? undefined
        : `must be a Python import path such as "distributed.LocalCluster", a class or a factory function, got ${JSON.stringify(v)}`,
    clusterKwargs: isObject,
    adaptKwargs: isObject,
    clientKwargs: isObject,
    performanceReportPath: isString,
    python: isString,
    security: isSecurity,
    noWorkerTimeoutSeconds: (v) => (typeof v === "number" && v >= 0 && Number.isFinite(v) ? undefined : `must be a number of seconds >= 0 (0 waits for ever), got ${JSON.stringify(v)}`),
    shipCode: (v) => (typeof v === "boolean" ? undefined : `must be true or false, got ${JSON.stringify(v)}`),
    concurrencyLimits: checkConcurrencyLimits,
    env: (v) => {
      if (typeof v !== "object" || v === null || Array.isArray(v)) return `must be an object of environment variables (names to strings), got ${JSON.stringify(v)}`;
      for (const [name, value] of Object.entries(v)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `has the name ${JSON.stringify(name)}, which is not an environment variable name (letters, digits and _, not starting with a digit)`;
        if (name.startsWith("DASKFLOW_")) return `must not set ${name}: DASKFLOW_ variables are daskflow's own (set DASKFLOW_LOGGING_LEVEL in this process instead)`;
        if (typeof value !== "string") return `must map names to strings; ${name} is ${typeof value}. Convert it, e.g. String(value)`;
      }
      return undefined;
    },
  });
  if (options.security && options.address !== undefined && !options.address.startsWith("tls://")) {
    throw new InvalidOptionError(
      `${where}: option 'security' holds TLS credentials, but 'address' ${JSON.stringify(options.address)} is not a tls:// address. Use the scheduler's tls:// address, or leave out 'security'.`,
    );
  }
  if (options.address !== undefined) {
    const clash = (["clusterClass", "clusterKwargs", "adaptKwargs"] as const).filter((k) => options[k] !== undefined);
    if (clash.length) {
      throw new InvalidOptionError(
        `${where}: 'address' connects to an existing cluster, so it cannot be combined with ${clash.map((k) => `'${k}'`).join(", ")}. Pass either 'address', or a cluster to create.`,
      );
    }
  }
  for (const key of ["clusterKwargs", "adaptKwargs", "clientKwargs"] as const) {
    if (options[key] && "asynchronous" in options[key]) {
      throw new InvalidOptionError(`${where}: option '${key}' must not set 'asynchronous': the runner manages it. Remove it.`);
    }
  }
  return options;
}

export function isClassConstructor(fn: unknown): fn is ClusterConstructor {
  return typeof fn === "function" && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}
