/**
 * What the UI reads from the history store (src/history/): the read half of its API, so the server works over
 * SQLite and PostgreSQL alike and never writes.
 */
import type { FlowRunQuery, FlowRunRecord, LogQuery, LogRecordRow, Page, TaskRunQuery, TaskRunRecord, Timeline } from "../history/types.ts";

export interface HistoryReader {
  flowRuns(q: FlowRunQuery): Promise<Page<FlowRunRecord>>;
  flowRun(id: string): Promise<FlowRunRecord | undefined>;
  taskRuns(q: TaskRunQuery): Promise<Page<TaskRunRecord>>;
  logs(q: LogQuery): Promise<Page<LogRecordRow>>;
  flowNames(): Promise<string[]>;
  timeline(flowRunId: string): Promise<Timeline>;
  close(): Promise<void> | void;
}
