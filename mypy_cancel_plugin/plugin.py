"""Hook wiring only: which mypy call runs which part of the plugin."""

from __future__ import annotations

import sys
from typing import Any

from mypy.errors import Errors
from mypy.nodes import MypyFile
from mypy.options import Options
from mypy.plugin import Plugin, ReportConfigContext

from mypy_cancel_plugin import mypy_internals
from mypy_cancel_plugin.rules import check_module
from mypy_cancel_plugin.version import LOGIC_VERSION


class CancelPlugin(Plugin):
    """Runs the rules once per type-checked module and reports through mypy's own ``Errors``."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._errors: Errors | None = None
        if not options.fine_grained_incremental:
            # Under dmypy every run builds a throwaway plugin inside a large heap: look later.
            self._errors = mypy_internals.find_build_errors(options)

    def set_modules(self, modules: dict[str, MypyFile]) -> None:
        super().set_modules(modules)
        if self._errors is None:
            self._errors = mypy_internals.find_manager_errors(modules)
        if self._errors is None:
            sys.exit("mypy-cancel-plugin: cannot find where this mypy reports errors; see the supported range in README")

    def get_additional_indirect_deps(self, file: MypyFile) -> set[str]:
        errors = self._errors
        if errors is not None and mypy_internals.is_reporting_to(errors, file):
            for found in check_module(file):
                errors.report(
                    found.line,
                    found.column,
                    found.message,
                    code=found.code,
                    end_line=found.end_line,
                    end_column=found.end_column,
                )
        return set()

    def report_config_data(self, ctx: ReportConfigContext) -> Any:
        # mypy notices changes to the entry module only: the logic version invalidates the cache.
        return {"logic": LOGIC_VERSION}
