"""What fresh memory costs on this machine, which the large-value figures (bench/large-values.ts) depend on.

    .venv/bin/python bench/first_touch.py [<fills> [<MiB>]]      # or: bash bench/run.sh first-touch

Fills <MiB> (default 100) of fresh memory <fills> times (default 16), half a second apart, first alone, then while a
second process touches and frees 400 MiB every 0.3 s (as the processes of a large-value pipeline do between them),
and prints the milliseconds of each fill. On a VM whose kernel gives free memory back to its host (virtio free page
reporting: /sys/module/page_reporting) the fills that follow a reporting pass cost several times the others, whoever
freed the memory; the counters of those passes are printed beside each phase. On such a machine a large-value
figure varies with the memory every process on it freed before, not only with its own work.
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

MIB = 2**20
REPORTING = Path("/sys/module/page_reporting/parameters")


def reporting() -> dict[str, int] | None:
    """The kernel's page-reporting counters (passes, KiB given back), or None where the kernel has none."""
    try:
        return {name: int((REPORTING / name).read_text()) for name in ("passes", "reported_kib")}
    except (OSError, ValueError):
        return None


def fill(pattern: bytes) -> float:
    """Milliseconds to write `pattern` into fresh memory, which is freed on return."""
    t = time.perf_counter()
    block = bytearray(len(pattern))  # calloc'd: the pages are fresh until written
    block[:] = pattern
    return (time.perf_counter() - t) * 1000


def churn(stop, mib: int, pause: float) -> None:
    """Touches and frees `mib` MiB every `pause` seconds until told to stop (the pattern itself stays)."""
    pattern = b"\x01" * (mib * MIB)
    while not stop.is_set():
        fill(pattern)
        time.sleep(pause)


def fills(count: int, mib: int) -> list[float]:
    pattern = b"\x07" * (mib * MIB)
    out = []
    for _ in range(count):
        out.append(fill(pattern))
        time.sleep(0.5)
    return out


def phase(name: str, count: int, mib: int) -> dict:
    before = reporting()
    times = fills(count, mib)
    after = reporting()
    row = {"phase": name, "ms": [round(t) for t in times], "median_ms": round(statistics.median(times)), "max_ms": round(max(times))}
    if before and after:
        row["reporting_passes"] = after["passes"] - before["passes"]
        row["reported_mib"] = (after["reported_kib"] - before["reported_kib"]) // 1024
    return row


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    print(json.dumps(phase("alone", count, mib)), flush=True)
    stop = multiprocessing.Event()
    other = multiprocessing.Process(target=churn, args=(stop, 400, 0.3), daemon=True)
    other.start()
    try:
        print(json.dumps(phase("another process frees 400 MiB every 0.3 s", count, mib)), flush=True)
    finally:
        stop.set()
        other.join(5)
        if other.is_alive():
            other.kill()
    if reporting() is None:
        print(json.dumps({"note": "this kernel reports no free pages to a host (no /sys/module/page_reporting)"}))


if __name__ == "__main__":
    main()
