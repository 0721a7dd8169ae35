/** The sidecar's end of its channel with the Dask worker: requests on fd 3, replies on fd 4 (never stdout). */
import { writeSync } from "node:fs";
import { Socket } from "node:net";
import { FrameDecoder, encodeFrame, type SidecarMessage, type SidecarRequest } from "../dask/protocol.ts";

export class WorkerChannel {
  readonly #in = new Socket({ fd: 3, readable: true, writable: false });

  constructor(onRequest: (request: SidecarRequest) => void, onClose: () => void) {
    const decoder = new FrameDecoder<SidecarRequest>();
    this.#in.on("data", (chunk: Buffer) => {
      for (const request of decoder.push(chunk)) onRequest(request);
    });
    this.#in.on("end", onClose);
    this.#in.on("error", onClose);
    this.#onClose = onClose;
  }

  readonly #onClose: () => void;

  /** A blocking write: the worker reads while a task runs, and a reply waits for no turn of the event loop. */
  send(message: SidecarMessage): void {
    const frame = encodeFrame(message);
    try {
      for (let written = 0; written < frame.byteLength; ) written += writeSync(4, frame, written);
    } catch {
      this.#onClose(); // the worker is gone
    }
  }
}
