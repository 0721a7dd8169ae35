/**
 * A terminal: one progress line redrawn in place at the bottom. Whatever else is written to the terminal while it
 * shows (logs, the flow's own prints on stdout or stderr) first erases it and redraws it after, so lines never mix.
 */
import type { Renderer } from "./renderer.ts";

type Write = typeof process.stderr.write;
const ERASE = "\r\x1b[K";

export class TerminalRenderer implements Renderer {
  readonly #out: NodeJS.WriteStream;
  readonly #write: (text: string) => void;
  readonly #print: (line: string) => void;
  #text = "";
  #drawn = false;
  /** The last write of others ended its line: the progress line may be drawn below it. */
  #atLineStart = true;
  #redrawScheduled = false;
  #unwrap: Array<() => void> = [];

  /** `print` writes a permanent line (formatted as a log record) to `out`. */
  constructor(print: (line: string) => void, out: NodeJS.WriteStream) {
    this.#print = print;
    this.#out = out;
    const original = out.write.bind(out);
    this.#write = (text) => void original(text);
    for (const stream of new Set([out, process.stdout, process.stderr])) {
      if (stream === out || (stream.isTTY && out.isTTY)) this.#wrap(stream);
    }
  }

  show(text: string): void {
    const width = Math.max(20, (this.#out.columns || 80) - 1);
    // A line longer than the terminal would wrap, and "\r" would then redraw only its last part.
    const fitted = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    if (fitted === this.#text && this.#drawn) return;
    this.#text = fitted;
    this.#draw();
  }

  finish(line: string): void {
    this.#erase();
    this.#stop();
    this.#print(line);
  }

  clear(): void {
    this.#erase();
    this.#stop();
  }

  #draw(): void {
    if (!this.#atLineStart || this.#text === "") return;
    this.#write(`\r${this.#text}\x1b[K`);
    this.#drawn = true;
  }

  #erase(): void {
    if (!this.#drawn) return;
    this.#write(ERASE);
    this.#drawn = false;
  }

  #stop(): void {
    for (const unwrap of this.#unwrap) unwrap();
    this.#unwrap = [];
    this.#text = "";
  }

  #wrap(stream: NodeJS.WriteStream): void {
    // The very function is kept (not a bound copy), to be put back as it was.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const original = stream.write;
    const wrapped = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      this.#erase();
      const result = (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      const last = typeof chunk === "string" ? chunk.at(-1) : chunk.length ? String.fromCharCode(chunk[chunk.length - 1]!) : undefined;
      if (last !== undefined) this.#atLineStart = last === "\n";
      if (this.#atLineStart) this.#scheduleRedraw();
      return result;
    }) as Write;
    stream.write = wrapped;
    // Someone who replaced write after us keeps theirs.
    this.#unwrap.push(() => {
      if (stream.write === wrapped) stream.write = original;
    });
  }

  /** After a burst of writes, one redraw. */
  #scheduleRedraw(): void {
    if (this.#redrawScheduled) return;
    this.#redrawScheduled = true;
    setImmediate(() => {
      this.#redrawScheduled = false;
      this.#draw();
    });
  }
}
