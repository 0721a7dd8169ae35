/// <reference lib="dom" />
/**
 * A flow run's page: its summary, timeline, failures, task runs, logs and parameters. While the run is not final
 * the page listens to /api/runs/<id>/events and updates itself: the summary and table rows at once, the timeline
 * read again at most once a second.
 */
import type { FlowRunRecord, LogRecordRow, TaskRunRecord } from "../../history/types.ts";
import type { TimelineWire } from "./wire.ts";
import { STATES } from "./wire.ts";
import { h, clear, getJson, link, stateBadge, duration, clock, section, STATE_COLOR } from "./dom.ts";
import { Timeline } from "./timeline.ts";
import { TaskTable, failures, failure } from "./tasks.ts";
import { LogView } from "./logs.ts";

const FINAL = new Set(["COMPLETED", "FAILED", "CRASHED", "CANCELLED"]);

export async function runPage(main: HTMLElement, id: string): Promise<void> {
  const api = `/api/runs/${encodeURIComponent(id)}`;
  const run = await getJson<FlowRunRecord>(api);
  const summary = h("div", { class: "summary" });
  const timeline = new Timeline();
  const failed = h("div", { class: "failures" });
  const failedCard = section("Failures", failed);
  const table = new TaskTable(id);
  const logs = new LogView(id);
  const dashboard = h("span");
  const logsCard = section("Logs", logs.element);
  table.onLogs = (t) => {
    void logs.showTask({ id: t.id, name: t.name });
    logsCard.scrollIntoView({ behavior: "smooth" });
  };
  renderSummary(summary, run, dashboard);
  clear(main, h("p", { class: "crumbs" }, link("/", "« All runs")), summary,
    section("Timeline", timeline.element), failedCard, section("Task runs", table.element), logsCard,
    section("Parameters", h("pre", { class: "params" }, run.parameters || "(none)")));
  performance.mark("run-summary");
  document.body.dataset.summary = String(performance.now());

  const loadTimeline = async () => timeline.set(await getJson<TimelineWire>(`${api}/timeline`));
  // Failed task runs with their stacks; the run's own message is in the summary already.
  failedCard.hidden = true;
  const nFailed = failures(id, failed).then((n) => (failedCard.hidden = n === 0));
  // Each part fails alone, saying why (e.g. a store the server cannot read), and the rest of the page still shows.
  const guard = (into: HTMLElement, work: Promise<unknown>) =>
    work.catch((error: unknown) => into.append(h("p", { class: "error" }, `Could not load this part: ${(error as Error).message}`)));
  await Promise.all([guard(timeline.element, loadTimeline()), guard(table.element, table.load(0)), guard(logs.element, logs.load()),
    guard(failed, nFailed), checkDashboard(api, run, dashboard)]);
  if (!FINAL.has(run.state)) listen(api, run, { summary, dashboard, timeline: loadTimeline, table, logs, failed, failedCard });
}

interface Parts {
  summary: HTMLElement;
  dashboard: HTMLElement;
  timeline: () => Promise<void>;
  table: TaskTable;
  logs: LogView;
  failed: HTMLElement;
  failedCard: HTMLElement;
}

function listen(api: string, first: FlowRunRecord, p: Parts): void {
  const source = new EventSource(`${api}/events?afterLog=${p.logs.maxId}`);
  let run = first, pending: ReturnType<typeof setTimeout> | undefined, lastTimeline = 0, cost = 0;
  // The timeline is read whole: at most once a second, and for a huge run no more than a quarter of the time.
  const refreshTimeline = () => {
    if (pending) return;
    const wait = Math.max(0, Math.max(1000, cost * 4) - (Date.now() - lastTimeline));
    pending = setTimeout(() => {
      lastTimeline = Date.now();
      void p.timeline().finally(() => {
        cost = Date.now() - lastTimeline;
        pending = undefined;
      });
    }, wait);
  };
  // A running bar grows with time even when nothing changes.
  const tick = setInterval(refreshTimeline, 2000);
  source.addEventListener("run", (e) => {
    run = JSON.parse((e as MessageEvent<string>).data) as FlowRunRecord;
    renderSummary(p.summary, run, p.dashboard);
    if (FINAL.has(run.state)) {
      // Final: stop listening, then one last read of the table and timeline (the server sent the run's
      // final record after its task runs', so this only catches writes that raced it).
      source.close();
      clearInterval(tick);
      refreshTimeline();
      void p.table.reload();
    }
  });
  source.addEventListener("tasks", (e) => {
    const changed = JSON.parse((e as MessageEvent<string>).data) as TaskRunRecord[];
    p.table.update(changed);
    for (const t of changed) {
      if (t.state !== "FAILED" && t.state !== "CRASHED") continue;
      p.failed.querySelector(`[data-task="${CSS.escape(t.id)}"]`)?.remove();
      p.failed.append(failure(t));
      p.failedCard.hidden = false;
    }
    refreshTimeline();
  });
  source.addEventListener("logs", (e) => p.logs.append(JSON.parse((e as MessageEvent<string>).data) as LogRecordRow[]));
}

function renderSummary(el: HTMLElement, run: FlowRunRecord, dashboard: HTMLElement): void {
  document.title = `${run.name} · ${run.flowName} · daskflow`;
  const end = run.endTime ?? (FINAL.has(run.state) ? undefined : Date.now());
  const counts = h("span", { class: "counts" });
  for (const s of STATES) {
    const n = run.taskCounts[s];
    if (!n) continue;
    const c = h("span", { class: "count" }, `${n} ${s.toLowerCase()}`);
    c.style.borderColor = STATE_COLOR[s] ?? "#999";
    counts.append(c);
  }
  if (!counts.childElementCount) counts.append(h("span", { class: "muted" }, "none"));
  const facts: [string, Node | string][] = [
    ["Flow", run.flowName],
    ["Started", clock(run.startTime)],
    ["Duration", `${duration(end === undefined ? undefined : end - run.startTime)}${run.endTime === undefined && !FINAL.has(run.state) ? " so far" : ""}`],
    ["Task runs", counts],
    ["Runner", run.runner + (run.clusterAddress ? ` · ${run.clusterAddress}` : "")],
  ];
  if (run.parentFlowRunId) facts.push(["Parent run", link(`/runs/${encodeURIComponent(run.parentFlowRunId)}`, run.parentFlowRunId)]);
  if (run.resumedFrom) facts.push(["Resumed from", link(`/runs/${encodeURIComponent(run.resumedFrom)}`, run.resumedFrom)]);
  if (run.dashboardLink) facts.push(["Dask dashboard", dashboard]);
  clear(el,
    h("h1", {}, h("span", { id: "run-state" }, stateBadge(run.state, run.stateName)), " ", h("span", { id: "run-name" }, run.name)),
    h("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    run.message ? h("pre", { class: "run-message" }, run.message) : null);
}

/** The dashboard link while the cluster answers; after, its address as text with a note. */
async function checkDashboard(api: string, run: FlowRunRecord, into: HTMLElement): Promise<void> {
  if (!run.dashboardLink) return;
  const { alive } = await getJson<{ alive: boolean }>(`${api}/dashboard`).catch(() => ({ alive: false }));
  const a = alive ? link(run.dashboardLink, run.dashboardLink) : h("span", { class: "muted" }, `${run.dashboardLink} (cluster gone)`);
  if (a instanceof HTMLAnchorElement) {
    a.target = "_blank";
    a.rel = "noopener noreferrer";
  }
  clear(into, a);
}
