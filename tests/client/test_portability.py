"""Windows, macOS and Linux: nothing POSIX-only on the import path or in the controller.

Each test here runs its processes with fcntl, termios, pwd and grp made unavailable
(tests/client/noposix.py); .ci/run also runs the whole client suite that way.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seom_client import Client, ControllerLockedError, lease
from seom_client.config import user_config_dir
from seom_client.controller import controller_running

from .conftest import REPO, make_order
from .noposix import BLOCKED, PRELUDE

RUN = PRELUDE + "from seom_client.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def _env():
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _cli(*args):
    """Start `seom-client ARGS` with the POSIX-only modules unavailable."""
    # On Windows a console process group of its own lets the test send it Ctrl-Break.
    flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) if os.name == "nt" else 0
    return subprocess.Popen([sys.executable, "-c", RUN, *map(str, args)], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            creationflags=flags)


def _interrupt(proc):
    """Ask a controller process to stop: Ctrl-C (SIGINT), or Ctrl-Break on Windows."""
    proc.send_signal(signal.CTRL_BREAK_EVENT if os.name == "nt" else signal.SIGINT)


def _ended(proc, timeout=20):
    """Wait for a process to end; return (exit code, stderr), its pipe closed."""
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def _wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_whole_client_imports_without_posix_only_modules():
    probe = PRELUDE + (
        "import importlib, json, pkgutil, seom_client\n"
        "names = ['seom_client.' + m.name for m in pkgutil.walk_packages(seom_client.__path__, "
        "onerror=lambda n: None)]\n"
        "names = [n for n in names if not n.endswith('__main__')]\n"
        "for n in names: importlib.import_module(n)\n"
        f"print(json.dumps({{'modules': names, 'posix': [n for n in {BLOCKED!r} "
        "if n in sys.modules]}))\n")
    proc = subprocess.run([sys.executable, "-c", probe], env=_env(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert "seom_client.controller" in found["modules"] and "seom_client.cli" in found["modules"]
    assert found["posix"] == []


def test_this_run_really_lacks_them_when_asked():
    if os.environ.get("SEOM_NO_POSIX") != "1":
        pytest.skip("the suite runs with the POSIX-only modules present")
    for name in BLOCKED:
        with pytest.raises(ImportError):
            __import__(name)


def test_two_controllers_exclude_each_other_without_posix_modules(make_client, receiver):
    client = make_client(receiver.url)
    path = client.config.path
    first = _cli("--config", path, "run")
    try:
        assert _wait(lambda: controller_running(client.queue.path), 20)
        second = subprocess.run([sys.executable, "-c", RUN, "--config", str(path), "run",
                                 "--once"], env=_env(), capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 1 and "another controller" in second.stderr
        with pytest.raises(ControllerLockedError):
            client.start()  # nor can a thread of this process
        update = client.enqueue({"order": make_order("P-1")})
        assert _wait(lambda: client.status()["pending"] == 0, 20)  # the first one drains it
        assert receiver.applied[update["update_id"]] == 1
    finally:
        _interrupt(first)
        code, err = _ended(first)
    assert code == 0, err
    assert controller_running(client.queue.path) is False  # released, not left to expire
    info = client.controller_info()
    assert info is None


def test_sigterm_stops_a_controller_cleanly(make_client):
    if os.name == "nt":
        pytest.skip("Windows delivers no SIGTERM to another process")
    client = make_client()
    proc = _cli("--config", client.config.path, "run")
    assert _wait(lambda: controller_running(client.queue.path), 20)
    proc.send_signal(signal.SIGTERM)
    assert _ended(proc)[0] == 0
    assert client.controller_info() is None


def _killed_controller(client):
    """Start a controller process, kill it with SIGKILL once it holds the lease; return when."""
    proc = _cli("--config", client.config.path, "run")
    if not _wait(lambda: controller_running(client.queue.path), 20):
        proc.kill()
        pytest.fail(_ended(proc)[1])
    proc.kill()
    _ended(proc)
    return time.monotonic()


def test_a_controller_killed_with_sigkill_is_taken_over_at_once_on_the_same_host(make_client):
    client = make_client()
    _killed_controller(client)
    assert controller_running(client.queue.path) is False  # its process is gone
    started = time.monotonic()
    client.start()
    assert time.monotonic() - started < 2


def test_a_silent_controller_elsewhere_is_taken_over_when_its_lease_expires(make_client,
                                                                            monkeypatch):
    # As on Windows or from another workstation: the process cannot be probed, so only the
    # lease's expiry tells that the holder died.
    monkeypatch.setattr(lease, "holder_gone", lambda record: False)
    client = make_client()
    killed_at = _killed_controller(client)
    controller = client.controller()
    with pytest.raises(ControllerLockedError):
        controller.acquire()
    took_over = None
    while time.monotonic() - killed_at < 20:
        try:
            controller.acquire()
        except ControllerLockedError:
            time.sleep(0.1)
            continue
        took_over = time.monotonic() - killed_at
        break
    assert took_over is not None, "the dead controller's lease never expired"
    assert took_over <= lease.LEASE_S + 2, took_over
    controller.release()


def test_a_controller_that_lost_its_lease_stops(make_client):
    client = make_client()
    controller = client.controller()
    controller.acquire()
    # Another controller took the lease while this one was frozen (a laptop asleep, say).
    client.queue.set_meta(controller=json.dumps({"owner": "someone-else", "pid": 1,
                                                 "host": "elsewhere",
                                                 "expires_at": time.time() + 60}))
    assert _wait(lambda: not controller.holding, 10)
    with pytest.raises(ControllerLockedError):
        controller.run(once=True)
    controller.release()
    assert client.controller_info()["owner"] == "someone-else"  # its lease is left alone


@pytest.mark.parametrize("platform, env, expected", [
    ("win32", {"APPDATA": "C:/Users/ada/AppData/Roaming"},
     "C:/Users/ada/AppData/Roaming/seom-client"),
    ("darwin", {}, "~/Library/Application Support/seom-client"),
    ("linux", {"XDG_CONFIG_HOME": "/xdg"}, "/xdg/seom-client"),
    ("linux", {}, "~/.config/seom-client"),
])
def test_default_config_folder_per_platform(monkeypatch, platform, env, expected):
    monkeypatch.setattr(sys, "platform", platform)
    for key in ("APPDATA", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert user_config_dir() == Path(os.path.expanduser(expected))


def test_the_queue_lives_beside_the_per_user_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./seom-client.json here
    monkeypatch.delenv("SEOM_CLIENT_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(sys, "platform", "linux")
    from seom_client.cli import main
    assert main(["init", "--url", "http://127.0.0.1:9", "--api-key", "k"]) == 0
    config = tmp_path / "xdg" / "seom-client" / "seom-client.json"
    assert config.exists()
    with Client(config) as client:
        assert client.queue.path.parent == config.parent
