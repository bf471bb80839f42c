"""Hook wiring only: which mypy call runs which part of the plugin."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

from mypy.errors import CompileError
from mypy.nodes import MypyFile
from mypy.options import Options
from mypy.plugin import Plugin, ReportConfigContext

from mypy_cancel_plugin import config, mypy_internals
from mypy_cancel_plugin.errorcodes import ALL_CODES
from mypy_cancel_plugin.version import LOGIC_VERSION

OUR_CODES = frozenset(code.code for code in ALL_CODES)


def stop(message: str, *, daemon: bool) -> NoReturn:
    """End the run as mypy ends on a setup error: one line on stderr, status 2, stdout empty.

    mypy prints a line on stdout for any other exception from a plugin; a daemon must stay up,
    and mypy's own setup-error exception makes dmypy answer status 2.
    """
    line = f"mypy-cancel-plugin: {message}"
    if daemon:
        raise CompileError([line])
    print(line, file=sys.stderr)
    raise SystemExit(2)


class CancelPlugin(Plugin):
    """Runs the rules on each module mypy has just type-checked, with the checker's own types."""

    # Under dmypy: the plugin of the running build.  dmypy builds a throwaway plugin on each
    # ``dmypy run`` to see whether plugins changed; that one compares settings with this one.
    daemon_build_plugin: CancelPlugin | None = None

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        try:
            self._settings = config.load(options.config_file)
        except config.ConfigError as problem:
            stop(str(problem), daemon=options.fine_grained_incremental)
        self._config_data = {"logic": LOGIC_VERSION, "settings": self._settings.report_data()}
        # Codes off by default that the plugin's own enable_error_code switches on.
        self._switched_on = [code for code in ALL_CODES if self._settings.switches_on(code)]
        self._manager: Any = None
        self._shared_facts: Any = None  # module_facts.SharedFacts, made when the first module is checked
        self._loaded: dict[str, MypyFile] = {}  # every module the build has loaded
        self._daemon = options.fine_grained_incremental
        # Modules already checked in this build; the daemon re-checks modules on purpose.
        self._seen: set[str] | None = None if self._daemon else set()
        live = CancelPlugin.daemon_build_plugin
        if live is not None:
            # This is dmypy's throwaway plugin of a new ``dmypy run`` (its options are not the
            # daemon's), built before the daemon checks anything.
            if live._settings != self._settings:
                mypy_internals.request_daemon_restart(live._manager, "settings changed")
            mypy_internals.keep_type_export_on(live.options)

    def set_modules(self, modules: dict[str, MypyFile]) -> None:
        super().set_modules(modules)
        self._loaded = modules
        if self._manager is not None:
            return  # the daemon hands the same modules again on updates
        self._manager = mypy_internals.find_build_manager(modules)
        if self._manager is None:
            stop("cannot find the build this mypy is running; see README (supported mypy versions)", daemon=self._daemon)
        mypy_internals.tap_type_maps(self._manager, self.options, self._module_checked)
        if self._daemon:
            CancelPlugin.daemon_build_plugin = self

    def get_additional_deps(self, file: MypyFile) -> list[tuple[int, str, int]]:
        if self._daemon:
            # dmypy switches type export off after every run (``dmypy check``/``recheck`` build
            # no throwaway plugin); a changed module is parsed before anything is checked.
            mypy_internals.keep_type_export_on(self.options)
        return []

    def _module_checked(self, type_map: mypy_internals.TypeMap) -> None:
        """mypy finished (re-)checking a module: work out its findings afresh and report them."""
        manager = self._manager
        tree = mypy_internals.module_just_checked(manager, type_map, self._seen)
        if tree is None:
            return
        # Loaded on first use: a warm run that re-checks nothing does not pay for the rules.
        from mypy_cancel_plugin.rules import check_module

        errors = manager.errors
        path = errors.file
        options = errors.options
        findings = check_module(
            tree, self._settings, options, type_map, lambda: mypy_internals.checked_source_lines(manager, path),
            self._loaded, self._shared(),
        )
        if self._daemon:
            mypy_internals.replace_findings(errors, path, OUR_CODES)
        mypy_internals.report_findings(
            errors, tree, options, [found for found in findings if self._settings.reports(found.code)],
            self._switched_on,
        )
        mypy_internals.refresh_ignore_notes(errors, path, options)

    def report_config_data(self, ctx: ReportConfigContext) -> Any:
        # mypy notices changes to the entry module only: the logic version invalidates the cache.
        # Asked once per module, cached or not: worked out once.  Asked again just before mypy
        # writes a module's cache entry: the module's helper summaries go into it (module_facts).
        if not ctx.is_check and self._manager is not None:
            self._shared().publish(ctx.id)
        return self._config_data

    def _shared(self) -> Any:
        """The build's helper summaries (``module_facts.SharedFacts``), made on first use."""
        if self._shared_facts is None:
            from mypy_cancel_plugin.module_facts import SharedFacts
            from mypy_cancel_plugin.rules import summarise_helpers

            self._shared_facts = SharedFacts(self._manager, self._settings, summarise_helpers)
        return self._shared_facts
