"""``cancel-scope-escapes-task``: a cancel scope or task group entered in one function, exited in another.

anyio and trio tie a cancel scope (and the task group or nursery built on one) to the task that
entered it: exiting it from another task raises ``RuntimeError: Attempted to exit cancel scope
in a different task than it was entered in`` (anyio) or ``Cancel scope stack corrupted``
(trio); an asyncio ``TaskGroup`` or ``timeout`` exited from another task cancels, and
uncancels, the wrong task.  ``async with`` keeps both ends in one task; entering by hand does
not.  Reported at the hand-made enter, in a function other than ``__aenter__``/``__enter__``:

- ``await self._tg.__aenter__()`` (or a local entered, then stored on ``self``) that another
  function of the module exits (``__aexit__``/``__exit__``);
- ``await self._stack.enter_async_context(<scope>)`` on an exit stack kept on ``self`` (or moved
  there with ``pop_all()``) that another function closes (``aclose()``, ``__aexit__``);
- a nested function (one run as a task, say) that enters a scope of its enclosing function,
  which exits it.

What opens a scope is decided by type and by the module's own managers
(``scope_managers.opened_scope``); in untyped code, by what the module assigns to the holder.
Silent when the entering function provably runs in the task of the exit: called (and awaited)
by ``__aenter__``/``__enter__``, or by a function that runs the exit too.
"""

from __future__ import annotations

from mypy import nodes

from mypy_cancel_plugin import walk
from mypy_cancel_plugin.context import FunctionScope, ModuleContext
from mypy_cancel_plugin.errorcodes import CANCEL_SCOPE_ESCAPES_TASK
from mypy_cancel_plugin.lifecycle import Function, Holders, bound_in, holders, scope_for
from mypy_cancel_plugin.scope_managers import opened_scope
from mypy_cancel_plugin.semantics import ENTER_METHODS, EXIT_METHODS, STACK_CLOSE_METHODS, STACK_ENTER_METHODS

FIX = (
    'enter and exit it in one task: an "async with" around the work, or enter it in __aenter__, '
    'exit it in __aexit__ and use the object with "async with"'
)


def check(function: FunctionScope, module: ModuleContext) -> None:
    defn = function.defn
    if defn is None or defn.name in ENTER_METHODS:
        return
    member = nodes.MemberExpr
    for call in function.of(nodes.CallExpr):
        callee = call.callee
        if type(callee) is member and (callee.name in ENTER_METHODS or callee.name in STACK_ENTER_METHODS):
            _judge(call, function, module)


def _entered(call: nodes.CallExpr) -> tuple[nodes.Expression, nodes.Expression] | None:
    """What a hand-made enter enters, and what keeps it open: ``x`` and ``x`` for
    ``x.__aenter__()``, ``cm`` and ``stack`` for ``stack.enter_async_context(cm)``."""
    callee = call.callee
    if not isinstance(callee, nodes.MemberExpr):
        return None
    if callee.name in ENTER_METHODS:
        return callee.expr, callee.expr
    if callee.name in STACK_ENTER_METHODS and call.args:
        return call.args[0], callee.expr
    return None


def _judge(call: nodes.CallExpr, function: FunctionScope, module: ModuleContext) -> None:
    entered = _entered(call)
    if entered is None or function.defn is None:
        return
    manager, keeper = entered
    scope = _opened(manager, function, module)
    if scope is None:
        return
    index = holders(module)
    places = _places(call, keeper, function, module, index)
    methods = EXIT_METHODS if keeper is manager else STACK_CLOSE_METHODS
    exits = [site for place in places for site in index.exits_of(place, methods)]
    unproven = [
        (site.function, site.node) for site in exits if site.function is not None and site.function is not function.defn
        and not _same_task(function.defn, site.function, index)
    ]
    if not unproven:
        return
    exit_function, exit_node = unproven[0]
    where = f'"{exit_function.name}" (line {exit_node.line})'
    shown = walk.dotted_name(keeper) or "..."
    if keeper is manager:
        what = f'{scope} "{shown}" is entered here in "{function.defn.name}" and exited in {where}'
    else:
        what = (
            f'{scope} is entered into exit stack "{shown}" here in "{function.defn.name}", and {where} closes it'
        )
    message = f"{what}, which may run in another task: a cancel scope must be exited by the task that entered it"
    module.report(call, message, CANCEL_SCOPE_ESCAPES_TASK, fix=FIX)


def _opened(manager: nodes.Expression, function: FunctionScope, module: ModuleContext) -> str | None:
    """The cancel scope entering ``manager`` opens, as messages name it: by type, else by what the
    module assigns to it (the module's index is built only then)."""
    found = opened_scope(manager, function, module)
    if found is None and isinstance(manager, (nodes.NameExpr, nodes.MemberExpr)):
        index = holders(module)
        holder = index.holder(manager, function.defn)
        for value, where in index.values(holder) if holder is not None else ():
            if found is None and value is not None:
                found = opened_scope(value, scope_for(where, module), module)
    if found is None:
        return None
    return f"{found.name} (which keeps {found.keeps} open)" if found.keeps else found.name


def _places(call: nodes.CallExpr, keeper: nodes.Expression, function: FunctionScope, module: ModuleContext,
            index: Holders) -> list[nodes.Var]:
    """Where what ``call`` entered stays after this function returns: the attribute (or a variable
    of an enclosing function) holding it or its exit stack, also through a local stored there."""
    holder = index.holder(keeper, function.defn)
    if holder is None:  # ``self._tg = await anyio.create_task_group().__aenter__()``
        return [
            target for stmt in function.of(nodes.AssignmentStmt)
            if stmt.rvalue is call or (isinstance(stmt.rvalue, nodes.AwaitExpr) and stmt.rvalue.expr is call)
            for lvalue in stmt.lvalues if (target := index.holder(lvalue, function.defn)) is not None
        ]
    if holder in index.self_class or holder not in bound_in(function):
        return [holder]  # the object itself, an attribute, or a variable of an enclosing function
    return [copy for copy, where in index.copies(holder) if where is function.defn]


def _same_task(enter: nodes.FuncDef, exit_function: Function, index: Holders) -> bool:
    """Whether the exit provably runs in the task of the enter: both run by ``__aenter__``, or one
    function runs both (awaiting the coroutines it calls)."""
    callers = index.same_task_callers(enter)
    if any(caller is not None and caller.name in ENTER_METHODS for caller in callers):
        return True
    return any(
        runner is exit_function or exit_function in index.same_task_callees(runner)
        for runner in (enter, *callers)
    )

