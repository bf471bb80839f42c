"""Where a module keeps, enters and exits its task groups, cancel scopes and exit stacks.

A *holder* is the variable or attribute a value lives in: a local or global name, or an
attribute (the class's own ``Var``: a subclass's ``self._tg`` is its base's).  For each holder
the index knows what the module assigns to it, where it is entered by hand (``__aenter__`` /
``__enter__``, an exit stack's ``enter_async_context``/``enter_context``) or by ``with``, where
it is exited by hand (``__aexit__``/``__exit__``, an exit stack's ``aclose()``), and whether
some code reads it where another owner could take it (passed on, returned, copied, stored).
Reads that only use it (``self._tg.start_soon``, ``if self._tg is None``) do not count.

Built once per module from the walk's records, on the first question (most modules never ask
one); the call graph of the module's own functions is built on the first question about it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from functools import cached_property
from typing import NamedTuple

from mypy import nodes
from mypy.types import CallableType, Instance, get_proper_type

from mypy_cancel_plugin import predicates, walk
from mypy_cancel_plugin.context import FunctionScope, ModuleContext
from mypy_cancel_plugin.evidence import self_variable, var_of
from mypy_cancel_plugin.semantics import (
    ENTER_METHODS,
    EXIT_METHODS,
    STACK_CLOSE_METHODS,
    STACK_ENTER_METHODS,
    STACK_MOVE_METHOD,
    TASK_GROUP_FACTORIES,
    TaskGroupKind,
)
from mypy_cancel_plugin.static_types import Resolver, awaited_type, callee_fullname, member_type, return_type

Function = nodes.FuncDef | None  # ``None``: the module's top level
Ref = nodes.NameExpr | nodes.MemberExpr
_MAX_CALL_DEPTH = 4  # how far "runs in the same task as" follows calls


class Site(NamedTuple):
    """A call or ``with`` statement, and the function it is in."""

    node: nodes.Node
    function: Function


# Where a read of a holder only uses it: the receiver of an attribute, an operand of a test.
_USING_PARENTS: tuple[tuple[type[nodes.Node], str], ...] = (
    (nodes.MemberExpr, "expr"),
    (nodes.ComparisonExpr, "operands"),
    (nodes.UnaryExpr, "expr"),
    (nodes.IfStmt, "expr"),
    (nodes.WhileStmt, "expr"),
    (nodes.AssertStmt, "expr"),
    (nodes.DelStmt, "expr"),
)


_KEY = ("holders",)


def holders(module: ModuleContext) -> Holders:
    """The module's index, built on first use."""
    found = module.summaries.get(_KEY)
    if not isinstance(found, Holders):
        found = module.summaries[_KEY] = Holders(module)
    return found


class Holders:
    """Values, hand-made enters and exits, and escapes of every holder of one module.

    Assignments and reads are filed by the name they end in and resolved to holders only
    when a question names one: resolving every name of a module would cost more.
    """

    def __init__(self, module: ModuleContext) -> None:
        self._module = module
        # Each method's ``self`` -> its class; one ``self`` stands for all of a class's methods.
        self.self_class: dict[nodes.Var, nodes.TypeInfo] = {}
        self._class_self: dict[nodes.TypeInfo, nodes.Var] = {}
        for scope in module.scopes:
            own = self_variable(scope.function.defn) if scope.function is not None else None
            if own is not None and scope.function is not None:
                self.self_class[own] = scope.function.defn.info
                self._class_self.setdefault(scope.function.defn.info, own)
        # name -> (target, value assigned, function): value ``None`` for one the index does not
        # follow (a ``with ... as`` target, a loop variable, an item of an unpacked tuple).
        self._bindings: defaultdict[str, list[tuple[Ref, nodes.Expression | None, Function]]] = (
            defaultdict(list)
        )
        self._reads: defaultdict[str, list[tuple[Ref, Function]]] = defaultdict(list)  # the escaping ones
        # name -> the bindings whose value is a holder of that name (or its ``pop_all()``)
        self._copies: defaultdict[str, list[tuple[Ref, nodes.Expression | None, Function]]] = (
            defaultdict(list)
        )
        self.entered: defaultdict[nodes.Var, list[Site]] = defaultdict(list)  # by hand or by an exit stack
        self.entered_with: defaultdict[nodes.Var, list[Site]] = defaultdict(list)
        self.exited: defaultdict[nodes.Var, list[Site]] = defaultdict(list)  # by hand, or its stack closed
        self._values: dict[nodes.Var, list[tuple[nodes.Expression | None, Function]]] = {}
        for scope in module.scopes:
            self._collect(scope)

    def holder(self, expr: nodes.Expression, function: Function) -> nodes.Var | None:
        """The variable or attribute ``expr`` names (``self``: the same one in every method of a class)."""
        found = var_of(expr, self.self_class, self._module.task_evidence.resolver(function))
        info = self.self_class.get(found) if found is not None else None
        return self._class_self[info] if info is not None else found

    def values(self, holder: nodes.Var) -> list[tuple[nodes.Expression | None, Function]]:
        """What the module assigns to ``holder``, and where (``None``: a value not followed)."""
        if holder not in self._values:
            self._values[holder] = [
                (value, function) for target, value, function in self._bindings.get(holder.name, ())
                if self.holder(target, function) is holder
            ]
        return self._values[holder]

    def escapes(self, holder: nodes.Var) -> bool:
        """Whether some code reads ``holder`` where another owner could take it: passes it on,
        returns, copies or stores it."""
        return any(self.holder(read, function) is holder for read, function in self._reads.get(holder.name, ()))

    def source(self, value: nodes.Expression | None, function: Function) -> nodes.Var | None:
        """The holder a value is copied from: ``x``, ``self.x``, ``stack.pop_all()``."""
        copied = _copied_expr(value)
        return self.holder(copied, function) if copied is not None else None

    def copies(self, holder: nodes.Var) -> Iterator[tuple[nodes.Var, Function]]:
        """The holders a function copies ``holder`` into (``tg = self._tg``, ``self._tg = tg``)."""
        for target, value, function in self._copies.get(holder.name, ()):
            copy = self.holder(target, function)
            if copy is not None and copy is not holder and self.source(value, function) is holder:
                yield copy, function

    def exits_of(self, holder: nodes.Var, methods: frozenset[str]) -> list[Site]:
        """Where ``holder`` is exited by a call of one of ``methods`` (``__aexit__``, a stack's
        ``aclose``), also through a copy made in that function."""
        found = list(self.exited.get(holder, ()))
        for copy, function in self.copies(holder):
            found += [site for site in self.exited.get(copy, ()) if site.function is function]
        return [site for site in found if isinstance(site.node, nodes.CallExpr) and isinstance(
            site.node.callee, nodes.MemberExpr
        ) and site.node.callee.name in methods]

    def _collect(self, scope: walk.ScopeNodes) -> None:
        function = scope.function.defn if scope.function is not None else None
        using: set[int] = set()
        for kind, attribute in _USING_PARENTS:
            for parent in scope.of(kind):
                child = getattr(parent, attribute)
                using.update(map(id, child) if isinstance(child, list) else (id(child),))
        for stmt in scope.of(nodes.WithStmt):
            for manager in stmt.expr:
                found = self.holder(manager, function)
                if found is not None:
                    self.entered_with[found].append(Site(stmt, function))
                using.add(id(manager))
        for binding in bindings_of(scope):
            target, value = binding.target, binding.value
            using.add(id(target))  # written, not read
            self._bindings[target.name].append((target, value, function))
            copied = _copied_name(value)
            if copied is not None:
                self._copies[copied].append((target, value, function))
        for call in scope.of(nodes.CallExpr):
            self._hand_made(call, function, using)
        names: list[Ref] = [*scope.of(nodes.NameExpr), *scope.of(nodes.MemberExpr)]
        for name in names:
            if id(name) not in using:
                self._reads[name.name].append((name, function))

    def _hand_made(self, call: nodes.CallExpr, function: Function, using: set[int]) -> None:
        """Record a hand-made enter or exit: ``x.__aenter__()``, ``stack.enter_async_context(x)``,
        ``x.__aexit__(...)``, ``stack.aclose()``."""
        callee = call.callee
        if not isinstance(callee, nodes.MemberExpr):
            return
        if callee.name in STACK_ENTER_METHODS and call.args:
            target: nodes.Expression = call.args[0]
            using.add(id(target))
            into = self.entered
        elif callee.name in ENTER_METHODS:
            target, into = callee.expr, self.entered
        elif callee.name in EXIT_METHODS or callee.name in STACK_CLOSE_METHODS:
            target, into = callee.expr, self.exited
        else:
            return
        found = self.holder(target, function)
        if found is not None:
            into[found].append(Site(call, function))

    # -- which functions run in the same task ----------------------------------------------

    def same_task_callers(self, defn: nodes.FuncDef) -> set[Function]:
        """The functions that run ``defn`` in their own task, however indirectly (a few calls deep):
        they call it, and await the call if it is a coroutine."""
        return self._reach(defn, self._call_graph[1])

    def same_task_callees(self, defn: Function) -> set[Function]:
        """The functions ``defn`` runs in its own task, however indirectly (a few calls deep)."""
        return self._reach(defn, self._call_graph[0])

    @staticmethod
    def _reach(start: Function, edges: dict[Function, set[Function]]) -> set[Function]:
        seen: set[Function] = set()
        frontier = {start}
        for _ in range(_MAX_CALL_DEPTH):
            frontier = {found for current in frontier for found in edges.get(current, ())} - seen
            seen |= frontier
        return seen

    @cached_property
    def _call_graph(self) -> tuple[dict[Function, set[Function]], dict[Function, set[Function]]]:
        """Same-task calls between the module's functions: callees by caller, callers by callee."""
        callees: defaultdict[Function, set[Function]] = defaultdict(set)
        callers: defaultdict[Function, set[Function]] = defaultdict(set)
        for scope in self._module.scopes:
            caller = scope.function.defn if scope.function is not None else None
            for callee in self._same_task_calls(scope, caller):
                callees[caller].add(callee)
                callers[callee].add(caller)
        return callees, callers

    def _same_task_calls(self, scope: walk.ScopeNodes, caller: Function) -> Iterator[nodes.FuncDef]:
        awaited = {id(node.expr) for node in scope.of(nodes.AwaitExpr)}
        resolver = self._module.task_evidence.resolver(caller)
        for call in scope.of(nodes.CallExpr):
            target = resolver.definition_of(call.callee)
            if isinstance(target, nodes.FuncDef) and self._module.defines(target) and (
                not target.is_coroutine or id(call) in awaited
            ):
                yield target


def _copied_expr(value: nodes.Expression | None) -> Ref | None:
    """The name or attribute a value copies: ``x``, ``self.x``, ``stack.pop_all()`` (the stack)."""
    if isinstance(value, nodes.CallExpr) and isinstance(value.callee, nodes.MemberExpr) and (
        value.callee.name == STACK_MOVE_METHOD
    ):
        value = value.callee.expr
    return value if isinstance(value, (nodes.NameExpr, nodes.MemberExpr)) else None


def _copied_name(value: nodes.Expression | None) -> str | None:
    copied = _copied_expr(value)
    return copied.name if copied is not None else None


def new_task_group(value: nodes.Expression | None, resolver: Resolver) -> TaskGroupKind | None:
    """The class of the task group a call makes, not yet entered: a task group class constructed
    (``asyncio.TaskGroup()``), or a library's factory (``anyio.create_task_group()``)."""
    if not isinstance(value, nodes.CallExpr):
        return None
    callee = resolver.type_of(value.callee)
    if isinstance(callee, CallableType) and callee.is_type_obj():
        return predicates.task_group_kind(Instance(callee.type_object(), []))
    named = callee_fullname(value.callee, callee, TASK_GROUP_FACTORIES)
    return predicates.task_group_kind(return_type(callee)) if named in TASK_GROUP_FACTORIES else None


def entered_task_group(manager: nodes.Expression, resolver: Resolver) -> TaskGroupKind | None:
    """The class of the task group ``async with manager as tg`` binds to ``tg``: the manager itself
    (asyncio, anyio), what a context-manager wrapper yields (``trio.open_nursery()``), or what its
    ``__aenter__`` returns."""
    typ = resolver.type_of(manager)
    kind = predicates.task_group_kind(typ)
    if kind is not None:
        return kind
    if isinstance(typ, Instance) and typ.type.fullname in predicates.CONTEXT_MANAGER_WRAPPERS and typ.args:
        return predicates.task_group_kind(get_proper_type(typ.args[0]))
    return predicates.task_group_kind(awaited_type(return_type(member_type(typ, "__aenter__"))))


class Binding(NamedTuple):
    """A name or attribute a scope binds: assigned a value, or the target of a ``with``."""

    target: Ref
    value: nodes.Expression | None  # what an assignment binds (``None``: a value not followed)
    with_stmt: nodes.WithStmt | None  # the ``with`` whose ``as`` target it is
    manager: nodes.Expression | None  # what that ``with`` enters


def bindings_of(scope: walk.ScopeNodes) -> Iterator[Binding]:
    """Every name and attribute a scope binds (the items of an unpacked target one by one)."""
    for stmt in scope.of(nodes.WithStmt):
        for manager, target in zip(stmt.expr, stmt.target):
            yield from _unpacked(target, None, stmt, manager)
    for assignment in scope.of(nodes.AssignmentStmt):
        for lvalue in assignment.lvalues:
            yield from _unpacked(lvalue, assignment.rvalue)
    for walrus in scope.of(nodes.AssignmentExpr):
        yield from _unpacked(walrus.target, walrus.value)
    for loop in scope.of(nodes.ForStmt):
        yield from _unpacked(loop.index, None)


def _unpacked(target: nodes.Expression | None, value: nodes.Expression | None, stmt: nodes.WithStmt | None = None,
              manager: nodes.Expression | None = None) -> Iterator[Binding]:
    if isinstance(target, (nodes.TupleExpr, nodes.ListExpr)):
        for item in target.items:
            yield from _unpacked(item, None)
    elif isinstance(target, nodes.StarExpr):
        yield from _unpacked(target.expr, None)
    elif isinstance(target, (nodes.NameExpr, nodes.MemberExpr)):
        yield Binding(target, value, stmt, manager)


def bound_in(scope: FunctionScope) -> set[nodes.Var]:
    """The locals a function binds itself, its parameters included (not those it reads from an
    enclosing function)."""
    bound = {argument.variable for argument in scope.defn.arguments} if scope.defn is not None else set()
    return bound | {binding.target.node for binding in bindings_of(scope.walked)
                    if isinstance(binding.target, nodes.NameExpr) and isinstance(binding.target.node, nodes.Var)}


def scope_for(function: Function, module: ModuleContext) -> FunctionScope:
    """The walked scope of one of the module's functions (``None``: its top level)."""
    return module.scope_of(function) if function is not None else FunctionScope(module.scopes[0], module)
