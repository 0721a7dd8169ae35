/// <reference lib="dom" />
/**
 * The run's timeline on a canvas: a lane per worker, each task run a bar from its start to its end, coloured by
 * state; cache hits teal, retried runs with an amber top edge. Wheel zooms around the pointer, drag pans,
 * double-click resets. With more bars in view than can be told apart, each lane is drawn per pixel column as a
 * stacked count of the task runs active there by state (difference arrays: O(bars + width), so 100k bars draw in
 * milliseconds). Hover shows the bar's (or column's) details as text.
 */
import { STATES, type TimelineWire } from "./wire.ts";
import { h, clear, duration, STATE_COLOR, CACHED_COLOR, RETRY_COLOR } from "./dom.ts";

const LABEL_W = 150, AXIS_H = 22, MAX_SLOTS = 48, AGGREGATE_ABOVE = 3000;
const GROUPS = [...STATES, "CACHED"] as const;
const BAD = new Set<string>(["FAILED", "CRASHED"]);
const COLORS = GROUPS.map((g) => (g === "CACHED" ? CACHED_COLOR : STATE_COLOR[g]!));

interface Lane { slots: number; y: number; h: number; bars: number[][] }

export class Timeline {
  readonly element: HTMLElement;
  readonly #canvas = h("canvas", { class: "timeline-canvas", "aria-label": "Timeline of task runs by worker" });
  readonly #tip = h("div", { class: "tip", hidden: "" });
  readonly #range = h("div", { class: "range", hidden: "" });
  readonly #note = h("p", { class: "muted timeline-note" });
  #d?: TimelineWire;
  #lanes: Lane[] = [];
  #slot = new Int32Array(0);
  #span = 1;
  #first = 0;
  #v0 = 0;
  #v1 = 1;
  #agg?: { counts: Float32Array; w: number } | undefined;
  #frame = 0;
  /** The bar under the pointer: its upstream and downstream links are drawn. */
  #hi: number | undefined;

  constructor() {
    const legend = h("div", { class: "legend" });
    for (const [i, g] of GROUPS.entries()) {
      if (g === "SCHEDULED") continue;
      const sw = h("span", { class: "swatch" });
      sw.style.background = COLORS[i]!;
      legend.append(h("span", {}, sw, g === "CACHED" ? "cache hit" : g.toLowerCase()));
    }
    const retry = h("span", { class: "swatch retry" });
    retry.style.borderTopColor = RETRY_COLOR;
    legend.append(h("span", {}, retry, "retried"), h("span", { class: "muted" }, "hover: details, lines to upstream (dark) and downstream (blue) · wheel: zoom · drag: pan · shift-drag: zoom to a range · double-click: reset"));
    this.element = h("div", { class: "timeline" }, legend, h("div", { class: "timeline-wrap" }, this.#canvas, this.#range, this.#tip), this.#note);
    this.#canvas.addEventListener("wheel", (e) => this.#wheel(e), { passive: false });
    this.#canvas.addEventListener("mousemove", (e) => this.#hover(e));
    this.#canvas.addEventListener("mouseleave", () => {
      this.#tip.hidden = true;
      this.#highlight(undefined);
    });
    this.#canvas.addEventListener("dblclick", () => this.#reset());
    this.#canvas.addEventListener("mousedown", (e) => this.#drag(e));
    new ResizeObserver(() => this.draw()).observe(this.element);
  }

  /** New data (a first load, or a live run read again); keeps the zoom unless it was the whole run. */
  set(d: TimelineWire): void {
    const whole = !this.#d || (this.#v0 <= this.#first && this.#v1 >= this.#span);
    this.#d = d;
    const n = d.names.length;
    const byLane: number[][] = d.lanes.map(() => []);
    let span = 1, first = Infinity;
    for (let i = 0; i < n; i++) {
      if (d.start[i]! < 0) continue;
      byLane[d.lane[i]!]!.push(i);
      span = Math.max(span, this.#end(i));
      first = Math.min(first, d.start[i]!);
    }
    this.#span = span;
    this.#first = first === Infinity ? 0 : first;
    this.#slot = new Int32Array(n);
    let y = AXIS_H;
    this.#lanes = byLane.map((bars) => {
      // Pack overlapping bars (threads on one worker) into rows: the first row free at the bar's start.
      bars.sort((a, b) => d.start[a]! - d.start[b]!);
      const ends: number[] = [];
      const rows: number[][] = [];
      for (const i of bars) {
        let r = ends.findIndex((e) => e <= d.start[i]!);
        if (r < 0) r = ends.length < MAX_SLOTS ? ends.length : i % MAX_SLOTS;
        ends[r] = Math.max(ends[r] ?? 0, this.#end(i));
        (rows[r] ??= []).push(i);
        this.#slot[i] = r;
      }
      const slots = Math.max(1, rows.length);
      const lane = { slots, y, h: Math.min(160, Math.max(28, slots * 16)), bars: rows };
      y += lane.h + 4;
      return lane;
    });
    this.#canvas.style.height = `${Math.max(y, AXIS_H + 30)}px`;
    this.#canvas.hidden = n === 0;
    if (whole) this.#reset(false);
    this.draw();
  }

  #end(i: number): number {
    const d = this.#d!;
    return d.end[i]! >= 0 ? d.end[i]! : Math.max(d.start[i]!, d.now - d.t0);
  }

  /** The whole of the task runs (a cluster's start-up before the first is left out: wheel out to see it). */
  #reset(redraw = true): void {
    const pad = Math.max(1, (this.#span - this.#first) * 0.02);
    this.#v0 = Math.max(0, this.#first - pad);
    this.#v1 = this.#span + pad;
    if (redraw) this.draw();
  }

  draw(): void {
    cancelAnimationFrame(this.#frame);
    this.#frame = requestAnimationFrame(() => this.#paint());
  }

  #paint(): void {
    const d = this.#d, c = this.#canvas;
    if (!d) return;
    const dpr = window.devicePixelRatio || 1, W = c.clientWidth, H = c.clientHeight;
    c.width = Math.round(W * dpr);
    c.height = Math.round(H * dpr);
    const g = c.getContext("2d")!;
    g.scale(dpr, dpr);
    g.clearRect(0, 0, W, H);
    g.font = "12px system-ui, sans-serif";
    const plotW = Math.max(10, W - LABEL_W), k = plotW / (this.#v1 - this.#v0);
    this.#axis(g, W, H, k);
    let visible = 0;
    for (let i = 0; i < d.names.length; i++) if (d.start[i]! >= 0 && d.start[i]! <= this.#v1 && this.#end(i) >= this.#v0) visible++;
    this.#agg = visible > AGGREGATE_ABOVE ? { counts: this.#binned(plotW, k), w: plotW } : undefined;
    for (const [li, lane] of this.#lanes.entries()) {
      g.fillStyle = li % 2 ? "#f6f7f9" : "#eef0f3";
      g.fillRect(LABEL_W, lane.y, plotW, lane.h);
      g.fillStyle = "#333";
      g.fillText(ellipsis(g, d.lanes[li]!, LABEL_W - 8), 4, lane.y + Math.min(lane.h / 2 + 4, 15));
      if (this.#agg) this.#paintBins(g, li, lane);
      else this.#paintBars(g, lane, k);
    }
    if (!this.#agg && this.#hi !== undefined) this.#paintLinks(g, k);
    let unstarted = 0, first = Infinity;
    for (const s of d.start) if (s < 0) unstarted++; else first = Math.min(first, s);
    this.#note.textContent = d.names.length === 0 ? "No task runs recorded for this run." : `${d.names.length} task runs` + (unstarted ? `, ${unstarted} not started` : "") +
      (first > 500 && first < Infinity ? ` · the first started +${duration(first)} after the flow run began (wheel out to see from its start)` : "") +
      (this.#agg ? ` · ${visible} in view, drawn as counts per pixel column (zoom in for single bars)` : "");
    c.dataset.mode = this.#agg ? "aggregated" : "bars";
    c.dataset.bars = String(visible);
    if (!c.dataset.drawn) {
      c.dataset.drawn = String(performance.now());
      performance.mark("timeline-drawn");
    }
  }

  #axis(g: CanvasRenderingContext2D, W: number, H: number, k: number): void {
    const span = this.#v1 - this.#v0, target = span / Math.max(1, (W - LABEL_W) / 110);
    const step = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 3e4, 6e4, 12e4, 3e5, 6e5, 18e5, 36e5, 72e5].find((s) => s >= target) ?? 144e5;
    g.fillStyle = "#555";
    g.strokeStyle = "#d8dbe0";
    for (let t = Math.ceil(this.#v0 / step) * step; t <= this.#v1; t += step) {
      const x = LABEL_W + (t - this.#v0) * k;
      g.beginPath();
      g.moveTo(x + 0.5, AXIS_H - 4);
      g.lineTo(x + 0.5, H);
      g.stroke();
      g.fillText(`+${offset(t, step)}`, x + 3, 13);
    }
  }

  #paintBars(g: CanvasRenderingContext2D, lane: Lane, k: number): void {
    const d = this.#d!, rowH = lane.h / lane.slots;
    for (const [r, row] of lane.bars.entries()) {
      const y = lane.y + r * rowH;
      for (const i of row) {
        const s = d.start[i]!, e = this.#end(i);
        if (s > this.#v1 || e < this.#v0) continue;
        const x0 = LABEL_W + Math.max(0, (s - this.#v0) * k), x1 = LABEL_W + Math.min((e - this.#v0) * k, (this.#v1 - this.#v0) * k);
        const state = STATES[d.state[i]!]!;
        g.fillStyle = d.cached[i] ? CACHED_COLOR : STATE_COLOR[state]!;
        // A failure that took a millisecond still gets a bar one can see and hover.
        g.fillRect(x0, y + 1, Math.max(BAD.has(state) ? 3 : 1.5, x1 - x0 - (rowH > 6 ? 1 : 0)), Math.max(1, rowH - 2));
        if (d.attempts[i]! > 1) {
          g.fillStyle = RETRY_COLOR;
          g.fillRect(x0, y + 1, Math.max(1.5, x1 - x0), Math.min(3, Math.max(1, rowH / 4)));
        }
      }
    }
  }

  #at(i: number, k: number, end: boolean): [number, number] {
    const lane = this.#lanes[this.#d!.lane[i]!]!, rowH = lane.h / lane.slots;
    return [LABEL_W + ((end ? this.#end(i) : this.#d!.start[i]!) - this.#v0) * k, lane.y + this.#slot[i]! * rowH + rowH / 2];
  }

  /** Lines from the hovered task run's upstreams' ends to its start (dark), and from its end to its downstreams (blue). */
  #paintLinks(g: CanvasRenderingContext2D, k: number): void {
    const d = this.#d!, hi = this.#hi!, up = d.up;
    if (!up) return;
    const line = (from: number, to: number, colour: string) => {
      if (d.start[from]! < 0 || d.start[to]! < 0) return;
      const [x0, y0] = this.#at(from, k, true), [x1, y1] = this.#at(to, k, false), mid = (x0 + x1) / 2;
      g.strokeStyle = colour;
      g.lineWidth = 1.5;
      g.beginPath();
      g.moveTo(x0, y0);
      g.bezierCurveTo(mid, y0, mid, y1, x1, y1);
      g.stroke();
    };
    g.save();
    g.beginPath();
    g.rect(LABEL_W, AXIS_H, this.#canvas.clientWidth - LABEL_W, this.#canvas.clientHeight - AXIS_H);
    g.clip();
    for (const j of up[hi] ?? []) line(j, hi, "#1f2a37");
    for (let i = 0; i < up.length; i++) if (up[i]!.includes(hi)) line(hi, i, "#2563eb");
    g.restore();
  }

  #highlight(i: number | undefined): void {
    if (i === this.#hi) return;
    this.#hi = i;
    if (this.#d?.up) this.draw();
  }

  /** Task runs active per lane, state group and pixel column. */
  #binned(w: number, k: number): Float32Array {
    const d = this.#d!, G = GROUPS.length, cols = Math.ceil(w) + 1;
    const counts = new Float32Array(this.#lanes.length * G * cols);
    for (let i = 0; i < d.names.length; i++) {
      const s = d.start[i]!, e = this.#end(i);
      if (s < 0 || s > this.#v1 || e < this.#v0) continue;
      const x0 = Math.max(0, Math.floor((s - this.#v0) * k)), x1 = Math.min(cols - 1, Math.floor((e - this.#v0) * k) + 1);
      const base = (d.lane[i]! * G + (d.cached[i] ? G - 1 : d.state[i]!)) * cols;
      counts[base + x0]! += 1;
      counts[base + x1]! -= 1;
    }
    for (let b = 0; b < counts.length; b += cols) for (let x = 1; x < cols; x++) counts[b + x]! += counts[b + x - 1]!;
    return counts;
  }

  /**
   * A lane's columns: height by how many task runs are active there (against the lane's busiest column), split by
   * state in proportion; failed and crashed on top with at least a pixel, so one failure among thousands shows.
   */
  #paintBins(g: CanvasRenderingContext2D, li: number, lane: Lane): void {
    const { counts, w } = this.#agg!, G = GROUPS.length, cols = Math.ceil(w) + 1;
    const at = (gi: number, x: number) => counts[(li * G + gi) * cols + x]!;
    let max = 0;
    for (let x = 0; x < cols - 1; x++) {
      let total = 0;
      for (let gi = 0; gi < G; gi++) total += at(gi, x);
      max = Math.max(max, total);
    }
    if (max <= 0) return;
    const order = [...GROUPS.keys()].sort((a, b) => Number(BAD.has(GROUPS[a]!)) - Number(BAD.has(GROUPS[b]!)));
    for (let x = 0; x < cols - 1; x++) {
      let total = 0;
      for (let gi = 0; gi < G; gi++) total += at(gi, x);
      if (total <= 0) continue;
      const height = Math.max(2, (total / max) * (lane.h - 2));
      let y = lane.y + lane.h;
      for (const gi of order) {
        const n = at(gi, x);
        if (n <= 0) continue;
        const seg = Math.min(y - (lane.y + lane.h - height), Math.max(BAD.has(GROUPS[gi]!) ? 1 : 0, (n / total) * height));
        g.fillStyle = COLORS[gi]!;
        g.fillRect(LABEL_W + x, y - seg, 1, seg);
        y -= seg;
      }
    }
  }

  #hover(e: MouseEvent): void {
    const d = this.#d;
    const r = this.#canvas.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    const li = this.#lanes.findIndex((l) => y >= l.y && y < l.y + l.h);
    const lane = this.#lanes[li];
    if (!d || !lane || x < LABEL_W) {
      this.#highlight(undefined);
      return void (this.#tip.hidden = true);
    }
    const k = (this.#canvas.clientWidth - LABEL_W) / (this.#v1 - this.#v0), t = this.#v0 + (x - LABEL_W) / k;
    const lines: string[] = [];
    if (this.#agg) {
      const { counts, w } = this.#agg, G = GROUPS.length, cols = Math.ceil(w) + 1, col = Math.floor(x - LABEL_W);
      const parts = GROUPS.map((grp, gi) => [grp, counts[(li * G + gi) * cols + col] ?? 0] as const).filter(([, n]) => n > 0);
      lines.push(`${d.lanes[li]}`, `+${offset(t, 1)}: ${parts.reduce((a, [, n]) => a + n, 0)} task runs active`);
      for (const [grp, n] of parts) lines.push(`  ${n} ${grp === "CACHED" ? "cache hits" : grp.toLowerCase()}`);
    } else {
      const row = lane.bars[Math.min(lane.slots - 1, Math.floor((y - lane.y) / (lane.h / lane.slots)))] ?? [];
      const slack = 3 / k;
      const i = row.find((j) => d.start[j]! - slack <= t && this.#end(j) + slack >= t);
      this.#highlight(i);
      if (i === undefined) return void (this.#tip.hidden = true);
      const state = STATES[d.state[i]!]!;
      lines.push(d.names[i]!, `${state.toLowerCase()}${d.cached[i] ? " (cache hit)" : ""} on ${d.lanes[li]}`,
        `start +${offset(d.start[i]!, 1)}, ${d.end[i]! >= 0 ? `took ${duration(d.end[i]! - d.start[i]!)}` : "still running"}`);
      if (d.attempts[i]! > 1) lines.push(`${d.attempts[i]} attempts (retried)`);
      if (d.up) {
        const ups = d.up[i]!.length, downs = d.up.reduce((n, u) => n + (u.includes(i) ? 1 : 0), 0);
        if (ups || downs) lines.push(`${ups} upstream, ${downs} downstream (lines)`);
      }
    }
    clear(this.#tip, ...lines.map((l, n) => h("div", n === 0 ? { class: "tip-title" } : {}, l)));
    this.#tip.hidden = false;
    // On the pointer's left in the right half: the links run rightwards from a bar's end.
    const w = this.#tip.offsetWidth;
    this.#tip.style.left = `${x > this.#canvas.clientWidth / 2 ? Math.max(0, x - w - 12) : Math.min(x + 12, this.#canvas.clientWidth - w)}px`;
    this.#tip.style.top = `${y + 12}px`;
  }

  #wheel(e: WheelEvent): void {
    e.preventDefault();
    const r = this.#canvas.getBoundingClientRect(), x = Math.max(0, e.clientX - r.left - LABEL_W);
    const span = this.#v1 - this.#v0, t = this.#v0 + (x / (r.width - LABEL_W)) * span;
    const next = Math.min(this.#span * 1.02, Math.max(0.05, span * Math.pow(1.0015, e.deltaY)));
    this.#v0 = Math.max(0, t - ((t - this.#v0) / span) * next);
    this.#v1 = this.#v0 + next;
    this.draw();
  }

  #drag(e: MouseEvent): void {
    if (e.shiftKey) return this.#zoomRange(e);
    const startX = e.clientX, v0 = this.#v0, v1 = this.#v1, per = (v1 - v0) / Math.max(1, this.#canvas.clientWidth - LABEL_W);
    const move = (m: MouseEvent) => {
      const shift = Math.max(-v0, (startX - m.clientX) * per);
      this.#v0 = v0 + shift;
      this.#v1 = v1 + shift;
      this.draw();
    };
    const up = () => {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  }

  /** Shift-drag: the range swept becomes the view. */
  #zoomRange(e: MouseEvent): void {
    e.preventDefault();
    const r = this.#canvas.getBoundingClientRect(), x0 = Math.max(LABEL_W, e.clientX - r.left);
    const toTime = (x: number) => this.#v0 + ((x - LABEL_W) / (r.width - LABEL_W)) * (this.#v1 - this.#v0);
    let x1 = x0;
    const show = () => {
      this.#range.hidden = false;
      this.#range.style.left = `${Math.min(x0, x1)}px`;
      this.#range.style.width = `${Math.abs(x1 - x0)}px`;
      this.#range.style.height = `${r.height}px`;
    };
    const move = (m: MouseEvent) => {
      x1 = Math.min(r.width, Math.max(LABEL_W, m.clientX - r.left));
      show();
    };
    const up = () => {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      this.#range.hidden = true;
      if (Math.abs(x1 - x0) < 3) return;
      const a = toTime(Math.min(x0, x1)), b = toTime(Math.max(x0, x1));
      this.#v0 = a;
      this.#v1 = Math.max(a + 0.05, b);
      this.draw();
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  }
}

function ellipsis(g: CanvasRenderingContext2D, text: string, max: number): string {
  if (g.measureText(text).width <= max) return text;
  let s = text;
  while (s.length > 1 && g.measureText(`…${s}`).width > max) s = s.slice(1);
  return `…${s}`;
}

/** A time after the flow run's start for the axis and tooltips, as precise as the tick step asks. */
function offset(ms: number, step: number): string {
  if (step >= 60_000) return `${Math.round(ms / 60_000)} min`;
  const digits = step >= 1000 ? 0 : step >= 100 ? 1 : step >= 10 ? 2 : 3;
  return `${(ms / 1000).toFixed(digits)} s`;
}
