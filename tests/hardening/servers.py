"""Real processes for fault tests: gunicorn app servers, a private PostgreSQL, a private Redis.

Everything listens on 127.0.0.1 on free ports and is stopped by the test that started it;
the shared PostgreSQL and Redis are never touched.
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "a long enough passphrase 42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def provision(database_url: str, slug: str = "shop", **app_config) -> str:
    """Create the schema, a merchant, a store and an API key; return the key."""
    from oss_server import create_app
    from oss_server.extensions import db
    from oss_server.services import accounts, keys

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, **app_config})
    with app.app_context():
        db.create_all()
        merchant = accounts.create_merchant(db.session, f"{slug}@example.com", PASSWORD,
                                            paid_through=date.today() + timedelta(days=365))
        store = accounts.create_store(db.session, merchant, slug, "Shop")
        _key, full = keys.create_api_key(db.session, store)
        db.session.commit()
        db.engine.dispose()
    return full


class Gunicorn:
    """``gunicorn -c gunicorn.conf.py wsgi:app`` on a free port, with its stderr in a file."""

    def __init__(self, env: dict, workers: int = 2, extra_args=(), log_dir: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_dir or tempfile.mkdtemp()) / f"gunicorn-{self.port}.log"
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "OSS_SECRET_KEY": "fault-secret",
                    "OSS_FACTOR_KEY": "fault-factor-key", "OSS_RETRY_AFTER_S": "1",
                    "OSS_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(workers), **env}
        self.args = list(extra_args)
        self.proc = None

    def start(self, timeout: float = 30) -> Gunicorn:
        self._log = open(self.log_path, "ab")  # noqa: SIM115  (closed by stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"),
             *self.args, "wsgi:app"], cwd=REPO, env=self.env, stdout=self._log,
            stderr=subprocess.STDOUT)
        wait_until(self._up, timeout, 0.1, f"gunicorn on {self.url}")
        return self

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{self.log()}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def workers(self) -> list[int]:
        """Return the pids of the live workers."""
        path = f"/proc/{self.proc.pid}/task/{self.proc.pid}/children"
        with open(path) as f:
            return [int(pid) for pid in f.read().split()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc:
            self._log.close()


def postgres_bin() -> Path | None:
    """Return the newest PostgreSQL server bin directory, or None when not installed."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                        key=lambda p: int(Path(p).parent.parent.name)
                        if Path(p).parent.parent.name.isdigit() else 0)
    if not candidates or shutil.which("runuser") is None:
        return None
    return Path(candidates[-1]).parent


class PrivatePostgres:
    """A throwaway cluster owned by the ``postgres`` OS user, on a free loopback port."""

    def __init__(self):
        self.bin = postgres_bin()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="oss-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/oss"

    def _as_postgres(self, *args, timeout=60):
        return subprocess.run(["runuser", "-u", "postgres", "--", *map(str, args)],
                              capture_output=True, text=True, timeout=timeout, check=True)

    def init(self) -> PrivatePostgres:
        self._as_postgres(self.bin / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                          "--no-sync")
        self.start()
        self._as_postgres(self.bin / "createdb", "-h", "127.0.0.1", "-p", self.port, "oss")
        return self

    def start(self) -> None:
        self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-l", self.dir / "log", "-w",
                          "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                                "-c fsync=off", "start")

    def stop(self) -> None:
        self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A redis-server with no persistence on a free loopback port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0
        wait_until(up, 10, what="redis-server")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
