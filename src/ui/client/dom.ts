/// <reference lib="dom" />
/**
 * DOM helpers for the UI's pages. Every piece of data reaches the page as a text node or an attribute set through
 * the DOM (never as HTML), so a task named `<img src=x onerror=alert(1)>` shows as those characters.
 */
type Child = Node | string | number | false | null | undefined;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== false && c !== null && c !== undefined) el.append(typeof c === "number" ? String(c) : c);
  return el;
}

/** A link to a page of the UI (or elsewhere, http(s) only: a stored `javascript:` link stays text). */
export function link(href: string, ...children: Child[]): HTMLElement {
  if (!href.startsWith("/") && !/^https?:\/\//i.test(href)) return h("span", {}, ...children);
  return h("a", { href }, ...children);
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { accept: "application/json" } });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

export const STATE_COLOR: Record<string, string> = {
  PENDING: "#9aa3af",
  SCHEDULED: "#b6a5d6",
  RUNNING: "#3b82f6",
  COMPLETED: "#2f9e62",
  FAILED: "#d64541",
  CRASHED: "#8e2b6e",
  CANCELLED: "#6b7280",
};
export const CACHED_COLOR = "#2aa9b8";
export const RETRY_COLOR = "#f59e0b";

export function stateBadge(state: string, name?: string): HTMLElement {
  const b = h("span", { class: "badge" }, name ?? state);
  b.style.background = STATE_COLOR[state] ?? "#999";
  return b;
}

export function duration(ms: number | undefined): string {
  if (ms === undefined || ms < 0 || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function clock(t: number | undefined): string {
  if (t === undefined) return "–";
  const d = new Date(t);
  return `${d.toLocaleDateString(undefined, { month: "short", day: "numeric" })} ${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  for (const c of children) if (c !== false && c !== null && c !== undefined) el.append(typeof c === "number" ? String(c) : c);
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}
