"""``asyncio-timeout-not-caught``: ``except TimeoutError`` that misses asyncio's timeout before 3.11.

Until Python 3.11, ``asyncio.wait_for`` (and ``async_timeout``) raise
``asyncio.TimeoutError``, a class of its own deriving from ``Exception``: a handler written for
the builtin ``TimeoutError`` lets the timeout through.  From 3.11 on the two are one class, so
the verdict follows the configured ``python_version``, and the code is fine on newer targets.
"""

from __future__ import annotations

from mypy import nodes

from mypy_cancel_plugin import predicates, semantics
from mypy_cancel_plugin.context import FunctionScope, ModuleContext
from mypy_cancel_plugin.errorcodes import ASYNCIO_TIMEOUT_NOT_CAUGHT

# Classes whose clause already catches asyncio's own TimeoutError.
CATCH_ASYNCIO_TIMEOUT = frozenset({semantics.ASYNCIO_TIMEOUT_ERROR, "builtins.Exception", "builtins.BaseException"})


def check(function: FunctionScope, module: ModuleContext) -> None:
    if module.options.python_version >= semantics.ASYNCIO_TIMEOUT_IS_BUILTIN_FROM:
        return
    raisers = {id(call): name for call in function.of(nodes.CallExpr) if (name := _raiser_name(call, module)) is not None}
    if not raisers:
        return
    walked = function.walked
    at = sorted(walked.positions[key] for key in raisers)
    for stmt in function.of(nodes.TryStmt):
        inside = walked.nodes_at(stmt.body, at)
        if inside:
            _check_handlers(stmt, raisers[id(inside[0])], function, module)


def _raiser_name(call: nodes.CallExpr, module: ModuleContext) -> str | None:
    """``asyncio.wait_for`` or ``async_timeout.timeout``/``timeout_at`` (also when mypy could not follow its import)."""
    named = module.imported_name(call.callee)
    return named.replace(".tasks.", ".") if named in semantics.ASYNCIO_TIMEOUT_RAISERS else None


def _check_handlers(stmt: nodes.TryStmt, raiser: str, function: FunctionScope, module: ModuleContext) -> None:
    for index, type_expr in enumerate(stmt.types):
        if type_expr is None:
            return  # a bare ``except:`` takes the timeout: later clauses never see it
        classes = {info.fullname for info in predicates.classes_named_by(type_expr, function.resolver)}
        if classes & CATCH_ASYNCIO_TIMEOUT:
            return  # this clause takes the timeout: later clauses never see it
        if semantics.BUILTIN_TIMEOUT_ERROR not in classes:
            continue
        version = ".".join(map(str, module.options.python_version))
        line, column, end = module.except_clause(stmt, index)
        message = (
            f"except TimeoutError does not catch the timeout of {raiser}() on Python {version}: "
            f"before 3.11 it raises asyncio.TimeoutError, a different class"
        )
        fix = 'catch "asyncio.TimeoutError" (the same class as TimeoutError from Python 3.11 on)'
        module.report(stmt, message, ASYNCIO_TIMEOUT_NOT_CAUGHT, fix=fix, line=line, column=column, end=end)
        return
