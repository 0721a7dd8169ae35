/**
 * Type tests of DaskClient's submit and map: checked by `npm run typecheck` (part of `npm test`), never executed.
 * Each `@ts-expect-error` line must be a compile error; if one compiles, tsc reports the unused directive.
 */
import { task, unmapped, type TaskFuture } from "../../src/index.ts";
import type { DaskClient, DaskFuture } from "../../src/dask/index.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_: T): void {}

const add = task(async (x: number, y: number) => x + y);

export function clientTypes(client: DaskClient): void {
  // Plain functions: a DaskFuture of what they return (awaited for async ones).
  const inc = client.submit((x: number) => x + 1, 41);
  expectType<Equal<typeof inc, DaskFuture<number>>>(true);
  const length = client.submit(async (s: string) => s.length, "abc");
  expectType<Equal<typeof length, DaskFuture<number>>>(true);
  const text = client.submit((x: number) => String(x), inc); // a function's future where a number is expected
  expectType<Equal<typeof text, DaskFuture<string>>>(true);
  const mapped = client.map((x: number) => x * 2, [1, 2, 3]);
  expectType<Equal<typeof mapped, DaskFuture<number>[]>>(true);
  const scaled = client.map((x: number, k: number) => x * k, mapped, unmapped(add.submit(1, 2)));
  expectType<Equal<typeof scaled, DaskFuture<number>[]>>(true);
  // Tasks and Python callables keep their own overloads.
  const run = client.submit(add, 1, 2);
  expectType<Equal<typeof run, TaskFuture<number>>>(true);
  const runs = client.map(add, [1, 2], unmapped(3));
  expectType<Equal<typeof runs, TaskFuture<number>[]>>(true);
  const python = client.submit<number>("operator.add", [1, 2]);
  expectType<Equal<typeof python, DaskFuture<number>>>(true);
  void [length, scaled, run, runs, python];

  // @ts-expect-error a string where the function takes a number
  client.submit((x: number) => x + 1, "41");
  // @ts-expect-error a future of the wrong type
  client.submit((x: number) => x + 1, text);
  // @ts-expect-error too few arguments
  client.submit((x: number, y: number) => x + y, 1);
  // @ts-expect-error map items of the wrong type
  client.map((x: number) => x * 2, ["a", "b"]);
}
