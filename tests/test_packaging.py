"""What `pip install .` ships and needs, checked against pyproject.toml without building."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PROJECT["tool"]["setuptools"]
# Data folders that live at the top of the repository but install inside oss_server.
MOVED = {"templates": "oss_server.templates", "static": "oss_server.static",
         "migrations": "oss_server.migrations"}


def _folders(base: Path, package: str) -> set[str]:
    """Dotted names of *base* and every folder below it that holds a file git would ship."""
    names = set()
    for path in [base, *base.rglob("*")]:
        if path.is_dir() and path.name != "__pycache__" and any(
                f.is_file() and f.suffix != ".pyc" for f in path.iterdir()):
            names.add(".".join([package, *path.relative_to(base).parts]))
    return names


def test_every_folder_that_ships_is_a_listed_package():
    expected = _folders(ROOT / "oss_server", "oss_server")
    expected |= _folders(ROOT / "seom_client", "seom_client") - {"seom_client.__pycache__"}
    for folder, package in MOVED.items():
        expected |= _folders(ROOT / folder, package)
    expected = {name for name in expected if ".tests" not in name}
    assert sorted(expected - set(SETUPTOOLS["packages"])) == []


def _declared(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!\[; ]", req, maxsplit=1)[0].lower().replace("_", "-")
            for req in requirements}


def _imported(folder: Path) -> set[str]:
    """Top-level third-party modules imported anywhere under *folder*."""
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    local = {"oss_server", "seom_client", "tests", "benchmarks"}
    return {name for name in found if name not in sys.stdlib_module_names and name not in local}


def _distributions(modules: set[str]) -> set[str]:
    owners = packages_distributions()
    return {owners[name][0].lower().replace("_", "-") for name in modules}


def test_every_package_the_server_imports_is_declared():
    declared = _declared(PROJECT["project"]["dependencies"])
    imported = _imported(ROOT / "oss_server") | _imported(ROOT / "migrations")
    assert sorted(_distributions(imported) - declared) == []


def test_every_package_the_tests_import_is_declared():
    declared = _declared(PROJECT["project"]["dependencies"])
    declared |= _declared(PROJECT["project"]["optional-dependencies"]["test"])
    assert sorted(_distributions(_imported(ROOT / "tests")) - declared) == []
