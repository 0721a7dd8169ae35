/**
 * The bridge of a task's nested runner inside a sidecar: bridge requests go over the sidecar's channel to its own
 * worker, which serves them (python/daskflow_bridge/worker/client_service.py) on a client it keeps for the run. No bridge
 * process per task, and it reaches every scheduler the worker reaches (inproc:// of threads-only clusters too).
 */
import type { BridgeHandlers } from "../dask/bridge.ts";
import { BridgeError, PendingReplies } from "../dask/replies.ts";
import type { BridgeMessage, BridgeRequest, SidecarMessage } from "../dask/protocol.ts";
import type { BridgeTransport } from "../dask/runner.ts";

type Send = (message: SidecarMessage) => void;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The session open in this sidecar (one task runs in a sidecar at a time). */
const open: { bridge?: WorkerBridge } = {};

/** A `bridge` message from the worker: for the task's open session (late ones after it closed are dropped). */
export function deliverBridgeMessage(message: BridgeMessage): void {
  open.bridge?.deliver(message);
}

export class WorkerBridge implements BridgeTransport {
  readonly #send: Send;
  readonly #handlers: BridgeHandlers;
  readonly #pending = new PendingReplies();
  #closed = false;

  constructor(send: Send, handlers: BridgeHandlers) {
    this.#send = send;
    this.#handlers = handlers;
    open.bridge?.kill();
    open.bridge = this;
  }

  get pid(): number | undefined {
    return undefined;
  }

  deliver(message: BridgeMessage): void {
    if (message.op !== "reply") return this.#handlers.message(message);
    this.#pending.settle(message);
  }

  request<T>(message: DistributiveOmit<Extract<BridgeRequest, { id: number }>, "id">): Promise<T> {
    if (this.#closed) return Promise.reject(new BridgeError("The task's Dask session is closed."));
    const { id, reply } = this.#pending.add<T>(message.op, (op, seconds) => new BridgeError(`This Dask worker (serving the task's Dask session) did not answer '${op}' within ${seconds}s.`));
    this.#send({ op: "bridge", message: { ...message, id } as BridgeRequest });
    return reply;
  }

  send(message: Exclude<BridgeRequest, { id: number }>): void {
    if (!this.#closed) this.#send({ op: "bridge", message });
  }

  /** Releases what the task's session holds on the cluster (its worker keeps the client for the next task). */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.request({ op: "close" }).catch(() => {});
    this.kill();
  }

  kill(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.rejectAll(new BridgeError("The task's Dask session closed."));
    if (open.bridge === this) delete open.bridge;
    this.#handlers.exit(undefined);
  }
}
