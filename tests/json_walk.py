"""Walk a decoded JSON body, for tests that look for what must never be in it."""
from __future__ import annotations


def keys_of(node):
    """Every key at every depth of *node*."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from keys_of(value)
    elif isinstance(node, list):
        for value in node:
            yield from keys_of(value)


def leaf_values(node):
    """Every leaf value but timestamps (``*_at``), whose digits could match a factor by chance."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not key.endswith("_at"):
                yield from leaf_values(value)
    elif isinstance(node, list):
        for value in node:
            yield from leaf_values(value)
    else:
        yield node
