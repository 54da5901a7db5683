"""seom_client needs only requests and the standard library, and never oss_server."""

import ast
import json
import os
import subprocess
import sys

from .conftest import REPO

PROBE = """
import json, sys
before = set(sys.modules)
import seom_client, seom_client.cli, seom_client.controller
new = {name.split(".")[0] for name in set(sys.modules) - before}
print(json.dumps(sorted(new)))
"""
REQUESTS_DEPS = {"requests", "urllib3", "idna", "charset_normalizer", "chardet", "certifi",
                 "simplejson", "brotli", "brotlicffi", "zstandard", "socks", "cryptography",
                 "OpenSSL", "_cffi_backend"}


def test_imports_only_requests_and_the_standard_library():
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=30, check=True)
    modules = set(json.loads(proc.stdout))
    foreign = {m for m in modules - set(sys.stdlib_module_names) - REQUESTS_DEPS - {"seom_client"}
               if not m.startswith(("_cython", "cython_runtime"))}  # compiled deps' runtime
    assert not foreign, f"seom_client pulled in {sorted(foreign)}"
    assert "oss_server" not in modules and "flask" not in modules


def test_source_imports_only_requests_and_the_standard_library():
    allowed = set(sys.stdlib_module_names) | {"requests"}
    for path in (REPO / "seom_client").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


SERVER_PROBE = """
import json, sys
from oss_server import create_app
create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
import seom_client
loaded = sorted({name.split(".")[0] for name in sys.modules} & {"requests", "urllib3"})
client = seom_client.Client
print(json.dumps([loaded, sorted({name.split(".")[0] for name in sys.modules} & {"requests"})]))
"""


def test_the_server_loads_only_the_screening_not_the_http_client():
    # A worker imports seom_client for the shared card screening; the client's HTTP stack
    # would be memory every worker carries and never uses. The client still loads on use.
    proc = subprocess.run([sys.executable, "-c", SERVER_PROBE], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO),
                               "OSS_SECRET_KEY": "probe", "OSS_FACTOR_KEY": "probe"},
                          timeout=60, check=True)
    at_start, after_use = json.loads(proc.stdout.strip().splitlines()[-1])
    assert at_start == []
    assert after_use == ["requests"]
