"""One module per rule.  ``check_module`` runs every rule over every function of a module and its top level."""

from __future__ import annotations

from collections.abc import Callable

from mypy import nodes
from mypy.options import Options

from mypy_cancel_plugin import walk
from mypy_cancel_plugin.call_facts import CallFacts
from mypy_cancel_plugin.config import Settings
from mypy_cancel_plugin.context import Diagnostic, FunctionScope, ModuleContext
from mypy_cancel_plugin.errorcodes import PLUGIN_FAILURE
from mypy_cancel_plugin.rules import (
    cancel_swallowed,
    unstructured_task,
    yield_in_cancel_scope,
)

FunctionRule = Callable[[FunctionScope, ModuleContext], None]

FUNCTION_RULES: tuple[FunctionRule, ...] = (
    cancel_swallowed.check,
    unstructured_task.check,
    yield_in_cancel_scope.check,
)


def check_module(
    tree: nodes.MypyFile, settings: Settings, call_facts: CallFacts, *, type_checked_only: bool,
    options: Options | None = None,
) -> list[Diagnostic]:
    """Every finding in ``tree``, sorted by position.

    With ``type_checked_only``, functions mypy does not check (unannotated ones, unless
    ``check_untyped_defs``) are skipped.  A rule that fails on one function is reported there
    as a ``cancel-plugin`` error (with the reason) instead of taking mypy down: the rest of
    the module is still checked.
    """
    module = ModuleContext(tree, settings, call_facts, list(walk.functions(tree)), options=options)
    _run_rules(FunctionScope(None, tree), module, tree.fullname, 1)
    for function in module.functions:
        if not (type_checked_only and function.unannotated):
            _run_rules(FunctionScope(function, tree), module, function.defn.name, function.defn.line)
    return sorted(set(module.diagnostics))


def _run_rules(scope: FunctionScope, module: ModuleContext, name: str, line: int) -> None:
    for rule in FUNCTION_RULES:
        try:
            rule(scope, module)
        except Exception as failure:  # noqa: BLE001 - a plugin bug must not crash mypy
            message = (
                f'mypy-cancel-plugin could not check "{name}" '
                f"({type(failure).__name__}: {failure}); please report this with the code"
            )
            module.report(module.tree, message, PLUGIN_FAILURE, line=line)
