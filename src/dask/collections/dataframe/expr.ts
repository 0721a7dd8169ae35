/**
 * Column expressions: `col("price").mul(col("qty")).gt(100).and(col("region").eq(lit("EU")))`. An expression is
 * plain data naming functions from the bridge's fixed table (python/daskflow_bridge/collections/dataframe_expr.py);
 * operand kinds are checked there against the frame's dtypes before anything runs.
 */
import { InvalidOptionError } from "../../../core/errors.ts";
import type { Dtype, ExprNode, LiteralValue } from "./plan.ts";

export type { ExprNode, LiteralValue };

/** What an operand may be: an expression, or a plain value taken as a literal. */
export type Operand = Expr | number | string | boolean | Date | bigint | null;

export function literal(value: unknown, where: string): LiteralValue {
  if (value === null || typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new InvalidOptionError(`${where}: an invalid Date cannot be a literal.`);
    return { date: value.getTime() };
  }
  if (typeof value === "bigint") return { bigint: value.toString() };
  throw new InvalidOptionError(`${where}: a literal must be a number, string, boolean, Date, bigint or null, got ${describe(value)}.`);
}

function describe(value: unknown): string {
  return value === undefined || value === null ? String(value) : typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
}

function operand(value: Operand, where: string): ExprNode {
  return value instanceof Expr ? value.node : { lit: literal(value, where) };
}

export class Expr {
  /** @internal */
  constructor(readonly node: ExprNode) {}

  #fn(name: string, operands: Operand[], options: unknown[] = []): Expr {
    return new Expr({ fn: name, args: [this.node, ...operands.map((o) => operand(o, `${name}()`)), ...options] });
  }

  // arithmetic
  add(other: Operand): Expr { return this.#fn("add", [other]); }
  sub(other: Operand): Expr { return this.#fn("sub", [other]); }
  mul(other: Operand): Expr { return this.#fn("mul", [other]); }
  div(other: Operand): Expr { return this.#fn("div", [other]); }
  floordiv(other: Operand): Expr { return this.#fn("floordiv", [other]); }
  mod(other: Operand): Expr { return this.#fn("mod", [other]); }
  pow(other: Operand): Expr { return this.#fn("pow", [other]); }
  neg(): Expr { return this.#fn("neg", []); }
  abs(): Expr { return this.#fn("abs", []); }
  round(digits = 0): Expr {
    if (!Number.isInteger(digits)) throw new InvalidOptionError(`round(): digits must be an integer, got ${digits}.`);
    return this.#fn("round", [], [digits]);
  }

  // comparison
  eq(other: Operand): Expr { return this.#fn("eq", [other]); }
  ne(other: Operand): Expr { return this.#fn("ne", [other]); }
  lt(other: Operand): Expr { return this.#fn("lt", [other]); }
  le(other: Operand): Expr { return this.#fn("le", [other]); }
  gt(other: Operand): Expr { return this.#fn("gt", [other]); }
  ge(other: Operand): Expr { return this.#fn("ge", [other]); }

  // boolean
  and(other: Operand): Expr { return this.#fn("and", [other]); }
  or(other: Operand): Expr { return this.#fn("or", [other]); }
  xor(other: Operand): Expr { return this.#fn("xor", [other]); }
  not(): Expr { return this.#fn("not", []); }

  // membership and missing values
  isin(values: readonly Exclude<Operand, Expr>[]): Expr {
    if (!Array.isArray(values)) throw new InvalidOptionError(`isin(): give an array of values, got ${describe(values)}.`);
    return this.#fn("isin", [], [values.map((v) => literal(v, "isin()"))]);
  }
  isNull(): Expr { return this.#fn("is_null", []); }
  notNull(): Expr { return this.#fn("not_null", []); }
  fillNull(value: Exclude<Operand, Expr>): Expr { return this.#fn("fill_null", [], [literal(value, "fillNull()")]); }
  cast(dtype: Dtype): Expr { return this.#fn("cast", [], [dtype]); }

  /** String functions (the column must hold strings). */
  get str(): StringFunctions {
    return new StringFunctions(this);
  }

  /** Datetime parts (the column must hold datetimes). */
  get dt(): DatetimeFunctions {
    return new DatetimeFunctions(this);
  }

  /** @internal */
  call(name: string, options: unknown[] = []): Expr {
    return this.#fn(name, [], options);
  }
}

function text(value: unknown, where: string): string {
  if (typeof value !== "string") throw new InvalidOptionError(`${where}: give a string, got ${describe(value)}.`);
  return value;
}

function position(value: unknown, where: string): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value)) throw new InvalidOptionError(`${where}: give an integer position, got ${describe(value)}.`);
  return value as number;
}

export class StringFunctions {
  constructor(readonly expr: Expr) {}
  lower(): Expr { return this.expr.call("str.lower"); }
  upper(): Expr { return this.expr.call("str.upper"); }
  strip(): Expr { return this.expr.call("str.strip"); }
  len(): Expr { return this.expr.call("str.len"); }
  /** Contains `substring` (plain text, never a regular expression). */
  contains(substring: string): Expr { return this.expr.call("str.contains", [text(substring, "str.contains()")]); }
  startsWith(prefix: string): Expr { return this.expr.call("str.startswith", [text(prefix, "str.startsWith()")]); }
  endsWith(suffix: string): Expr { return this.expr.call("str.endswith", [text(suffix, "str.endsWith()")]); }
  /** Replaces every occurrence of the plain text `old` by `replacement`. */
  replace(old: string, replacement: string): Expr {
    return this.expr.call("str.replace", [text(old, "str.replace()"), text(replacement, "str.replace()")]);
  }
  /** Characters `start` (inclusive) to `stop` (exclusive), as String.prototype.slice for non-negative positions. */
  slice(start?: number, stop?: number): Expr {
    return this.expr.call("str.slice", [position(start, "str.slice()"), position(stop, "str.slice()")]);
  }
}

export class DatetimeFunctions {
  constructor(readonly expr: Expr) {}
  year(): Expr { return this.expr.call("dt.year"); }
  month(): Expr { return this.expr.call("dt.month"); }
  day(): Expr { return this.expr.call("dt.day"); }
  hour(): Expr { return this.expr.call("dt.hour"); }
  minute(): Expr { return this.expr.call("dt.minute"); }
  second(): Expr { return this.expr.call("dt.second"); }
  /** Monday = 0 … Sunday = 6 (pandas' convention). */
  weekday(): Expr { return this.expr.call("dt.weekday"); }
  dayOfYear(): Expr { return this.expr.call("dt.dayofyear"); }
  /** The datetime at midnight of its day. */
  date(): Expr { return this.expr.call("dt.date"); }
}

/** A column of the frame. */
export function col(name: string): Expr {
  if (typeof name !== "string" || name === "") throw new InvalidOptionError(`col(): give a column name, got ${describe(name)}.`);
  return new Expr({ col: name });
}

/** A literal value (numbers, strings, booleans, Dates, bigints, null). */
export function lit(value: Exclude<Operand, Expr>): Expr {
  return new Expr({ lit: literal(value, "lit()") });
}
