/// <reference lib="dom" />
/** The run page's task runs table (paged by keyset cursor, filter by state) and its failures list. */
import type { Page, TaskRunRecord } from "../../history/types.ts";
import { STATES } from "./wire.ts";
import { h, clear, getJson, stateBadge, duration, clock } from "./dom.ts";

export class TaskTable {
  readonly element: HTMLElement;
  readonly #body = h("tbody");
  readonly #pager = h("nav", { class: "pager" });
  readonly #state = h("select", { "aria-label": "task state" });
  #cursors: (string | undefined)[] = [undefined];
  #page = 0;
  #full = false;

  /** Called with a row's task run when its "logs" button is pressed. */
  onLogs: (t: TaskRunRecord) => void = () => {};

  constructor(private readonly runId: string) {
    for (const [v, label] of [["", "any state"], ...STATES.map((s) => [s, s.toLowerCase()])] as [string, string][]) this.#state.append(h("option", { value: v }, label));
    this.#state.addEventListener("change", () => {
      this.#cursors = [undefined];
      void this.load(0);
    });
    const head = h("tr", {}, ...["Task run", "Task", "State", "Worker", "Started", "Duration", "Attempts", "Cache", ""].map((c) => h("th", {}, c)));
    this.element = h("div", {}, h("div", { class: "filters" }, h("label", {}, "State ", this.#state)), h("div", { class: "tasks-wrap" }, h("table", { class: "tasks" }, h("thead", {}, head), this.#body)), this.#pager);
  }

  async load(page: number): Promise<void> {
    const q = new URLSearchParams({ limit: "100" });
    const cursor = this.#cursors[page];
    if (cursor) q.set("cursor", cursor);
    if (this.#state.value) q.set("state", this.#state.value);
    const res = await getJson<Page<TaskRunRecord>>(`/api/runs/${encodeURIComponent(this.runId)}/tasks?${q}`);
    this.#page = page;
    this.#cursors[page + 1] = res.nextCursor;
    this.#full = res.items.length >= 100;
    clear(this.#body, ...res.items.map((t) => this.#row(t)));
    if (!res.items.length) this.#body.append(h("tr", {}, h("td", { colspan: "9", class: "muted" }, "No task runs here yet.")));
    const nav: HTMLElement[] = [];
    if (page > 0) nav.push(button("« Previous", () => void this.load(page - 1)));
    if (res.nextCursor) nav.push(button("Next »", () => void this.load(page + 1)));
    clear(this.#pager, ...nav, h("span", { class: "muted" }, ` page ${page + 1}`));
  }

  /** The page on screen, read again. */
  reload(): Promise<void> {
    return this.load(this.#page);
  }

  /** Live: a changed task run replaces its row, a new one joins the last page when it matches and fits. */
  update(changed: TaskRunRecord[]): void {
    for (const t of changed) {
      const old = this.#body.querySelector(`tr[data-task="${CSS.escape(t.id)}"]`);
      const fits = !this.#state.value || this.#state.value === t.state;
      if (old) old.replaceWith(fits ? this.#row(t) : h("tr", { hidden: "" }));
      else if (fits && !this.#full && this.#cursors[this.#page + 1] === undefined) {
        this.#body.querySelector("td[colspan]")?.parentElement?.remove();
        this.#body.append(this.#row(t));
      }
    }
  }

  #row(t: TaskRunRecord): HTMLElement {
    const tr = row(t);
    tr.append(h("td", {}, button("logs", () => this.onLogs(t))));
    return tr;
  }
}

function row(t: TaskRunRecord): HTMLElement {
  return h("tr", { "data-task": t.id },
    h("td", { class: "name" }, t.name),
    h("td", {}, t.taskName),
    h("td", { class: "state" }, stateBadge(t.state, t.stateName)),
    h("td", { class: "muted" }, t.worker ?? "flow process"),
    h("td", {}, clock(t.startTime)),
    h("td", {}, t.startTime !== undefined && t.endTime !== undefined ? duration(t.endTime - t.startTime) : "–"),
    h("td", {}, t.attempts > 1 ? h("span", { class: "retried" }, `${t.attempts}`) : String(t.attempts)),
    h("td", {}, t.cacheHit ? h("span", { class: "cached" }, "hit") : t.cacheKey ? "miss" : "–"),
  );
}

export function button(label: string, onClick: () => void): HTMLButtonElement {
  const b = h("button", { type: "button" }, label);
  b.addEventListener("click", onClick);
  return b;
}

/** Failed and crashed task runs with their errors and stacks (the first 50; the table pages through the rest). */
export async function failures(runId: string, into: HTMLElement): Promise<number> {
  const res = await getJson<Page<TaskRunRecord>>(`/api/runs/${encodeURIComponent(runId)}/tasks?state=FAILED,CRASHED&limit=50`);
  clear(into, ...res.items.map(failure));
  if (res.nextCursor) into.append(h("p", { class: "muted" }, "More failed task runs: filter the table below by state."));
  return res.items.length;
}

export function failure(t: TaskRunRecord): HTMLElement {
  const last = t.states.at(-1);
  return h("details", { class: "failure", open: "", "data-task": t.id },
    h("summary", {}, stateBadge(t.state, t.stateName), " ", h("strong", {}, t.name), t.worker ? h("span", { class: "muted" }, ` on ${t.worker}`) : null,
      t.attempts > 1 ? h("span", { class: "muted" }, ` after ${t.attempts} attempts`) : null),
    h("pre", { class: "stack" }, t.error ?? last?.message ?? "(no error recorded)"),
  );
}
