"""Layering: only ``oss_server/storage/`` knows cursors, dialects, pools and SQL text.

Services speak in domain verbs (``read_order_states``, ``write_snapshots``) and views call
services; a driver call or a statement written as a string anywhere else is a layer leak.
Migrations live outside ``oss_server/`` and are exempt.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "oss_server"
STORAGE = "oss_server/storage/"

# Attribute and call names that mean "this code talks to the driver or picks a dialect".
DRIVER_WORDS = ("dialect.name", ".cursor(", "driver_connection", "exec_driver_sql",
                "dbapi_connection")

# An SQL statement in a string literal (upper-case keywords, as the code writes them).
SQL_TEXT = re.compile(r"\bSELECT\b[\s\S]*?\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\S+\s+SET\b"
                      r"|\bDELETE\s+FROM\b|\bPRAGMA\s+\w+|\bBEGIN\s+IMMEDIATE\b")

# Modules outside storage/ that may still need a driver or SQL text, each with its reason.
# None today: a new entry needs a reason a reviewer accepts.
ALLOWED: dict[str, str] = {}


def _string_texts(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal's text (f-strings with ``?`` for each value), docstrings excluded."""
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)):
            docstrings.add(id(body[0].value))
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "?"
                           for part in node.values)
            texts.append((node.lineno, text))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings):
            texts.append((node.lineno, node.value))
    return texts


def leaks(source: str) -> list[str]:
    """What in *source* belongs in storage/: driver words and SQL statements in strings."""
    found = [word for word in DRIVER_WORDS if word in source]
    for line, text in _string_texts(ast.parse(source)):
        if SQL_TEXT.search(text):
            found.append(f"line {line}: SQL {text.strip()[:40]!r}")
    return found


def _modules() -> dict[str, str]:
    root = PACKAGE.parent
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(PACKAGE.rglob("*.py"))
            if not path.relative_to(root).as_posix().startswith(STORAGE)}


def test_only_storage_knows_the_driver_and_sql():
    found = {name: hits for name, source in _modules().items()
             if name not in ALLOWED and (hits := leaks(source))}
    assert found == {}, "driver code or SQL outside oss_server/storage/"


def test_allow_list_has_no_stale_entries():
    modules = _modules()
    stale = [name for name in ALLOWED if name not in modules or not leaks(modules[name])]
    assert stale == [], "remove these from ALLOWED: they no longer need the driver"


VIEW_PACKAGES = ("oss_server/api/", "oss_server/shop/", "oss_server/portal/", "oss_server/ops/")
# A view that opens a connection or asks the ORM whether a session exists is deciding
# transactions: that belongs to the service it calls.
VIEW_WORDS = (".connection()", "session.registry", "in_transaction(")


def test_views_leave_connections_and_transactions_to_services():
    found = {name: [word for word in VIEW_WORDS if word in source]
             for name, source in _modules().items() if name.startswith(VIEW_PACKAGES)}
    assert {name: words for name, words in found.items() if words} == {}


def _imported_packages(source: str, module: str) -> set[str]:
    """Return the oss_server subpackages a module imports (relative imports resolved)."""
    package = module.split("/")[1] if module.count("/") > 1 else ""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                found.add(package)
            elif node.level == 2 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 0 and (node.module or "").startswith("oss_server."):
                found.add(node.module.split(".")[1])
    return found


def test_mail_delivery_depends_on_no_service():
    # Services queue emails (services/email_outbox.py); mail/ only delivers them. An import
    # the other way would bring back the services <-> mail cycle.
    found = {name: sorted(pkgs) for name, source in _modules().items()
             if name.startswith("oss_server/mail/")
             and (pkgs := _imported_packages(source, name) & {"services", "api", "shop",
                                                              "portal"})}
    assert found == {}


@pytest.mark.parametrize("source", [
    "conn.dialect.name == 'sqlite'",
    "cursor = conn.connection.cursor()",
    "conn.exec_driver_sql('x')",
    "sql = 'SELECT id FROM orders WHERE x = ?'",
    "sql = f'INSERT INTO {table} (a) VALUES (?)'",
    "sql = f'UPDATE {table} SET a = 1'",
    "sql = 'DELETE FROM orders'",
    "run('PRAGMA journal_mode=WAL')",
    "run('BEGIN IMMEDIATE')",
])
def test_the_check_sees_each_kind_of_leak(source):
    assert leaks(source)


@pytest.mark.parametrize("source", [
    '"""Reads SELECT … FROM the orders table."""',
    "label = 'Select a store from the list'",
    "select(Order).where(Order.id == 1)",
])
def test_the_check_passes_prose_and_core_expressions(source):
    assert leaks(source) == []
