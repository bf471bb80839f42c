"""mypy-cancel-plugin: catch asyncio, trio and anyio cancellation bugs at type-check time.

Enable with ``plugins = ["mypy_cancel_plugin"]``.  mypy calls :func:`plugin` with its version.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, NoReturn

from mypy.version import __version__ as _installed_mypy

from mypy_cancel_plugin.version import MIN_MYPY, NEWEST_TESTED_MYPY, SUPPORTED_RANGE, __version__

if TYPE_CHECKING:
    from mypy_cancel_plugin.plugin import CancelPlugin

__all__ = ["__version__", "plugin"]


def _release(version: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _refuse(reason: str) -> NoReturn:
    """One line and status 2, as mypy ends on a setup error."""
    print(f"mypy-cancel-plugin {__version__} supports mypy {SUPPORTED_RANGE}; {reason}", file=sys.stderr)
    raise SystemExit(2)


if _release(_installed_mypy) >= MIN_MYPY:
    # Imported here, before ``plugin`` is defined: importing the submodule ``plugin`` binds that
    # name on this package, and the function below must be what mypy (and dmypy, every run)
    # finds.  On a mypy too old nothing version-specific is imported, so ``plugin`` can refuse
    # with one line instead of an import error.
    try:
        from mypy_cancel_plugin.plugin import CancelPlugin
    except ImportError as missing:
        _refuse(f"this is mypy {_installed_mypy}, which lacks what the plugin needs ({missing})")


def plugin(version: str) -> type[CancelPlugin]:
    """mypy's entry point: refuse, with one line, a mypy the plugin cannot fully cover."""
    release = _release(version)
    if release < MIN_MYPY:
        _refuse(f"this is mypy {version}")
    if release > NEWEST_TESTED_MYPY:
        from mypy_cancel_plugin.mypy_internals import contract_problems

        problems = contract_problems()
        if problems:
            _refuse(f"this is mypy {version}, newer than tested, and it changed: {'; '.join(problems)}")
    return CancelPlugin
