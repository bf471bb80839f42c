"""Which context managers open a cancel scope that stays open while their block runs.

Three sources, strongest first: the libraries' own scopes, by type (``semantics.CANCEL_SCOPES``);
the project's API declared in ``cancel_scope_managers``; and the project's own managers,
summarised from their bodies (PEP 789 notes that a linter cannot see through them):

- a generator context manager (``@asynccontextmanager``, ``@contextmanager`` or a declared
  ``context_manager_decorators`` entry) whose ``yield`` lies inside a cancel scope;
- a class whose ``__aenter__``/``__enter__`` enters a cancel scope and leaves it open for
  ``__aexit__``/``__exit__`` (``await self._tg.__aenter__()``, ``stack.enter_async_context(...)``).

Only managers defined in the module being checked are summarised.  mypy re-checks a module
when the *interface* of a module it imports changes, never for a body-only change, and since
mypy 2.x it writes that interface before any function body is checked: a verdict read from
another module's body could go stale in a warm run.  Managers of other modules and installed
packages are named in ``cancel_scope_managers`` (or recognised by type, as above).
"""

from __future__ import annotations

from typing import NamedTuple

from mypy import nodes
from mypy.types import Instance, ProperType

from mypy_cancel_plugin import predicates, semantics
from mypy_cancel_plugin.context import FunctionScope, ModuleContext
from mypy_cancel_plugin.semantics import ENTER_METHODS, STACK_ENTER_METHODS


class OpenScope(NamedTuple):
    """A cancel scope a context manager keeps open, as messages name it."""

    name: str  # the manager: a library scope, a declared name, or the project's own manager
    keeps: str | None = None  # for the project's own manager: the library scope it keeps open


def opened_scope(manager: nodes.Expression, function: FunctionScope, module: ModuleContext) -> OpenScope | None:
    """The cancel scope that ``with manager`` keeps open around its block."""
    typ = function.resolver.type_of(manager)
    declared = module.settings.cancel_scope_managers
    found = predicates.cancel_scope_name(typ) or predicates.declared_name(typ, declared)
    if found is None and isinstance(manager, nodes.CallExpr):
        callee = manager.callee
        named = module.imported_name(callee)
        # a decorated function's type may not lead back to it, nor an import mypy could not follow: its name does
        found = (named if named in declared else semantics.CANCEL_SCOPE_CALLS.get(named or "")
                 or predicates.declared_name(function.resolver.type_of(callee), declared))
        if found is None:
            defn = function.resolver.definition_of(callee)
            keeps = _generator_manager_scope(defn, module)
            if keeps is not None and defn is not None:
                return OpenScope(defn.fullname, keeps)
    if found is not None:
        return OpenScope(found)
    keeps = _class_scope(typ, module)
    return OpenScope(typ.type.fullname, keeps) if keeps is not None and isinstance(typ, Instance) else None


def first_opened_scope(stmt: nodes.WithStmt, function: FunctionScope, module: ModuleContext) -> OpenScope | None:
    """The first cancel scope one of a ``with`` statement's managers keeps open around its block."""
    for manager in stmt.expr:
        found = opened_scope(manager, function, module)
        if found is not None:
            return found
    return None


def _generator_manager_scope(defn: nodes.SymbolNode | None, module: ModuleContext) -> str | None:
    """The library scope a generator context manager keeps open across its ``yield``."""
    if not isinstance(defn, nodes.FuncDef) or not (defn.is_generator or defn.is_async_generator):
        return None
    if not module.defines(defn):
        return None
    return module.summarise(
        ("generator-manager-scope", id(defn)), lambda: _scope_across_yield(defn, module), while_deciding=None
    )


def _scope_across_yield(defn: nodes.FuncDef, module: ModuleContext) -> str | None:
    scope = module.scope_of(defn)
    decorators = semantics.GENERATOR_CONTEXT_MANAGERS | set(module.settings.context_manager_decorators)
    if not scope.is_generator or not scope.decorator_names & decorators:
        return None
    for stmt in scope.of(nodes.WithStmt):
        if scope.walked.encloses_any(stmt.body, scope.walked.yields):
            for manager in stmt.expr:
                found = opened_scope(manager, scope, module)
                if found is not None:
                    return found.keeps or found.name
    return None


def _class_scope(typ: ProperType | None, module: ModuleContext) -> str | None:
    """The library scope an instance's ``__aenter__``/``__enter__`` leaves open (the first class of
    its MRO that defines one decides; only this module's bodies can be read)."""
    if not isinstance(typ, Instance):
        return None
    for info in typ.type.mro:
        enters = [_function_of(info.names[name].node) for name in ENTER_METHODS if name in info.names]
        defined = [defn for defn in enters if defn is not None]
        if not defined:
            continue
        if not any(module.defines(defn) for defn in defined):
            return None
        return module.summarise(
            ("class-scope", info.fullname), lambda: _scope_left_open(defined, module), while_deciding=None
        )
    return None


def _scope_left_open(enters: list[nodes.FuncDef], module: ModuleContext) -> str | None:
    for defn in enters:
        if not module.defines(defn):
            continue
        enter = module.scope_of(defn)
        for call in enter.of(nodes.CallExpr):
            callee = call.callee
            if not isinstance(callee, nodes.MemberExpr):
                continue
            if callee.name in ENTER_METHODS:
                target: nodes.Expression = callee.expr
            elif callee.name in STACK_ENTER_METHODS and call.args:
                target = call.args[0]
            else:
                continue
            found = opened_scope(target, enter, module)
            if found is not None:
                return found.keeps or found.name
    return None


def _function_of(node: nodes.SymbolNode | None) -> nodes.FuncDef | None:
    if isinstance(node, nodes.Decorator):
        return node.func
    return node if isinstance(node, nodes.FuncDef) else None
