"""A first run: the demo seeded once and described truthfully, emails delivered by the server."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from oss_server.models import ApiKey, Merchant, Order
from oss_server.services import keys, passwords

ROOT = Path(__file__).resolve().parents[2]
EXE = os.path.join(os.path.dirname(sys.executable), "oss-server")


def _lines(result) -> dict[str, str]:
    assert result.exit_code == 0, result.output
    return dict(line.split(":", 1) for line in result.output.splitlines() if ":" in line)


def test_demo_twice_gives_the_same_key_and_adds_nothing(runner, session):
    first = _lines(runner.invoke(args=["demo"]))
    counts = (session.scalar(select(func.count(ApiKey.id))),
              session.scalar(select(func.count(Order.id))))
    second = _lines(runner.invoke(args=["demo"]))
    session.expire_all()
    assert second == first
    assert counts == (1, 3)
    assert (session.scalar(select(func.count(ApiKey.id))),
            session.scalar(select(func.count(Order.id)))) == counts
    # What it prints is true: the key works, the password signs in, the lookup finds the order.
    full_key = first["Demo API key"].strip()
    assert keys.authenticate(session, full_key) is not None
    merchant = session.scalar(select(Merchant))
    assert passwords.verify_password(merchant.password_hash, "demo-password-123")[0]
    assert "demo-password-123" in first["Portal login"]
    assert "order 1002, billing ZIP 90210" in first["Look up"]


def test_demo_no_longer_claims_a_changed_password_or_a_revoked_key(runner, session, client):
    first = _lines(runner.invoke(args=["demo"]))
    merchant = session.scalar(select(Merchant))
    merchant.password_hash = passwords.hash_password("the merchant's own password")
    key = session.scalar(select(ApiKey))
    keys.revoke_key(session, key.store, key.key_id)
    session.commit()
    later = _lines(runner.invoke(args=["demo"]))
    assert "demo-password-123" not in later["Portal login"]
    assert "changed since the demo was created" in later["Portal login"]
    assert first["Demo API key"].strip() not in later["Demo API key"]
    assert "create-api-key demo" in later["Demo API key"]
    assert session.scalar(select(func.count(ApiKey.id))) == 1  # no replacement made behind it


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dev_server(tmp_path):
    """``oss-server run --demo`` as ``make run`` starts it: development settings, SQLite."""
    port = _free_port()
    env = {**os.environ, "OSS_DATABASE_URL": f"sqlite:///{tmp_path}/dev.db", "OSS_ENV":
           "development", "OSS_BASE_URL": f"http://127.0.0.1:{port}"}
    for name in ("OSS_SMTP_URL", "OSS_SECRET_KEY", "OSS_FACTOR_KEY"):
        env.pop(name, None)
    init = subprocess.run([EXE, "init-db"], env=env, capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    # The server writes to it until it is killed.
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115
    server = subprocess.Popen([EXE, "run", "--host", "127.0.0.1", "--port", str(port), "--demo"],
                              env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while "Demo API key:" not in Path(log.name).read_text():
            assert server.poll() is None and time.monotonic() < deadline, Path(log.name).read_text()
            time.sleep(0.1)
        yield base, Path(log.name)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_the_demo_credentials_are_the_last_lines_and_a_reset_email_arrives(dev_server):
    base, log = dev_server
    lines = log.read_text().strip().splitlines()
    assert [line.split(":")[0] for line in lines[-4:]] == [
        "Demo store", "Look up", "Portal login", "Demo API key"]
    assert "instance/outbox/" in "\n".join(lines[-6:])  # where to look for emails

    outbox = ROOT / "instance" / "outbox"
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    browser = requests.Session()
    form = browser.get(f"{base}/account/reset", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    answer = browser.post(f"{base}/account/reset", data={"csrf_token": token,
                          "email": "demo@example.com"}, timeout=10, allow_redirects=False)
    assert answer.status_code == 302
    # The page the browser lands on says where development emails go.
    landed = browser.get(base + answer.headers["Location"], timeout=10).text
    assert "instance/outbox/" in landed
    # Nobody runs send-notifications: the development server delivers within seconds.
    deadline, found = time.monotonic() + 15, []
    while not found and time.monotonic() < deadline:
        found = [p for p in set(outbox.glob("*.eml")) - before
                 if "To: demo@example.com" in p.read_text(errors="replace")]
        time.sleep(0.2)
    try:
        assert found, log.read_text()
        assert "/account/reset/" in found[0].read_text(errors="replace")
        assert "Emailed 1 to" in log.read_text()
    finally:
        for path in found:
            path.unlink()


@pytest.mark.skipif(not shutil.which("make"), reason="make not installed")
def test_make_run_installs_only_when_pyproject_changed(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    stamp = venv / ".installed"
    stamp.touch()

    def planned() -> str:
        # Run as a person would, not as a sub-make of `make test` (which would print
        # "Entering/Leaving directory" lines and pass its own flags down).
        env = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
        out = subprocess.run(["make", "--no-print-directory", "-n", "run", f"VENV={venv}"],
                             cwd=ROOT, timeout=30, capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stderr
        return out.stdout

    unchanged = planned()
    assert "pip install" not in unchanged and "oss-server run" in unchanged
    assert unchanged.strip().splitlines()[-1].endswith("--demo")  # the demo's lines come last
    old = (ROOT / "pyproject.toml").stat().st_mtime - 60
    os.utime(stamp, (old, old))
    assert "pip install" in planned()
