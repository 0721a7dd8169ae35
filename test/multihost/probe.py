"""Flow-side probe of the multi-host harness with the official client alone (no daskflow): what each worker's host
sees, and which worker runs each of `n` plain Python tasks. Prints one JSON object."""

import json
import sys

from distributed import Client, get_worker


def look(paths):
    import os
    import subprocess

    return {
        "visible": {p: os.path.exists(p) for p in paths},
        "tmp": sorted(os.listdir("/tmp")),
        "routes": subprocess.run(["ip", "route", "show"], capture_output=True, text=True).stdout,
        "python": sys.executable,
    }


def where(i):
    return [i, get_worker().address]


def main(address, n, *paths):
    with Client(address, timeout=30) as client:
        views = client.run(look, list(paths))
        placed = client.gather(client.map(where, range(int(n)), pure=False))
        print(json.dumps({"views": views, "placed": placed}))


if __name__ == "__main__":
    main(*sys.argv[1:])
