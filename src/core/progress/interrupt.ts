/**
 * SIGINT / SIGTERM while flow runs are active in this process: one line per run saying it was interrupted and what
 * goes down with it, then the signal's default action as before (the process ends; a Dask bridge left without its
 * parent closes the cluster it created). When the program has its own handler for the signal, that handler decides.
 */
const SIGNALS = ["SIGINT", "SIGTERM"] as const;
type Signal = (typeof SIGNALS)[number];

export interface Interruptible {
  /** Says so (one line); `foreignHandler`: the program handles the signal itself, so the process may go on. */
  interrupted(signal: Signal, foreignHandler: boolean): void;
}

const active = new Set<Interruptible>();
const handlers: Record<Signal, () => void> = { SIGINT: () => onSignal("SIGINT"), SIGTERM: () => onSignal("SIGTERM") };

function onSignal(signal: Signal): void {
  const foreign = process.listenerCount(signal) > 1;
  const runs = [...active];
  active.clear();
  for (const s of SIGNALS) process.off(s, handlers[s]);
  for (const run of runs) run.interrupted(signal, foreign);
  // With our handler gone the default action applies again: end the process as it would have ended without us.
  if (!foreign) process.kill(process.pid, signal);
}

/** Watches for SIGINT / SIGTERM while `run` is active; returns the function that stops watching. */
export function onInterrupt(run: Interruptible): () => void {
  // First in line, so the program's own handlers (which may exit at once) run after the line is out.
  if (active.size === 0) for (const s of SIGNALS) process.prependListener(s, handlers[s]);
  active.add(run);
  return () => {
    if (!active.delete(run) || active.size > 0) return;
    for (const s of SIGNALS) process.off(s, handlers[s]);
  };
}

/** "Interrupted by SIGINT: tearing down the temporary Dask cluster (…) and 3 unfinished task runs." */
export function interruptMessage(signal: string, teardown: string | undefined, unfinished: number, foreign: boolean): string {
  const runs = unfinished > 0 ? `${unfinished} unfinished task run${unfinished === 1 ? "" : "s"}` : undefined;
  const what = [teardown, runs].filter(Boolean).join(" and ");
  if (foreign) return `Interrupted by ${signal}; the program's own ${signal} handler decides what follows${what ? ` (still up: ${what})` : ""}.`;
  if (teardown) return `Interrupted by ${signal}: tearing down ${what}.`;
  return `Interrupted by ${signal}: ${runs ? `ending ${runs}` : "ending the flow run"}.`;
}
