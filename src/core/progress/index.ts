/**
 * Feedback while a flow run runs in this process: the progress display of its task runs and the line printed when
 * the process is interrupted. Only top-level flow runs in the flow process get it (not nested flows, not workers).
 */
import { type RunScope, runLabel } from "../context.ts";
import type { LogLevel } from "../logger.ts";
import { RunFutures } from "../run-futures.ts";
import { ProgressDisplay } from "./display.ts";
import { interruptMessage, onInterrupt } from "./interrupt.ts";
import { progressOff } from "./settings.ts";

export interface RunFeedback {
  /** Every task run of the flow is final: the display prints its summary and stops. */
  workDone(): void;
  /** The run is over (its runner shut down): stop watching for signals. */
  end(): void;
}

export function watchFlowRun(scope: RunScope, progress: boolean | undefined): RunFeedback {
  const label = runLabel(scope);
  const print = (level: LogLevel, message: string) => scope.sink({ level, message, run: label, timestamp: Date.now() });
  const futures = scope.futures ?? new RunFutures();
  const off = progressOff(progress, scope.threshold, (message) => print("warning", message));
  const display = off ? undefined : new ProgressDisplay(futures, { print: (m) => print("info", m), out: process.stderr });
  const stopWatching = onInterrupt({
    interrupted(signal, foreign) {
      display?.abort();
      const unfinished = futures.open.size;
      print("warning", interruptMessage(signal, scope.runner?.describeTeardown?.(), unfinished, foreign));
    },
  });
  return {
    workDone: () => display?.stop(),
    end: () => {
      display?.stop();
      stopWatching();
    },
  };
}
