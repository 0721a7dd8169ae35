/** Rows for the DataFrame tests: deterministic, with missing values in every column but `id`. */
export interface Sale {
  id: number;
  region: string | null;
  name: string | null;
  price: number | null;
  qty: number;
  at: Date | null;
}

const REGIONS = ["EU", "US", "APAC", null] as const;
const NAMES = ["  Widget ", "gadget", "Gizmo-XL", "widget pro", null] as const;

export function sales(n: number): Sale[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i,
    region: REGIONS[(i * 7) % 4] ?? null,
    name: NAMES[(i * 3) % 5] ?? null,
    // x.y3: rounding to one digit is never a tie
    price: i % 11 === 5 ? null : ((i * 37) % 1000) / 10 + 0.03,
    qty: (i * 13) % 9,
    at: i % 13 === 4 ? null : new Date(Date.UTC(2024, i % 12, 1 + (i % 27), i % 24, (i * 7) % 60, (i * 11) % 60)),
  }));
}

/** Groups `rows` by `key` (missing keys dropped), sorted by key. */
export function groupRows<R, K extends keyof R>(rows: readonly R[], key: K): [NonNullable<R[K]>, R[]][] {
  const groups = new Map<NonNullable<R[K]>, R[]>();
  for (const row of rows) {
    const k = row[key];
    if (k === null || k === undefined) continue;
    const list = groups.get(k) ?? [];
    list.push(row);
    groups.set(k, list);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export const present = <T>(values: readonly (T | null)[]): T[] => values.filter((v): v is T => v !== null);
export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
