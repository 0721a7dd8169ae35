/**
 * Finding a task on a worker: import the module that defined it and wait for its definition to register. The
 * import is not awaited to completion: a module that ends with `await myFlow()` never finishes importing on a
 * worker (flow calls do not run there), but its tasks, defined above that line, are registered by then.
 */
import { setModuleImporter } from "../core/class-codec.ts";
import { DaskflowError } from "../core/errors.ts";
import { importTimeoutMs } from "../core/module-classes.ts";
import { type TaskDefinition, flowCallOnWorker, lookupTask, whenTaskRegistered } from "../core/task-definition.ts";
import type { TaskSpec } from "../dask/encode.ts";
import { SIDECAR_ENV, sidecarEnvList } from "../dask/protocol.ts";
import { toShippedUrl } from "../dask/shipping/module-map.ts";
import { onlyHooks } from "../hooks/fire.ts";

const imports = new Map<string, Promise<unknown>>();
/** How long a module may stay stopped at a top-level flow call before a task it has not defined is given up. */
const STOPPED_AT_FLOW_MS = 3_000;
/** Modules whose evaluation threw on this worker, with the error: their tasks fail with it, even those defined
 * above the line that threw (they registered, but the module around them is broken). */
const broken = new Map<string, Error>();

/** The flow process's TS loader (tsx), imported before the first user module: daskflow itself needs none. */
let loaders: Promise<void> | undefined;
function userLoaders(): Promise<void> {
  loaders ??= (async () => {
    for (const url of sidecarEnvList(SIDECAR_ENV.loaders)) await import(url);
  })();
  return loaders;
}

/** `url` is the module's URL in the flow process; with shipped code the worker imports the shipped copy. */
export function importOnce(url: string): Promise<unknown> {
  let importing = imports.get(url);
  if (!importing) {
    importing = userLoaders().then(() => import(toShippedUrl(url)));
    // A module that threw while it loaded is broken here, however its import began (a task's, a class's, or the
    // preload, after which its tasks are found registered without another import).
    importing.catch((raw: unknown) => broken.set(url, raw instanceof Error ? raw : new Error(String(raw))));
    imports.set(url, importing);
  }
  return importing;
}

/**
 * Starts importing the modules of the tasks the flow submitted first, while the sidecar would otherwise wait for
 * its first task: the same imports the first tasks make, only earlier. Failures surface when a task needs the module.
 */
export function preload(urls: readonly string[]): void {
  for (const url of urls) {
    importOnce(url).catch(() => imports.delete(url));
  }
}


/** The import's error if it fails by the next turn of the event loop (a module throwing while it loads), else
 * undefined: an import still pending then is a module awaiting something (a flow call never ends on a worker). */
function failedByNow(url: string, importing: Promise<unknown>): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const later = setImmediate(() => resolve(undefined));
    importing.catch((raw: unknown) => {
      clearImmediate(later);
      const error = raw instanceof Error ? raw : new Error(String(raw));
      broken.set(url, error);
      resolve(error);
    });
  });
}

// Class instances in arguments come from modules loaded the way task modules are.
setModuleImporter(importOnce, `the Node sidecar (pid ${process.pid}) of a Dask worker`);

export async function loadTask(spec: TaskSpec): Promise<TaskDefinition> {
  const brokenBy = broken.get(spec.moduleUrl);
  if (brokenBy) throw brokenBy;
  const found = lookupTask(spec.id);
  if (found) return withSpec(found, spec);
  const importing = importOnce(spec.moduleUrl);
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  const bound = importTimeoutMs();
  try {
    const def = await Promise.race([
      // A module stopped at a top-level flow call (which never returns on a worker) will not define it.
      new Promise<never>((_, reject) => {
        poll = setInterval(() => {
          const call = flowCallOnWorker(spec.moduleUrl);
          if (!call || Date.now() - call.since < STOPPED_AT_FLOW_MS || lookupTask(spec.id)) return;
          reject(
            new DaskflowError(
              `Task '${spec.name}' is never defined on a Dask worker: ${spec.moduleUrl} calls flow '${call.flowName}' at its top level, a worker importing the module stops at that call (flows do not run on workers), and '${spec.name}' is defined below it. Define tasks above the module's flow calls.`,
            ),
          );
        }, 250);
      }),
      whenTaskRegistered(spec.id),
      importing.then(() => {
        const registered = lookupTask(spec.id);
        if (registered) return registered;
        throw new DaskflowError(
          `Task '${spec.name}' (${spec.id}) was not found after importing ${spec.moduleUrl} on the worker. Define tasks with task(...) at the top level of a module, the same way in every process.`,
        );
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new DaskflowError(`Task '${spec.name}' was not registered within ${bound / 1000}s of importing ${spec.moduleUrl} on the worker (pid ${process.pid}): its module is still loading. Define tasks at the top level of their module, above any top-level \`await\`.`)),
          bound,
        );
      }),
    ]);
    const failure = await failedByNow(spec.moduleUrl, importing);
    if (failure) throw failure;
    return withSpec(def, spec);
  } catch (error) {
    imports.delete(spec.moduleUrl);
    throw error;
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
  }
}

/** A `withOptions` variant shares its base's id: the options sent with the run are the ones that apply. */
function withSpec(def: TaskDefinition, spec: TaskSpec): TaskDefinition {
  return { ...def, name: spec.name, options: { ...spec.options, ...onlyHooks(def.options) } };
}
