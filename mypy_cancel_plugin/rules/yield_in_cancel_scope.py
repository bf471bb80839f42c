"""``yield-in-cancel-scope``: a generator that yields while a cancel scope is open (PEP 789).

At a ``yield`` the generator hands control to its consumer, but an ``asyncio.timeout()``,
``TaskGroup``, anyio/trio cancel scope or nursery around it stays open: its cancellation or
timeout then fires in the consumer's code, or is lost.  Context-manager generators are the
exception: their single ``yield`` *is* the body of the managed block.
"""

from __future__ import annotations

from mypy import nodes

from mypy_cancel_plugin import semantics
from mypy_cancel_plugin.context import FunctionScope, ModuleContext
from mypy_cancel_plugin.errorcodes import YIELD_IN_CANCEL_SCOPE
from mypy_cancel_plugin.scope_managers import first_opened_scope

# Generators whose yield is the managed block of a context manager (or fixture).
CONTEXT_MANAGER_DECORATORS = semantics.GENERATOR_CONTEXT_MANAGERS | semantics.FIXTURE_DECORATORS


def check(function: FunctionScope, module: ModuleContext) -> None:
    if not function.is_generator or not function.walked.yields:
        return
    if function.decorator_names & (CONTEXT_MANAGER_DECORATORS | set(module.settings.context_manager_decorators)):
        return
    reported: set[int] = set()
    for node in function.of(nodes.WithStmt):
        scope = first_opened_scope(node, function, module)
        if scope is None:
            continue
        for inner in function.walked.nodes_at(node.body, function.walked.yields):
            if id(inner) not in reported:
                reported.add(id(inner))
                keyword = "async with" if node.is_async else "with"
                kept = f", which keeps {scope.keeps} open" if scope.keeps else ""
                message = (
                    f'yield inside {scope.name} ("{keyword}" at line {node.line}{kept}) hands control to the '
                    f"consumer while the scope is open"
                )
                fix = "move the yield out of the scope, or make this an @asynccontextmanager"
                module.report(inner, message, YIELD_IN_CANCEL_SCOPE, fix=fix)

