/**
 * A flow run's parameters as a short line for the history: `(3, "abc", [1, 2, 3, … 97 more], {a: 1, b: …})`. It
 * never walks a large value (a budget of nodes) and never calls user code (no toString, no getters: own enumerable
 * data properties only).
 */
const MAX_CHARS = 200;
const MAX_ITEMS = 5;
const MAX_STRING = 40;

export function previewParameters(args: readonly unknown[]): string {
  const budget = { nodes: 50 };
  const text = `(${args.map((a) => preview(a, 0, budget)).join(", ")})`;
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text;
}

function preview(value: unknown, depth: number, budget: { nodes: number }): string {
  if (--budget.nodes < 0) return "…";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value);
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return "Symbol()";
    case "function":
      return "ƒ";
  }
  if (value === null) return "null";
  if (depth >= 2) return Array.isArray(value) ? `[… ${value.length}]` : "{…}";
  if (Array.isArray(value)) return list(value.slice(0, MAX_ITEMS).map((v) => preview(v, depth + 1, budget)), value.length, "[", "]");
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (value instanceof Map) return `Map(${value.size})`;
  if (value instanceof Set) return `Set(${value.size})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.byteLength} bytes)`;
  const proto: unknown = Object.getPrototypeOf(value);
  const prefix = proto === Object.prototype || proto === null ? "" : `${(value as { constructor?: { name?: unknown } }).constructor?.name as string | undefined ?? "Object"} `;
  const keys = Object.keys(value as object);
  const parts = keys.slice(0, MAX_ITEMS).map((k) => {
    const d = Object.getOwnPropertyDescriptor(value, k);
    return `${k}: ${d && "value" in d ? preview(d.value as unknown, depth + 1, budget) : "(getter)"}`;
  });
  return prefix + list(parts, keys.length, "{", "}");
}

function list(parts: string[], total: number, open: string, close: string): string {
  const more = total > parts.length ? `${parts.length ? ", " : ""}… ${total - parts.length} more` : "";
  return `${open}${parts.join(", ")}${more}${close}`;
}
