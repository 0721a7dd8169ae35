/** Not a terminal (a pipe, a CI log): a progress line every few seconds and a final one, as log records. */
import type { Renderer } from "./renderer.ts";

/** Seconds between progress lines when stderr is not a terminal. */
export const LINE_EVERY_MS = 5000;
/** Counts that did not move are printed again only after this long (a sign of life in a stalled run). */
const UNCHANGED_EVERY_MS = 30_000;

export class LineRenderer implements Renderer {
  readonly #print: (text: string) => void;
  #last = 0;
  #lastText = "";

  /** `print` writes one finished line (formatted as a log record). */
  constructor(print: (text: string) => void) {
    this.#print = print;
  }

  show(text: string): void {
    const now = Date.now();
    if (now - this.#last < LINE_EVERY_MS && this.#last !== 0) return;
    // Counts that did not move are not news for a while (rate and time left alone do not make a line).
    const counts = text.slice(0, text.indexOf(";"));
    if (counts === this.#lastText && now - this.#last < UNCHANGED_EVERY_MS) return;
    this.#last = now;
    this.#lastText = counts;
    this.#print(text);
  }

  finish(line: string): void {
    this.#print(line);
    this.#last = 0;
    this.#lastText = "";
  }

  clear(): void {}
}
