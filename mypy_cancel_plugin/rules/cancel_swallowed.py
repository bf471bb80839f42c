"""``cancel-swallowed``: code that can catch the current task's cancellation and not re-raise it.

Three forms lose a cancellation: an ``except`` handler with a path that finishes without
re-raising, ``contextlib.suppress`` of a cancellation type, and ``return``/``break``/
``continue`` in a ``finally`` (PEP 765).  Each only matters where a cancellation can arrive:
the guarded code must contain an await point.  In a coroutine the module only runs as a
runner's main task (``asyncio.run(main())``), the first two matter only inside a cancel scope
the coroutine opens: nothing outside the main task waits for its cancellation, and ending
quietly when the runner cancels it to stop (``Ctrl-C``) is how a program exits cleanly.
"""

from __future__ import annotations

from mypy import nodes

from mypy_cancel_plugin import predicates, walk
from mypy_cancel_plugin.context import FunctionScope, ModuleContext
from mypy_cancel_plugin.errorcodes import (
    CANCEL_SWALLOWED,
    CANCEL_SWALLOWED_AWAITED_TASK,
)
from mypy_cancel_plugin.reraise import EscapeKind, ReraiseFlow, function_facts
from mypy_cancel_plugin.scope_managers import first_opened_scope

SUPPRESS = "contextlib.suppress"
FIX = 'clean up, then "raise"'
# For ``except BaseException``/bare ``except:``: often ``Exception`` was what the code meant.
BROAD_FIX = ', or catch "Exception" if the cancellation was not meant'
AWAITED_TASK_FIX = (
    "re-raise the current task's own cancellation: "
    'if (task := asyncio.current_task()) and task.cancelling(): raise'
)


def check(function: FunctionScope, module: ModuleContext) -> None:
    sites = [*function.of(nodes.TryStmt), *function.of(nodes.WithStmt)]
    if not sites:
        return  # nothing here can catch or suppress a cancellation
    facts = None  # built for the first site that can swallow a cancellation (most have no await point)
    scopes: list[nodes.WithStmt] | None = None  # in a main task: where its cancellation still matters
    for node in sites:
        if isinstance(node, nodes.TryStmt):
            handlers = function.has_await_point(node.body)
            final = node.finally_body is not None and function.has_await_point(node.body, *node.handlers,
                                                                                node.else_body)
            if not (handlers or final):
                continue
        elif isinstance(node, nodes.WithStmt) and not function.has_await_point(node.body):
            continue  # ``suppress()`` can swallow only a cancellation delivered in its body
        if facts is None:
            facts = function_facts(function, module)
            main_task = function.defn is not None and module.runs_only_as_main_task(function.defn)
            scopes = _opened_scopes(function, module) if main_task else None
        if id(node) in facts.dead:
            continue  # mypy does not check it: neither does the plugin
        inside_scope = scopes is None or _inside_any(node, scopes, function)
        if isinstance(node, nodes.TryStmt):
            if handlers and inside_scope:
                _check_handlers(node, function, module)
            if final:
                assert node.finally_body is not None
                _check_finally(node.finally_body, function, module)
        elif isinstance(node, nodes.WithStmt) and inside_scope:
            _check_suppress(node, function, module)


def _opened_scopes(function: FunctionScope, module: ModuleContext) -> list[nodes.WithStmt]:
    """The ``with`` statements of ``function`` that open a cancel scope, timeout or task group."""
    return [stmt for stmt in function.of(nodes.WithStmt) if first_opened_scope(stmt, function, module) is not None]


def _inside_any(node: nodes.Statement, scopes: list[nodes.WithStmt], function: FunctionScope) -> bool:
    at = [function.walked.positions[id(node)]]
    return any(function.walked.encloses_any(stmt.body, at) for stmt in scopes)


def _check_handlers(stmt: nodes.TryStmt, function: FunctionScope, module: ModuleContext) -> None:
    taken: frozenset[str] = frozenset()  # libraries whose cancellation an earlier clause takes
    for index, (type_expr, bound, handler) in enumerate(zip(stmt.types, stmt.vars, stmt.handlers, strict=True)):
        caught = predicates.caught_cancellations(
            type_expr, function.resolver, function.libraries_in_play, star=stmt.is_star
        )
        reachable = [c for c in caught if c.libraries - taken]
        kinds = frozenset().union(*(c.libraries for c in reachable)) - taken
        taken = taken.union(*(c.libraries for c in caught if c.takes_all))
        if not reachable:
            continue
        bound_var = bound.node if bound is not None and isinstance(bound.node, nodes.Var) else None
        escapes = ReraiseFlow(function, module, bound_var, kinds, origin=stmt).escapes(handler)
        if not escapes:
            continue
        line, column, end = module.except_clause(stmt, index)
        caught_name = reachable[0].name
        awaited = _awaited_cancelled_task(stmt.body, stmt.line, function, module)
        if awaited is not None:
            message = (
                f'{caught_name} from awaiting cancelled task "{awaited}" is swallowed here, and so is a '
                f"cancellation of the current task that arrives meanwhile: the handler {escapes[0].describe()}"
            )
            module.report(
                stmt, message, CANCEL_SWALLOWED_AWAITED_TASK, fix=AWAITED_TASK_FIX, line=line, column=column, end=end
            )
        else:
            broad = caught_name in (predicates.BASE_EXCEPTION_NAME, predicates.BARE_EXCEPT_NAME)
            fix = FIX + (BROAD_FIX if broad else "")
            message = f"{caught_name} caught here swallows the task's cancellation: the handler {escapes[0].describe()}"
            module.report(stmt, message, CANCEL_SWALLOWED, fix=fix, line=line, column=column, end=end)


def _check_finally(block: nodes.Block, function: FunctionScope, module: ModuleContext) -> None:
    for escape in ReraiseFlow(function, module, None).escapes(block):
        if escape.kind in (EscapeKind.RETURNS, EscapeKind.BREAKS, EscapeKind.CONTINUES):
            message = f'"{escape.kind.value}" in "finally" discards an in-flight cancellation (PEP 765)'
            fix = 'move it out of the "finally" block'
            module.report(block, message, CANCEL_SWALLOWED, fix=fix, line=escape.line, column=escape.column)


def _check_suppress(stmt: nodes.WithStmt, function: FunctionScope, module: ModuleContext) -> None:
    for manager in stmt.expr:
        if not (isinstance(manager, nodes.CallExpr) and isinstance(manager.callee, nodes.RefExpr)):
            continue
        if manager.callee.fullname != SUPPRESS:
            continue
        caught = [
            c
            for arg in manager.args
            for c in predicates.caught_cancellations(arg, function.resolver, function.libraries_in_play)
        ]
        if not (caught and function.has_await_point(stmt.body)):
            continue
        suppressed = f"contextlib.suppress({caught[0].name})"
        awaited = _awaited_cancelled_task(stmt.body, stmt.line, function, module)
        if awaited is not None:
            message = (
                f'{suppressed} around awaiting cancelled task "{awaited}" also swallows a cancellation of the '
                f"current task that arrives meanwhile"
            )
            fix = f"catch it with try/except instead and {AWAITED_TASK_FIX}"
            module.report(manager, message, CANCEL_SWALLOWED_AWAITED_TASK, fix=fix)
        else:
            message = f"{suppressed} swallows the current task's cancellation"
            module.report(manager, message, CANCEL_SWALLOWED, fix="suppress only the exceptions you expect")


def _awaited_cancelled_task(body: nodes.Block, line: int, function: FunctionScope, module: ModuleContext) -> str | None:
    """``task.cancel(); try: await task`` (or ``with suppress(...)``): the task's name, when that is all ``body`` awaits.

    The ``.cancel()`` calls are collected once per function and the awaits come from the
    scope's walk, so many such statements stay linear.
    """
    at_awaits = function.walked.nodes_at(body, function.walked.await_points)
    awaited = [node for node in at_awaits if isinstance(node, nodes.AwaitExpr)]
    names = {walk.dotted_name(node.expr) for node in awaited}
    if len(names) != 1 or None in names:
        return None
    (name,) = names
    cancelled_at = function_facts(function, module).cancelled.get(name) if name is not None else None
    return name if cancelled_at is not None and cancelled_at < line else None
