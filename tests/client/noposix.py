"""Make the POSIX-only modules unavailable, as on Windows, to prove seom_client does without them.

Used three ways: as a pytest plugin (``SEOM_NO_POSIX=1 pytest -p tests.client.noposix
tests/client``, the second client run in .ci/run), by ``install()`` in-process, and by
``PRELUDE`` at the top of a subprocess's ``-c`` script.
"""

import importlib.abc
import os
import sys

BLOCKED = ("fcntl", "termios", "pwd", "grp")


class _Blocker(importlib.abc.MetaPathFinder):
    """A meta-path finder that refuses the POSIX-only modules."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"No module named {name!r} (made unavailable for this test run)",
                              name=name)
        return None


def install():
    """Refuse the blocked modules from now on, forgetting any copies already imported."""
    if not any(isinstance(f, _Blocker) for f in sys.meta_path):
        sys.meta_path.insert(0, _Blocker())
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]


PRELUDE = (
    "import sys, importlib.abc\n"
    "class _B(importlib.abc.MetaPathFinder):\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    f"        if name.split('.')[0] in {BLOCKED!r}:\n"
    "            raise ImportError('No module named %r' % name, name=name)\n"
    "sys.meta_path.insert(0, _B())\n"
    f"for _n in [n for n in sys.modules if n.split('.')[0] in {BLOCKED!r}]:\n"
    "    del sys.modules[_n]\n"
)

if os.environ.get("SEOM_NO_POSIX") == "1":
    install()
