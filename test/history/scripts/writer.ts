/** A flow process for the history tests: runs `FLOWS` flows of `TASKS` task runs each (with log lines) on the
 * ConcurrentTaskRunner, then prints how many completed as JSON on stdout. */
import { flow, getRunLogger, task } from "../../../src/index.ts";

const flows = Number(process.env.FLOWS ?? 3);
const tasks = Number(process.env.TASKS ?? 100);

const square = task((x: number) => {
  getRunLogger().info(`squaring ${x}`);
  return x * x;
});

const many = flow({ name: "writer" }, async (n: number) => {
  const futures = square.map(Array.from({ length: n }, (_, i) => i));
  const values = await Promise.all(futures.map((f) => f.result()));
  return values.reduce((a, b) => a + b, 0);
});

let completed = 0;
for (let i = 0; i < flows; i++) {
  const state = await many.returnState(tasks);
  if (state.type === "COMPLETED") completed++;
}
process.stdout.write(JSON.stringify({ completed }) + "\n");
