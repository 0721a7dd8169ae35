/**
 * The progress display of one flow run: a timer (unref'd, so it never keeps the process alive) reads the run's
 * futures every TICK_MS. A stretch of work (from the first open run until none is open) that lasts longer than
 * START_AFTER_MS gets a display, which ends with a summary line; shorter stretches print nothing.
 */
import type { RunFutures } from "../run-futures.ts";
import { finalText, progressText } from "./format.ts";
import { LineRenderer } from "./lines.ts";
import type { Renderer } from "./renderer.ts";
import { Tally } from "./tally.ts";
import { TerminalRenderer } from "./terminal.ts";

export const START_AFTER_MS = 2000;
const TICK_MS = 250;
/** The rate is measured over about this long, so it follows changes in speed. */
const RATE_WINDOW_MS = 5000;

export interface DisplayTarget {
  /** Prints a permanent line as an INFO record of the run. */
  print: (message: string) => void;
  /** Where the display draws; a terminal gets the redrawn line. */
  out: NodeJS.WriteStream;
}

export class ProgressDisplay {
  readonly #tally: Tally;
  readonly #target: DisplayTarget;
  readonly #timer: NodeJS.Timeout;
  #renderer: Renderer | undefined;
  #stopped = false;
  #stretchStart: number | undefined;
  /** [time, finished runs] over the last RATE_WINDOW_MS. */
  #samples: Array<[number, number]> = [];

  constructor(futures: RunFutures, target: DisplayTarget) {
    this.#tally = new Tally(futures);
    this.#target = target;
    this.#timer = setInterval(() => this.#tick(), TICK_MS).unref();
  }

  /** The flow's work is over: a last count, and the summary if a display showed. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    // Only a display that shows needs a last count (a short run's futures are not read again).
    if (this.#renderer) this.#tick();
    this.#end();
  }

  /** Erases the live line and stops, printing nothing (an interrupt line follows). */
  abort(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#renderer?.clear();
    this.#renderer = undefined;
  }

  #tick(): void {
    const counts = this.#tally.update();
    const now = Date.now();
    const finished = counts.done + counts.failed;
    if (this.#stretchStart === undefined) {
      if (this.#tally.open === 0) return this.#tally.reset();
      this.#stretchStart = now;
      this.#samples = [];
    }
    this.#samples.push([now, finished]);
    while (this.#samples.length > 2 && now - this.#samples[1]![0] >= RATE_WINDOW_MS) this.#samples.shift();
    const [since, before] = this.#samples[0]!;
    const perSecond = now > since ? ((finished - before) * 1000) / (now - since) : 0;
    if (!this.#renderer && this.#tally.open > 0 && now - this.#stretchStart >= START_AFTER_MS) this.#renderer = this.#makeRenderer();
    if (this.#tally.open === 0) return this.#end();
    this.#renderer?.show(progressText(counts, perSecond));
  }

  /** The stretch of work ended. */
  #end(): void {
    if (this.#renderer && this.#stretchStart !== undefined) {
      this.#renderer.finish(finalText(this.#tally.counts, (Date.now() - this.#stretchStart) / 1000));
    }
    this.#renderer = undefined;
    this.#stretchStart = undefined;
    this.#tally.reset();
  }

  #makeRenderer(): Renderer {
    const { out, print } = this.#target;
    if (out.isTTY) return new TerminalRenderer(print, out);
    return new LineRenderer(print);
  }
}
