/** Where the display goes: one line redrawn in place on a terminal, or a line every few seconds elsewhere. */
export interface Renderer {
  /** The current progress (called on every tick; a renderer decides whether to print it). */
  show(text: string): void;
  /** The stretch of work ended: leave `line` as a permanent summary. */
  finish(line: string): void;
  /** Take away what is drawn, print nothing more (before an interrupt line). */
  clear(): void;
}
