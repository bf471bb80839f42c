"""``task-cancelled-not-awaited``: a coroutine cancels a task it owns and never waits for it.

``Task.cancel()`` only *requests* the cancellation: the task runs its ``except``/``finally``
cleanup at its next step, after this coroutine has moved on.  Unless something waits for it
afterwards (``await t``, ``asyncio.wait``, ``gather``), that cleanup runs unsupervised, an error
in it is never seen, and a task still pending when the loop closes is destroyed ("Task was
destroyed but it is pending!").

Owned means started here: a local bound to a call that returns an asyncio task or future (not a
task group's ``create_task``: the group waits for its children), or
an element of a local collection built here of such calls or of the pending set
``asyncio.wait`` returned.  Decided by type: ``TimerHandle.cancel()``,
``concurrent.futures.Future.cancel()`` and anyio/trio ``CancelScope.cancel()`` share the name.
A task handed on before the cancel (stored, passed, given a callback) has another owner, and
any later use of it (awaited, gathered, returned, stored) is taken as waiting for it.
"""

from __future__ import annotations

from mypy import nodes
from mypy.types import Instance, get_proper_type

from mypy_cancel_plugin import predicates, semantics
from mypy_cancel_plugin.context import FunctionScope, ModuleContext
from mypy_cancel_plugin.errorcodes import TASK_CANCELLED_NOT_AWAITED
from mypy_cancel_plugin.reraise import function_facts

COLLECTION_DISPLAYS = (nodes.ListExpr, nodes.SetExpr, nodes.TupleExpr, nodes.ListComprehension,
                       nodes.SetComprehension)


def check(function: FunctionScope, module: ModuleContext) -> None:
    if function.defn is None or not function.defn.is_coroutine:
        return  # a plain function cannot wait for the task
    cancels = [call for call in function.of(nodes.CallExpr) if _cancelled_name(call) is not None]
    if not cancels:
        return
    uses = _Uses(function)
    dead = function_facts(function, module).dead
    for call in cancels:
        receiver = _cancelled_name(call)
        assert receiver is not None
        var = receiver.node
        if id(call) in dead or not isinstance(var, nodes.Var):
            continue
        if not predicates.is_future(function.resolver.type_of(receiver)):
            continue
        owned, iteration = _owner_collection(var, function)
        if owned is None and not _started_here(var, function):
            continue
        if uses.handed_on_before(var, call) or uses.used_after(var, call, besides=None):
            continue
        if owned is not None and uses.used_after(owned, call, besides=iteration):
            continue
        if owned is not None:
            subject = f'Tasks in "{owned.name}" are'
            fix = f'wait for them after cancelling: "if {owned.name}: await asyncio.wait({owned.name})"'
        else:
            subject = f'Task "{var.name}" is'
            fix = f'wait for it after cancelling: "await asyncio.wait([{var.name}])" (it does not raise here)'
        message = (
            f"{subject} cancelled but never awaited: the cancellation and cleanup run unsupervised "
            f"after this coroutine moves on, and a failure in them is lost"
        )
        module.report(call, message, TASK_CANCELLED_NOT_AWAITED, fix=fix)


def _cancelled_name(call: nodes.CallExpr) -> nodes.NameExpr | None:
    """``x`` of a ``x.cancel()`` call (a name: attributes and parameters belong to someone else)."""
    callee = call.callee
    if isinstance(callee, nodes.MemberExpr) and callee.name == "cancel" and isinstance(callee.expr, nodes.NameExpr):
        return callee.expr
    return None


def _is_parameter(var: nodes.Var, function: FunctionScope) -> bool:
    defn = function.defn
    return defn is not None and any(argument.variable is var for argument in defn.arguments)


def _started_here(var: nodes.Var, function: FunctionScope) -> bool:
    """A local bound to a call that returns a task or future (``t = asyncio.create_task(...)``),
    not by a task group (``tg.create_task``: the group waits for its children when it closes)."""
    if _is_parameter(var, function):
        return False
    value = function.resolver.assigned_value(var)
    if not isinstance(value, nodes.CallExpr) or not predicates.is_future(function.resolver.type_of(value)):
        return False
    callee = value.callee
    return not (
        isinstance(callee, nodes.MemberExpr)
        and predicates.cancel_scope_name(function.resolver.type_of(callee.expr)) is not None
    )


def _owner_collection(var: nodes.Var, function: FunctionScope) -> tuple[nodes.Var | None, nodes.NameExpr | None]:
    """The local collection ``var`` iterates over (``for t in pending``) and its name there, if this
    function built it from calls that start tasks or took it from ``asyncio.wait``."""
    for loop in function.of(nodes.ForStmt):
        index, collection = loop.index, loop.expr
        if not (isinstance(index, nodes.NameExpr) and index.node is var and isinstance(collection, nodes.NameExpr)):
            continue
        owner = collection.node
        if not isinstance(owner, nodes.Var) or _is_parameter(owner, function):
            break
        built = function.resolver.assigned_value(owner)
        if (isinstance(built, COLLECTION_DISPLAYS) and _holds_futures(collection, function)) or _unpacked_from_wait(
            owner, function
        ):
            return owner, collection
        break
    return None, None


def _holds_futures(collection: nodes.Expression, function: FunctionScope) -> bool:
    typ = function.resolver.type_of(collection)
    return (
        isinstance(typ, Instance) and len(typ.args) == 1
        and predicates.is_future(get_proper_type(typ.args[0]))
    )


def _unpacked_from_wait(owner: nodes.Var, function: FunctionScope) -> bool:
    """``done, pending = await asyncio.wait(...)`` binds ``owner``."""
    for statement in function.of(nodes.AssignmentStmt):
        value = statement.rvalue
        if not (isinstance(value, nodes.AwaitExpr) and isinstance(value.expr, nodes.CallExpr)):
            continue
        callee = value.expr.callee
        if not (isinstance(callee, nodes.RefExpr) and callee.fullname in semantics.TASK_WAITING_FUNCTIONS):
            continue
        for target in statement.lvalues:
            items = target.items if isinstance(target, nodes.TupleExpr) else []
            if any(isinstance(item, nodes.NameExpr) and item.node is owner for item in items):
                return True
    return False


class _Uses:
    """Where the function reads each local, by position in the scope's walk."""

    def __init__(self, function: FunctionScope) -> None:
        self._function = function
        self._position = function.walked.positions
        # Reads that only ask a task about its state: ``t.done()``, ``t.cancel()`` ...
        asking = {
            id(member.expr) for member in function.of(nodes.MemberExpr)
            if member.name in semantics.TASK_STATE_METHODS
        }
        # Where a name is bound (``for t in``, ``t = ...``) is not a read of it.
        binding = {id(loop.index) for loop in function.of(nodes.ForStmt)}
        binding |= {id(target) for statement in function.of(nodes.AssignmentStmt) for target in statement.lvalues}
        self._reads: dict[nodes.Var, list[int]] = {}
        for name in function.of(nodes.NameExpr):
            if isinstance(name.node, nodes.Var) and id(name) not in binding:
                self._reads.setdefault(name.node, []).append(self._position[id(name)])
        self._asking_positions = {self._position[key] for key in asking if key in self._position}

    def handed_on_before(self, var: nodes.Var, call: nodes.CallExpr) -> bool:
        """Whether ``var`` was stored, passed or awaited before ``call`` (someone else may wait for it)."""
        at = self._position[id(call)]
        return any(p < at and p not in self._asking_positions for p in self._reads.get(var, []))

    def used_after(self, var: nodes.Var, call: nodes.CallExpr, *, besides: nodes.NameExpr | None) -> bool:
        """Whether ``var`` is used after ``call``: later in the code, or anywhere in a loop around it
        (``besides``: the read that iterates the collection whose task is cancelled)."""
        at = self._position[id(call)]
        start = min((self._position[id(loop)] for loop in self._loops_around(at)), default=at)
        skipped = self._asking_positions | ({self._position[id(besides)]} if besides is not None else set())
        reads = [p for p in self._reads.get(var, []) if p not in skipped]
        return any(p > at or (start < at and start <= p) for p in reads)

    def _loops_around(self, at: int) -> list[nodes.ForStmt | nodes.WhileStmt]:
        loops: list[nodes.ForStmt | nodes.WhileStmt] = [*self._function.of(nodes.ForStmt)]
        loops += self._function.of(nodes.WhileStmt)
        return [loop for loop in loops if self._function.walked.encloses_any(loop.body, [at])]
