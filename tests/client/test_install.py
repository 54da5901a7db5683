"""The client's own distribution, installed as an integrator would: into a clean virtualenv.

`pip install ./seom_client` must bring the client and requests only (at most 7
distributions, no Flask), with a working `seom-client` command that a script keeping no
state can drive. The wheelhouse holds requests and its dependencies at the versions of
this environment (fetched once through pip's cache), so the install itself runs with
--no-index; where the index cannot be reached at all, the test says so and skips.
"""

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO, make_order, write_json

pytestmark = pytest.mark.slow

RUNTIME = ("requests", "urllib3", "idna", "certifi", "charset-normalizer")
SERVER_ONLY = {"flask", "sqlalchemy", "gunicorn", "psycopg", "redis", "babel",
               "flask-sqlalchemy", "psycopg-binary"}


def _pip(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory):
    """requests, its dependencies and the build backend as wheels, for an offline install."""
    house = tmp_path_factory.mktemp("wheelhouse")
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in RUNTIME]
    got = _pip("download", "--only-binary=:all:", "--no-deps", "-q", "-d", str(house), *pins,
               "setuptools>=69")
    if got.returncode != 0:
        pytest.skip(f"cannot fetch requests' wheels for the install test:\n{got.stderr[-800:]}")
    return house


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A copy of the checkout's seom_client folder (a build writes beside its sources)."""
    dest = tmp_path_factory.mktemp("checkout") / "seom_client"
    shutil.copytree(REPO / "seom_client", dest, ignore=shutil.ignore_patterns(
        "__pycache__", "build", "*.egg-info", "*.sqlite*"))
    return dest


def _scripts(venv):
    """Return the venv's scripts folder (bin, or Scripts on Windows)."""
    return Path(sysconfig.get_path("scripts", vars={"base": str(venv), "platbase": str(venv)}))


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheelhouse, checkout):
    """A clean virtualenv (not even pip in it) with only `pip install ./seom_client` done."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True,
                   timeout=120)
    python = _scripts(root) / ("python.exe" if os.name == "nt" else "python")
    done = _pip("--python", str(python), "install", "-q", "--no-index", "--find-links",
                str(wheelhouse), str(checkout))
    assert done.returncode == 0, done.stdout + done.stderr
    return root, python


def _in_venv(venv, *cmd, cwd, input=None):
    """Run a command the way the integrator's script would: no PYTHONPATH, outside the repo."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SEOM_CLIENT_CONFIG")}
    env.update(XDG_CONFIG_HOME=str(cwd / "home-config"), APPDATA=str(cwd / "home-config"))
    env["PATH"] = os.pathsep.join([str(_scripts(venv[0])), env.get("PATH", "")])
    return subprocess.run(list(map(str, cmd)), cwd=cwd, env=env, capture_output=True,
                          text=True, input=input, timeout=120)


def test_installs_the_client_and_requests_only(venv, tmp_path):
    listed = _in_venv(venv, venv[1], "-c", "import importlib.metadata as m, json; "
                      "print(json.dumps(sorted(d.metadata['Name'].lower() "
                      "for d in m.distributions())))", cwd=tmp_path)
    names = json.loads(listed.stdout)
    assert len(names) <= 7, names
    assert set(names) == {"seom-client", *RUNTIME}, names
    assert not SERVER_ONLY & set(names)
    flask = _in_venv(venv, venv[1], "-c", "import flask", cwd=tmp_path)
    assert flask.returncode != 0 and "No module named 'flask'" in flask.stderr
    where = _in_venv(venv, venv[1], "-c", "import seom_client, sys; print(seom_client.__file__)",
                     cwd=tmp_path)
    assert str(REPO) not in where.stdout and str(venv[0]) in where.stdout  # the installed copy
    typed = _in_venv(venv, venv[1], "-c", "import importlib.resources as r; "
                     "print(r.files('seom_client').joinpath('py.typed').is_file())", cwd=tmp_path)
    assert typed.stdout.strip() == "True"


def test_the_command_works_for_a_caller_that_keeps_no_state(venv, tmp_path, receiver):
    help_ = _in_venv(venv, "seom-client", "--help", cwd=tmp_path)
    assert help_.returncode == 0 and "fire" in help_.stdout and "check" in help_.stdout
    assert _in_venv(venv, "seom-client", "init", "--url", receiver.url, "--api-key",
                    receiver.api_key, cwd=tmp_path).returncode == 0
    # No --config anywhere: the per-user folder holds the config and the queue beside it.
    assert (tmp_path / "home-config" / "seom-client" / "seom-client.json").exists()
    order = write_json(tmp_path / "order.json", make_order("I-1", status="New"))
    first = _in_venv(venv, "seom-client", "fire", "Order Approve", "--order", order, cwd=tmp_path)
    assert first.returncode == 0 and "queued update" in first.stdout, first.stderr
    again = _in_venv(venv, "seom-client", "fire", "Order Approve", "--order", order, cwd=tmp_path)
    assert "no update queued" in again.stdout  # the client remembered, the script did not
    update = write_json(tmp_path / "u.json", {"order": make_order("I-2", status="Packed")})
    assert _in_venv(venv, "seom-client", "enqueue", update, cwd=tmp_path).returncode == 0
    status = json.loads(_in_venv(venv, "seom-client", "status", "--json", cwd=tmp_path).stdout)
    assert status["pending"] == 2 and status["running"] is False
    drained = _in_venv(venv, "seom-client", "run", "--once", cwd=tmp_path)
    assert drained.returncode == 0, drained.stderr
    assert len(receiver.applied) == 2


def test_a_wheel_built_from_the_folder_holds_the_whole_client(wheelhouse, checkout, tmp_path):
    built = _pip("wheel", "-q", "--no-deps", "--no-index", "--find-links", str(wheelhouse),
                 "-w", str(tmp_path), str(checkout))
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("seom_client-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = next(zf.read(n).decode() for n in names if n.endswith("dist-info/METADATA"))
        entry = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    for expected in ("seom_client/py.typed", "seom_client/defaults.json",
                     "seom_client/cli/__init__.py", "seom_client/controller.py"):
        assert expected in names
    assert not any(n.startswith("seom_client/pyproject") for n in names)
    assert [line for line in meta.splitlines() if line.startswith("Requires-Dist")] == [
        "Requires-Dist: requests>=2.31"]
    assert "seom-client = seom_client.cli:main" in entry
