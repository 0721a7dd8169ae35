/** Query helpers of the history API: durations ("30d"), times, page sizes, cursors and LIKE patterns. */
import { InvalidOptionError } from "../core/errors.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90s", "15m", "24h", "30d", "2w" → milliseconds; a clear error otherwise. */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/i.exec(text);
  if (!m) {
    throw new InvalidOptionError(`${what}: '${text}' is not a duration. Give a number and a unit: ms, s, m, h, d or w (e.g. 30d, 12h, 90m).`);
  }
  return Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
}

/** A Date, epoch ms, an ISO date, or a duration back from now ("24h") → epoch ms. */
export function toTime(value: Date | number | string, what: string): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    if (/^\s*\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)\s*$/i.test(value)) return Date.now() - parseDuration(value, what);
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed;
  }
  throw new InvalidOptionError(`history: '${what}' must be a Date, epoch milliseconds, an ISO date or a duration back from now such as "24h"; got ${JSON.stringify(value)}.`);
}

export function pageLimit(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidOptionError(`history: 'limit' must be a positive integer; got ${String(limit)}.`);
  return Math.min(limit, max);
}

export function encodeCursor(parts: unknown[]): string {
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

export function decodeCursor(cursor: string, length: number): unknown[] {
  try {
    const parts = JSON.parse(Buffer.from(cursor, "base64url").toString()) as unknown;
    if (Array.isArray(parts) && parts.length === length) return parts;
  } catch {
    // reported below
  }
  throw new InvalidOptionError("history: 'cursor' is not one this API gave out. Pass the `nextCursor` of the previous page, or leave it out for the first page.");
}

/** A case-insensitive LIKE pattern matching `text` anywhere (with `ESCAPE '\'`). */
export function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
