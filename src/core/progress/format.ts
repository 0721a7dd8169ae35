/** The words of the progress display: one form for the live line, the periodic lines and the final summary. */
import type { Counts } from "./tally.ts";

/** "4s", "3m 05s", "1h 02m". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

function rateText(perSecond: number): string {
  return perSecond >= 100 ? Math.round(perSecond).toString() : perSecond.toFixed(1);
}

/** "Progress: 523/1000 done, 2 failed, 8 running, 3 waiting for tag 'db'; 130 items/s; about 4s left" */
export function progressText(counts: Counts, perSecond: number): string {
  const left = counts.total - counts.done - counts.failed;
  const eta = perSecond > 0 ? `about ${duration(Math.max(1, Math.ceil(left / perSecond)))} left` : "time left unknown";
  const waiting = [...counts.waiting].map(([what, n]) => `, ${n} waiting for ${what}`).join("");
  return `Progress: ${counts.done}/${counts.total} done, ${counts.failed} failed, ${counts.running} running${waiting}; ${rateText(perSecond)} items/s; ${eta}`;
}

/** "Progress: 1000/1000 done, 0 failed in 7s (130 items/s)" */
export function finalText(counts: Counts, seconds: number): string {
  const finished = counts.done + counts.failed;
  const rate = seconds > 0 ? finished / seconds : 0;
  return `Progress: ${counts.done}/${counts.total} done, ${counts.failed} failed in ${duration(seconds)} (${rateText(rate)} items/s)`;
}
