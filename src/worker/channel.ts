/**
 * The sidecar's end of its channel with the Dask worker: requests on fd 3, replies on fd 4 (never stdout), and on
 * Linux the side files for values of 1 MiB or more, fds 5 (requests) and 6 (replies) (src/transfer/framing.ts).
 */
import { writevSync } from "node:fs";
import { Socket } from "node:net";
import { openProcessMemory } from "../transfer/process-memory.ts";
import { ScratchMemory } from "../transfer/scratch-memory.ts";
import { FrameDecoder, SideFile, encodeFrameParts, type SidecarMessage, type SidecarRequest } from "../dask/protocol.ts";

/** Set by the worker (python/daskflow_bridge/sidecar/process.py) when it opened the side files. */
const side = SideFile.fromEnv(process.env.DASKFLOW_SIDE_FILES);
/** Large inputs of a task read in place from the worker's memory, when this process may (process-memory.ts;
 * python/daskflow_bridge/transfer/worker_memory.py says when the worker does this). */
const scratch = new ScratchMemory();
const workerMemory = side ? openProcessMemory(process.env.DASKFLOW_WORKER_MEMORY, "The worker's memory", undefined, scratch) : undefined;
/** Told to the worker in `ready`: whether it may refer to values in its memory. */
export const readsWorkerMemory = workerMemory !== undefined;
/** Told to the worker in `ready`: whether this process writes replies for the worker to keep in place. */
export const keepsReplies = side?.replies.keep === true;

export class WorkerChannel {
  readonly #in = new Socket({ fd: 3, readable: true, writable: false });

  constructor(onRequest: (request: SidecarRequest) => void, onClose: () => void) {
    const decoder = new FrameDecoder<SidecarRequest>({ side: side?.requests, memory: workerMemory?.read });
    this.#in.on("data", (chunk: Buffer) => {
      for (const request of decoder.push(chunk)) {
        // The worker answers a run (or bag) only after its reply: ranges it offers are this sidecar's until then.
        if ((request.op === "run" || request.op === "bag") && side) side.replies.offer(request.reuse);
        onRequest(request);
      }
    });
    this.#in.on("end", onClose);
    this.#in.on("error", onClose);
    this.#onClose = onClose;
  }

  readonly #onClose: () => void;

  /** Bytes this channel keeps to read strings through (scratch-memory.ts): in use, but not garbage. */
  get keptBytes(): number {
    return scratch.bytes;
  }

  /** Bytes of large values this channel moved (side files, the worker's memory) since the last call. */
  takeMoved(): number {
    const moved = (workerMemory?.moved ?? 0) + (side ? side.requests.moved + side.replies.moved : 0);
    if (workerMemory) workerMemory.moved = 0;
    if (side) side.requests.moved = side.replies.moved = 0;
    return moved;
  }

  /**
   * A blocking write: the worker reads while a task runs, and a reply waits for no turn of the event loop. A large
   * result goes from its own buffer to the side file or the pipe (writev), never copied into the frame.
   */
  send(message: SidecarMessage): void {
    const answer = message.op === "done" || message.op === "bag-done";
    try {
      // A result's values stay in the side file, mapped by the worker as what Dask holds (no copy out of it).
      writeAll(4, encodeFrameParts(message, side?.replies.toKeep(answer)));
    } catch {
      this.#onClose(); // the worker is gone
    }
    // The ranges offered with the request are the worker's again once it has the answer: anything sent later (a
    // late event) must not write into one it may offer next time.
    if (answer) side?.replies.offer(undefined);
  }
}

/** writev until every part is written (the pipe takes what fits each time). */
function writeAll(fd: number, parts: Uint8Array[]): void {
  let i = 0;
  while (i < parts.length) {
    let written = writevSync(fd, i === 0 ? parts : parts.slice(i));
    while (i < parts.length && written >= parts[i]!.byteLength) written -= parts[i++]!.byteLength;
    if (written > 0) parts[i] = parts[i]!.subarray(written);
  }
}
