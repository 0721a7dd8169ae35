/** Types that carry a task's signature to its futures, `submit` and `map` arguments. */
import type { TaskFuture } from "./future.ts";
import type { AllowFailure, Unmapped } from "./wrappers.ts";

/** A value, or a future of it, or a structure with futures of its parts inside. A parameter typed `T | Error` takes
 * `allowFailure(future of T)`: the upstream's error is what arrives when it fails. */
export type Futurable<T> = T | TaskFuture<T> | AllowFailure<T> | AllowFailure<Exclude<T, Error>> | DeepFuturable<T>;

type DeepFuturable<T> = T extends (...args: never[]) => unknown
  ? never
  : T extends readonly unknown[]
    ? { [K in keyof T]: Futurable<T[K]> }
    : T extends Map<infer K, infer V>
      ? Map<K, Futurable<V>>
      : T extends Set<unknown>
        ? never
        : T extends Date | RegExp | Uint8Array | ArrayBuffer
          ? never
          : T extends object
            ? { [K in keyof T]: Futurable<T[K]> }
            : never;

export type FuturableArgs<A extends readonly unknown[]> = { [K in keyof A]: Futurable<A[K]> };

/** One `map` argument: an iterable of per-call values, or `unmapped(value)` / a plain value for every call. */
export type MapArg<T> = Iterable<Futurable<T>> | Unmapped<Futurable<T>> | Futurable<T>;
export type MapArgs<A extends readonly unknown[]> = { [K in keyof A]: MapArg<A[K]> };

export type TaskFn<A extends unknown[], R> = (...args: A) => R;
export type Result<R> = Awaited<R>;
