"""mypy-cancel-plugin: catch asyncio, trio and anyio cancellation bugs at type-check time.

Enable with ``plugins = ["mypy_cancel_plugin"]``.  mypy calls :func:`plugin` with its version.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mypy.version import __version__ as _installed_mypy

from mypy_cancel_plugin.version import (
    MAX_MYPY_EXCLUSIVE,
    MIN_MYPY,
    SUPPORTED_RANGE,
    __version__,
)

if TYPE_CHECKING:
    from mypy_cancel_plugin.plugin import CancelPlugin

__all__ = ["__version__", "plugin"]


def _is_supported(version: str) -> bool:
    match = re.match(r"(\d+)\.(\d+)", version)
    release = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    return MIN_MYPY <= release < MAX_MYPY_EXCLUSIVE


if _is_supported(_installed_mypy):
    # Imported here, before ``plugin`` is defined: importing the submodule ``plugin`` binds that
    # name on this package, and the function below must be what mypy (and dmypy, every run)
    # finds.  On an unsupported mypy nothing version-specific is imported, so ``plugin`` can
    # refuse with one line instead of an import error.
    from mypy_cancel_plugin.plugin import CancelPlugin


def plugin(version: str) -> type[CancelPlugin]:
    """mypy's entry point: refuse, with one line, a mypy the plugin cannot fully cover."""
    if not _is_supported(version):
        raise SystemExit(f"mypy-cancel-plugin {__version__} supports mypy {SUPPORTED_RANGE}; this is mypy {version}")
    return CancelPlugin
