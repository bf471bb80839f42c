"""What the rules see: one module, its functions, and where their findings go."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from mypy import nodes
from mypy.errorcodes import ErrorCode
from mypy.options import Options
from mypy.types import CallableType, Instance, Type

from mypy_cancel_plugin import mypy_internals, predicates, semantics, walk
from mypy_cancel_plugin.config import Settings
from mypy_cancel_plugin.errorcodes import page_url
from mypy_cancel_plugin.evidence import ModuleEvidence
from mypy_cancel_plugin.static_types import (
    Resolver,
    import_bindings,
    spelled_name,
    unfollowed_imports,
    values_by_name,
)

if TYPE_CHECKING:
    from mypy_cancel_plugin.module_facts import HelperFacts, SharedFacts

T = TypeVar("T")


@dataclass(frozen=True, order=True)
class Diagnostic:
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    code: ErrorCode = field(compare=False)
    # What to do about it, and where the rule's page is: reported as a ``note:`` after the error.
    note: str = field(default="", compare=False)
    # The classes and functions the finding is in, outermost first (mypy's error scope).
    enclosing: tuple[nodes.FuncDef | nodes.TypeInfo, ...] = field(default=(), compare=False)


@dataclass
class ModuleContext:
    """One checked module and the diagnostics the rules found in it."""

    tree: nodes.MypyFile
    settings: Settings
    # The checker's expression types for this module (``static_types`` falls back to declarations).
    checked_types: Mapping[nodes.Expression, Type]
    # The text mypy checked, for the one position its tree does not keep (a bare ``except:``).
    read_source: Callable[[], list[str]]
    # mypy's options for this module (target Python version and platform, check_untyped_defs).
    options: Options
    # What the module's single walk found: the top level first, then every function.
    scopes: list[walk.ScopeNodes]
    # Every module mypy has loaded (what the module's imports refer to).
    modules: dict[str, nodes.MypyFile] = field(default_factory=dict)
    # Other modules' helper summaries (``None``: not read, as while working out this module's own).
    shared_facts: SharedFacts | None = None
    # False while working out the module's summaries: the checker's inferred types of locals are
    # not used, since the summaries may be worked out before the function bodies are checked.
    infer_locals: bool = True
    # mypy's scope of the function the rules are checking now (``report`` files findings under it).
    enclosing: tuple[nodes.FuncDef | nodes.TypeInfo, ...] = ()
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Per-function facts and helper summaries, computed once per module and shared by the rules.
    summaries: dict[object, Any] = field(default_factory=dict)
    # Code -> whether its findings can be reported in this module (``reports``).
    _reporting: dict[str, bool] = field(default_factory=dict)

    def release(self) -> None:
        """Drop everything the rules built for this module (it cannot be used afterwards).

        Their memos lead back here (a function's resolver reads the module's values, a summary
        keeps its function's scope), so the module's working data forms cycles that only a
        garbage collection can free: hundreds of thousands of objects a run, and collections
        that traverse mypy's young heap.  Dropped here, reference counting frees them at once.
        """
        vars(self).clear()

    def summarise(self, key: tuple[object, ...], decide: Callable[[], T], *, while_deciding: T) -> T:
        """``decide()`` once per module for ``key``; a recursive question meanwhile gets ``while_deciding``."""
        if key not in self.summaries:
            self.summaries[key] = while_deciding
            self.summaries[key] = decide()
        result: T = self.summaries[key]
        return result

    @cached_property
    def _scopes_by_function(self) -> dict[int, walk.ScopeNodes]:
        return {id(scope.function.defn): scope for scope in self.scopes if scope.function is not None}

    def defines(self, defn: nodes.FuncDef) -> bool:
        """Whether ``defn`` is a function of this module (so its body is really here)."""
        return id(defn) in self._scopes_by_function

    def scope_of(self, defn: nodes.FuncDef) -> FunctionScope:
        return FunctionScope(self._scopes_by_function[id(defn)], self)

    def helper_facts(self, defn: nodes.FuncDef) -> HelperFacts | None:
        """The summary of a function of another module, if it can be read from here (``module_facts``)."""
        return self.shared_facts.read(defn, self) if self.shared_facts is not None else None

    def runs_only_as_main_task(self, defn: nodes.FuncDef) -> bool:
        """Whether every reference the module makes to coroutine function ``defn`` runs it as a
        runner's main task (``asyncio.run(main())``, ``trio.run(main)``, ``semantics.RUNNERS``),
        and there is one.  Nothing outside that task waits for its cancellation."""
        return id(defn) in self._main_tasks

    @cached_property
    def _main_tasks(self) -> frozenset[int]:
        run: dict[nodes.FuncDef, set[int]] = {}  # function -> the references that run it as a main task
        for walked in self.scopes:
            scope: FunctionScope | None = None
            for call in walked.of(nodes.CallExpr):
                callee = call.callee
                written = callee.fullname if isinstance(callee, nodes.RefExpr) else None
                if written not in semantics.RUNNERS and not (
                    isinstance(callee, nodes.MemberExpr) and callee.name in semantics.RUNNER_METHODS
                ):
                    continue
                scope = scope or FunctionScope(walked, self)
                # By definition, not by type: a method's type read from mypy's cache names none (1.13).
                definition = scope.resolver.definition_of(callee)
                runner = definition.fullname if definition is not None else None
                given = call.args[0] if call.args and call.arg_kinds[0] == nodes.ARG_POS else None
                if runner not in semantics.RUNNERS or given is None:
                    continue
                if semantics.RUNNERS[runner] == semantics.GIVEN_A_COROUTINE:
                    given = given.callee if isinstance(given, nodes.CallExpr) else None
                main = scope.resolver.definition_of(given) if isinstance(given, nodes.RefExpr) else None
                if isinstance(main, nodes.FuncDef) and main.is_coroutine and self.defines(main):
                    run.setdefault(main, set()).add(id(given))
        return frozenset(id(main) for main, references in run.items() if self._references(main) <= references)

    def _references(self, defn: nodes.FuncDef) -> set[int]:
        """The names and attributes of the module that refer to ``defn`` (their ids)."""
        found: set[int] = set()
        for walked in self.scopes:
            found.update(id(name) for name in walked.of(nodes.NameExpr) if _refers_to(name.node, defn))
            attributes = [member for member in walked.of(nodes.MemberExpr) if member.name == defn.name]
            if attributes:
                resolver = FunctionScope(walked, self).resolver
                found.update(id(member) for member in attributes if _refers_to(resolver.definition_of(member), defn))
        return found

    @cached_property
    def source_lines(self) -> list[str]:
        return self.read_source()

    @cached_property
    def task_evidence(self) -> ModuleEvidence:
        """What the module says about its untyped values (for ``unstructured-task``), gathered once."""
        return ModuleEvidence(self.scopes, self.checked_types, loop_names=self.settings.unstructured_task_loop_names,
                              imported=lambda: self.imported_values, loop_class=lambda: self.event_loop_class,
                              infer_locals=self.infer_locals)

    @cached_property
    def event_loop_class(self) -> Instance | None:
        """``asyncio.AbstractEventLoop``, when the build has loaded asyncio."""
        info = mypy_internals.definition_named("asyncio.events.AbstractEventLoop", self.modules)
        return Instance(info, []) if isinstance(info, nodes.TypeInfo) else None

    @cached_property
    def imported_values(self) -> list[tuple[nodes.Var, nodes.Expression]]:
        """Each global an import of the top level binds -> what it imports (see ``import_bindings``)."""
        return list(import_bindings(self._top_level_imports, self.tree, self.modules))

    @cached_property
    def unfollowed_imports(self) -> dict[nodes.Var, str]:
        """Each global an import of the top level binds to what mypy could not follow -> its dotted name."""
        return unfollowed_imports(self._top_level_imports, self.tree)

    @cached_property
    def _top_level_imports(self) -> list[nodes.ImportBase]:
        top = self.scopes[0]
        return [*top.of(nodes.ImportFrom), *top.of(nodes.Import)]

    def imported_name(self, expr: nodes.Expression) -> str | None:
        """What ``expr`` names: its definition's fullname, or, through an import mypy could not
        follow, the dotted name the code spells (``async_timeout.timeout``)."""
        spelled = spelled_name(expr, self.unfollowed_imports) if self.unfollowed_imports else None
        if spelled is None and isinstance(expr, nodes.RefExpr):
            return expr.fullname or None
        return spelled

    @cached_property
    def global_values(self) -> dict[nodes.Var, list[nodes.Expression]]:
        """Each global -> the values the module's top level (and class bodies) assign or import to it,
        in source order."""
        values = values_by_name(self.scopes[0].of(nodes.AssignmentStmt))
        imported = {var for var, _ in self.imported_values}
        for var, value in self.imported_values:
            values.setdefault(var, []).append(value)
        for var in imported:
            values[var].sort(key=lambda value: (value.line, value.column))
        return values

    @cached_property
    def imported_packages(self) -> frozenset[str]:
        """The top-level packages the module imports (asyncio, trio, anyio, ...)."""
        return predicates.imported_packages(self.tree)

    @cached_property
    def libraries_in_play(self) -> frozenset[str]:
        detected = predicates.libraries_in_play(self.imported_packages)
        return predicates.with_grouped_cancellation(self.settings.libraries_in_play(detected))

    def reports(self, code: ErrorCode) -> bool:
        """Whether findings of ``code`` can be reported in this module (a rule whose code is off
        by default, and not switched on here, need not look).  Decided once per module."""
        known = self._reporting.get(code.code)
        if known is None:
            known = self.settings.reports(code) and (
                code.default_enabled
                or self.settings.switches_on(code)
                or mypy_internals.enabled_by_options(self.options, code)
            )
            self._reporting[code.code] = known
        return known

    def report(self, node: nodes.Context, message: str, code: ErrorCode, *, fix: str, line: int | None = None,
               column: int | None = None, end: tuple[int, int] | None = None) -> None:
        """Record a finding at ``node``, or at an explicit position (``end``: where its range ends),
        in the scope being checked; ``fix`` (a sentence) goes to its note, with the rule's page."""
        if line is None:
            line, column = node.line, node.column
            end_line, end_column = node.end_line or line, node.end_column
        else:
            end_line, end_column = end if end is not None else (line, None)
        column = max(column or 0, 0)
        if end_column is None or (end_line == line and end_column <= column):
            end_line, end_column = line, column + 1
        diagnostic = Diagnostic(
            line, column, end_line, end_column, message, code, note=fix_note(fix, code), enclosing=self.enclosing
        )
        self.diagnostics.append(diagnostic)

    def except_clause(self, stmt: nodes.TryStmt, index: int) -> tuple[int, int, tuple[int, int]]:
        """Line, column and end of the ``except <type>`` clause of handler ``index``: editors
        highlight the clause, not one character.  (The ``as`` name is left out: on mypy 1.13 its
        node spans the handler.)"""
        line, column = self._except_keyword(stmt, index)
        type_expr = stmt.types[index]
        if type_expr is not None and type_expr.end_line is not None and type_expr.end_column is not None:
            return line, column, (type_expr.end_line, type_expr.end_column)
        return line, column, (line, column + len("except"))

    def _except_keyword(self, stmt: nodes.TryStmt, index: int) -> tuple[int, int]:
        type_expr, bound = stmt.types[index], stmt.vars[index]
        if type_expr is not None:
            return type_expr.line, stmt.column
        if bound is not None:
            return bound.line, stmt.column
        # A bare ``except:`` has no node of its own: find the keyword between the previous block
        # and this body in the text mypy checked (without it, the line after that block).
        previous = stmt.handlers[index - 1] if index else stmt.body
        after_previous = (previous.end_line or previous.line) + 1 if previous.body else stmt.line
        first_body_line = stmt.handlers[index].body[0].line
        lines = self.source_lines
        for line in range(first_body_line, after_previous - 1, -1):
            if 0 < line <= len(lines) and lines[line - 1].lstrip().startswith("except"):
                return line, stmt.column
        return min(after_previous, first_body_line), stmt.column


def _refers_to(node: nodes.SymbolNode | None, defn: nodes.FuncDef) -> bool:
    return node is defn or (isinstance(node, nodes.Decorator) and node.func is defn)


def fix_note(fix: str, code: ErrorCode) -> str:
    """The note under a finding: what to do, then where the rule's page is."""
    return f"{fix[:1].upper()}{fix[1:]}. See {page_url(code.code)}"


class FunctionScope:
    """One ``def`` of the module (or the module's top level), with what every rule asks computed once."""

    def __init__(self, walked: walk.ScopeNodes, module: ModuleContext) -> None:
        function = walked.function
        self.walked = walked
        self.defn = function.defn if function else None
        self.decorators = function.decorators if function else ()
        self._module_name = module.tree.fullname
        self._by_kind = walked.by_kind
        # mypy's scope for findings here: the enclosing classes and functions, then this one.
        self.enclosing = (*function.enclosing, function.defn) if function else ()
        self.nodes = walked.in_order
        self.resolver = Resolver(self.defn, walked.of(nodes.AssignmentStmt) if function else (), module.checked_types,
                                 lambda: module.global_values, infer_locals=module.infer_locals)
        self._module_libraries = module.libraries_in_play

    @property
    def qualified_names(self) -> tuple[str, ...]:
        """Its own fully qualified name, then those of what encloses it (the module's, for its top level)."""
        function = self.walked.function
        return function.qualified_names if function else (self._module_name,)

    def of(self, kind: type[walk.N]) -> list[walk.N]:
        """This scope's nodes of exactly class ``kind``, in source order (``walk.ScopeNodes.of``, inlined:
        the rules ask a quarter of a million times a run)."""
        return self._by_kind.get(kind) or []

    def calls_to(self, fullname: str) -> list[nodes.CallExpr]:
        """This scope's calls of the function or class ``fullname`` (by the name the callee
        resolves to, however it is imported), in source order.  One scan of the scope's calls:
        cheaper than an index by name while a single rule asks per function."""
        return [call for call in self.of(nodes.CallExpr) if getattr(call.callee, "fullname", None) == fullname]

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
        return self.defn is not None and self.defn.is_coroutine and semantics.ASYNC_CONTEXT_MANAGER in self.decorator_names

    @cached_property
    def libraries_in_play(self) -> frozenset[str]:
        """Whose cancellations can arrive here: the module's, narrowed to one event loop's when
        this function awaits that loop's own objects and no other loop's (asyncio code in a
        module that also imports anyio cannot receive trio's ``Cancelled``)."""
        backends = {backend for backend in map(self._backend_of, self._awaited_or_entered()) if backend is not None}
        if len(backends) != 1:
            return self._module_libraries
        narrowed = self._module_libraries & semantics.BACKEND_CANCELLATIONS[backends.pop()]
        return narrowed or self._module_libraries

    def _awaited_or_entered(self) -> list[nodes.Expression]:
        """What this function awaits, and the managers of its ``async with`` statements."""
        entered = [manager for stmt in self.of(nodes.WithStmt) if stmt.is_async for manager in stmt.expr]
        return [*(awaited.expr for awaited in self.of(nodes.AwaitExpr)), *entered]

    def _backend_of(self, awaited: nodes.Expression) -> str | None:
        """The event loop an awaited value belongs to: the package of the function called, or an
        asyncio ``Future``/``Task``."""
        if isinstance(awaited, nodes.CallExpr):
            callee = awaited.callee
            fullname = callee.fullname if isinstance(callee, nodes.RefExpr) else ""
            if not fullname:
                signature = self.resolver.type_of(callee)
                definition = signature.definition if isinstance(signature, CallableType) else None
                fullname = definition.fullname if definition is not None else ""
            package = fullname.partition(".")[0]
            return package if package in semantics.BACKEND_CANCELLATIONS else None
        return "asyncio" if predicates.is_future(self.resolver.type_of(awaited)) else None

    def has_await_point(self, *blocks: nodes.Block | None) -> bool:
        """Whether the current task's cancellation can be delivered inside any of ``blocks``.

        In an ``@asynccontextmanager`` generator the managed block's cancellation arrives at
        its ``yield``.  Answered from the positions the module's walk recorded.
        """
        for block in blocks:
            if block is None:
                continue
            if self.walked.encloses_any(block, self.walked.await_points):
                return True
            if self.is_async_context_manager and self.walked.encloses_any(block, self.walked.yields):
                return True
        return False
