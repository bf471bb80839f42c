"""Hook wiring only: which mypy call runs which part of the plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mypy.errors import Errors
from mypy.nodes import MypyFile
from mypy.options import Options
from mypy.plugin import FunctionContext, MethodContext, Plugin, ReportConfigContext
from mypy.types import Type

from mypy_cancel_plugin import config, mypy_internals
from mypy_cancel_plugin.call_facts import CallFacts
from mypy_cancel_plugin.errorcodes import ALL_CODES
from mypy_cancel_plugin.rules import check_module, unstructured_task
from mypy_cancel_plugin.version import LOGIC_VERSION


class CancelPlugin(Plugin):
    """Runs the rules once per type-checked module and reports through mypy's own ``Errors``."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        try:
            self._settings = config.load(options.config_file)
        except config.ConfigError as problem:
            raise SystemExit(f"mypy-cancel-plugin: {problem}") from None
        self._call_facts = CallFacts()
        self._spawn_hooks = unstructured_task.SpawnHooks(self._call_facts)
        self._errors: Errors | None = None
        self._modules: dict[str, MypyFile] = {}
        self._replay: mypy_internals.FineGrainedReplay | None = None
        if options.fine_grained_incremental:
            self._replay = mypy_internals.FineGrainedReplay(frozenset(code.code for code in ALL_CODES))
        else:
            # Under dmypy every run builds a throwaway plugin inside a large heap: look later.
            self._errors = mypy_internals.find_build_errors(options)

    def set_modules(self, modules: dict[str, MypyFile]) -> None:
        super().set_modules(modules)
        self._modules = modules
        if self._errors is None:
            self._errors = mypy_internals.find_manager_errors(modules)
        if self._errors is None:
            raise SystemExit("mypy-cancel-plugin: cannot find where this mypy reports errors; see README")

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        if unstructured_task.is_spawning_function(fullname):
            return self._spawn_hooks.function_call
        return None

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        if unstructured_task.is_loop_method(fullname, self._lookup_class_of(fullname)):
            return self._spawn_hooks.method_call
        return None

    def _lookup_class_of(self, method_fullname: str) -> Any:
        if not method_fullname.endswith("." + unstructured_task.LOOP_METHOD):
            return None
        return self.lookup_fully_qualified(method_fullname.rpartition(".")[0])

    def get_additional_indirect_deps(self, file: MypyFile) -> set[str]:
        errors = self._errors
        if errors is not None and mypy_internals.is_reporting_to(errors, file):
            findings = check_module(
                file,
                self._settings,
                self._call_facts,
                type_checked_only=not self._settings.check_unannotated,
                options=self.options,
            )
            for found in findings:
                errors.report(
                    found.line,
                    found.column,
                    found.message,
                    code=found.code,
                    end_line=found.end_line,
                    end_column=found.end_column,
                )
            if self._replay is not None:
                self._replay.after_report(errors, file, self._modules)
        return set()

    def report_config_data(self, ctx: ReportConfigContext) -> Any:
        # mypy notices changes to the entry module only: the logic version invalidates the cache.
        return {"logic": LOGIC_VERSION, "settings": self._settings.report_data()}
