/** Grouping keys of JavaScript values: primitives as they are, objects by their JSON (a Map would compare identity). */
export function keyOf(value: unknown): unknown {
  return typeof value === "object" && value !== null ? `\u0000json:${JSON.stringify(value)}` : value;
}

/** A stable hash of a key, for the bucket of a shuffle (FNV-1a over its type and text). */
export function hashKey(value: unknown): number {
  const text = `${typeof value}:${String(keyOf(value))}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
