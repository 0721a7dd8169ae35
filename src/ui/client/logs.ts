/// <reference lib="dom" />
/**
 * The run page's logs: the lowest level shown and a text search go to the store (a long log is never sent whole),
 * 200 lines a page with "Load more"; once the last page is shown, live lines that match are appended.
 */
import type { LogRecordRow, Page } from "../../history/types.ts";
import { h, clear, getJson, clock } from "./dom.ts";
import { button } from "./tasks.ts";

const LEVELS = ["debug", "info", "warning", "error", "critical"] as const;

export class LogView {
  readonly element: HTMLElement;
  readonly #list = h("div", { class: "log-lines", role: "log" });
  readonly #more = h("div", { class: "pager" });
  readonly #level = h("select", { "aria-label": "lowest log level" });
  readonly #search = h("input", { type: "search", placeholder: "search messages", "aria-label": "search logs" });
  #cursor: string | undefined;
  #atEnd = false;
  #lastId = 0;
  #generation = 0;
  #task: { id: string; name: string } | undefined;
  readonly #taskChip = h("span", { class: "chip", hidden: "" });
  /** The highest log id the first load saw: live lines are those after it. */
  maxId = 0;

  constructor(private readonly runId: string) {
    for (const l of LEVELS) this.#level.append(h("option", { value: l }, `${l} and above`));
    this.#level.value = "debug";
    this.#level.addEventListener("change", () => void this.load());
    let timer: ReturnType<typeof setTimeout> | undefined;
    this.#search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => void this.load(), 200);
    });
    this.element = h("div", {}, h("div", { class: "filters" }, h("label", {}, "Level ", this.#level), h("label", {}, "Search ", this.#search), this.#taskChip),
      this.#list, this.#more);
  }

  /** Only one task run's lines (undefined: the whole run's). */
  showTask(task: { id: string; name: string } | undefined): Promise<void> {
    this.#task = task;
    this.#taskChip.hidden = !task;
    clear(this.#taskChip, task ? `task run ${task.name} ` : null, task ? button("× all lines", () => void this.showTask(undefined)) : null);
    return this.load();
  }

  async load(): Promise<void> {
    const generation = ++this.#generation;
    this.#cursor = undefined;
    this.#lastId = 0;
    const first = await this.#fetch();
    if (generation !== this.#generation) return;
    clear(this.#list);
    this.#show(first);
    this.maxId = Math.max(this.maxId, this.#lastId);
  }

  async #fetch(): Promise<Page<LogRecordRow>> {
    const q = new URLSearchParams({ limit: "200", level: this.#level.value });
    if (this.#search.value) q.set("search", this.#search.value);
    if (this.#cursor) q.set("cursor", this.#cursor);
    if (this.#task) q.set("task", this.#task.id);
    return getJson<Page<LogRecordRow>>(`/api/runs/${encodeURIComponent(this.runId)}/logs?${q}`);
  }

  #show(page: Page<LogRecordRow>): void {
    const rows = page.items.filter((l) => l.id > this.#lastId);
    this.#list.append(...rows.map(line));
    for (const l of rows) this.#lastId = Math.max(this.#lastId, l.id);
    this.#cursor = page.nextCursor;
    this.#atEnd = !page.nextCursor;
    if (!this.#list.childElementCount) this.#list.append(h("p", { class: "muted empty" }, "No log lines match."));
    clear(this.#more, this.#atEnd ? null : button("Load more", () => void this.#fetch().then((p) => this.#show(p))));
  }

  /** Live lines: shown when the last page is on screen and they pass the filters. */
  append(rows: LogRecordRow[]): void {
    if (!this.#atEnd) return;
    const min = LEVELS.indexOf(this.#level.value as LogRecordRow["level"]), text = this.#search.value.toLowerCase();
    const fresh = rows.filter((l) => l.id > this.#lastId && (!this.#task || l.taskRunId === this.#task.id) && LEVELS.indexOf(l.level) >= min && (!text || l.message.toLowerCase().includes(text)));
    if (!fresh.length) return;
    this.#list.querySelector(":scope > p.empty")?.remove();
    this.#list.append(...fresh.map(line));
    for (const l of fresh) this.#lastId = Math.max(this.#lastId, l.id);
  }
}

function line(l: LogRecordRow): HTMLElement {
  return h("div", { class: `log ${l.level}`, "data-log": String(l.id) },
    h("span", { class: "log-time" }, clock(l.timestamp)),
    h("span", { class: "log-level" }, l.level.toUpperCase()),
    h("span", { class: "log-src" }, l.taskRunId ? (l.taskRunName ?? "task") : "flow"),
    h("span", { class: "log-msg" }, l.message));
}
