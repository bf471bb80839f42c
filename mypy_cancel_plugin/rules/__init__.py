"""One module per rule.  ``check_module`` runs every rule over every function of a module and its
top level; ``summarise_helpers`` gives the summaries other modules read (``module_facts``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from mypy import nodes
from mypy.options import Options
from mypy.types import Type

from mypy_cancel_plugin import semantics, setting_names, walk
from mypy_cancel_plugin.config import Settings
from mypy_cancel_plugin.context import Diagnostic, FunctionScope, ModuleContext, fix_note
from mypy_cancel_plugin.errorcodes import PLUGIN_FAILURE
from mypy_cancel_plugin.module_facts import HelperFacts, SharedFacts
from mypy_cancel_plugin.reraise import checkpoints_on_every_path, helper_summary
from mypy_cancel_plugin.rules import (
    asyncio_timeout_not_caught,
    cancel_scope_escapes_task,
    cancel_swallowed,
    gather_cancel_as_result,
    task_cancelled_not_awaited,
    task_group_not_open,
    unstructured_task,
    wait_for_swallows_cancel,
    yield_in_cancel_scope,
)

FunctionRule = Callable[[FunctionScope, ModuleContext], None]

FUNCTION_RULES: tuple[FunctionRule, ...] = (
    cancel_swallowed.check,
    unstructured_task.check,
    yield_in_cancel_scope.check,
    task_cancelled_not_awaited.check,
    asyncio_timeout_not_caught.check,
    gather_cancel_as_result.check,
    wait_for_swallows_cancel.check,
    task_group_not_open.check,
    cancel_scope_escapes_task.check,
)


def check_module(
    tree: nodes.MypyFile,
    settings: Settings,
    options: Options,
    checked_types: Mapping[nodes.Expression, Type],
    read_source: Callable[[], list[str]] = list,
    modules: dict[str, nodes.MypyFile] | None = None,
    shared_facts: SharedFacts | None = None,
) -> list[Diagnostic]:
    """Every finding in ``tree``, sorted by position (``checked_types``: the checker's type map;
    ``modules``: every module mypy has loaded, by name; ``shared_facts``: other modules' helper
    summaries, and where this module's are published once its rules have run).

    With ``check_unannotated`` off, functions mypy does not check (unannotated ones, unless
    ``check_untyped_defs``) are skipped.  A rule that fails on one function is reported there
    as a ``cancel-plugin`` error (with the reason) instead of taking mypy down: the rest of
    the module is still checked.
    """
    try:
        scopes = shared_facts.walk_of(tree) if shared_facts is not None else walk.module_scopes(tree)
        module = ModuleContext(tree, settings, checked_types, read_source, options, scopes,
                               modules if modules is not None else {}, shared_facts)
    except Exception as failure:  # noqa: BLE001 - a plugin bug must not crash mypy
        return [_failure(tree.fullname, 1, failure)]
    module.diagnostics.extend(_undefined_setting_entries(tree, settings))
    skip_unchecked = not settings.check_unannotated and not options.check_untyped_defs
    try:
        for walked in module.scopes:
            function = walked.function
            if not _may_hold_finding(walked):
                continue
            if function is None:
                _run_rules(walked, module, tree.fullname, 1)
            elif not (skip_unchecked and function.unannotated):
                _run_rules(walked, module, function.defn.name, function.defn.line)
        if shared_facts is not None:
            shared_facts.rules_ran(module)
        return _told_apart(sorted(set(module.diagnostics)))
    finally:
        module.release()


def summarise_helpers(module: ModuleContext) -> dict[str, HelperFacts]:
    """The summaries of the module's functions that callers elsewhere can name (not nested in a
    ``def``), from ``module`` built without a type map; functions with nothing to tell are left out."""
    summaries: dict[str, HelperFacts] = {}
    checkpointing = bool(module.imported_packages & semantics.CHECKPOINT_PACKAGES)
    for walked in module.scopes[1:]:
        function = walked.function
        assert function is not None
        awaits = checkpointing and function.defn.is_coroutine and bool(walked.of(nodes.AwaitExpr))
        # A summary needs a ``raise`` (or an ``assert`` that fails), an ``await``, or a ``return``
        # of what a call gives (a task; or after a call that raises).
        raises = nodes.RaiseStmt in walked.by_kind or nodes.AssertStmt in walked.by_kind
        gives = bool(walked.returned) and nodes.CallExpr in walked.by_kind
        if not (raises or gives or awaits) or any(
            isinstance(node, nodes.FuncDef) for node in function.enclosing
        ):
            continue
        scope = FunctionScope(walked, module)
        returned_task = unstructured_task.hands_over_task(scope, module)
        always_raises, reraised = helper_summary(scope, module)
        checkpoints = awaits and not always_raises and checkpoints_on_every_path(scope, module)
        if returned_task or always_raises or reraised or checkpoints:
            summaries[function.defn.fullname] = HelperFacts(returned_task, always_raises, reraised, checkpoints)
    return summaries


def _may_hold_finding(walked: walk.ScopeNodes) -> bool:
    """Every rule judges a call, a ``try`` or a ``with`` of the scope (a ``yield`` matters only inside
    a ``with``): a scope with none of them (a quarter of a corpus's functions) is not looked at."""
    return any(kind in walked.by_kind for kind in _SITE_KINDS)


_SITE_KINDS = (nodes.CallExpr, nodes.TryStmt, nodes.WithStmt)


def _run_rules(walked: walk.ScopeNodes, module: ModuleContext, name: str, line: int) -> None:
    """Every rule on one scope; a failure becomes a ``cancel-plugin`` finding there, and the
    other rules still run."""
    module.enclosing = ()
    try:
        scope = FunctionScope(walked, module)
    except Exception as failure:  # noqa: BLE001 - a plugin bug must not crash mypy
        module.diagnostics.append(_failure(name, line, failure))
        return
    module.enclosing = scope.enclosing
    for rule in FUNCTION_RULES:
        try:
            rule(scope, module)
        except Exception as failure:  # noqa: BLE001 - a plugin bug must not crash mypy
            module.diagnostics.append(_failure(name, line, failure))


def _undefined_setting_entries(tree: nodes.MypyFile, settings: Settings) -> list[Diagnostic]:
    """A setting's entry that should be defined in this module but is not, reported on its first line."""
    note = fix_note("correct or remove the entry in the mypy_cancel_plugin settings", PLUGIN_FAILURE)
    return [
        Diagnostic(1, 0, 1, 1, f'Setting {setting} names "{entry}", but "{owner}" defines no "{missing}"',
                   PLUGIN_FAILURE, note=note)
        for setting, entry, owner, missing in setting_names.undefined_entries(tree, settings)
    ]


def _told_apart(findings: list[Diagnostic]) -> list[Diagnostic]:
    """mypy shows only the first of a line's errors that share a message: a further finding with the
    same message on that line (two spawns in one set display) names its column, so it is shown too."""
    seen: set[tuple[int, str]] = set()
    told: list[Diagnostic] = []
    for found in findings:
        key = (found.line, found.message)
        if key in seen:
            found = dataclasses.replace(found, message=f"{found.message} (again on this line, at column {found.column + 1})")
        seen.add(key)
        told.append(found)
    return told


def _failure(name: str, line: int, failure: Exception) -> Diagnostic:
    message = f'mypy-cancel-plugin could not check "{name}" ({type(failure).__name__}: {failure})'
    note = fix_note("please report this with the code that fails", PLUGIN_FAILURE)
    return Diagnostic(line, 0, line, 1, message, PLUGIN_FAILURE, note=note)
