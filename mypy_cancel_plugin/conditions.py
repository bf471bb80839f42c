"""Truth of a condition under an assumption, in three-valued logic.

The re-raise analysis asks of every branch: can it run while the exception in hand is the
current task's cancellation and that task is still being cancelled?  ``evaluate`` answers
for a condition under that assumption: ``TRUE``/``FALSE`` when the assumption decides it,
``UNKNOWN`` otherwise.  Version and platform checks are constants for the target, exactly
as mypy decides them; ``and``/``or``/``not`` combine by three-valued logic; a walrus is
worth its value.  What the assumption says about the current task lives here
(``CurrentTask``); what it says about the exception in hand is supplied by the caller.
``implied`` answers the converse question for a fact some leaves state (``caught is given``):
what a branch taken, or not taken, proves about it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from mypy import nodes
from mypy.options import Options
from mypy.reachability import (
    ALWAYS_FALSE,
    ALWAYS_TRUE,
    MYPY_FALSE,
    MYPY_TRUE,
    infer_condition_value,
)
from mypy.types import AnyType, Instance, LiteralType, NoneType, ProperType, UnionType, get_proper_type

from mypy_cancel_plugin import semantics, walk
from mypy_cancel_plugin.static_types import Resolver


class Truth(enum.Enum):
    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"

    def negate(self) -> Truth:
        return {Truth.TRUE: Truth.FALSE, Truth.FALSE: Truth.TRUE}.get(self, Truth.UNKNOWN)

    @staticmethod
    def of(value: bool) -> Truth:
        return Truth.TRUE if value else Truth.FALSE

    def both(self, other: Truth) -> Truth:
        """``self and other``, three-valued."""
        if Truth.FALSE in (self, other):
            return Truth.FALSE
        return Truth.TRUE if self is other is Truth.TRUE else Truth.UNKNOWN

    @staticmethod
    def any_of(truths: Iterable[Truth]) -> Truth:
        """``a or b or ...``, three-valued."""
        seen = set(truths)
        if Truth.TRUE in seen:
            return Truth.TRUE
        return Truth.FALSE if seen <= {Truth.FALSE} else Truth.UNKNOWN


Atom = Callable[[nodes.Expression], Truth]
# A fact that some leaves of a condition state: ``True`` for a leaf that holds exactly when the
# fact does, ``False`` for one that holds exactly when it does not, ``None`` for any other leaf.
Fact = Callable[[nodes.Expression], "bool | None"]

_STATIC_TRUTH = {ALWAYS_TRUE: Truth.TRUE, MYPY_TRUE: Truth.TRUE, ALWAYS_FALSE: Truth.FALSE, MYPY_FALSE: Truth.FALSE}
_MIRRORED = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}


def evaluate(condition: nodes.Expression, atom: Atom, options: Options | None) -> Truth:
    """The truth of ``condition`` when ``atom`` gives the truth of its leaves."""
    if isinstance(condition, nodes.UnaryExpr) and condition.op == "not":
        return evaluate(condition.expr, atom, options).negate()
    if isinstance(condition, nodes.OpExpr) and condition.op in ("and", "or"):
        left = evaluate(condition.left, atom, options)
        # The side that decides "a and b" is a false one; "a or b", a true one.
        deciding = Truth.FALSE if condition.op == "and" else Truth.TRUE
        if left is deciding:
            return deciding
        right = evaluate(condition.right, atom, options)
        if right is deciding:
            return deciding
        return right if left is deciding.negate() else Truth.UNKNOWN
    if isinstance(condition, nodes.AssignmentExpr):
        return evaluate(condition.value, atom, options)
    literal = _literal_truth(condition)
    if literal is not Truth.UNKNOWN:
        return literal
    if options is not None:
        static = _STATIC_TRUTH.get(infer_condition_value(condition, options))
        if static is not None:
            return static
    return atom(condition)


def _literal_truth(expr: nodes.Expression) -> Truth:
    """``True``, ``False``, ``None`` and integer literals."""
    if isinstance(expr, nodes.NameExpr) and expr.fullname in ("builtins.True", "builtins.False", "builtins.None"):
        return Truth.of(expr.fullname == "builtins.True")
    value = walk.int_constant(expr)
    return Truth.UNKNOWN if value is None else Truth.of(value != 0)


def literal_type_truth(typ: ProperType | None) -> Truth:
    """The truth of a value whose type fixes it: ``None``, or a literal (also one mypy inferred
    from a literal expression), enums left out."""
    if isinstance(typ, NoneType):
        return Truth.FALSE
    if isinstance(typ, Instance) and typ.last_known_value is not None:
        typ = typ.last_known_value
    if isinstance(typ, LiteralType) and not typ.fallback.type.is_enum:
        return Truth.of(bool(typ.value))
    return Truth.UNKNOWN


@dataclass(frozen=True)
class Interval:
    """The integers ``low`` ... ``high`` (``high`` ``None``: unbounded)."""

    low: int
    high: int | None = None

    def compare(self, op: str, value: int) -> Truth:
        """Whether ``n <op> value`` holds for all, none or some ``n`` of the interval."""
        high = math.inf if self.high is None else self.high
        below, above = self.low < value, high > value  # some n < value / some n > value
        equal = self.low <= value <= high
        some = {"<": below, "<=": below or equal, ">": above, ">=": above or equal,
                "==": equal, "!=": below or above}[op]
        every = {"<": high < value, "<=": high <= value, ">": self.low > value, ">=": self.low >= value,
                 "==": self.low == high == value, "!=": not equal}[op]
        return Truth.TRUE if every else Truth.FALSE if not some else Truth.UNKNOWN

    def minus(self, value: int) -> Interval:
        return Interval(self.low - value, None if self.high is None else self.high - value)


def comparison_truth(condition: nodes.ComparisonExpr,
                     difference: Callable[[nodes.Expression, nodes.Expression], Interval | None]) -> Truth:
    """``a <op> b`` (either way round) where ``difference`` knows the integers ``a - b`` can be."""
    if len(condition.operators) != 1 or condition.operators[0] not in _MIRRORED:
        return Truth.UNKNOWN
    op = condition.operators[0]
    left, right = condition.operands
    for first, second, first_op in ((left, right, op), (right, left, _MIRRORED[op])):
        known = difference(first, second)
        if known is not None:
            return known.compare(first_op, 0)
    return Truth.UNKNOWN


def implied(condition: nodes.Expression, atom: Atom, fact: Fact, options: Options | None, *, holds: bool) -> Truth:
    """What ``condition`` evaluating to ``holds`` says about ``fact``: ``TRUE`` when it cannot
    unless the fact holds, ``FALSE`` when it cannot if the fact holds, else ``UNKNOWN``.

    The condition is evaluated with the fact assumed each way, so every form ``evaluate``
    understands (``not``, ``and``/``or``, walrus, constants) proves it alike.
    """

    def assuming(value: Truth) -> Truth:
        def leaf(expr: nodes.Expression) -> Truth:
            states = fact(expr)
            return atom(expr) if states is None else value if states else value.negate()

        return evaluate(condition, leaf, options)

    refuted = Truth.of(not holds)
    if_true, if_false = assuming(Truth.TRUE), assuming(Truth.FALSE)
    if if_false is refuted and if_true is not refuted:
        return Truth.TRUE
    if if_true is refuted and if_false is not refuted:
        return Truth.FALSE
    return Truth.UNKNOWN


# The cases a leaf of a condition is true in, of some exclusive cases a value can be in (a
# coroutine, a future, anything else); ``None`` for a leaf that says nothing about them.
CasesOf = Callable[[nodes.Expression], "frozenset[str] | None"]


def possible_cases(condition: nodes.Expression, true_in: CasesOf, cases: Iterable[str], options: Options | None,
                   *, holds: bool) -> frozenset[str]:
    """The cases in which ``condition`` can evaluate to ``holds``: those that do not refute it.

    The generalisation of ``implied`` to a value that is one of several things: under
    ``if isinstance(x, Future) or iscoroutine(x)``, ``x`` is a future or a coroutine, nothing else.
    """
    refuted = Truth.of(not holds)
    return frozenset(case for case in cases if _in_case(condition, case, true_in, options) is not refuted)


def true_in_cases(expr: nodes.Expression, true_in: CasesOf, cases: Iterable[str],
                  options: Options | None) -> frozenset[str] | None:
    """The cases ``expr`` is true in, when it is decided in every one (a predicate's returned
    condition: ``return isinstance(v, Future) or iscoroutine(v)``); ``None`` if not."""
    truths = {case: _in_case(expr, case, true_in, options) for case in cases}
    if Truth.UNKNOWN in truths.values():
        return None
    return frozenset(case for case, truth in truths.items() if truth is Truth.TRUE)


def _in_case(condition: nodes.Expression, case: str, true_in: CasesOf, options: Options | None) -> Truth:
    def leaf(expr: nodes.Expression) -> Truth:
        cases = true_in(expr)
        return Truth.UNKNOWN if cases is None else Truth.of(case in cases)

    return evaluate(condition, leaf, options)


def identity_check(expr: nodes.Expression) -> tuple[nodes.Expression, nodes.Expression, bool] | None:
    """``(a, b, True)`` for ``a is b``, ``(a, b, False)`` for ``a is not b``."""
    if isinstance(expr, nodes.ComparisonExpr) and expr.operators in (["is"], ["is not"]):
        return expr.operands[0], expr.operands[1], expr.operators == ["is"]
    return None


def none_check(expr: nodes.Expression) -> tuple[nodes.Expression, bool] | None:
    """``(x, True)`` for ``x is None``, ``(x, False)`` for ``x is not None``."""
    if (
        isinstance(expr, nodes.ComparisonExpr)
        and expr.operators in (["is"], ["is not"])
        and walk.names_constant(expr.operands[1], None)
    ):
        return expr.operands[0], expr.operators == ["is"]
    return None


# The count of pending cancellations of the current task while it is being cancelled.
BEING_CANCELLED = Interval(1)


N = TypeVar("N", bound=nodes.Node)


class NodesOf(Protocol):
    """A function's nodes of exactly one class, in source order (``context.FunctionScope.of``)."""

    def __call__(self, kind: type[N]) -> list[N]: ...


# Place (``place_of``) -> every value one function stores there (``None``: a value not written
# out, such as a loop or ``with`` target's, or an item of an unpacked tuple).
StoredValues = dict[object, list["nodes.Expression | None"]]


def stored_values(nodes_of: NodesOf) -> StoredValues:
    """What one function stores in each variable and ``self`` attribute, in source order."""
    stored: StoredValues = {}

    def record(target: nodes.Expression, value: nodes.Expression | None) -> None:
        key = place_of(target)
        if key is not None:
            stored.setdefault(key, []).append(value)
        elif isinstance(target, (nodes.TupleExpr, nodes.ListExpr)):
            for item in target.items:
                record(item, None)

    for assignment in nodes_of(nodes.AssignmentStmt):
        for lvalue in assignment.lvalues:
            record(lvalue, assignment.rvalue)
    for walrus in nodes_of(nodes.AssignmentExpr):
        record(walrus.target, walrus.value)
    for loop in nodes_of(nodes.ForStmt):
        record(loop.index, None)
    for with_stmt in nodes_of(nodes.WithStmt):
        for target in with_stmt.target:
            if target is not None:
                record(target, None)
    return stored


class CurrentTask:
    """Which values of one function are the task running it, and what its cancel count says.

    A value is the current task when it comes from ``asyncio.current_task()``: the call
    itself, or a local, walrus target or ``self`` attribute that this function assigns only
    from that call (or ``None``).  Its type, when known, must be an asyncio task.  A task
    held elsewhere (a parameter, ``self._task`` set by another method) may be any task:
    its count says nothing about the current one.
    """

    def __init__(self, stored: StoredValues, resolver: Resolver,
                 helper_reads_count: Callable[[nodes.CallExpr], bool] = lambda call: False) -> None:
        """``stored``: what the function stores where (``stored_values``); ``helper_reads_count``:
        whether a call's helper returns, on every path, the current task's count (``reads_count``)."""
        self._resolver = resolver
        self._assigned = stored
        self._helper_reads_count = helper_reads_count
        self._places_known: dict[object, bool] = {}
        self._places_counted: dict[object, bool] = {}

    def is_current_task(self, expr: nodes.Expression) -> bool:
        expr = walk.unwrapped(expr)
        if not _may_be_task(self._resolver.type_of(expr)):
            return False
        if isinstance(expr, nodes.CallExpr):
            return isinstance(expr.callee, nodes.RefExpr) and expr.callee.fullname in semantics.CURRENT_TASK_FUNCTIONS
        key = place_of(expr)
        if key is None:
            return False
        if key not in self._places_known:
            self._places_known[key] = False  # a place assigned from itself is not known to hold the task
            found = [value for value in self._assigned.get(key, []) if value is None or not walk.names_constant(value, None)]
            self._places_known[key] = bool(found) and all(
                value is not None and self.is_current_task(value) for value in found
            )
        return self._places_known[key]

    def reads_count(self, expr: nodes.Expression) -> bool:
        """``expr`` is the current task's count of pending cancellations: ``<current task>.cancelling()``,
        a conditional whose branch taken while a task runs is one (``t.cancelling() if (t :=
        current_task()) else 0``), or a call of a helper that returns one on every path."""
        expr = walk.unwrapped(expr)
        if isinstance(expr, nodes.ConditionalExpr):
            taken = evaluate(expr.cond, self.existence_truth, None)
            return taken is not Truth.UNKNOWN and self.reads_count(expr.if_expr if taken is Truth.TRUE else expr.else_expr)
        if not isinstance(expr, nodes.CallExpr) or expr.args:
            return False
        if isinstance(expr.callee, nodes.MemberExpr) and expr.callee.name in semantics.CANCEL_COUNT_READERS:
            return self.is_current_task(expr.callee.expr)
        return self._helper_reads_count(expr)

    def count(self, expr: nodes.Expression) -> Interval | None:
        """While the current task is being cancelled: the value of ``<current task>.cancelling()``/``.uncancel()``.

        ``uncancel()`` returns the count left after it, so this is the count the code that
        follows the condition sees.
        """
        if self.reads_count(expr) or (
            isinstance(expr, nodes.CallExpr)
            and not expr.args
            and isinstance(expr.callee, nodes.MemberExpr)
            and expr.callee.name in semantics.CANCEL_COUNT_DECREMENTERS
            and self.is_current_task(expr.callee.expr)
        ):
            return BEING_CANCELLED
        return None

    def holds_earlier_count(self, expr: nodes.Expression) -> bool:
        """A variable or ``self`` attribute this function stores only the current task's count in
        (``before = task.cancelling()`` ahead of awaiting a task it cancelled): read in a handler,
        it is the count from before the cancellation in hand was requested."""
        key = place_of(expr)
        if key is None:
            return False
        if key not in self._places_counted:
            self._places_counted[key] = False  # a place assigned from itself is not known to hold one
            values = self._assigned.get(key, [])
            self._places_counted[key] = bool(values) and all(
                value is not None and self.reads_count(value) for value in values
            )
        return self._places_counted[key]

    def count_difference(self, first: nodes.Expression, second: nodes.Expression) -> Interval | None:
        """While the current task is being cancelled: the integers ``first - second`` can be, where
        ``first`` is its count and ``second`` a constant, or a count this function stored earlier (a
        cancellation of the current task requested since raised the count by at least one)."""
        count = self.count(first)
        if count is None:
            return None
        constant = walk.int_constant(second)
        if constant is not None:
            return count.minus(constant)
        return Interval(1) if self.reads_count(first) and self.holds_earlier_count(second) else None

    def truth(self, expr: nodes.Expression) -> Truth:
        """The truth of a leaf condition while the current task is being cancelled."""
        count = self.count(expr)
        if count is not None:
            return count.compare("!=", 0)
        if isinstance(expr, nodes.ComparisonExpr) and none_check(expr) is None:
            return comparison_truth(expr, self.count_difference)
        return self.existence_truth(expr)

    def existence_truth(self, expr: nodes.Expression) -> Truth:
        """The truth of a leaf condition in code a task runs, whatever its cancel count: a task is
        running it, so the current task exists (``task``, ``task is None``)."""
        checked = none_check(expr)
        if checked is not None:
            return Truth.of(not checked[1]) if self.is_current_task(checked[0]) else Truth.UNKNOWN
        return Truth.TRUE if self.is_current_task(expr) else Truth.UNKNOWN

    def withdraws_cancellation(self, expr: nodes.Node) -> bool:
        """``<current task>.uncancel()`` in ``expr``: the code withdraws the cancellation it handles."""
        return any(
            isinstance(node, nodes.CallExpr)
            and isinstance(node.callee, nodes.MemberExpr)
            and node.callee.name in semantics.CANCEL_COUNT_DECREMENTERS
            and self.is_current_task(node.callee.expr)
            for node in [expr, *walk.descendants(expr)]
        )


def place_of(expr: nodes.Expression) -> object | None:
    """A key for where an assignment stores a value: a variable, or an attribute of ``self``."""
    if isinstance(expr, nodes.NameExpr) and isinstance(expr.node, nodes.Var):
        return expr.node
    if (
        isinstance(expr, nodes.MemberExpr)
        and isinstance(expr.expr, nodes.NameExpr)
        and isinstance(expr.expr.node, nodes.Var)
        and expr.expr.node.is_self
    ):
        return ("self", expr.name)
    return None


def _may_be_task(typ: ProperType | None) -> bool:
    """Unknown, or an asyncio task (``None`` allowed: ``current_task()`` is optional)."""
    if typ is None or isinstance(typ, AnyType):
        return True
    members = [get_proper_type(item) for item in typ.items] if isinstance(typ, UnionType) else [typ]
    return all(
        isinstance(member, NoneType)
        or (isinstance(member, Instance) and any(member.type.has_base(name) for name in semantics.TASK_CLASSES))
        for member in members
    )
