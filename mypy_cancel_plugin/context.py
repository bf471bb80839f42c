"""What the rules see: one module, its functions, and where their findings go."""

from __future__ import annotations

import tokenize
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mypy import nodes
from mypy.errorcodes import ErrorCode
from mypy.options import Options

from mypy_cancel_plugin import predicates, walk
from mypy_cancel_plugin.call_facts import CallFacts
from mypy_cancel_plugin.config import Settings
from mypy_cancel_plugin.static_types import Resolver

ASYNC_CONTEXT_MANAGER = "contextlib.asynccontextmanager"


@dataclass(frozen=True, order=True)
class Diagnostic:
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    code: ErrorCode = field(compare=False)


@dataclass
class ModuleContext:
    """One checked module and the diagnostics the rules found in it."""

    tree: nodes.MypyFile
    settings: Settings
    call_facts: CallFacts
    functions: list[walk.Function]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Memo for the re-raise analysis: per-function facts and helper summaries, computed once.
    reraise_memo: dict[object, Any] = field(default_factory=dict)
    # The build's options (target version and platform), for conditions mypy decides statically.
    options: Options | None = None

    @cached_property
    def _functions_by_id(self) -> dict[int, walk.Function]:
        return {id(function.defn): function for function in self.functions}

    def defines(self, defn: nodes.FuncDef) -> bool:
        """Whether ``defn`` is a function of this module (so its body is really here)."""
        return id(defn) in self._functions_by_id

    def scope_of(self, defn: nodes.FuncDef) -> FunctionScope:
        return FunctionScope(self._functions_by_id[id(defn)], self.tree)

    @cached_property
    def libraries_in_play(self) -> frozenset[str]:
        detected = predicates.libraries_in_play(self.tree)
        return predicates.with_grouped_cancellation(self.settings.libraries_in_play(detected))

    @cached_property
    def source_lines(self) -> list[str]:
        """The module's text, for the few positions the mypy tree does not keep (bare ``except:``)."""
        try:
            with tokenize.open(self.tree.path) as source:
                return source.read().splitlines()
        except (OSError, SyntaxError, UnicodeDecodeError):
            return []

    def report(self, node: nodes.Context, message: str, code: ErrorCode, *, line: int | None = None,
               column: int | None = None) -> None:
        """Record a finding at ``node`` (or at an explicit position on one line)."""
        if line is None:
            line, column = node.line, node.column
            end_line, end_column = node.end_line or line, node.end_column
        else:
            end_line, end_column = line, None
        column = max(column or 0, 0)
        if end_column is None or (end_line == line and end_column <= column):
            end_line, end_column = line, column + 1
        self.diagnostics.append(Diagnostic(line, column, end_line, end_column, message, code))


class FunctionScope:
    """One ``def`` of the module (or the module's top level), with what every rule asks computed once."""

    def __init__(self, function: walk.Function | None, tree: nodes.MypyFile) -> None:
        self.defn = function.defn if function else None
        self.decorators = function.decorators if function else ()
        self.qualified_names = (function.defn.fullname, *function.enclosing) if function else (tree.fullname,)
        body = function.defn.body if function else walk.module_top_level(tree)
        self.nodes = list(walk.scope_nodes(body))
        self.resolver = Resolver(self.defn, self.nodes if function else ())

    @cached_property
    def raised_names(self) -> frozenset[nodes.SymbolNode]:
        """Variables this function raises by name (``raise err``) somewhere."""
        return frozenset(
            node.expr.node
            for node in self.nodes
            if isinstance(node, nodes.RaiseStmt) and isinstance(node.expr, nodes.NameExpr) and node.expr.node
        )

    @property
    def is_generator(self) -> bool:
        return self.defn is not None and (self.defn.is_generator or self.defn.is_async_generator)

    @cached_property
    def decorator_names(self) -> frozenset[str]:
        """Fully qualified names of the decorators (``@fixture(scope=...)`` counts as ``fixture``)."""
        callees = (d.callee if isinstance(d, nodes.CallExpr) else d for d in self.decorators)
        return frozenset(d.fullname for d in callees if isinstance(d, nodes.RefExpr))

    @cached_property
    def is_async_context_manager(self) -> bool:
        """An ``@asynccontextmanager`` generator: its ``yield`` receives the managed block's exceptions."""
        return self.defn is not None and self.defn.is_coroutine and ASYNC_CONTEXT_MANAGER in self.decorator_names

    def has_await_point(self, *roots: nodes.Node | None) -> bool:
        """Whether the current task's cancellation can be delivered inside any of ``roots``."""
        for root in roots:
            if root is None:
                continue
            for node in (root, *walk.descendants(root)):
                if walk.is_await_point(node):
                    return True
                if self.is_async_context_manager and isinstance(node, (nodes.YieldExpr, nodes.YieldFromExpr)):
                    return True
        return False
