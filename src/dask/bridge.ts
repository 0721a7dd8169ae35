/**
 * The bridge process seen from the flow process: a Python child running `python -m daskflow_bridge`, which drives
 * the official `distributed.Client`. Requests carry ids kept in a map; when the child exits, every pending request
 * is rejected and the owner is told, so no future waits forever.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { CrashedRunError } from "../core/errors.ts";
import { type BridgeMessage, type BridgeRequest, FrameDecoder, encodeFrameParts } from "./protocol.ts";
import { type PythonChoice, pythonEnv } from "./paths.ts";
import { SENDER_FILES_ENV, SenderFiles, senderFilesWanted } from "../transfer/sender-files.ts";
import { setupHint, setupProblem } from "./setup-errors.ts";
import { BridgeError, PendingReplies } from "./replies.ts";

export { BridgeError };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface BridgeHandlers {
  message(message: Exclude<BridgeMessage, { op: "reply" }>): void;
  /** The bridge exited; `error` says why when it was not asked to. */
  exit(error: Error | undefined): void;
  /** A line the bridge printed: on stdout that is what tasks print on local workers; on stderr Dask's own logs. */
  output(line: string, stream: "stdout" | "stderr"): void;
}

export class Bridge {
  readonly #child: ChildProcess;
  readonly #input: Writable;
  readonly #pending = new PendingReplies();
  #closing = false;
  #exited: Promise<void>;
  #stderrTail: string[] = [];
  readonly #python: PythonChoice;

  constructor(python: PythonChoice, handlers: BridgeHandlers) {
    this.#python = python;
    this.#child = spawn(python.path, ["-m", "daskflow_bridge"], {
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      env: { ...pythonEnv(), ...(senderFilesWanted() ? { [SENDER_FILES_ENV]: "1" } : {}) },
    });
    this.#input = this.#child.stdio[3] as Writable;
    this.#input.on("error", () => {}); // EPIPE when the bridge died; the exit handler reports it
    const output = this.#child.stdio[4] as Readable;
    const files = new SenderFiles(() => this.#child.pid);
    const decoder = new FrameDecoder<BridgeMessage>({ senderFile: files.read, memory: files.readMemory });
    output.on("data", (chunk: Buffer) => {
      const got = decoder.push(chunk);
      const read = files.takeRead();
      if (read.length) this.send({ op: "release-files", fds: read });
      for (const message of got) {
        if (message.op === "reply") this.#pending.settle(message);
        else if (message.op === "side-probe") this.send({ op: "side-files", fd: message.fd, ...files.probe(message.fd, message.memory) });
        else handlers.message(message);
      }
    });
    for (const stream of [this.#child.stdout!, this.#child.stderr!]) {
      let partial = "";
      stream.setEncoding("utf8");
      stream.on("data", (text: string) => {
        const lines = (partial + text).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          if (stream === this.#child.stderr) this.#stderrTail = [...this.#stderrTail.slice(-40), line];
          handlers.output(line, stream === this.#child.stderr ? "stderr" : "stdout");
        }
      });
    }
    this.#exited = new Promise((resolve) => {
      const finish = (error: Error | undefined) => {
        this.#pending.rejectAll(error ?? new BridgeError("The Dask bridge closed."));
        handlers.exit(error);
        resolve();
      };
      this.#child.once("error", (err) => finish(this.#spawnError(err)));
      this.#child.once("exit", (code, signal) => {
        files.close();
        if (this.#closing && code === 0) return finish(undefined);
        finish(this.#exitError(code, signal));
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  #spawnError(err: NodeJS.ErrnoException): Error {
    if (err.code === "ENOENT") return new BridgeError(`Python interpreter '${this.#python.path}' (from ${this.#python.source}) was not found. ${setupHint(this.#python)}`);
    return new BridgeError(`Cannot start the Dask bridge with '${this.#python.path}': ${err.message}`);
  }

  #exitError(code: number | null, signal: NodeJS.Signals | null): Error {
    const tail = this.#stderrTail.join("\n");
    const setup = setupProblem(this.#python, tail);
    if (setup) return new BridgeError(setup);
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    return new CrashedRunError(`The Dask bridge process ${how}.${tail ? `\nLast output:\n${tail.split("\n").slice(-8).join("\n")}` : ""}`);
  }

  /** A request with a reply (bounded as replies.ts says: a bridge that stops answering fails it, never a hang). */
  request<T>(message: DistributiveOmit<Extract<BridgeRequest, { id: number }>, "id">): Promise<T> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return Promise.reject(new BridgeError("The Dask bridge is not running."));
    const { id, reply } = this.#pending.add<T>(message.op, (op, seconds) => {
      // A cluster that did not start is torn down: the bridge's own exit closes what it made.
      if (op === "start") this.kill();
      return new BridgeError(`The Dask bridge (pid ${this.pid}) did not answer '${op}' within ${seconds}s${op === "start" ? ": the cluster did not start (or connect) in that time; it was stopped" : ""}.`);
    });
    this.#write({ ...message, id });
    return reply;
  }

  /** A one-way message (submit, release, cancel). */
  send(message: Exclude<BridgeRequest, { id: number }>): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#write(message);
  }

  /** One frame, its large binary values (task arguments) written from their own buffers, not copied into it. */
  #write(message: BridgeRequest): void {
    this.#input.cork();
    for (const part of encodeFrameParts(message)) this.#input.write(part);
    this.#input.uncork();
  }

  /** Asks the bridge to tear down what it created and exit; kills it if it does not within `graceMs`. */
  async close(graceMs = 60_000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return this.#exited;
    this.#closing = true;
    // SIGTERM lets it close what it made; one that does not exit within 10 s more (its loop blocked) is killed.
    const timer = setTimeout(() => {
      this.kill();
      setTimeout(() => this.kill("SIGKILL"), 10_000).unref();
    }, graceMs);
    try {
      await this.request({ op: "close" }).catch(() => {});
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the bridge now (its own EOF handling still closes a cluster it created). */
  kill(signal: NodeJS.Signals = "SIGTERM"): void {
    this.#closing = true;
    this.#child.kill(signal);
  }

  exited(): Promise<void> {
    return this.#exited;
  }
}
