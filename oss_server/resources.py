"""Locate templates, static files and migrations in a checkout or an installed copy."""
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> str:
    """Return the folder *name* inside the package, or at the top of a checkout."""
    installed = _PACKAGE / name
    if installed.is_dir():
        return str(installed)
    return str(_PACKAGE.parent / name)
