"""mypy-cancel-plugin: catch asyncio, trio and anyio cancellation bugs at type-check time.

Enable with ``plugins = ["mypy_cancel_plugin"]``.  mypy calls :func:`plugin` with its version.
"""

from __future__ import annotations

import re

# Imported before ``plugin`` is defined: importing the submodule ``plugin`` binds that name on
# this package, and the function below must be what mypy (and dmypy, on every run) finds.
from mypy_cancel_plugin.plugin import CancelPlugin
from mypy_cancel_plugin.version import MAX_MYPY_EXCLUSIVE, MIN_MYPY, SUPPORTED_RANGE, __version__

__all__ = ["CancelPlugin", "__version__", "plugin"]


def _release(version: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def plugin(version: str) -> type[CancelPlugin]:
    """mypy's entry point: refuse, with one line, a mypy the plugin cannot fully cover."""
    if not MIN_MYPY <= _release(version) < MAX_MYPY_EXCLUSIVE:
        raise SystemExit(f"mypy-cancel-plugin {__version__} supports mypy {SUPPORTED_RANGE}; this is mypy {version}")
    return CancelPlugin
