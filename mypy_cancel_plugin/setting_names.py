"""Entries of the name settings that name nothing the project defines.

A typo in ``spawn_functions = ["app.tasks.spwan"]`` would silently match nothing.  An entry is
judged where it would be defined: when mypy checks the deepest module its dotted name lies
in, against that module's symbol table as mypy built it (imports and re-exports count).  The
verdict is a finding of that module, so the cache and the daemon keep it like any other.
Entries under packages outside the build are never judged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from mypy.nodes import MypyFile, TypeInfo

from mypy_cancel_plugin.config import Settings

SOURCE_SUFFIXES = (".py", ".pyi")


def undefined_entries(tree: MypyFile, settings: Settings) -> Iterator[tuple[str, str, str, str]]:
    """``(setting, entry, owner, missing)`` for each entry under ``tree`` whose ``missing``
    part is not defined in ``owner`` (the module or class it should be in)."""
    for setting, entry in settings.api_names():
        missing = _missing_part(tree, entry)
        if missing is not None:
            yield setting, entry, *missing


def _missing_part(tree: MypyFile, entry: str) -> tuple[str, str] | None:
    prefix = tree.fullname + "."
    if not entry.startswith(prefix):
        return None
    parts = entry[len(prefix):].split(".")
    if tree.is_package_init_file() and _is_submodule(tree.path, parts[0]):
        return None  # judged when that module is checked
    owner, table = tree.fullname, tree.names
    for position, part in enumerate(parts):
        symbol = table.get(part)
        if symbol is None:
            return owner, part
        if not isinstance(symbol.node, (MypyFile, TypeInfo)):
            # A function, method or variable has no members an entry could name.
            last = position == len(parts) - 1
            return None if last else (f"{owner}.{part}", parts[position + 1])
        owner, table = symbol.node.fullname, symbol.node.names
    return None


def _is_submodule(package_init: str, name: str) -> bool:
    directory = os.path.dirname(package_init)
    candidates = [os.path.join(directory, name + suffix) for suffix in SOURCE_SUFFIXES]
    return os.path.isdir(os.path.join(directory, name)) or any(os.path.isfile(path) for path in candidates)
