/**
 * The flow process of the multi-host test, started with a Node binary under the repository (which the hosts
 * cannot see, so their sidecars need a Node of their own). Usage: flow.ts <scenario> <scheduler address>.
 * Prints JSON lines: `{"phase": ...}` at the points the test acts on, and a final `{"result": ...}`.
 */
import { asCompleted, flow } from "../../../src/index.ts";
import { DaskTaskRunner, annotate, getDaskClient } from "../../../src/dask/index.ts";
import { REPO } from "../../dask/fixtures.ts";
import { place, spread } from "../tasks/hosts.ts";

const [scenario, address] = process.argv.slice(2) as [string, string];
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const runner = new DaskTaskRunner({ address, clientKwargs: { timeout: 30 } });

const scenarios: Record<string, () => Promise<unknown>> = {
  /** Tasks across the hosts. */
  spread: async () => Promise.all(place.map(Array.from({ length: 12 }, (_, i) => i), REPO, 0).map((f) => f.result())),

  /** A task on a host submits tasks of its own. */
  nested: async () => spread.submit(3, REPO).result(),

  /** A worker that joins mid-run gets the code: once the test started it, tasks go to it by name. */
  join: async () => {
    const before = await Promise.all(place.map([0, 1], REPO, 0).map((f) => f.result()));
    await using client = await getDaskClient();
    const known = new Set(Object.keys((await client.schedulerInfo()).workers));
    say({ phase: "ready-for-worker", workers: [...known] });
    let joined: string | undefined;
    while (!joined) {
      await new Promise((r) => setTimeout(r, 250));
      joined = Object.keys((await client.schedulerInfo()).workers).find((a) => !known.has(a));
    }
    const after = await Promise.all(annotate({ workers: [joined] }, () => place.map([10, 11, 12], REPO, 0)).map((f) => f.result()));
    return { before, joined, after };
  },

  /** Tasks that take a while; the test cuts a host off once it has finished one there. */
  cut: async () => {
    const futures = place.map(Array.from({ length: 10 }, (_, i) => i), REPO, 2000);
    let told = false;
    for await (const future of asCompleted(futures)) {
      const state = future.state;
      if (!told && state.type === "COMPLETED") {
        const placed = (await future.result());
        say({ phase: "finished-one", worker: placed.worker });
        told = true;
      }
    }
    return Promise.all(
      futures.map(async (f) => {
        const state = await f.wait();
        return { type: state.type, message: state.message, placed: state.type === "COMPLETED" ? ((await f.result())) : undefined };
      }),
    );
  },
};

const run = scenarios[scenario];
if (!run) throw new Error(`unknown scenario ${scenario}`);
const result = await flow({ name: `multihost-${scenario}`, taskRunner: runner }, run)();
say({ result });
