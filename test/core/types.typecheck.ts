/**
 * Type tests: checked by `npm run typecheck` (part of `npm test`), never executed. Each `@ts-expect-error` line
 * must be a compile error; if one compiles, tsc reports the unused directive and the suite fails.
 */
import { flow, task, unmapped, allowFailure, type TaskFuture, type State } from "../../src/index.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_: T): void {}

const add = task(async (x: number, y: number) => x + y);
const greet = task((name: string, opts: { loud: boolean }) => (opts.loud ? name.toUpperCase() : name));

export const typed = flow(async () => {
  const a = add.submit(1, 2);
  expectType<Equal<typeof a, TaskFuture<number>>>(true);
  const b = add.submit(a, 3); // a future where a number is expected
  const c = greet.submit("x", { loud: true });
  expectType<Equal<typeof c, TaskFuture<string>>>(true);
  const mapped = add.map([1, 2, 3], unmapped(b));
  expectType<Equal<typeof mapped, TaskFuture<number>[]>>(true);
  const direct = await add(1, 2);
  expectType<Equal<typeof direct, number>>(true);
  const state = await a.wait();
  expectType<Equal<typeof state, State<number>>>(true);
  const r: number = await b.result();
  // raiseOnFailure: false may hand back the error instead of the value
  const maybe = await b.result({ raiseOnFailure: false });
  expectType<Equal<typeof maybe, number | Error>>(true);
  const fromState: number = await state.result();
  const fromStateOrError = await state.result({ raiseOnFailure: false });
  expectType<Equal<typeof fromStateOrError, number | Error>>(true);
  // @ts-expect-error the error may come back: not a number
  const notNumber: number = await state.result({ raiseOnFailure: false });
  const key: string | undefined = a.daskKey;
  void [maybe, fromState, fromStateOrError, notNumber, key];
  void [mapped, direct, state];
  add.submit(allowFailure(a), 1);
  // a parameter that takes the error too takes allowFailure of a future of the value, also inside an array
  const tolerant = task((values: Array<number | Error>) => values.length);
  tolerant.submit([allowFailure(a), 2]);
  greet.submit("y", { loud: b.state.type === "COMPLETED" });

  // @ts-expect-error a string where a number is expected
  add.submit("1", 2);
  // @ts-expect-error a future of the wrong type
  add.submit(c, 2);
  // @ts-expect-error too few arguments
  add.submit(1);
  // @ts-expect-error the nested field has the wrong type
  greet.submit("z", { loud: "yes" });
  // @ts-expect-error map items of the wrong type
  add.map(["a", "b"], unmapped(1));
  // @ts-expect-error direct call with the wrong type
  await add(1, "2");
  return r;
});

const f = flow(async (n: number) => n * 2);
export async function callers(): Promise<void> {
  const n: number = await f(2);
  const s: State<number> = await f.returnState(2);
  const value: number = await s.result();
  const paths: Array<string | undefined> = (s.failures ?? []).map((p) => p.path);
  void [value, paths];
  // @ts-expect-error flows check their parameters too
  await f("2");
  void n;
  void s;
}

// A TaskFuture is not a promise (README "Two kinds of future"): `await` gives the future back, so using that as the
// task's value is a compile error; `.result()` is the value.
export const awaitedFuture = flow(async () => {
  // eslint-disable-next-line @typescript-eslint/await-thenable -- what a user may write by mistake
  const same = await add.submit(1, 2);
  expectType<Equal<typeof same, TaskFuture<number>>>(true);
  // @ts-expect-error -- the value is read with .result()
  const wrong: number = same;
  const value = await add.submit(1, 2).result();
  expectType<Equal<typeof value, number>>(true);
  return [wrong, value];
});
