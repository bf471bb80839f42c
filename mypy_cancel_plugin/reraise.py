"""Re-raise flow analysis: the paths through a block that end without propagating a cancellation.

``escapes(block)`` follows every path through a handler (or ``finally``) body and returns
where each path that does *not* propagate the exception in hand ends: falling off the end,
``return``, ``break``, ``continue`` or raising something else.  Paths end correctly at
``raise``, ``raise <bound name>``, raising another cancellation, or a call declared
``NoReturn``.  Branches are pruned where the code itself proves the exception in hand is
not the current task's cancellation: ``isinstance`` checks on the bound name and tests of
``Task.cancelling()``/``Task.uncancel()``.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mypy import nodes
from mypy.patterns import AsPattern
from mypy.types import Instance, ProperType, TypeType, UninhabitedType

from mypy_cancel_plugin import predicates, walk

if TYPE_CHECKING:
    from mypy_cancel_plugin.context import FunctionScope, ModuleContext


class EscapeKind(enum.Enum):
    FALLS_THROUGH = "ends"
    RETURNS = "return"
    BREAKS = "break"
    CONTINUES = "continue"
    RAISES_OTHER = "raise"


@dataclass(frozen=True)
class Escape:
    """A path that leaves the block at ``line`` without propagating the exception in hand."""

    kind: EscapeKind
    line: int
    column: int = 0
    raised: str = ""

    def describe(self) -> str:
        if self.kind is EscapeKind.RAISES_OTHER:
            return f"raises {self.raised} at line {self.line} instead"
        if self.kind is EscapeKind.RETURNS:
            return f"returns at line {self.line} without re-raising"
        if self.kind is EscapeKind.BREAKS:
            return f'leaves its loop with "break" at line {self.line} without re-raising'
        if self.kind is EscapeKind.CONTINUES:
            return f'goes on with "continue" at line {self.line} without re-raising'
        return f"ends at line {self.line} without re-raising"


_LOOP_EXITS = (EscapeKind.BREAKS, EscapeKind.CONTINUES)
_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "==": operator.eq, "!=": operator.ne,
}
_CANCEL_COUNTERS = ("cancelling", "uncancel")


def is_cancel_counter(expr: nodes.Expression) -> bool:
    """``<task>.cancelling()`` or ``<task>.uncancel()``: the current cancellation count."""
    return (
        isinstance(expr, nodes.CallExpr)
        and not expr.args
        and isinstance(expr.callee, nodes.MemberExpr)
        and expr.callee.name in _CANCEL_COUNTERS
    )


def calls_uncancel(expr: nodes.Node) -> bool:
    """Whether ``expr`` calls ``<task>.uncancel()``: explicit cancellation bookkeeping."""
    return any(
        isinstance(node, nodes.CallExpr)
        and isinstance(node.callee, nodes.MemberExpr)
        and node.callee.name == "uncancel"
        for node in [expr, *walk.descendants(expr)]
    )


class ReraiseFlow:
    """The flow of one ``except`` handler (or ``finally`` block) of a try statement."""

    def __init__(
        self,
        scope: FunctionScope,
        module: ModuleContext,
        bound: nodes.Var | None,
        kinds: frozenset[str] | None = None,
    ) -> None:
        self._scope = scope
        self._module = module
        self._resolver = scope.resolver
        self._bound = bound
        # The cancellations the exception in hand can be (what earlier clauses left to this one).
        self._kinds = kinds if kinds is not None else module.libraries_in_play
        # Names of the exceptions caught by enclosing handlers *inside* the analysed block:
        # a bare ``raise`` there re-raises that exception, not ours.
        self._inner_handlers: list[str] = []
        # Names holding the part of a caught exception group that keeps its cancellation.
        self._carriers: set[nodes.SymbolNode] = set()

    def escapes(self, block: nodes.Block) -> list[Escape]:
        self._carriers = self._group_parts_keeping_cancellation(block)
        return sorted(set(self._block(block.body, block.line)), key=lambda e: (e.line, e.kind.value))

    def _group_parts_keeping_cancellation(self, block: nodes.Block) -> set[nodes.SymbolNode]:
        """``sub = group.subgroup(T)`` / ``match, rest = group.split(T)`` on the caught group.

        The part that keeps the cancellation is ``sub``/``match`` when ``T`` names a
        cancellation, else ``rest``: raising it propagates, and it being ``None`` proves the
        group held no cancellation.
        """
        carriers: set[nodes.SymbolNode] = set()
        for node in walk.descendants(block):
            if not isinstance(node, nodes.AssignmentStmt) or len(node.lvalues) != 1:
                continue
            call = node.rvalue
            if not (
                isinstance(call, nodes.CallExpr)
                and len(call.args) == 1
                and isinstance(call.callee, nodes.MemberExpr)
                and call.callee.name in ("subgroup", "split")
                and isinstance(call.callee.expr, nodes.NameExpr)
                and self._bound is not None
                and call.callee.expr.node is self._bound
            ):
                continue
            classes = predicates.classes_named_by(call.args[0], self._resolver)
            names_cancellation = any(predicates.cancellation_libraries(c) for c in classes)
            target = node.lvalues[0]
            if call.callee.name == "split" and isinstance(target, nodes.TupleExpr) and len(target.items) == 2:
                target = target.items[0 if names_cancellation else 1]
            elif call.callee.name == "split" or not names_cancellation:
                continue
            if isinstance(target, nodes.NameExpr) and target.node is not None:
                carriers.add(target.node)
        return carriers

    # -- statements ---------------------------------------------------------------------------

    def _block(self, body: Sequence[nodes.Statement], line: int) -> list[Escape]:
        escapes: list[Escape] = []
        falling = [Escape(EscapeKind.FALLS_THROUGH, line)]
        for statement in body:
            if getattr(statement, "is_unreachable", False):
                continue
            outcome = self._statement(statement)
            escapes.extend(e for e in outcome if e.kind is not EscapeKind.FALLS_THROUGH)
            falling = [e for e in outcome if e.kind is EscapeKind.FALLS_THROUGH]
            if not falling:
                return escapes
        return escapes + falling

    def _statement(self, stmt: nodes.Statement) -> list[Escape]:
        falls = [Escape(EscapeKind.FALLS_THROUGH, stmt.end_line or stmt.line)]
        if isinstance(stmt, nodes.Block):
            return [] if stmt.is_unreachable else self._block(stmt.body, stmt.line)
        if isinstance(stmt, nodes.RaiseStmt):
            return self._raise(stmt)
        if isinstance(stmt, nodes.ReturnStmt):
            return [Escape(EscapeKind.RETURNS, stmt.line, stmt.column)]
        if isinstance(stmt, nodes.BreakStmt):
            return [Escape(EscapeKind.BREAKS, stmt.line, stmt.column)]
        if isinstance(stmt, nodes.ContinueStmt):
            return [Escape(EscapeKind.CONTINUES, stmt.line, stmt.column)]
        if isinstance(stmt, nodes.IfStmt):
            return self._if(stmt)
        if isinstance(stmt, (nodes.WhileStmt, nodes.ForStmt)):
            return self._loop(stmt)
        if isinstance(stmt, nodes.WithStmt):
            return self._block(stmt.body.body, stmt.line)
        if isinstance(stmt, nodes.TryStmt):
            return self._try(stmt)
        if isinstance(stmt, nodes.MatchStmt):
            return self._match(stmt)
        if isinstance(stmt, nodes.AssertStmt) and _is_false_literal(stmt.expr):
            return []
        if isinstance(stmt, (nodes.ExpressionStmt, nodes.AssignmentStmt)) and calls_uncancel(stmt):
            # ``task.uncancel()``: the handler is doing its own cancellation bookkeeping.
            return []
        if isinstance(stmt, nodes.ExpressionStmt) and self._never_returns(stmt.expr):
            return []
        if isinstance(stmt, nodes.AssignmentStmt) and self._defers_reraise(stmt):
            return []
        return falls

    def _raise(self, stmt: nodes.RaiseStmt) -> list[Escape]:
        if stmt.expr is None:
            if self._inner_handlers:
                return [Escape(EscapeKind.RAISES_OTHER, stmt.line, stmt.column, self._inner_handlers[-1])]
            return []
        expr = stmt.expr
        if isinstance(expr, nodes.NameExpr) and expr.node is not None and (
            expr.node is self._bound or expr.node in self._carriers
        ):
            return []
        raised = self._resolver.type_of(expr)
        if predicates.is_cancellation_instance(raised):
            return []
        return [Escape(EscapeKind.RAISES_OTHER, stmt.line, stmt.column, _describe_raised(expr, raised))]

    def _if(self, stmt: nodes.IfStmt) -> list[Escape]:
        if any(calls_uncancel(condition) for condition in stmt.expr):
            return []  # ``if task.uncancel() ...``: the handler does its own bookkeeping
        escapes: list[Escape] = []
        for condition, body in zip(stmt.expr, stmt.body, strict=True):
            if not body.is_unreachable and not self._excludes_cancellation(condition, True):
                escapes.extend(self._block(body.body, body.line))
            if self._excludes_cancellation(condition, False):
                return escapes
        if stmt.else_body is None:
            return escapes + [Escape(EscapeKind.FALLS_THROUGH, stmt.line)]
        if stmt.else_body.is_unreachable:
            return escapes
        return escapes + self._block(stmt.else_body.body, stmt.else_body.line)

    def _loop(self, stmt: nodes.WhileStmt | nodes.ForStmt) -> list[Escape]:
        inner = self._block(stmt.body.body, stmt.line)
        escapes = [e for e in inner if e.kind not in _LOOP_EXITS and e.kind is not EscapeKind.FALLS_THROUGH]
        breaks = [Escape(EscapeKind.FALLS_THROUGH, e.line) for e in inner if e.kind is EscapeKind.BREAKS]
        endless = isinstance(stmt, nodes.WhileStmt) and _is_true_literal(stmt.expr)
        if endless:
            return escapes + breaks
        if stmt.else_body is not None:
            return escapes + breaks + self._block(stmt.else_body.body, stmt.else_body.line)
        return escapes + breaks + [Escape(EscapeKind.FALLS_THROUGH, stmt.end_line or stmt.line)]

    def _try(self, stmt: nodes.TryStmt) -> list[Escape]:
        body = self._block(stmt.body.body, stmt.line)
        escapes = [e for e in body if e.kind is not EscapeKind.FALLS_THROUGH]
        if stmt.else_body is not None and len(escapes) < len(body):
            escapes += self._block(stmt.else_body.body, stmt.else_body.line)
        else:
            escapes += [e for e in body if e.kind is EscapeKind.FALLS_THROUGH]
        for type_expr, handler in zip(stmt.types, stmt.handlers, strict=True):
            self._inner_handlers.append(_describe_clause(type_expr))
            try:
                escapes += self._block(handler.body, handler.line)
            finally:
                self._inner_handlers.pop()
        if stmt.finally_body is None:
            return escapes
        final = self._block(stmt.finally_body.body, stmt.finally_body.line)
        if not any(e.kind is EscapeKind.FALLS_THROUGH for e in final):
            return final
        return escapes + [e for e in final if e.kind is not EscapeKind.FALLS_THROUGH]

    def _match(self, stmt: nodes.MatchStmt) -> list[Escape]:
        escapes: list[Escape] = []
        for body in stmt.bodies:
            escapes += self._block(body.body, body.line)
        last_pattern, last_guard = stmt.patterns[-1], stmt.guards[-1]
        irrefutable = isinstance(last_pattern, AsPattern) and last_pattern.pattern is None
        if not (irrefutable and last_guard is None):
            escapes.append(Escape(EscapeKind.FALLS_THROUGH, stmt.line))
        return escapes

    # -- expressions --------------------------------------------------------------------------

    def _never_returns(self, expr: nodes.Expression) -> bool:
        """A call (or awaited call) declared ``NoReturn``, or of a helper in this module that always raises."""
        if not isinstance(expr, (nodes.CallExpr, nodes.AwaitExpr)):
            return False
        if isinstance(self._resolver.type_of(expr), UninhabitedType):
            return True
        call = expr.expr if isinstance(expr, nodes.AwaitExpr) else expr
        if not isinstance(call, nodes.CallExpr):
            return False
        callee = self._resolver.definition_of(call.callee)
        return isinstance(callee, nodes.FuncDef) and self._always_raises(callee)

    def _always_raises(self, helper: nodes.FuncDef) -> bool:
        """``def fail(exc) -> None: ...; raise exc``: every path through ``helper`` raises.

        Only helpers of the module being checked are read: other modules' bodies may come
        from mypy's cache without their statements, and the answer must not depend on that.
        """
        known = self._module.helpers_that_always_raise
        if id(helper) not in known:
            if not self._module.defines(helper):
                return False
            known[id(helper)] = False  # a recursive helper is not assumed to raise
            helper_scope = self._module.scope_of(helper)
            ends = ReraiseFlow(helper_scope, self._module, None).escapes(helper.body)
            known[id(helper)] = not any(e.kind in (EscapeKind.FALLS_THROUGH, EscapeKind.RETURNS) for e in ends)
        return known[id(helper)]

    def _defers_reraise(self, stmt: nodes.AssignmentStmt) -> bool:
        """``err = exc`` where the function raises ``err`` later: the re-raise is only deferred."""
        rvalue = stmt.rvalue
        if self._bound is None or not (isinstance(rvalue, nodes.NameExpr) and rvalue.node is self._bound):
            return False
        return any(
            isinstance(target, nodes.NameExpr) and target.node in self._scope.raised_names
            for target in stmt.lvalues
        )

    def _excludes_cancellation(self, condition: nodes.Expression, truth: bool) -> bool:
        """Whether ``bool(condition) == truth`` proves the exception in hand is not our cancellation."""
        if isinstance(condition, nodes.UnaryExpr) and condition.op == "not":
            return self._excludes_cancellation(condition.expr, not truth)
        if isinstance(condition, nodes.OpExpr) and condition.op in ("and", "or"):
            sides: tuple[nodes.Expression, ...] = (condition.left, condition.right)
            # "a and b" is true only when both are; "a or b" is false only when both are.
            if (condition.op == "and") == truth:
                return any(self._excludes_cancellation(side, truth) for side in sides)
            if condition.op == "and":
                # ``task is not None and task.cancelling()``: the None check only narrows a type.
                sides = tuple(side for side in sides if not _is_not_none_check(side)) or sides
            return all(self._excludes_cancellation(side, truth) for side in sides)
        if is_cancel_counter(condition):
            return not truth  # a zero count: the current task is not being cancelled
        if isinstance(condition, nodes.NameExpr) and condition.node in self._carriers:
            return not truth  # no part of the group kept a cancellation
        if isinstance(condition, nodes.ComparisonExpr) and self._is_carrier_none_check(condition):
            return (condition.operators == ["is"]) == truth
        if isinstance(condition, nodes.ComparisonExpr):
            return _count_comparison_excludes(condition, truth)
        if isinstance(condition, nodes.CallExpr):
            return self._isinstance_excludes(condition, truth)
        return False

    def _isinstance_excludes(self, call: nodes.CallExpr, truth: bool) -> bool:
        if not (
            isinstance(call.callee, nodes.NameExpr)
            and call.callee.fullname == "builtins.isinstance"
            and len(call.args) == 2
            and isinstance(call.args[0], nodes.NameExpr)
            and self._bound is not None
            and call.args[0].node is self._bound
        ):
            return False
        classes = predicates.classes_named_by(call.args[1], self._resolver)
        found = [predicates.cancellation_libraries(c) for c in classes]
        if truth:
            return all(f is None or not (f[0] & self._kinds) for f in found)
        taken = frozenset().union(*(f[0] for f in found if f is not None and f[1]))
        return self._kinds <= taken

    def _is_carrier_none_check(self, condition: nodes.ComparisonExpr) -> bool:
        """``part is None`` / ``part is not None`` on a group part that keeps the cancellation."""
        subject = _none_check_subject(condition)
        return isinstance(subject, nodes.NameExpr) and subject.node in self._carriers


def _count_comparison_excludes(condition: nodes.ComparisonExpr, truth: bool) -> bool:
    """``task.cancelling() > 0`` and the like: true/false only when the count is zero."""
    if len(condition.operators) != 1:
        return False
    left, right = condition.operands
    op = condition.operators[0]
    if is_cancel_counter(right) and isinstance(left, nodes.IntExpr):
        left, right, op = right, left, {">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(op, op)
    if not (is_cancel_counter(left) and isinstance(right, nodes.IntExpr) and op in _COMPARISONS):
        return False
    compare = _COMPARISONS[op]
    counts_giving_truth = [n for n in range(0, right.value + 3) if compare(n, right.value) == truth]
    return counts_giving_truth == [0]


def _none_check_subject(expr: nodes.Expression) -> nodes.Expression | None:
    """``x`` of ``x is None`` / ``x is not None``."""
    if (
        isinstance(expr, nodes.ComparisonExpr)
        and expr.operators in (["is"], ["is not"])
        and isinstance(expr.operands[1], nodes.NameExpr)
        and expr.operands[1].fullname == "builtins.None"
    ):
        return expr.operands[0]
    return None


def _is_not_none_check(expr: nodes.Expression) -> bool:
    return isinstance(expr, nodes.ComparisonExpr) and expr.operators == ["is not"] and bool(_none_check_subject(expr))


def _is_true_literal(expr: nodes.Expression) -> bool:
    return (isinstance(expr, nodes.NameExpr) and expr.fullname == "builtins.True") or (
        isinstance(expr, nodes.IntExpr) and expr.value != 0
    )


def _is_false_literal(expr: nodes.Expression) -> bool:
    return (isinstance(expr, nodes.NameExpr) and expr.fullname == "builtins.False") or (
        isinstance(expr, nodes.IntExpr) and expr.value == 0
    )


def _describe_clause(type_expr: nodes.Expression | None) -> str:
    if type_expr is None:
        return "the exception caught by an inner bare except"
    return f"the exception caught by an inner except {_source_name(type_expr)}"


def _describe_raised(expr: nodes.Expression, raised: ProperType | None) -> str:
    if isinstance(raised, TypeType) and isinstance(raised.item, Instance):
        return raised.item.type.name
    if isinstance(raised, Instance):
        return raised.type.name
    return _source_name(expr.callee if isinstance(expr, nodes.CallExpr) else expr)


def _source_name(expr: nodes.Expression) -> str:
    if isinstance(expr, nodes.TupleExpr):
        return "(" + ", ".join(_source_name(item) for item in expr.items) + ")"
    return walk.dotted_name(expr) or "an exception"
