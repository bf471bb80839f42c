"""``unstructured-task``: a task spawned where no task group owns its lifetime.

``asyncio.create_task``, ``asyncio.ensure_future`` of a coroutine, ``create_task`` on an event
loop and ``asyncio.Task(...)`` start a task that nothing awaits or cancels when the caller
fails or is cancelled.  ``tg.create_task`` on a ``TaskGroup`` (anyio's ``start_soon``, trio's
nursery) is the structured form and is never reported.  Receivers and arguments are judged by
mypy's types, and where those say nothing (``Any``) by the evidence the module gives
(``evidence``); a value no evidence decides is not guessed at.

A spawned task is *discarded* (``-discarded``) when nothing keeps a reference: the call is a
statement, it is bound to a local never read, or a lambda returns it to a caller that drops
callback results; a statement that drops a task a helper returns is discarded too.
``asyncio.shield``/``wait_for``/``gather``/``wait`` given a bare coroutine make a task of
their own (``-implicit``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from functools import cached_property
from typing import NamedTuple

from mypy import nodes
from mypy.types import CallableType, Instance, NoneType, ProperType, get_proper_type

from mypy_cancel_plugin import evidence as evidence_module
from mypy_cancel_plugin import semantics, walk
from mypy_cancel_plugin.conditions import place_of, possible_cases, true_in_cases
from mypy_cancel_plugin.context import FunctionScope, ModuleContext
from mypy_cancel_plugin.errorcodes import (
    UNSTRUCTURED_TASK,
    UNSTRUCTURED_TASK_DISCARDED,
    UNSTRUCTURED_TASK_IMPLICIT,
)
from mypy_cancel_plugin.evidence import COROUTINE, LOOP, TASK_GROUP, ModuleEvidence
from mypy_cancel_plugin.lifecycle import holders
from mypy_cancel_plugin.module_facts import TaskHandOff
from mypy_cancel_plugin.reraise import function_facts
from mypy_cancel_plugin.static_types import callee_fullname, formal_arguments

CREATE_TASK = "asyncio.tasks.create_task"
ENSURE_FUTURE = "asyncio.tasks.ensure_future"
RUN_THREADSAFE = "asyncio.tasks.run_coroutine_threadsafe"
SPAWNING_FUNCTIONS = {
    CREATE_TASK: "asyncio.create_task()",
    ENSURE_FUTURE: "asyncio.ensure_future()",
    RUN_THREADSAFE: "asyncio.run_coroutine_threadsafe()",
}
# From another thread no task group of the loop's can be entered: the work has to reach one.
THREADSAFE_FIX = (
    "hand the work to a task group running on that loop instead, e.g. anyio's blocking portal: "
    '"portal.start_task_soon(...)" runs it in the portal\'s task group'
)
TASK_CLASSES = ("asyncio.tasks.Task", "_asyncio.Task")
LOOP_METHOD = "create_task"
# Functions that wrap a bare coroutine in a task of their own (gather: every positional
# argument; wait: the items of its first; shield, wait_for: their first).
GATHER, WAIT, WAIT_FOR = semantics.GATHER, semantics.WAIT, semantics.WAIT_FOR
IMPLICIT_SPAWNERS = {
    semantics.SHIELD: "asyncio.shield()",
    WAIT_FOR: "asyncio.wait_for()",
    GATHER: "asyncio.gather()",
    WAIT: "asyncio.wait()",
}
_NAMED_SPAWNERS = frozenset({*SPAWNING_FUNCTIONS, *IMPLICIT_SPAWNERS})

STORED = (
    "a stored reference keeps it from being garbage-collected, "
    "but nothing cancels it or waits for it when this code fails"
)
WEAK = "the event loop keeps only a weak reference, so it can be garbage-collected mid-flight"
KEPT = "the set keeps it from being garbage-collected, but nothing cancels it or waits for it when this code fails"


def check(function: FunctionScope, module: ModuleContext) -> None:
    calls = function.of(nodes.CallExpr)
    if not calls:
        return  # no spawn, and no statement that drops a call's result
    if module.settings.unstructured_task_allow and module.settings.allows_unstructured_tasks_in(
        function.qualified_names
    ):
        return
    rule = _Rule(function, module)
    spawning: set[int] = set()
    # What a call must name to spawn, or to wrap a coroutine in a task (``implicit_tasks``).
    named = _NAMED_SPAWNERS.union(module.settings.spawn_functions)
    for call in calls:
        callee = rule.callee_of(call)
        if callee.fullname not in named and not _may_construct(callee.type) and not _is_member_create_task(call):
            continue  # cannot spawn: neither a named spawner, nor a class constructed, nor ``<x>.create_task``
        rule.implicit_tasks(call, callee)
        spawned = rule.spawned_by(call, callee)
        if spawned is not None:
            spawning.add(id(call))
            _report_spawn(call, spawned, rule, THREADSAFE_FIX if callee.fullname == RUN_THREADSAFE else rule.fix)
    # A statement's value is what a call returns, or what awaiting it gives (``await spawn()``).
    for statement in function.of(nodes.ExpressionStmt):
        result = statement.expr
        value = result.expr if isinstance(result, nodes.AwaitExpr) else result
        if not isinstance(value, nodes.CallExpr) or id(value) in spawning:
            continue
        handed_over = rule.returned_task(value, result)
        helper = f'"{_short_name(value.callee)}()"'
        if handed_over is TaskHandOff.ONLY_REFERENCE:
            module.report(result, f"{helper} returns a task no task group owns and the statement discards it: "
                          f"{WEAK}", UNSTRUCTURED_TASK_DISCARDED, fix=rule.fix)
        elif handed_over is TaskHandOff.KEPT:
            module.report(result, f"{helper} returns a task no task group owns, which it also keeps in a reference set, "
                          f"and the statement drops it: {KEPT}", UNSTRUCTURED_TASK, fix=rule.fix)


def hands_over_task(function: FunctionScope, module: ModuleContext) -> TaskHandOff:
    """The summary callers in other modules read (``module_facts``): whether ``function`` returns a
    task it started that no group owns, and whether it keeps a reference of its own."""
    if not function.walked.returned:
        return TaskHandOff.NONE
    return _Rule(function, module).hands_over_task()


def _report_spawn(call: nodes.CallExpr, spawned: str, rule: _Rule, fix: str) -> None:
    """Report a spawn: discarded (a statement, a dropped callback result, an unread local) or stored."""
    module = rule.module
    start = f"{spawned} starts a task no task group owns"
    if id(call) in rule.statement_values:
        module.report(call, f"{start} and discards it: {WEAK}", UNSTRUCTURED_TASK_DISCARDED, fix=fix)
    elif id(call) in rule.discarded_callback_results:
        taker = rule.discarded_callback_results[id(call)]
        module.report(call, f"{start} and returns it to {taker}, which discards it: {WEAK}",
                      UNSTRUCTURED_TASK_DISCARDED, fix=fix)
    elif rule.is_unread_local(target := rule.bound_targets.get(id(call))):
        assert isinstance(target, nodes.NameExpr)
        module.report(call, f'{start} and binds it to "{target.name}", which is never read: the local is gone '
                      f"when the function returns, and then {WEAK}", UNSTRUCTURED_TASK_DISCARDED, fix=fix)
    else:
        module.report(call, f"{start}: {STORED}", UNSTRUCTURED_TASK, fix=fix)


def _short_name(callee: nodes.Expression) -> str:
    """How a message names a callee: ``spawn`` for ``spawn(...)`` and ``self.spawn(...)``."""
    return callee.name if isinstance(callee, (nodes.NameExpr, nodes.MemberExpr)) else "..."


def fix_hint(function: FunctionScope, module: ModuleContext) -> str:
    """What to do instead, in the library the module uses and for the Python it targets."""
    imported = module.imported_packages
    version = module.options.python_version
    if "anyio" in imported or ("trio" not in imported and version < (3, 11)):
        group = '"async with anyio.create_task_group() as tg: tg.start_soon(...)"'
    elif "trio" in imported and "asyncio" not in imported:
        group = '"async with trio.open_nursery() as nursery: nursery.start_soon(...)"'
    else:
        group = '"async with asyncio.TaskGroup() as tg: tg.create_task(...)"'
    if version < (3, 11) and "anyio" not in imported and "trio" not in imported:
        group += " (asyncio.TaskGroup needs Python 3.11)"
    if function.defn is not None and not function.defn.is_coroutine:
        return f"move the spawn into the coroutine that owns the work and use {group}"
    return f"use {group}"


class Callee(NamedTuple):
    """A call's callee: the function it names (through aliases) and its type."""

    fullname: str | None
    type: ProperType | None


class _Rule:
    """The rule's questions about one function, over the module's evidence."""

    def __init__(self, function: FunctionScope, module: ModuleContext) -> None:
        self.function = function
        self.module = module
        self.version = module.options.python_version

    # Worked out on first use: most functions start no task and never need them.
    @property
    def evidence(self) -> ModuleEvidence:
        return self.module.task_evidence

    @cached_property
    def fix(self) -> str:
        return fix_hint(self.function, self.module)

    @cached_property
    def discarded_callback_results(self) -> dict[int, str]:
        return dict(self._callback_results())

    @cached_property
    def statement_values(self) -> set[int]:
        """Expressions whose value a statement drops."""
        return {id(statement.expr) for statement in self.function.of(nodes.ExpressionStmt)}

    @cached_property
    def bound_targets(self) -> dict[int, nodes.Expression]:
        """Value -> the one target a plain assignment binds it to."""
        return {
            id(statement.rvalue): statement.lvalues[0]
            for statement in self.function.of(nodes.AssignmentStmt)
            if len(statement.lvalues) == 1
        }

    def kind_of(self, expr: nodes.Expression) -> str | None:
        return self.evidence.kind_of(expr, self.function.defn, resolver=self.function.resolver)

    def element_kind(self, sequence: nodes.Expression) -> str | None:
        return self.evidence.element_kind(sequence, self.function.defn, resolver=self.function.resolver)

    def callee_of(self, call: nodes.CallExpr) -> Callee:
        """The call's callee; a function or class the name resolves to needs no type (most calls)."""
        target = call.callee
        definition = target.node if isinstance(target, nodes.RefExpr) else None
        if isinstance(definition, (nodes.FuncBase, nodes.Decorator)) or (
            isinstance(definition, nodes.TypeInfo) and not any(definition.has_base(name) for name in TASK_CLASSES)
        ):
            return Callee(definition.fullname, None)
        callee_type = self.function.resolver.type_of(target)
        return Callee(callee_fullname(target, callee_type, _NAMED_SPAWNERS), callee_type)

    def spawned_by(self, call: nodes.CallExpr, callee_info: Callee | None = None) -> str | None:
        """What a call spawns, judged by its callee, receiver and argument."""
        callee, callee_type = callee_info or self.callee_of(call)
        first = call.args[0] if call.args else None
        if callee in (CREATE_TASK, RUN_THREADSAFE):  # both take only coroutines
            return SPAWNING_FUNCTIONS[callee]
        if callee is not None and callee in self.module.settings.spawn_functions:
            return f"{_short_name(call.callee)}()"
        if callee == ENSURE_FUTURE:
            return SPAWNING_FUNCTIONS[callee] if first is not None and self.is_coroutine(first) else None
        constructed = _constructed_task_class(callee_type)
        if constructed is not None:
            return f"{constructed}()"
        member = call.callee
        if isinstance(member, nodes.MemberExpr) and member.name == LOOP_METHOD and self.kind_of(member.expr) == LOOP:
            return "loop.create_task()"
        return None

    def is_coroutine(self, argument: nodes.Expression) -> bool:
        """``argument``, given where asyncio takes a coroutine or a future (``ensure_future``,
        ``shield``, ``wait_for``, ``gather``), is a coroutine: as the evidence decides
        (``evidence``), or, where no level says anything about a call's value, by what those
        functions are for (setting ``unstructured_task_untyped_calls``): a future comes from an
        API mypy types (``run_in_executor``, ``gather``, ``create_future``)."""
        kind = self.kind_of(argument)
        if kind is None and self.tested_coroutine(argument):
            return True
        if kind is not None or not self.module.settings.unstructured_task_untyped_calls:
            return kind == COROUTINE
        return isinstance(argument, nodes.CallExpr) and self.evidence.says_nothing_about(argument, self.function.defn)

    def tested_coroutine(self, value: nodes.Expression) -> bool:
        """``value`` is evaluated only where a test left a coroutine as the case the code handles: ``x``
        under ``if asyncio.iscoroutine(x)``, or under ``if isinstance(x, Future) or iscoroutine(x)``
        (a future is handed back as it is; a coroutine is wrapped in a task); ``f(...)`` under ``if
        inspect.iscoroutinefunction(f)``; also after ``if not ...: return`` (``conditions_at``), and
        through a predicate of this module (``def yields(v): return ... iscoroutine(v)``).  A closure
        also runs under the tests around its ``def``, when the function it is defined in never
        rebinds the name the test is about."""
        of_callee = isinstance(value, nodes.CallExpr)
        subject = value.callee if isinstance(value, nodes.CallExpr) else value
        cases = _cases(of_callee)
        root = _root_name(subject)
        if root is None:
            return False

        def true_in(leaf: nodes.Expression) -> frozenset[str] | None:
            return self._cases_tested(leaf, subject, of_callee, 0)

        scope: FunctionScope = self.function
        node_at: nodes.Node = value
        while True:
            if any(self._may_test(call) for call in scope.of(nodes.CallExpr)):
                for condition, holds in function_facts(scope, self.module).conditions_at(node_at):
                    possible = possible_cases(condition, true_in, cases, self.module.options, holds=holds)
                    if _CORO in possible and _OTHER not in possible:
                        return True
            outer = scope.enclosing[-2] if len(scope.enclosing) > 1 else None
            if not isinstance(outer, nodes.FuncDef) or scope.defn is None:
                return False
            node_at, scope = scope.defn, self.module.scope_of(outer)
            if place_of(root) in function_facts(scope, self.module).stored:
                return False  # the name the test is about may be bound to another value later

    def _may_test(self, call: nodes.CallExpr) -> bool:
        """A call that can be a test ``tested_coroutine`` reads: a coroutine test, or a predicate of this module."""
        callee = call.callee
        if not isinstance(callee, nodes.RefExpr):
            return False
        return callee.fullname in _TESTS or _predicate_returned(callee.node, self.module) is not None

    def _cases_tested(self, leaf: nodes.Expression, subject: nodes.Expression, of_callee: bool,
                      depth: int) -> frozenset[str] | None:
        """The cases (``_VALUE_CASES``; for a callee ``_CALLEE_CASES``) in which ``leaf`` is true,
        when it tests ``subject``; ``None`` for a leaf that says nothing about it."""
        if not (isinstance(leaf, nodes.CallExpr) and isinstance(leaf.callee, nodes.RefExpr) and leaf.args):
            return None
        name, first = leaf.callee.fullname, leaf.args[0]
        tested = _same_place(first, subject)
        if tested and len(leaf.args) == 1:
            if name in (semantics.COROUTINE_FUNCTION_TESTS if of_callee else semantics.COROUTINE_TESTS):
                return frozenset({_CORO})
            if name in semantics.FUTURE_TESTS and not of_callee:
                return frozenset({_FUTURE})
        if name == "builtins.isinstance" and tested and len(leaf.args) == 2 and not of_callee:
            return _instance_cases(leaf.args[1])
        returned = _predicate_returned(leaf.callee.node, self.module)
        if returned is None or depth >= _PREDICATE_DEPTH:
            return None
        assert isinstance(leaf.callee.node, nodes.FuncDef)
        parameter = _parameter_given(leaf, leaf.callee.node, subject)
        if parameter is None:
            return None
        return true_in_cases(returned, lambda inner: self._cases_tested(inner, parameter, of_callee, depth + 1),
                             _cases(of_callee), self.module.options)

    def holds_coroutines(self, sequence: nodes.Expression) -> bool:
        """``is_coroutine`` for the items of ``sequence`` (``gather(*calls)``, ``wait(calls)``): as the
        evidence decides, or, where it says nothing, when every item is a call it says nothing about."""
        kind = self.element_kind(sequence)
        if kind is not None or not self.module.settings.unstructured_task_untyped_calls:
            return kind == COROUTINE
        return self.evidence.items_are_calls_nothing_says_anything_about(sequence, self.function.defn)

    def implicit_tasks(self, call: nodes.CallExpr, callee_info: Callee) -> None:
        """Report each bare coroutine a call to ``shield``/``wait_for``/``gather``/``wait`` wraps in a task."""
        callee = callee_info.fullname
        if (
            callee not in IMPLICIT_SPAWNERS
            or (callee == WAIT_FOR and self.version >= semantics.WAIT_FOR_ON_TIMEOUT_FROM)
            or (callee == WAIT and self.version >= semantics.WAIT_REJECTS_COROUTINES_FROM)
        ):
            return  # from 3.12 wait_for awaits a coroutine in place; from 3.11 wait raises TypeError for one
        arguments = zip(call.args, call.arg_kinds) if callee == GATHER else zip(call.args[:1], call.arg_kinds[:1])
        for argument, kind in arguments:
            if kind == nodes.ARG_STAR or callee == WAIT:
                found = COROUTINE if self.holds_coroutines(argument) else None
            elif kind == nodes.ARG_POS:
                found = COROUTINE if self.is_coroutine(argument) else None
            else:
                continue
            if found == COROUTINE:
                message = f"{IMPLICIT_SPAWNERS[callee]} wraps this coroutine in a task no task group owns"
                self.module.report(argument, message, UNSTRUCTURED_TASK_IMPLICIT, fix=self.fix)

    def is_unread_local(self, target: nodes.Expression | None) -> bool:
        """A local variable nothing reads: it keeps the value only while the frame lives."""
        return (
            isinstance(target, nodes.NameExpr)
            and target.kind == nodes.LDEF
            and isinstance(target.node, nodes.Var)
            and self.evidence.read_count(target, self.function.enclosing) == 0
        )

    def returned_task(self, call: nodes.CallExpr, result: nodes.Expression) -> TaskHandOff:
        """What ``result`` (``call``, or ``await call``) hands over: a task the helper started that no
        group owns, as the only reference (``ONLY_REFERENCE``) or one the helper keeps as well
        (``KEPT``: ``self._tasks.add(task)``), or neither (``tg.create_task``, a task it looks up).

        A helper of another module is judged by its summary (``module_facts``); its declared
        ``Task`` type alone does not say whether it started the task.
        """
        definition = self.function.resolver.definition_of(call.callee)
        if not isinstance(definition, nodes.FuncDef):
            return TaskHandOff.NONE
        if definition.is_coroutine != (result is not call):
            return TaskHandOff.NONE  # an un-awaited coroutine call gives a coroutine; an awaited task is not dropped
        if self.module.defines(definition):
            handed_over = self.module.summarise(
                ("returned task", id(definition)),
                lambda: _Rule(self.module.scope_of(definition), self.module).hands_over_task(),
                while_deciding=TaskHandOff.NONE,  # a recursive helper is not assumed to return one
            )
        else:
            facts = self.module.helper_facts(definition)
            handed_over = facts.returned_task if facts is not None else TaskHandOff.NONE
        # The receiver's evidence last: it is gathered over the whole module, and few helpers return a task.
        if handed_over and isinstance(call.callee, nodes.MemberExpr) and self.kind_of(call.callee.expr) == TASK_GROUP:
            return TaskHandOff.NONE
        return handed_over

    def hands_over_task(self) -> TaskHandOff:
        """What this function's returns hand over (``returned_task``): the only reference on some
        path; else a task kept in a reference set, when every return gives one (a helper that
        returns a task only for some arguments, ``run_async=True``, hands over none)."""
        returned_locals = Counter(
            returned.node for returned in self.function.walked.returned
            if isinstance(returned, nodes.NameExpr) and isinstance(returned.node, nodes.Var)
        )
        handed_over = [self._hand_over(returned, returned_locals) for returned in self.function.walked.returned]
        if TaskHandOff.ONLY_REFERENCE in handed_over:
            return TaskHandOff.ONLY_REFERENCE
        return TaskHandOff.KEPT if handed_over and all(handed_over) else TaskHandOff.NONE

    def _hand_over(self, returned: nodes.Expression, returned_locals: Counter[nodes.Var]) -> TaskHandOff:
        """What one ``return`` gives its caller (a returned local: its last value, and where else it goes)."""
        local = returned.node if isinstance(returned, nodes.NameExpr) else None
        value = self.function.resolver.assigned_value(local) if isinstance(local, nodes.Var) else returned
        if not isinstance(value, nodes.CallExpr):
            return TaskHandOff.NONE
        passed_on = TaskHandOff.ONLY_REFERENCE if self.spawned_by(value) else self.returned_task(value, value)
        if passed_on and isinstance(local, nodes.Var):
            assert isinstance(returned, nodes.NameExpr)
            # Reads as an attribute's receiver use the task (``fut.set_result(None)``), keep no reference.
            used = sum(isinstance(member.expr, nodes.NameExpr) and member.expr.node is local
                       for member in self.function.of(nodes.MemberExpr))
            other_reads = self.evidence.read_count(returned, self.function.enclosing) - used - returned_locals[local]
            if other_reads:  # the local goes elsewhere too: a reference set, or an owner
                return TaskHandOff.KEPT if self._kept_in_reference_sets(local, other_reads) else TaskHandOff.NONE
        return passed_on

    def _kept_in_reference_sets(self, local: nodes.Var, reads: int) -> bool:
        """Whether ``reads`` reads of ``local`` all add it to containers that nothing reads for their
        tasks (``tasks.add(task)`` with ``task.add_done_callback(tasks.discard)``, the reference set
        of asyncio's docs): the task is kept alive, and nothing iterates the set to cancel or await
        it.  A container code iterates or passes on (``for t in self._tasks: t.cancel()``) owns its
        tasks, as does any other place the task is handed to."""
        adds = [
            call.callee.expr for call in self.function.of(nodes.CallExpr)
            if isinstance(call.callee, nodes.MemberExpr) and call.callee.name in evidence_module.ADDS_ITEM
            and any(isinstance(argument, nodes.NameExpr) and argument.node is local for argument in call.args)
        ]
        if len(adds) != reads:
            return False
        index = holders(self.module)
        kept_in = [index.holder(container, self.function.defn) for container in adds]
        return all(holder is not None and not index.escapes(holder) for holder in kept_in)

    def _callback_results(self) -> Iterator[tuple[int, str]]:
        """Calls a lambda returns to a callee that declares it drops what its callback returns."""
        resolver = self.function.resolver
        for call in self.function.of(nodes.CallExpr):
            if not any(isinstance(argument, nodes.LambdaExpr) for argument in call.args):
                continue
            signature = resolver.type_of(call.callee)
            if not isinstance(signature, CallableType):
                continue
            formals = formal_arguments(call, signature.arg_names, signature.arg_kinds, False)
            for argument, index in formals:
                parameter = get_proper_type(signature.arg_types[index])
                if isinstance(argument, nodes.LambdaExpr) and _drops_result(parameter):
                    yield id(argument.expr()), f"{_short_name(call.callee)}()"


def _drops_result(parameter: ProperType) -> bool:
    """A callback parameter declared to return ``object`` or ``None``: its result is thrown away."""
    if not isinstance(parameter, CallableType):
        return False
    returned = get_proper_type(parameter.ret_type)
    is_object = isinstance(returned, Instance) and returned.type.fullname == "builtins.object"
    return is_object or isinstance(returned, NoneType)


def _may_construct(callee_type: ProperType | None) -> bool:
    """Whether calling a value of this type constructs an instance (``_constructed_task_class`` asks which)."""
    return isinstance(callee_type, CallableType) and callee_type.is_type_obj()


def _is_member_create_task(call: nodes.CallExpr) -> bool:
    member = call.callee
    return isinstance(member, nodes.MemberExpr) and member.name == LOOP_METHOD


def _constructed_task_class(callee_type: ProperType | None) -> str | None:
    """``asyncio.Task(coro)`` or a subclass: constructing a task schedules it."""
    if not _may_construct(callee_type):
        return None
    assert isinstance(callee_type, CallableType)
    info = callee_type.type_object()
    return info.name if any(info.has_base(name) for name in TASK_CLASSES) else None


# The cases a value handed to asyncio is in, where it takes a coroutine or a future
# (``ensure_future``, ``wait_for``): a future is used as it is, a coroutine wrapped in a task.
_CORO, _FUTURE, _OTHER = "coroutine", "future", "anything else"
_VALUE_CASES = (_CORO, _FUTURE, _OTHER)
_CALLEE_CASES = (_CORO, _OTHER)  # a coroutine function, or not


def _cases(of_callee: bool) -> tuple[str, ...]:
    return _CALLEE_CASES if of_callee else _VALUE_CASES


_TESTS = semantics.COROUTINE_TESTS | semantics.COROUTINE_FUNCTION_TESTS | semantics.FUTURE_TESTS | {"builtins.isinstance"}
_PREDICATE_DEPTH = 3  # predicates that call predicates, read this deep


def _instance_cases(classes: nodes.Expression) -> frozenset[str] | None:
    """The cases ``isinstance(x, classes)`` is true in: asyncio futures, coroutines, or both."""
    found: set[str] = set()
    for item in classes.items if isinstance(classes, nodes.TupleExpr) else [classes]:
        name = item.fullname if isinstance(item, nodes.RefExpr) else None
        if name in semantics.FUTURE_CLASSES:
            found.add(_FUTURE)
        elif name in semantics.COROUTINE_CLASSES:
            found.add(_CORO)
        else:
            return None  # another class: it may hold anything else too
    return frozenset(found)


def _predicate_returned(definition: nodes.SymbolNode | None, module: ModuleContext) -> nodes.Expression | None:
    """What a predicate of this module returns: a plain function of this module whose body is one
    ``return`` (after its docstring)."""
    if not isinstance(definition, nodes.FuncDef) or not isinstance(definition.info, nodes.FakeInfo):
        return None  # not a plain function: a method's first parameter is not what a call passes first
    if not module.defines(definition):
        return None
    body = definition.body.body
    if body and isinstance(body[0], nodes.ExpressionStmt) and isinstance(body[0].expr, nodes.StrExpr):
        body = body[1:]
    if definition.is_coroutine or definition.is_generator or len(body) != 1:
        return None
    statement = body[0]
    return statement.expr if isinstance(statement, nodes.ReturnStmt) else None


def _parameter_given(call: nodes.CallExpr, function: nodes.FuncDef, subject: nodes.Expression) -> nodes.NameExpr | None:
    """The parameter of ``function`` that ``call`` passes ``subject`` to, as a name in its body."""
    for argument, index in formal_arguments(call, function.arg_names, function.arg_kinds, False):
        if _same_place(argument, subject):
            variable = function.arguments[index].variable
            name = nodes.NameExpr(variable.name)
            name.node = variable
            return name
    return None


def _root_name(expr: nodes.Expression) -> nodes.NameExpr | None:
    """The name an attribute chain starts from (``a`` of ``a.b.c``); ``None`` for anything else."""
    while isinstance(expr, nodes.MemberExpr):
        expr = expr.expr
    return expr if isinstance(expr, nodes.NameExpr) else None


def _same_place(first: nodes.Expression, second: nodes.Expression) -> bool:
    """Two spellings of one name or attribute chain, from the same variable."""
    first_root, second_root = _root_name(first), _root_name(second)
    return (first_root is not None and second_root is not None and first_root.node is second_root.node
            and walk.dotted_name(first) == walk.dotted_name(second))
