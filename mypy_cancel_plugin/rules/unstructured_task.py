"""``unstructured-task``: a task spawned where no task group owns its lifetime.

``asyncio.create_task``, ``asyncio.ensure_future`` of a coroutine and ``create_task`` on an
event loop start a task that nothing awaits or cancels when the caller fails or is
cancelled.  ``tg.create_task`` on a ``TaskGroup`` (anyio's ``start_soon``, trio's nursery) is
the structured form and is never reported.  Receivers and arguments are judged by mypy's own
types (the checker's type map); in code mypy does not check (unannotated functions) by
declared types.  ``Any`` is never guessed at.
"""

from __future__ import annotations

from mypy import nodes
from mypy.types import CallableType, Instance, ProperType

from mypy_cancel_plugin import predicates
from mypy_cancel_plugin.context import FunctionScope, ModuleContext
from mypy_cancel_plugin.errorcodes import UNSTRUCTURED_TASK, UNSTRUCTURED_TASK_DISCARDED

CREATE_TASK = "asyncio.tasks.create_task"
ENSURE_FUTURE = "asyncio.tasks.ensure_future"
SPAWNING_FUNCTIONS = {CREATE_TASK: "asyncio.create_task()", ENSURE_FUTURE: "asyncio.ensure_future()"}
LOOP_METHOD = "create_task"
FIX = 'use "async with asyncio.TaskGroup() as tg: tg.create_task(...)"'


def check(function: FunctionScope, module: ModuleContext) -> None:
    if module.settings.allows_unstructured_tasks_in(function.qualified_names):
        return
    discarded = {id(n.expr) for n in function.nodes if isinstance(n, nodes.ExpressionStmt)}
    for node in function.nodes:
        if not isinstance(node, nodes.CallExpr):
            continue
        spawned = _spawned_by(node, function)
        if not spawned:
            continue
        if id(node) in discarded:
            message = (
                f"{spawned} starts a task no task group owns and discards it: the event loop keeps only a "
                f"weak reference, so it can be garbage-collected mid-flight; {FIX}"
            )
            module.report(node, message, UNSTRUCTURED_TASK_DISCARDED)
        else:
            module.report(node, f"{spawned} starts a task no task group owns; {FIX}", UNSTRUCTURED_TASK)


def _function_spawn(callee: str | None, first_arg: ProperType | None, *, known_coroutine: bool) -> str | None:
    if callee == CREATE_TASK:
        return SPAWNING_FUNCTIONS[callee]
    if callee == ENSURE_FUTURE:
        if predicates.is_future(first_arg):
            return None  # wrapping an existing future creates no task
        if known_coroutine or _is_awaitable_not_future(first_arg):
            return SPAWNING_FUNCTIONS[callee]
    return None


def _is_awaitable_not_future(typ: ProperType | None) -> bool:
    """Coroutines and other awaitables (``__await__``, nominal or not): ensure_future wraps them in a task."""
    if predicates.is_instance_of(typ, ("typing.Awaitable",)) is not None:
        return True
    return isinstance(typ, Instance) and typ.type.get("__await__") is not None


def _callee_fullname(call: nodes.Context) -> str | None:
    if isinstance(call, nodes.CallExpr) and isinstance(call.callee, nodes.RefExpr):
        return call.callee.fullname
    return None


def _spawned_by(call: nodes.CallExpr, function: FunctionScope) -> str | None:
    """What a call spawns, judged by the types of its callee, receiver and argument."""
    resolver = function.resolver
    callee_type = resolver.type_of(call.callee)
    callee = _callee_fullname(call)
    if callee not in SPAWNING_FUNCTIONS and isinstance(callee_type, CallableType) and callee_type.definition:
        callee = callee_type.definition.fullname  # an alias: ``spawn = asyncio.create_task``
    if callee in SPAWNING_FUNCTIONS:
        first = call.args[0] if call.args else None
        first_type = resolver.type_of(first) if first is not None else None
        return _function_spawn(callee, first_type, known_coroutine=_calls_coroutine_function(first, function))
    member = call.callee
    if isinstance(member, nodes.MemberExpr) and member.name == LOOP_METHOD and predicates.is_event_loop(
        resolver.type_of(member.expr)
    ):
        return "loop.create_task()"
    return None


def _calls_coroutine_function(expr: nodes.Expression | None, function: FunctionScope) -> bool:
    """``ensure_future(fetch())`` where ``fetch`` is an ``async def``, annotated or not."""
    if not isinstance(expr, nodes.CallExpr):
        return False
    target = function.resolver.definition_of(expr.callee)
    return isinstance(target, nodes.FuncDef) and target.is_coroutine
