/**
 * Walking task arguments: futures may sit at any depth of arrays, plain objects, Maps and Sets. `mapDeep` copies
 * only the containers on the path to a replaced value, so arguments without futures are passed through untouched.
 */
export const KEEP = Symbol("keep");

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `visit` returns a replacement, or KEEP to descend into (or keep) the value. */
export function mapDeep(value: unknown, visit: (v: unknown) => unknown): unknown {
  const replaced = visit(value);
  if (replaced !== KEEP) return replaced;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const next = mapDeep(value[i], visit);
      if (next !== value[i]) (out ??= value.slice())[i] = next;
    }
    return out ?? value;
  }
  if (value instanceof Map) {
    let changed = false;
    const entries = [...value].map(([k, v]) => {
      const next = mapDeep(v, visit);
      if (next !== v) changed = true;
      return [k, next] as const;
    });
    return changed ? new Map(entries) : value;
  }
  if (value instanceof Set) {
    let changed = false;
    const items = [...value].map((v) => {
      const next = mapDeep(v, visit);
      if (next !== v) changed = true;
      return next;
    });
    return changed ? new Set(items) : value;
  }
  if (isPlainObject(value)) {
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const next = mapDeep(value[key], visit);
      if (next !== value[key]) (out ??= { ...value })[key] = next;
    }
    return out ?? value;
  }
  return value;
}

/** Calls `visit` on every value, depth first; `visit` returns false to stop descending into that value. */
export function forEachDeep(value: unknown, visit: (v: unknown, path: string) => boolean, path = "$"): void {
  if (!visit(value, path)) return;
  if (Array.isArray(value)) value.forEach((v, i) => forEachDeep(v, visit, `${path}[${i}]`));
  else if (value instanceof Map) for (const [k, v] of value) forEachDeep(v, visit, `${path}.get(${JSON.stringify(k)})`);
  else if (value instanceof Set) [...value].forEach((v, i) => forEachDeep(v, visit, `${path}<set item ${i}>`));
  else if (isPlainObject(value)) for (const key of Object.keys(value)) forEachDeep(value[key], visit, `${path}.${key}`);
}
