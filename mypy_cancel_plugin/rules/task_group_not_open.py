"""``task-group-not-open``: a task started in a task group or nursery that is not open.

A task group takes new tasks only while its ``async with`` block runs.  After the block has
ended, ``create_task``/``start_soon``/``start`` raise ``RuntimeError`` (on asyncio the coroutine
handed over is then never awaited), and a group that was never entered refuses them the same
way.  Reported, decided by the receiver's type (asyncio ``TaskGroup``, anyio ``TaskGroup``, trio
``Nursery``) or, in untyped code, by what made it:

- a spawn on the target of an ``async with`` (``as tg``, or ``async with tg:``) reached after
  that block, in the same function; also a call, after the block, of a nested function or of a
  lambda that spawns on it;
- a spawn on a group the function made (``asyncio.TaskGroup()``, ``anyio.create_task_group()``)
  before anything entered it;
- a spawn on a private attribute or global (``self._tg``) to which the module assigns only new
  groups and which nothing in the module enters (``async with``, ``__aenter__()``,
  ``enter_async_context()``) or hands on.
"""

from __future__ import annotations

from typing import NamedTuple

from mypy import nodes
from mypy.types import AnyType

from mypy_cancel_plugin import predicates, walk
from mypy_cancel_plugin.context import FunctionScope, ModuleContext
from mypy_cancel_plugin.errorcodes import TASK_GROUP_NOT_OPEN
from mypy_cancel_plugin.lifecycle import (
    Holders,
    Site,
    bindings_of,
    bound_in,
    entered_task_group,
    holders,
    new_task_group,
)
from mypy_cancel_plugin.reraise import function_facts
from mypy_cancel_plugin.semantics import TASK_GROUP_SPAWN_METHODS, TaskGroupKind

CLOSED_FIX = 'start the task inside the "async with" block, or keep the block open until every task is started'


class _Binding(NamedTuple):
    """Where a function binds a local, and how (see ``lifecycle.Binding``)."""

    position: int
    value: nodes.Expression | None
    with_stmt: nodes.WithStmt | None
    manager: nodes.Expression | None


def check(function: FunctionScope, module: ModuleContext) -> None:
    member, names = nodes.MemberExpr, TASK_GROUP_SPAWN_METHODS
    spawns = [call for call in function.of(nodes.CallExpr) if type(call.callee) is member and call.callee.name in names]
    # A nested function or lambda can spawn on a group of this function after its block.
    nested = any(stmt.is_async for stmt in function.of(nodes.WithStmt)) and bool(
        function.of(nodes.FuncDef) or function.of(nodes.LambdaExpr)
    )
    if not spawns and not nested:
        return
    rule = _Rule(function, module)
    for call in spawns:
        rule.spawn(call)
    if nested:
        rule.deferred_spawns()


def _spawn_receiver(call: nodes.CallExpr) -> nodes.Expression | None:
    """``tg`` of ``tg.create_task(...)``/``tg.start_soon(...)``/``tg.start(...)``."""
    callee = call.callee
    if isinstance(callee, nodes.MemberExpr) and callee.name in TASK_GROUP_SPAWN_METHODS:
        return callee.expr
    return None


def _consequence(kind: TaskGroupKind, method: str, error: str) -> str:
    never_awaited = " and the coroutine handed to it never runs" if kind.takes_coroutine else ""
    return f"{method}() raises {error}{never_awaited}"


def _shown(expr: nodes.Expression) -> str:
    return walk.dotted_name(expr) or "..."


class _Rule:
    def __init__(self, function: FunctionScope, module: ModuleContext) -> None:
        self.function = function
        self.module = module
        self._bindings: dict[nodes.Var, list[_Binding]] | None = None

    @property
    def position(self) -> dict[int, int]:
        return self.function.walked.positions

    @property
    def holders(self) -> Holders:
        return holders(self.module)

    def in_lambda(self, call: nodes.CallExpr) -> bool:
        """Calls in a lambda run when it is called, not where it is written."""
        at = [self.position[id(call)]]
        return any(self.function.walked.encloses_any(lam.body, at) for lam in self.function.of(nodes.LambdaExpr))

    def bindings(self, var: nodes.Var) -> list[_Binding]:
        """Where this function binds ``var``, in source order."""
        if self._bindings is None:
            found: dict[nodes.Var, list[_Binding]] = {}
            for binding in bindings_of(self.function.walked):
                target = binding.target
                if isinstance(target, nodes.NameExpr) and isinstance(target.node, nodes.Var):
                    found.setdefault(target.node, []).append(_Binding(self.position[id(target)], *binding[1:]))
            for listed in found.values():
                listed.sort(key=lambda binding: binding.position)
            self._bindings = found
        return self._bindings.get(var, [])

    def reaching(self, var: nodes.Var, at: int) -> _Binding | None:
        """The binding of ``var`` last written before position ``at``."""
        before = [binding for binding in self.bindings(var) if binding.position < at]
        return before[-1] if before else None

    def kind_of(self, receiver: nodes.Expression, made: TaskGroupKind | None) -> TaskGroupKind | None:
        """The receiver's task group class: by its type, else by what made it (untyped code)."""
        typ = self.function.resolver.type_of(receiver)
        if typ is not None and not isinstance(typ, AnyType):
            return predicates.task_group_kind(typ)
        return made

    def skipped(self, call: nodes.CallExpr) -> bool:
        """Code mypy found unreachable, or after a statement that never completes."""
        walked = self.function.walked.function
        checked = walked is None or not walked.unannotated or self.module.options.check_untyped_defs
        return (checked and call not in self.module.checked_types) or id(call) in function_facts(
            self.function, self.module
        ).dead

    # -- a spawn in this function ------------------------------------------------------------

    def spawn(self, call: nodes.CallExpr) -> None:
        receiver = _spawn_receiver(call)
        assert isinstance(receiver, nodes.Expression) and isinstance(call.callee, nodes.MemberExpr)
        method = call.callee.name
        typ = self.function.resolver.type_of(receiver)
        if typ is not None and not isinstance(typ, AnyType):
            kind = predicates.task_group_kind(typ)
            if kind is None or method not in kind.spawn_methods:
                return  # not a task group: its type says so
        if self.in_lambda(call):
            return  # judged where the lambda is called
        at = self.position[id(call)]
        var = receiver.node if isinstance(receiver, nodes.NameExpr) else None
        if isinstance(var, nodes.Var) and self.bindings(var):
            binding = self.reaching(var, at)
            if binding is None:
                return
            if binding.with_stmt is not None and binding.manager is not None:
                self._after_block(call, receiver, method, binding.with_stmt, binding.manager, at)
            elif binding.value is not None:
                self._made_here(call, receiver, method, var, binding, at)
            return
        if not (isinstance(receiver, (nodes.NameExpr, nodes.MemberExpr)) and receiver.name.startswith("_")):
            return  # a public attribute or global may be entered by another module
        holder = self.holders.holder(receiver, self.function.defn)
        made = _never_entered(holder, self.module) if holder is not None else None
        kind = self.kind_of(receiver, made)
        if made is not None and kind is not None and method in kind.spawn_methods and not self.skipped(call):
            self.report_unentered(call, receiver, method, kind, everywhere=True)

    def _after_block(self, call: nodes.CallExpr, receiver: nodes.Expression, method: str,
                     stmt: nodes.WithStmt, manager: nodes.Expression, at: int) -> None:
        """A spawn on the target of ``stmt``: fine inside its block, reported after it."""
        if self.function.walked.encloses_any(stmt.body, [at]):
            return
        kind = self.kind_of(receiver, entered_task_group(manager, self.function.resolver))
        if kind is None or method not in kind.spawn_methods:
            return
        if self.function.walked.exclusive(self.position[id(stmt)], at) or self.skipped(call):
            return
        self.report_closed(call, f'{kind.name} "{_shown(receiver)}" is used', method, kind, stmt)

    def _made_here(self, call: nodes.CallExpr, receiver: nodes.Expression, method: str, var: nodes.Var,
                   binding: _Binding, at: int) -> None:
        """A spawn on a group this function made: it must be entered in between, and still open."""
        made = new_task_group(binding.value, self.function.resolver)
        kind = self.kind_of(receiver, made)
        if made is None or kind is None or method not in kind.spawn_methods or self.holders.escapes(var):
            return
        walked, mine = self.function.walked, self.function.defn

        def between(sites: list[Site]) -> list[nodes.Node]:
            return [site.node for site in sites if site.function is mine
                    and binding.position < self.position[id(site.node)] < at]

        if between(self.holders.entered.get(var, [])):
            return  # entered by hand before the spawn
        entered = [stmt for stmt in between(self.holders.entered_with.get(var, [])) if isinstance(stmt, nodes.WithStmt)]
        if any(walked.encloses_any(stmt.body, [at]) for stmt in entered) or self.skipped(call):
            return
        if not entered:
            self.report_unentered(call, receiver, method, kind, everywhere=False)
        elif not walked.exclusive(self.position[id(entered[-1])], at):
            self.report_closed(call, f'{kind.name} "{_shown(receiver)}" is used', method, kind, entered[-1])

    # -- nested functions and lambdas called after the block --------------------------------

    def deferred_spawns(self) -> None:
        """A nested function or lambda that spawns on a group of this function, called after the
        ``async with`` block of that group has ended."""
        spawners: dict[object, list[tuple[nodes.CallExpr, nodes.NameExpr]]] = {}
        for defn in self.function.of(nodes.FuncDef):
            if self.module.defines(defn):
                inner = self.module.scope_of(defn)
                spawners[defn] = _spawns_on_names(inner.of(nodes.CallExpr), exclude=bound_in(inner))
        calls = self.function.of(nodes.CallExpr)
        for assignment in self.function.of(nodes.AssignmentStmt):
            value, target = assignment.rvalue, assignment.lvalues[0]
            if isinstance(value, nodes.LambdaExpr) and len(assignment.lvalues) == 1 and isinstance(
                target, nodes.NameExpr
            ):
                inside = self.function.walked.nodes_at(value.body, [self.position[id(call)] for call in calls])
                spawners[target.node] = _spawns_on_names(inside, exclude=set())
        if not any(spawners.values()):
            return
        for later in calls:
            callee = later.callee
            if isinstance(callee, nodes.NameExpr) and spawners.get(callee.node):
                for call, receiver in spawners[callee.node]:
                    self._called_after_block(later, callee.name, call, receiver)

    def _called_after_block(self, later: nodes.CallExpr, name: str, call: nodes.CallExpr,
                            receiver: nodes.NameExpr) -> None:
        assert isinstance(receiver.node, nodes.Var) and isinstance(call.callee, nodes.MemberExpr)
        at = self.position[id(later)]
        binding = self.reaching(receiver.node, at)
        if binding is None or binding.with_stmt is None or binding.manager is None:
            return
        stmt = binding.with_stmt
        if self.function.walked.encloses_any(stmt.body, [at]) or self.function.walked.exclusive(
            self.position[id(stmt)], at
        ):
            return
        kind = entered_task_group(binding.manager, self.function.resolver)
        method = call.callee.name
        if kind is None or method not in kind.spawn_methods or self.skipped(later):
            return
        lead = f'"{name}()" starts a task (line {call.line}) in {kind.name} "{receiver.name}"'
        self.report_closed(later, lead, method, kind, stmt)

    # -- reports ----------------------------------------------------------------------------

    def report_closed(self, call: nodes.CallExpr, lead: str, method: str, kind: TaskGroupKind,
                      stmt: nodes.WithStmt) -> None:
        message = (
            f'{lead} after its "async with" block (line {stmt.line}) has ended: '
            f"{_consequence(kind, method, kind.closed_error)}"
        )
        self.module.report(call, message, TASK_GROUP_NOT_OPEN, fix=CLOSED_FIX)

    def report_unentered(self, call: nodes.CallExpr, receiver: nodes.Expression, method: str,
                         kind: TaskGroupKind, *, everywhere: bool) -> None:
        if kind.unentered_error is None:
            return
        shown = _shown(receiver)
        where = (
            'is never entered in this module ("async with", __aenter__() or enter_async_context())'
            if everywhere else "has not been entered here"
        )
        message = f'{kind.name} "{shown}" {where}: {_consequence(kind, method, kind.unentered_error)}'
        fix = (
            f'enter it first: start tasks inside "async with {shown}:", or enter it in __aenter__ and exit it in '
            f"__aexit__"
        )
        self.module.report(call, message, TASK_GROUP_NOT_OPEN, fix=fix)


def _spawns_on_names(calls: list[nodes.Node], exclude: set[nodes.Var]) -> list[tuple[nodes.CallExpr, nodes.NameExpr]]:
    """The spawns among ``calls`` whose receiver is a variable (not one of ``exclude``)."""
    found = []
    for call in calls:
        receiver = _spawn_receiver(call) if isinstance(call, nodes.CallExpr) else None
        if isinstance(call, nodes.CallExpr) and isinstance(receiver, nodes.NameExpr) and isinstance(
            receiver.node, nodes.Var
        ) and receiver.node not in exclude:
            found.append((call, receiver))
    return found


def _never_entered(holder: nodes.Var, module: ModuleContext) -> TaskGroupKind | None:
    """The task group class of a private attribute or global to which the module assigns only
    new groups (or ``None``), when nothing in the module enters it or hands it on."""
    return module.summarise(
        ("never-entered task group", id(holder)), lambda: _decide_never_entered(holder, module), while_deciding=None
    )


def _decide_never_entered(holder: nodes.Var, module: ModuleContext) -> TaskGroupKind | None:
    if not holder.name.startswith("_"):
        return None  # a public one may be entered by another module
    info = holder.info
    is_attribute = not isinstance(info, nodes.FakeInfo)
    if is_attribute and info.module_name != module.tree.fullname:
        return None
    if not is_attribute:
        symbol = module.tree.names.get(holder.name)
        if symbol is None or symbol.node is not holder:
            return None  # a local of an enclosing function: its own function judges it
    index = holders(module)
    if index.entered.get(holder) or index.entered_with.get(holder) or index.escapes(holder):
        return None
    kinds = set()
    values = index.values(holder)
    if not values:
        return None
    for value, function in values:
        if isinstance(value, nodes.NameExpr) and value.fullname == "builtins.None":
            continue
        made = new_task_group(value, module.task_evidence.resolver(function))
        if made is None:
            return None
        kinds.add(made)
    return kinds.pop() if len(kinds) == 1 else None
