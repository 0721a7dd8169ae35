/** The sidecar's end of its channel with the Dask worker: requests on fd 3, replies on fd 4 (never stdout). */
import { Socket } from "node:net";
import { FrameDecoder, encodeFrame, type SidecarMessage, type SidecarRequest } from "../dask/protocol.ts";

export class WorkerChannel {
  readonly #out = new Socket({ fd: 4, readable: false, writable: true });
  readonly #in = new Socket({ fd: 3, readable: true, writable: false });

  constructor(onRequest: (request: SidecarRequest) => void, onClose: () => void) {
    const decoder = new FrameDecoder<SidecarRequest>();
    this.#in.on("data", (chunk: Buffer) => {
      for (const request of decoder.push(chunk)) onRequest(request);
    });
    this.#in.on("end", onClose);
    this.#in.on("error", onClose);
    this.#out.on("error", onClose);
  }

  send(message: SidecarMessage): void {
    this.#out.write(encodeFrame(message));
  }
}
