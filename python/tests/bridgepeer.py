"""Test helper: drives a real `python -m daskflow_bridge` through its fds 3/4, as the TS side does."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from daskflow_bridge.transfer.protocol import ChannelClosed, FrameReader, write_frame

HERE = Path(__file__).resolve().parent
PYTHON_DIR = HERE.parent
ECHO_SIDECAR = str(HERE / "fixtures" / "echo_sidecar.mjs")


def sidecar_spec(**env: str) -> dict[str, Any]:
    return {"node": "node", "argv": [ECHO_SIDECAR], "cwd": str(HERE), "env": dict(env)}


class BridgePeer:
    def __init__(self) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()

        def child_fds() -> None:
            os.dup2(req_r, 3)
            os.dup2(rep_w, 4)

        env = dict(os.environ)
        env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daskflow_bridge"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(req_r, rep_w, 3, 4),
            preexec_fn=child_fds,
            env=env,
        )
        os.close(req_r)
        os.close(rep_w)
        self.wfd = req_w
        self.reader = FrameReader(rep_r)
        self.messages: list[dict[str, Any]] = []
        self.done_msgs: dict[Any, dict[str, Any]] = {}
        self.cond = threading.Condition()
        self.eof = False
        self.next_id = 1
        self.stderr_lines: list[str] = []
        threading.Thread(target=self._read_loop, daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()

    def _drain(self, stream) -> None:
        for line in stream:
            self.stderr_lines.append(line.decode(errors="replace"))

    def _read_loop(self) -> None:
        try:
            while True:
                msg = self.reader.read()
                with self.cond:
                    if msg.get("op") == "done":
                        self.done_msgs[msg.get("key")] = msg
                    else:
                        self.messages.append(msg)
                    self.cond.notify_all()
        except (ChannelClosed, OSError):
            with self.cond:
                self.eof = True
                self.cond.notify_all()

    def send(self, msg: dict[str, Any]) -> None:
        write_frame(self.wfd, msg)

    def wait_for(self, pred, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.messages:
                    if pred(m):
                        return m
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.eof:
                    raise TimeoutError(
                        f"no matching message (eof={self.eof}); got {[m.get('op') for m in self.messages][-20:]}"
                        f"\nbridge output:\n{''.join(self.stderr_lines)[-4000:]}"
                    )
                self.cond.wait(remaining)

    def request(self, op: str, timeout: float = 60.0, **fields: Any) -> dict[str, Any]:
        rid = self.next_id
        self.next_id += 1
        self.send({"op": op, "id": rid, **fields})
        return self.wait_for(lambda m: m.get("op") == "reply" and m.get("id") == rid, timeout)

    def call(self, op: str, timeout: float = 60.0, **fields: Any) -> Any:
        r = self.request(op, timeout, **fields)
        if not r["ok"]:
            raise AssertionError(f"{op} failed: {r['error']['name']}: {r['error']['message']}\n{r['error']['stack']}")
        return r["value"]

    def done(self, key: str, timeout: float = 60.0) -> dict[str, Any]:
        return self.all_done([key], timeout)[0]

    def all_done(self, keys, timeout: float = 60.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                missing = [k for k in keys if k not in self.done_msgs]
                if not missing:
                    return [self.done_msgs[k] for k in keys]
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.eof:
                    raise TimeoutError(f"no `done` for {missing[:5]} ({len(missing)} missing, eof={self.eof})"
                                       f"\nbridge output:\n{''.join(self.stderr_lines)[-4000:]}")
                self.cond.wait(min(remaining, 1.0))

    def of(self, op: str) -> list[dict[str, Any]]:
        with self.cond:
            if op == "done":
                return list(self.done_msgs.values())
            return [m for m in self.messages if m.get("op") == op]

    def close(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None and not self.eof:
            try:
                self.request("close", timeout)
            except (TimeoutError, OSError):
                pass
        try:
            os.close(self.wfd)
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


def task(key: str, spec: bytes = b"echo", args: bytes = b"", deps=(), timeout=None, retries=0, annotations=None):
    meta = {"name": key.split("-")[0], "retries": retries, "task_run_id": f"run-{key}"}
    if timeout is not None:
        meta["timeout_seconds"] = timeout
    return {"key": key, "spec": spec, "args": args, "deps": list(deps), "annotations": annotations or {},
            "meta": meta}
