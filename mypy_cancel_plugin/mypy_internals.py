"""The one place that touches mypy internals: finding the build's ``Errors`` and knowing when to use it.

No plugin API hands ``Errors`` to ``get_additional_indirect_deps``, the once-per-module call
the rules run from.  While plugins are constructed, ``load_plugins_from_config`` has just
called ``errors.set_file(config_file, None, options)``, so the build's ``Errors`` is the one
object of that class whose ``options`` *is* the options object the plugin receives.
``tests/test_mypy_contract.py`` fails loudly if a mypy release changes any of this.
"""

from __future__ import annotations

import gc

from mypy.errorcodes import UNUSED_IGNORE
from mypy.errors import ErrorInfo, Errors
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


class FineGrainedReplay:
    """dmypy only: make an update report what a full run reports.

    On every update dmypy calls ``errors.reset()`` and re-checks the changed module in full
    (our once-per-module call runs), but unchanged modules are re-checked target by target,
    without that call, so their findings would vanish.  Findings are kept with no target:
    dmypy then never clears them target by target, only on ``reset()``, after which the next
    once-per-module call adds them back.  And in an update, mypy decides which ``type: ignore``
    comments are unused *before* that call, so those notes are worked out again after it.
    """

    def __init__(self, codes: frozenset[str]) -> None:
        self._codes = codes
        self._kept: dict[str, tuple[str, list[ErrorInfo]]] = {}

    def after_report(self, errors: Errors, tree: MypyFile, modules: dict[str, MypyFile]) -> None:
        self._keep(errors, tree)
        self._refresh_unused_ignore_notes(errors, errors.file)
        self._restore_others(errors, tree, modules)

    def _keep(self, errors: Errors, tree: MypyFile) -> None:
        """Record the findings just reported for ``tree`` (after mypy's ignore comments applied)."""
        infos = [info for info in errors.error_info_map.get(errors.file, []) if self._is_ours(info)]
        for info in infos:
            info.target = None
        self._kept[tree.fullname] = (errors.file, infos)

    def _restore_others(self, errors: Errors, current: MypyFile, modules: dict[str, MypyFile]) -> None:
        """Re-add kept findings of every other module that is still in the build."""
        for module, (path, infos) in sorted(self._kept.items()):
            if module == current.fullname or module not in modules or modules[module].path != path:
                continue
            if path in errors.flushed_files or any(map(self._is_ours, errors.error_info_map.get(path, []))):
                continue
            errors.error_info_map.setdefault(path, []).extend(infos)

    def _is_ours(self, info: ErrorInfo) -> bool:
        return info.code is not None and info.code.code in self._codes

    @staticmethod
    def _refresh_unused_ignore_notes(errors: Errors, path: str) -> None:
        infos = errors.error_info_map.get(path, [])
        stale = [info for info in infos if info.code == UNUSED_IGNORE]
        if stale:
            errors.error_info_map[path] = [info for info in infos if info.code != UNUSED_IGNORE]
            errors.generate_unused_ignore_errors(path)
