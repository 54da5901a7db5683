"""Start and stop gunicorn on an ephemeral loopback port; read a worker's memory."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

WORKERS = 2
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """One gunicorn master with WORKERS sync workers; use as a context manager."""

    def __init__(self, app_path: str, env: dict | None = None, probe: str = "/"):
        self.app_path, self.env, self.probe = app_path, env or dict(os.environ), probe
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        env = dict(self.env)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
        # Identical settings for the baseline and the OSS: only the app differs.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class",
             "sync", "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning",
             "--timeout", "120", self.app_path],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()  # never leave a server behind
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn {self.app_path} exited with {self.process.returncode}")
            try:
                requests.get(self.url + self.probe, timeout=10)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.app_path} did not answer within 60 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def worker_pids(self) -> list[int]:
        """Return the pids of the master's worker processes."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def worker_rss_mb(self) -> float | None:
        """Return the largest worker's resident memory in MiB."""
        sizes = [rss_mb(pid) for pid in self.worker_pids()]
        sizes = [s for s in sizes if s is not None]
        return max(sizes) if sizes else None


def rss_mb(pid: int) -> float | None:
    """Return a process's resident set size in MiB (None when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
