/**
 * fromRows(): row objects to typed columns for the plan. Each column gets one type from its values (null and
 * undefined are missing values); a column mixing types is an error naming the rows, never a silent conversion.
 */
import { InvalidOptionError } from "../../../core/errors.ts";
import { isPlainObject } from "../../../core/walk.ts";
import type { RowColumn, RowColumnType } from "./plan.ts";

function typeOf(value: unknown): RowColumnType | "unsupported" {
  if (typeof value === "number") return Number.isSafeInteger(value) ? "int" : "float";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "bigint") return "bigint";
  if (value instanceof Date) return "datetime";
  return "unsupported";
}

export function rowsToColumns(input: readonly object[]): RowColumn[] {
  const rows = input as readonly Record<string, unknown>[];
  if (!Array.isArray(rows)) throw new InvalidOptionError(`DataFrame.fromRows(): give an array of row objects, got ${typeof rows}.`);
  const names: string[] = [];
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    if (!isPlainObject(row)) throw new InvalidOptionError(`DataFrame.fromRows(): row ${i} is not a plain object.`);
    for (const key of Object.keys(row)) {
      if (!seen.has(key)) {
        seen.add(key);
        names.push(key);
      }
    }
  });
  return names.map((name) => column(name, rows));
}

function column(name: string, rows: readonly Record<string, unknown>[]): RowColumn {
  let type: RowColumnType | undefined;
  let firstRow = -1;
  for (let i = 0; i < rows.length; i++) {
    const value = rows[i]![name];
    if (value === null || value === undefined) continue;
    let t = typeOf(value);
    if (t === "unsupported") {
      throw new InvalidOptionError(
        `DataFrame.fromRows(): row ${i} column '${name}' is ${Array.isArray(value) ? "an array" : typeof value === "object" ? `a ${value.constructor?.name ?? "object"}` : `a ${typeof value}`}; values must be numbers, strings, booleans, bigints, Dates or null.`,
      );
    }
    if (t === "float" && Number.isNaN(value)) t = type === "int" ? "int" : "float"; // NaN is a missing number
    if (type === undefined) [type, firstRow] = [t, i];
    else if (type !== t) {
      const numeric = new Set([type, t]);
      if (numeric.size === 2 && numeric.has("int") && numeric.has("float")) type = "float";
      else {
        throw new InvalidOptionError(
          `DataFrame.fromRows(): column '${name}' mixes ${type} (row ${firstRow}) and ${t} (row ${i}) values; give each column one type.`,
        );
      }
    }
  }
  const kind: RowColumnType = type ?? "null";
  const values = rows.map((row) => {
    const v = row[name];
    if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return null;
    if (v instanceof Date) return v.getTime();
    if (typeof v === "bigint") return v.toString();
    return v as number | string | boolean;
  });
  return { name, type: kind, values };
}
