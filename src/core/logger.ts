/**
 * Run loggers. A logger prefixes records with the run they belong to ("Task run 'add-3f2'") and hands them to a
 * sink: the terminal in the flow process, the event channel in a Dask worker's sidecar.
 */
export const LEVELS = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 } as const;
export type LogLevel = keyof typeof LEVELS;

export interface LogRecord {
  level: LogLevel;
  message: string;
  /** "Task run 'add-3f2'" or "Flow run 'crimson-otter'"; empty for library messages. */
  run: string;
  timestamp: number;
  /** Set when the record came from a Dask worker. */
  worker?: string;
  /** The runs it belongs to, for the run history (a worker's record has only its task run's). */
  flowRunId?: string;
  taskRunId?: string;
}

export type LogSink = (record: LogRecord) => void;

export interface RunLogger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  critical(message: string): void;
}

/** The threshold from `DASKFLOW_LOGGING_LEVEL` (DEBUG, INFO, WARNING, ERROR, CRITICAL; default INFO). */
export function loggingThreshold(): number {
  const raw = process.env.DASKFLOW_LOGGING_LEVEL?.toLowerCase();
  if (raw === undefined || raw === "") return LEVELS.info;
  const level = raw === "warn" ? "warning" : raw;
  return (LEVELS as Record<string, number>)[level] ?? LEVELS.info;
}


function pad2(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

export function formatRecord(record: LogRecord): string {
  const d = new Date(record.timestamp);
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad2(d.getMilliseconds(), 3)}`;
  const level = record.level.toUpperCase().padEnd(8);
  const where = record.worker ? ` [${record.worker}]` : "";
  const prefix = record.run ? `${record.run}${where} - ` : "";
  return `${time} | ${level}| ${prefix}${record.message}`;
}

/** Prints to stderr so a flow's own output on stdout stays clean. */
export const consoleSink: LogSink = (record) => {
  process.stderr.write(formatRecord(record) + "\n");
};

/** `threshold` is read once per run (see RunScope), not per record: logging sits on the per-task hot path. */
export function makeLogger(run: () => string, sink: LogSink, threshold: number, ids: Pick<LogRecord, "flowRunId" | "taskRunId"> = {}): RunLogger {
  const emit = (level: LogLevel) => (message: string) => {
    if (LEVELS[level] < threshold) return;
    sink({ level, message, run: run(), timestamp: Date.now(), ...ids });
  };
  const warning = emit("warning");
  return {
    debug: emit("debug"),
    info: emit("info"),
    warning,
    warn: warning,
    error: emit("error"),
    critical: emit("critical"),
  };
}

