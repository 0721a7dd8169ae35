/**
 * The machine's free page reporting (a VM's kernel giving freed memory back to its host in passes; bench/README.md,
 * `first_touch.py`): a page touched again after a pass costs several times a warm one, so a large-value
 * figure depends on how much the VM reported while it ran. Read before and after a run to say so beside the figures.
 */
import { readFileSync } from "node:fs";

const PARAMETERS = "/sys/module/page_reporting/parameters";

export interface PageReporting {
  passes: number;
  reportedKib: number;
}

const read = (name: string): number | undefined => {
  try {
    const value = Number(readFileSync(`${PARAMETERS}/${name}`, "utf8").trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
};

/** The counters now, or undefined where the kernel reports no free pages (or does not show it). */
export function pageReporting(): PageReporting | undefined {
  const passes = read("passes");
  const reportedKib = read("reported_kib");
  return passes === undefined || reportedKib === undefined ? undefined : { passes, reportedKib };
}

/** One line on what the machine reported between two readings. */
export function describeReporting(before: PageReporting | undefined, after: PageReporting | undefined): string {
  if (!before || !after) return "free page reporting: this kernel shows none (no /sys/module/page_reporting counters)";
  // How long memory stays free before a pass may report it: this kernel's setting, which BENCH_HOLD_FREED_MS sets.
  const minFreeMs = read("min_free_ms");
  const held = minFreeMs === undefined ? "" : `; memory reported once free ${minFreeMs} ms (min_free_ms)`;
  return `free page reporting during the run: ${after.passes - before.passes} passes, ${Math.round((after.reportedKib - before.reportedKib) / 1024)} MiB given back to the host${held}`;
}
