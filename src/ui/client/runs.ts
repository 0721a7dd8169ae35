/// <reference lib="dom" />
/** The runs list: filters (flow, state, time) in the address, pages by the store's keyset cursor. */
import type { FlowRunRecord, Page } from "../../history/types.ts";
import { STATES } from "./wire.ts";
import { h, clear, getJson, link, stateBadge, duration, clock, STATE_COLOR } from "./dom.ts";

const TIMES: [string, string][] = [["", "any time"], ["1h", "last hour"], ["24h", "last 24 hours"], ["7d", "last 7 days"], ["30d", "last 30 days"]];

export async function runsPage(main: HTMLElement): Promise<void> {
  document.title = "Runs · daskflow";
  const params = new URLSearchParams(location.search);
  const api = new URLSearchParams();
  for (const k of ["flow", "state", "since", "cursor", "limit"]) {
    const v = params.get(k);
    if (v) api.set(k, v);
  }
  const [page, flows] = await Promise.all([getJson<Page<FlowRunRecord>>(`/api/runs?${api}`), getJson<{ items: string[] }>("/api/flows")]);

  const go = (changes: Record<string, string>) => {
    const next = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) if (v) next.set(k, v); else next.delete(k);
    if (!("cursor" in changes)) next.delete("cursor");
    location.search = next.toString();
  };
  const select = (name: string, options: [string, string][]) => {
    const s = h("select", { name, "aria-label": name });
    for (const [value, label] of options) s.append(h("option", { value }, label));
    s.value = params.get(name) ?? "";
    s.addEventListener("change", () => go({ [name]: s.value }));
    return s;
  };
  const filters = h("form", { class: "filters" },
    h("label", {}, "Flow ", select("flow", [["", "all flows"], ...flows.items.map((f): [string, string] => [f, f])])),
    h("label", {}, "State ", select("state", [["", "any state"], ...STATES.map((s): [string, string] => [s, s.toLowerCase()])])),
    h("label", {}, "Started ", select("since", TIMES)),
  );
  filters.addEventListener("submit", (e) => e.preventDefault());

  const body = h("tbody");
  for (const run of page.items) body.append(row(run));
  const table = page.items.length
    ? h("table", { class: "runs" }, h("thead", {}, h("tr", {}, ...["State", "Flow", "Run", "Started", "Duration", "Task runs", "Runner"].map((c) => h("th", {}, c)))), body)
    : h("p", { class: "muted empty" }, params.toString() ? "No runs match these filters." : "No runs recorded yet: run a flow, then reload.");
  const pager = h("nav", { class: "pager" });
  if (params.get("cursor")) pager.append(link(`/?${without(params, "cursor")}`, "« Newest"));
  if (page.nextCursor) {
    const older = new URLSearchParams(params);
    older.set("cursor", page.nextCursor);
    pager.append(link(`/?${older}`, "Older »"));
  }
  clear(main, h("h1", {}, "Flow runs"), filters, table, pager);
  // New and running runs show up by themselves: the first page is read again every 3 s while the tab is visible
  // (a page further on only while it shows a run still going).
  const going = (items: FlowRunRecord[]) => items.some((r) => !FINAL.has(r.state));
  if (!params.get("cursor") || going(page.items)) {
    const timer = setInterval(() => {
      if (document.hidden) return;
      void getJson<Page<FlowRunRecord>>(`/api/runs?${api}`).then((next) => {
        if (!next.items.length) return;
        if (!table.isConnected || table.tagName !== "TABLE") return location.reload();
        clear(body, ...next.items.map(row));
        if (params.get("cursor") && !going(next.items)) clearInterval(timer);
      });
    }, 3000);
  }
}

const FINAL = new Set(["COMPLETED", "FAILED", "CRASHED", "CANCELLED"]);

function row(run: FlowRunRecord): HTMLElement {
  const counts = h("span", { class: "counts" });
  for (const s of STATES) {
    const n = run.taskCounts[s];
    if (!n) continue;
    const c = h("span", { class: "count", title: `${n} ${s.toLowerCase()}` }, `${n} ${s.toLowerCase()}`);
    c.style.borderColor = STATE_COLOR[s] ?? "#999";
    counts.append(c);
  }
  if (!counts.childElementCount) counts.append(h("span", { class: "muted" }, "none"));
  const end = run.endTime ?? (run.state === "RUNNING" ? Date.now() : undefined);
  return h("tr", { "data-run": run.id },
    h("td", {}, stateBadge(run.state, run.stateName)),
    h("td", {}, run.flowName),
    h("td", {}, link(`/runs/${encodeURIComponent(run.id)}`, run.name)),
    h("td", {}, clock(run.startTime)),
    h("td", {}, duration(end === undefined ? undefined : end - run.startTime), run.endTime === undefined && run.state === "RUNNING" ? " (running)" : ""),
    h("td", {}, counts),
    h("td", { class: "muted" }, run.runner),
  );
}

function without(params: URLSearchParams, key: string): string {
  const p = new URLSearchParams(params);
  p.delete(key);
  return p.toString();
}
