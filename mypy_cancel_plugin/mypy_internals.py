"""The one place that touches mypy internals: finding the build's ``Errors`` and knowing when to use it.

No plugin API hands ``Errors`` to ``get_additional_indirect_deps``, the once-per-module call
the rules run from.  While plugins are constructed, ``load_plugins_from_config`` has just
called ``errors.set_file(config_file, None, options)``, so the build's ``Errors`` is the one
object of that class whose ``options`` *is* the options object the plugin receives.
``tests/test_mypy_contract.py`` fails loudly if a mypy release changes any of this.
"""

from __future__ import annotations

import gc

from mypy.errors import Errors
from mypy.nodes import MypyFile
from mypy.options import Options


def find_build_errors(options: Options) -> Errors | None:
    """While plugins are constructed: the ``Errors`` whose ``options`` is the plugin's ``options``."""
    for referrer in gc.get_referrers(options):
        if isinstance(referrer, Errors) and referrer.options is options:
            return referrer
    return None


def find_manager_errors(modules: dict[str, MypyFile]) -> Errors | None:
    """From ``set_modules``: the ``errors`` of the ``BuildManager`` that holds ``modules``."""
    for referrer in gc.get_referrers(modules):
        errors = getattr(referrer, "errors", None)
        if isinstance(errors, Errors) and getattr(referrer, "modules", None) is modules:
            return errors
    return None


def is_reporting_to(errors: Errors, tree: MypyFile) -> bool:
    """Whether ``errors`` is set up for ``tree`` right now, so a report lands on that module.

    Modules whose diagnostics mypy skips (``ignore_errors``, silenced third-party code) reach
    the once-per-module call without ``errors.set_file()``: ``errors`` still points at another
    module with a dead checker scope, and reporting there makes mypy crash.
    """
    return (
        not tree.is_stub
        and errors.target_module == tree.fullname
        and errors.scope is None
        and errors.file not in errors.ignored_files
        and not errors.options.ignore_errors
    )
