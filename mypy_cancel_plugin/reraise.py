"""Re-raise flow analysis: the paths through a block that end without propagating a cancellation.

``escapes(block)`` follows every path through a handler (or ``finally``) body and returns
where each path that does *not* propagate the exception in hand ends: falling off the end,
``return``, ``break``, ``continue`` or raising something else.  Paths end correctly where the
exception in hand is raised again: a bare ``raise``, raising any value that holds it (the
bound name, a copy, an attribute, a member or part of a caught group), raising another
cancellation, a call that never returns or a helper that re-raises what it is given, and an
assignment to a place that the code after the ``try`` raises.  A branch is pruned when its
condition cannot hold while the exception in hand is the current task's cancellation and that
task is still being cancelled (``conditions``).

In a context manager's exit method, a falsy return makes the ``with`` statement raise again the
exception the method was given (``semantics.EXIT_EXCEPTION_PARAMETER``): a path on which the
exception in hand is known to be that one (``caught is given``, a fact the conditions on the
path decide) re-raises it by returning ``False``/``None`` or by reaching the end of the method.
A binding of that parameter that runs only while it is ``None`` keeps it the given exception.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from mypy import nodes
from mypy.patterns import AsPattern, ClassPattern, OrPattern, Pattern
from mypy.types import AnyType, Instance, ProperType, TypeType, UninhabitedType

from mypy_cancel_plugin import mypy_internals, predicates, semantics, walk
from mypy_cancel_plugin.conditions import (
    Atom,
    CurrentTask,
    StoredValues,
    Truth,
    evaluate,
    identity_check,
    implied,
    literal_type_truth,
    none_check,
    place_of,
    stored_values,
)

if TYPE_CHECKING:
    from mypy.options import Options

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
    # On a path that goes on (``FALLS_THROUGH``): whether the exception in hand is the one the
    # exit method was given.  Not part of the escape's identity.
    given: Truth = field(default=Truth.UNKNOWN, compare=False)

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
_SIMPLE_STATEMENTS = (nodes.ExpressionStmt, nodes.AssignmentStmt, nodes.OperatorAssignmentStmt, nodes.ReturnStmt)
_ENDING = (EscapeKind.FALLS_THROUGH, EscapeKind.RETURNS)
_BEING_HANDLED = "the exception being handled"


class FunctionFacts:
    """What the analysis of every handler of one function needs, each part gathered once, on first
    use: a helper's summary (``helper_summary``) needs only the first two.  The tests known where a
    node runs (``conditions_at``) serve the evidence of other rules too."""

    def __init__(self, scope: FunctionScope, options: Options | None,
                 helper_reads_count: Callable[[nodes.CallExpr], bool] = lambda call: False) -> None:
        self._scope = scope
        self._options = options
        self._helper_reads_count = helper_reads_count
        # In an exit method: the parameter holding the exception it was given.
        self.given = _given_parameter(scope, options)

    @cached_property
    def stored(self) -> StoredValues:
        return stored_values(self._scope.of)

    @cached_property
    def current_task(self) -> CurrentTask:
        return CurrentTask(self.stored, self._scope.resolver, self._helper_reads_count)

    @cached_property
    def raised(self) -> set[object]:
        """Places (variables, ``self`` attributes) some ``raise`` of this function raises."""
        places = (place_of(stmt.expr) for stmt in self._scope.of(nodes.RaiseStmt) if stmt.expr is not None)
        return {place for place in places if place is not None}

    @cached_property
    def cancelled(self) -> dict[str, int]:
        """``<name>.cancel()`` calls: the dotted name of the receiver -> the first line calling it."""
        cancelled: dict[str, int] = {}
        for call in self._scope.of(nodes.CallExpr):
            if isinstance(call.callee, nodes.MemberExpr) and call.callee.name == "cancel":
                name = walk.dotted_name(call.callee.expr)
                if name is not None:
                    cancelled.setdefault(name, call.line)
        return cancelled

    @cached_property
    def dead(self) -> set[int]:
        """Ids of the code mypy does not check: blocks it marked unreachable, and the statements
        after one that never completes (``return``, ``raise``, an assert that fails for the
        target, a ``NoReturn`` call), with everything inside them."""
        roots: list[nodes.Node] = []
        for block in self._scope.of(nodes.Block):
            ends = next((i for i, stmt in enumerate(block.body) if _never_completes(stmt, self._scope, self._options)), None)
            if block.is_unreachable:
                roots.append(block)
            elif ends is not None:
                roots += block.body[ends + 1:]
        return {id(node) for root in roots for node in (root, *walk.descendants(root))}

    @cached_property
    def _layout(self) -> tuple[dict[int, tuple[nodes.Block, int]], dict[int, nodes.Statement]]:
        """Statement -> (block, index) holding it, and block -> the statement it belongs to."""
        position: dict[int, tuple[nodes.Block, int]] = {}
        owner: dict[int, nodes.Statement] = {}
        for node in self._scope.nodes:
            if isinstance(node, nodes.Block):
                for index, statement in enumerate(node.body):
                    position[id(statement)] = (node, index)
            elif isinstance(node, nodes.Statement):
                for child in walk.children(node):
                    if isinstance(child, nodes.Block):
                        owner[id(child)] = node
        return position, owner

    def conditions_at(self, node: nodes.Node) -> list[tuple[nodes.Expression, bool]]:
        """The tests known to have held (``True``) or failed (``False``) where ``node`` runs, innermost
        first: those of the ``if``/``elif``/``while`` branches around it, an ``assert`` before it, and
        an earlier ``if`` whose every branch leaves the block (``if not ok: return``)."""
        known: list[tuple[nodes.Expression, bool]] = []
        position, owners = self._layout
        stmt: nodes.Statement | None = self._statement_at(node)
        while stmt is not None and id(stmt) in position:
            block, index = position[id(stmt)]
            for earlier in reversed(block.body[:index]):
                if isinstance(earlier, nodes.AssertStmt):
                    known.append((earlier.expr, True))
                elif isinstance(earlier, nodes.IfStmt) and earlier.else_body is None and all(
                    branch.body and _never_completes(branch.body[-1], self._scope, self._options) for branch in earlier.body
                ):
                    known += [(condition, False) for condition in earlier.expr]
            owner = owners.get(id(block))
            if isinstance(owner, nodes.IfStmt):
                for condition, branch in zip(owner.expr, owner.body):
                    known.append((condition, branch is block))
                    if branch is block:
                        break
            elif isinstance(owner, nodes.WhileStmt) and owner.body is block:
                known.append((owner.expr, True))
            stmt = owner
        return known

    def _statement_at(self, node: nodes.Node) -> nodes.Statement | None:
        """The statement of a block of this scope that holds ``node`` (the nearest one before it in
        the walk's order, which visits a statement's expressions before its blocks)."""
        position = self._layout[0]
        walked = self._scope.walked
        at = walked.positions.get(id(node))
        while at is not None and at >= 0:
            candidate = walked.in_order[at]
            if id(candidate) in position:
                assert isinstance(candidate, nodes.Statement)
                return candidate
            at -= 1
        return None

    def continuation(self, stmt: nodes.Statement) -> list[tuple[nodes.Block, int]]:
        """What runs after ``stmt`` completes, up to the end of the function: each enclosing
        block from the index that follows, innermost first.

        A loop around ``stmt`` is followed by what comes after the loop: whatever later
        iterations do, that code runs last.
        """
        position, owners = self._layout
        levels: list[tuple[nodes.Block, int]] = []
        while id(stmt) in position:
            block, index = position[id(stmt)]
            levels.append((block, index + 1))
            owner = owners.get(id(block))
            if owner is None:
                break
            stmt = owner
        return levels


def function_facts(scope: FunctionScope, module: ModuleContext) -> FunctionFacts:
    key = ("facts", id(scope))
    if key not in module.summaries:
        facts = FunctionFacts(scope, module.options, lambda call: _returns_cancel_count(call, scope, module))
        module.summaries[key] = (scope, facts)  # the scope is kept so its id stays its own
    found: FunctionFacts = module.summaries[key][1]
    return found


def _returns_cancel_count(call: nodes.CallExpr, scope: FunctionScope, module: ModuleContext) -> bool:
    """Whether ``call`` (in ``scope``) is of a plain function of this module that returns the current
    task's count of pending cancellations on every path (``CurrentTask.reads_count``)."""
    helper = scope.resolver.definition_of(call.callee)
    if not isinstance(helper, nodes.FuncDef) or helper.is_coroutine or not module.defines(helper):
        return False

    def decide() -> bool:
        current = function_facts(module.scope_of(helper), module).current_task
        budget = [_MAX_PATH_STEPS]
        return _every_path_returns(helper.body.body, current.reads_count, current.existence_truth, module.options, budget)

    return module.summarise(("returns cancel count", id(helper)), decide, while_deciding=False)


_MAX_PATH_STEPS = 200  # statements read along the paths of one helper before giving up (unknown)


def _every_path_returns(
    body: Sequence[nodes.Statement], wanted: Callable[[nodes.Expression], bool], atom: Atom,
    options: Options | None, budget: list[int],
) -> bool:
    """Whether every path through ``body`` that can run (``atom``: the truth of a condition's leaves)
    ends in a ``return`` of a ``wanted`` value: ``if task is None: return 0`` before the return of
    the current task's count is a path no task takes.  Loops, ``with`` and ``try`` statements that
    hold a ``return``, a ``raise``, or the end of the body are paths that return something else."""
    for index, stmt in enumerate(body):
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if isinstance(stmt, nodes.ReturnStmt):
            return stmt.expr is not None and wanted(stmt.expr)
        if isinstance(stmt, nodes.RaiseStmt):
            return False
        if isinstance(stmt, nodes.IfStmt):
            rest = body[index + 1:]
            return all(
                _every_path_returns([*branch, *rest], wanted, atom, options, budget)
                for branch in _branches_that_run(stmt, atom, options)
            )
        if isinstance(stmt, _COMPOUND) and any(isinstance(node, nodes.ReturnStmt) for node in walk.descendants(stmt)):
            return False
    return False


_COMPOUND = (nodes.WhileStmt, nodes.ForStmt, nodes.WithStmt, nodes.TryStmt, nodes.MatchStmt)


def _branches_that_run(stmt: nodes.IfStmt, atom: Atom, options: Options | None) -> list[list[nodes.Statement]]:
    """The statements of each branch of an ``if`` that can run, given the truth of its conditions
    (an ``else`` that is missing is an empty branch; mypy's unreachable blocks never run)."""
    branches: list[list[nodes.Statement]] = []
    for condition, block in zip(stmt.expr, stmt.body):
        truth = evaluate(condition, atom, options)
        if truth is not Truth.FALSE and not block.is_unreachable:
            branches.append(block.body)
        if truth is Truth.TRUE:
            return branches
    if stmt.else_body is None:
        branches.append([])
    elif not stmt.else_body.is_unreachable:
        branches.append(stmt.else_body.body)
    return branches


class ReraiseFlow:
    """The flow of one ``except`` handler (or ``finally`` block) of a try statement."""

    def __init__(
        self,
        scope: FunctionScope,
        module: ModuleContext,
        bound: nodes.Var | None,
        kinds: frozenset[str] | None = None,
        origin: nodes.TryStmt | None = None,
        level_triggered: bool | None = None,
    ) -> None:
        self._scope = scope
        self._module = module
        self._resolver = scope.resolver
        self._facts = function_facts(scope, module)
        self._origin = origin  # the try statement whose handler this is: its continuation may re-raise
        # The cancellations the exception in hand can be (what earlier clauses left to this one).
        self._kinds = kinds if kinds is not None else scope.libraries_in_play
        # Whether the cancellation is raised again at every checkpoint (trio, anyio), and how
        # many enclosing ``with`` statements of the analysed block shield it from that.
        if level_triggered is None:
            level_triggered = semantics.is_level_triggered(self._kinds, module.imported_packages)
        self._level_triggered = level_triggered
        self._shielded = 0
        # One entry per enclosing handler *inside* the analysed block: the name it binds its
        # exception to (or ``None``).  A bare ``raise`` there passes on that exception, not ours.
        self._inner_caught: list[nodes.SymbolNode | None] = []
        # In the code after a ``try`` (a continuation), a bare ``raise`` is not about our exception.
        self._bare_raise_is_other = False
        # Places (variables, ``self`` attributes) holding the exception in hand or its cancellation.
        self._carriers: set[object] = {bound} if bound is not None else set()
        # The carriers that hold one member of a caught group rather than the exception itself.
        self._member_places: set[object] = set()
        # On the path being followed: whether the exception in hand is the one the exit method
        # was given (``FunctionFacts.given``).  Set by the conditions the path passes.
        self._given = Truth.UNKNOWN
        # The block ``escapes`` follows: a local it alone assigns, once, is worth its value.
        self._analysed: nodes.Block | None = None
        self._judging_locals: set[nodes.Var] = set()

    def escapes(self, block: nodes.Block) -> list[Escape]:
        self._analysed = block
        self._follow_the_exception(block)
        ends = self._block(block.body, block.line)
        if (
            self._origin is not None
            and any(e.kind is EscapeKind.FALLS_THROUGH and e.given is Truth.TRUE for e in ends)
            and self._continuation_reraises(self._origin, None, Truth.TRUE)
        ):
            # The given exception goes on past the try statement to a falsy return: re-raised.
            ends = [e for e in ends if not (e.kind is EscapeKind.FALLS_THROUGH and e.given is Truth.TRUE)]
        return sorted(set(ends), key=lambda e: (e.line, e.kind.value))

    def _continuation_reraises(self, stmt: nodes.Statement, place: object, given: Truth) -> bool:
        """Whether every path through the code after ``stmt`` raises ``place`` (holding the exception
        in hand), or, when the exception in hand is the one an exit method was given (``given``),
        returns a falsy value or reaches the method's end."""
        flow = ReraiseFlow(self._scope, self._module, None, self._kinds, level_triggered=self._level_triggered)
        flow._carriers = {place} if place is not None else set()
        flow._bare_raise_is_other = True
        flow._given = given
        levels = self._facts.continuation(stmt)
        for block, start in levels:
            ending = flow._suffix_endings(block, place)[start]
            if ending is not None:
                return ending
        # Every path falls off the end of the function, which returns ``None``.
        return bool(levels) and levels[-1][0] is getattr(self._scope.defn, "body", None) and flow._exit_reraises(None)

    def _suffix_endings(self, block: nodes.Block, place: object) -> list[bool | None]:
        """For each index of ``block``: do the statements from there on all re-raise (``True``),
        does some path escape (``False``), or do they all fall through (``None``)?

        Computed once per block and place, from the end backwards, so the deferred re-raises
        of many handlers in one function stay linear.
        """
        key = ("suffix", id(block), place, self._kinds, self._level_triggered, self._given)
        memo = self._module.summaries
        if key not in memo:
            endings: list[bool | None] = [None] * (len(block.body) + 1)
            for index in range(len(block.body) - 1, -1, -1):
                statement = block.body[index]
                outcome = [] if getattr(statement, "is_unreachable", False) else self._statement(statement)
                if getattr(statement, "is_unreachable", False) or (
                    outcome and all(e.kind is EscapeKind.FALLS_THROUGH for e in outcome)
                ):
                    endings[index] = endings[index + 1]
                else:
                    endings[index] = not outcome
            memo[key] = (block, endings)
        found: list[bool | None] = memo[key][1]
        return found

    # -- where the exception goes -------------------------------------------------------------

    def _follow_the_exception(self, block: nodes.Block) -> None:
        """Add to the carriers every place the block copies the exception in hand (or its cancellation) to.

        ``x = exc``, ``self.error = exc``, ``(x := exc)``, ``for e in exc.exceptions``,
        ``exc.exceptions[0]``, and the part of a ``split``/``subgroup`` of the caught group that
        keeps the cancellation.  Repeated until nothing changes: a copy of a copy is a copy.
        """
        if not self._carriers and self._given is not Truth.TRUE:
            return  # nothing holds the exception yet, so nothing can copy it
        # (target, value, whether the target receives one member of the value's group)
        copies: list[tuple[nodes.Expression, nodes.Expression, bool]] = []
        for node in walk.descendants(block):
            if isinstance(node, nodes.AssignmentStmt):
                copies += [(lvalue, node.rvalue, False) for lvalue in node.lvalues]
            elif isinstance(node, nodes.AssignmentExpr):
                copies.append((node.target, node.value, False))
            elif isinstance(node, nodes.ForStmt):
                copies.append((node.index, node.expr, True))
        changed = True
        while changed:
            changed = False
            for target, value, member in copies:
                place = self._place_receiving(target, value, member)
                if place is not None and place not in self._carriers:
                    self._carriers.add(place)
                    if member or self._is_member(value):
                        self._member_places.add(place)
                    changed = True

    def _place_receiving(self, target: nodes.Expression, value: nodes.Expression, member: bool) -> object | None:
        """Where ``target = value`` (or ``for target in value``) stores the exception in hand, if it does."""
        if member:
            return place_of(target) if self._holds_exception(_group_members_of(value)) else None
        part = self._split_part(value)
        if part is None:
            return place_of(target) if self._holds_exception(value) else None
        if part == "whole":
            return place_of(target)
        if isinstance(target, nodes.TupleExpr) and len(target.items) == 2 and part in (0, 1):
            return place_of(target.items[part])
        return None

    def _split_part(self, value: nodes.Expression) -> int | str | None:
        """For ``group.split(T)``/``group.subgroup(T)`` of a carrier: which part keeps the cancellation.

        ``split`` gives a pair (index 0 when ``T`` names a cancellation, else 1); ``subgroup``
        keeps it whole (``"whole"``) only when ``T`` names a cancellation; ``-1``: neither part.
        """
        if not (
            isinstance(value, nodes.CallExpr)
            and len(value.args) == 1
            and isinstance(value.callee, nodes.MemberExpr)
            and value.callee.name in ("subgroup", "split")
            and self._holds_exception(value.callee.expr)
        ):
            return None
        classes = predicates.classes_named_by(value.args[0], self._resolver)
        names_cancellation = any(predicates.cancellation_libraries(c) for c in classes)
        if value.callee.name == "split":
            return 0 if names_cancellation else 1
        return "whole" if names_cancellation else -1

    def _holds_exception(self, expr: nodes.Expression | None) -> bool:
        """``expr`` is the exception in hand, a copy of it, or a member of it when it is a group."""
        if expr is None:
            return False
        expr = walk.unwrapped(expr)
        if isinstance(expr, nodes.IndexExpr):
            return self._holds_exception(_group_members_of(expr.base))
        return place_of(expr) in self._carriers or (self._given is Truth.TRUE and self._is_given(expr))

    def _is_member(self, expr: nodes.Expression) -> bool:
        """``expr`` holds one member of the caught group (``group.exceptions[0]``, a loop variable over them, a copy)."""
        expr = walk.unwrapped(expr)
        if isinstance(expr, nodes.IndexExpr):
            return self._holds_exception(_group_members_of(expr.base))
        return place_of(expr) in self._member_places

    # -- statements ---------------------------------------------------------------------------

    def _block(self, body: Sequence[nodes.Statement], line: int) -> list[Escape]:
        escapes: list[Escape] = []
        entry = self._given
        falling = [Escape(EscapeKind.FALLS_THROUGH, line, given=entry)]
        try:
            for statement in body:
                if getattr(statement, "is_unreachable", False):
                    continue
                self._given = _joined(falling)  # what the paths reaching this statement know
                outcome = self._statement(statement)
                escapes.extend(e for e in outcome if e.kind is not EscapeKind.FALLS_THROUGH)
                falling = [e for e in outcome if e.kind is EscapeKind.FALLS_THROUGH]
                if not falling:
                    return escapes
            return escapes + falling
        finally:
            self._given = entry

    def _statement(self, stmt: nodes.Statement) -> list[Escape]:
        falls = [Escape(EscapeKind.FALLS_THROUGH, stmt.end_line or stmt.line, given=self._given)]
        if isinstance(stmt, _SIMPLE_STATEMENTS) and self._reaches_checkpoint(stmt):
            return []  # the cancellation is raised again there
        if isinstance(stmt, nodes.Block):
            return [] if stmt.is_unreachable else self._block(stmt.body, stmt.line)
        if isinstance(stmt, nodes.RaiseStmt):
            return self._raise(stmt)
        if isinstance(stmt, nodes.ReturnStmt):
            return [] if self._exit_reraises(stmt.expr) else [Escape(EscapeKind.RETURNS, stmt.line, stmt.column)]
        if isinstance(stmt, nodes.BreakStmt):
            return [Escape(EscapeKind.BREAKS, stmt.line, stmt.column)]
        if isinstance(stmt, nodes.ContinueStmt):
            return [Escape(EscapeKind.CONTINUES, stmt.line, stmt.column)]
        if isinstance(stmt, nodes.IfStmt):
            return self._if(stmt)
        if isinstance(stmt, (nodes.WhileStmt, nodes.ForStmt)):
            return self._loop(stmt)
        if isinstance(stmt, nodes.WithStmt):
            return self._with(stmt)
        if isinstance(stmt, nodes.TryStmt):
            return self._try(stmt)
        if isinstance(stmt, nodes.MatchStmt):
            return self._match(stmt)
        if isinstance(stmt, nodes.AssertStmt):
            if self._truth(stmt.expr) is Truth.FALSE:
                return []
            return [Escape(EscapeKind.FALLS_THROUGH, stmt.line, given=self._given_when(stmt.expr, holds=True))]
        if isinstance(stmt, (nodes.ExpressionStmt, nodes.AssignmentStmt)) and (
            self._facts.current_task.withdraws_cancellation(stmt)
        ):
            # ``current_task().uncancel()``: the handler withdraws the cancellation it handles.
            return []
        if isinstance(stmt, nodes.ExpressionStmt) and self._never_returns(stmt.expr):
            return []
        if isinstance(stmt, nodes.AssignmentStmt) and self._defers_reraise(stmt):
            return []
        return falls

    def _raise(self, stmt: nodes.RaiseStmt) -> list[Escape]:
        # In an inner handler, a bare ``raise`` (or ``raise`` of its own name) passes on what the
        # inner ``try``'s code raised, unchanged: as if that code had raised it uncaught.  Its own
        # ``raise X`` statements are counted where they are.
        if stmt.expr is None:
            if self._bare_raise_is_other and not self._inner_caught:
                return [Escape(EscapeKind.RAISES_OTHER, stmt.line, stmt.column, _BEING_HANDLED)]
            return []
        expr = stmt.expr
        if self._holds_exception(expr) or (
            isinstance(expr, nodes.NameExpr) and expr.node is not None and expr.node in self._inner_caught
        ):
            return []
        raised = self._resolver.type_of(expr)
        if raised is None or isinstance(raised, AnyType) or predicates.is_cancellation_instance(raised):
            return []  # a cancellation, or an unknown: not guessed to be something else
        return [Escape(EscapeKind.RAISES_OTHER, stmt.line, stmt.column, _describe_raised(expr, raised))]

    def _if(self, stmt: nodes.IfStmt) -> list[Escape]:
        """The branches of an ``if``/``elif`` chain, followed iteratively (mypy nests each ``elif`` one level deeper).

        Each branch learns what its condition (and the failed ones before it) says about
        whether the exception in hand is the given one.
        """
        escapes: list[Escape] = []
        outer = self._given
        try:
            while True:
                for condition, body in zip(stmt.expr, stmt.body, strict=True):
                    truth = self._truth(condition)
                    failed = self._given  # what the paths that reach this condition know
                    if not body.is_unreachable and truth is not Truth.FALSE:
                        self._given = self._given_when(condition, holds=True)
                        escapes.extend(self._block(body.body, body.line))
                        self._given = failed
                    if truth is Truth.TRUE:
                        return escapes
                    self._given = self._given_when(condition, holds=False)
                else_body = stmt.else_body
                if else_body is None:
                    return escapes + [Escape(EscapeKind.FALLS_THROUGH, stmt.line, given=self._given)]
                if else_body.is_unreachable:
                    return escapes
                if len(else_body.body) == 1 and isinstance(else_body.body[0], nodes.IfStmt):
                    stmt = else_body.body[0]
                    continue
                return escapes + self._block(else_body.body, else_body.line)
        finally:
            self._given = outer

    def _with(self, stmt: nodes.WithStmt) -> list[Escape]:
        shields = any(_shields(manager) for manager in stmt.expr)
        self._shielded += shields
        try:
            return self._block(stmt.body.body, stmt.line)
        finally:
            self._shielded -= shields

    def _loop(self, stmt: nodes.WhileStmt | nodes.ForStmt) -> list[Escape]:
        inner = self._block(stmt.body.body, stmt.line)
        escapes = [e for e in inner if e.kind not in _LOOP_EXITS and e.kind is not EscapeKind.FALLS_THROUGH]
        breaks = [Escape(EscapeKind.FALLS_THROUGH, e.line, given=e.given) for e in inner if e.kind is EscapeKind.BREAKS]
        if isinstance(stmt, nodes.WhileStmt):
            runs_to_the_end = self._truth(stmt.expr) is not Truth.TRUE
        else:
            # An exception group is never empty: a loop over its members runs its body at least once.
            repeats = any(e.kind in (EscapeKind.FALLS_THROUGH, EscapeKind.CONTINUES) for e in inner)
            runs_to_the_end = repeats or not self._holds_exception(_group_members_of(stmt.expr))
        if not runs_to_the_end:
            return escapes + breaks
        if stmt.else_body is not None:
            return escapes + breaks + self._block(stmt.else_body.body, stmt.else_body.line)
        return escapes + breaks + [Escape(EscapeKind.FALLS_THROUGH, stmt.end_line or stmt.line, given=self._given)]

    def _try(self, stmt: nodes.TryStmt) -> list[Escape]:
        body = self._block(stmt.body.body, stmt.line)
        escapes = [e for e in body if e.kind is not EscapeKind.FALLS_THROUGH]
        if stmt.else_body is not None and len(escapes) < len(body):
            escapes += self._block(stmt.else_body.body, stmt.else_body.line)
        else:
            escapes += [e for e in body if e.kind is EscapeKind.FALLS_THROUGH]
        only_reraises = self._only_reraises(stmt.body)
        for type_expr, bound, handler in zip(stmt.types, stmt.vars, stmt.handlers, strict=True):
            if only_reraises and not predicates.caught_cancellations(type_expr, self._resolver, self._kinds):
                continue  # the body raises nothing but our cancellation, which this clause cannot catch
            self._inner_caught.append(bound.node if bound is not None else None)
            try:
                escapes += self._block(handler.body, handler.line)
            finally:
                self._inner_caught.pop()
        if stmt.finally_body is None:
            return escapes
        final = self._block(stmt.finally_body.body, stmt.finally_body.line)
        if not any(e.kind is EscapeKind.FALLS_THROUGH for e in final):
            return final
        return escapes + [e for e in final if e.kind is not EscapeKind.FALLS_THROUGH]

    def _only_reraises(self, block: nodes.Block) -> bool:
        """The block does nothing that can raise but re-raise the exception in hand."""
        statements = [node for node in walk.descendants(block) if isinstance(node, nodes.Statement)]
        return bool(statements) and not self._inner_caught and not self._bare_raise_is_other and all(
            isinstance(node, nodes.PassStmt) or (isinstance(node, nodes.RaiseStmt) and not self._raise(node))
            for node in statements
        )

    def _match(self, stmt: nodes.MatchStmt) -> list[Escape]:
        """The cases a cancellation can take, in order: a case whose pattern (and guard) surely
        matches it is the last (``case CancelledError(): raise``, then ``case _: ...``)."""
        escapes: list[Escape] = []
        for pattern, guard, body in zip(stmt.patterns, stmt.guards, stmt.bodies):
            truth = self._pattern_truth(stmt.subject, pattern)
            if guard is not None and truth is not Truth.FALSE:
                truth = truth.both(self._truth(guard))
            if truth is not Truth.FALSE:
                escapes += self._block(body.body, body.line)
            if truth is Truth.TRUE:
                return escapes
        return escapes + [Escape(EscapeKind.FALLS_THROUGH, stmt.line, given=self._given)]

    def _pattern_truth(self, subject: nodes.Expression, pattern: Pattern) -> Truth:
        """Whether ``pattern`` matches ``subject`` while that is the current task's cancellation."""
        if isinstance(pattern, AsPattern):
            return Truth.TRUE if pattern.pattern is None else self._pattern_truth(subject, pattern.pattern)
        if isinstance(pattern, OrPattern):
            return Truth.any_of(self._pattern_truth(subject, item) for item in pattern.patterns)
        if isinstance(pattern, ClassPattern) and not pattern.positionals and not pattern.keyword_keys:
            return self._class_test_truth(subject, pattern.class_ref, exact=False)
        return Truth.UNKNOWN

    # -- expressions --------------------------------------------------------------------------

    def _never_returns(self, expr: nodes.Expression) -> bool:
        """A call declared ``NoReturn``, or of a helper that always raises or re-raises what it is
        given: one of this module, or of another whose summary can be read (``module_facts``)."""
        if not isinstance(expr, (nodes.CallExpr, nodes.AwaitExpr)):
            return False
        if isinstance(self._resolver.type_of(expr), UninhabitedType):
            return True
        call = expr.expr if isinstance(expr, nodes.AwaitExpr) else expr
        if not isinstance(call, nodes.CallExpr):
            return False
        callee = self._resolver.definition_of(call.callee)
        if not isinstance(callee, nodes.FuncDef):
            return False
        given = [name for argument, name in _parameters_of(call, callee) if self._holds_exception(argument)]
        if self._module.defines(callee):
            variables = {argument.variable.name: argument.variable for argument in callee.arguments}
            return self._summary(callee, None) or any(self._summary(callee, variables[name]) for name in given)
        facts = self._module.helper_facts(callee)
        return facts is not None and (facts.always_raises or not facts.reraised_parameters.isdisjoint(given))

    def _summary(self, helper: nodes.FuncDef, parameter: nodes.Var | None) -> bool:
        """Whether every path through ``helper``, a function of this module, raises (``parameter``
        ``None``), or re-raises ``parameter`` when it holds a cancellation."""
        checkpoints_raise = self._level_triggered and not self._shielded
        key = ("helper raises", id(helper), parameter.name if parameter is not None else None, checkpoints_raise)
        # a recursive helper is not assumed to raise
        return self._module.summarise(
            key, lambda: _raises(self._module.scope_of(helper), self._module, parameter, checkpoints_raise),
            while_deciding=False,
        )

    def _reaches_checkpoint(self, stmt: nodes.Statement) -> bool:
        """Level-triggered cancellation, unshielded: ``stmt`` awaits a checkpoint, which raises it again."""
        if not self._level_triggered or self._shielded:
            return False
        return any(isinstance(node, nodes.AwaitExpr) and self._is_checkpoint(node) for node in walk.descendants(stmt))

    def _is_checkpoint(self, awaited: nodes.AwaitExpr) -> bool:
        """Awaiting a call of the checkpointing libraries, or of a helper that checkpoints (or raises)
        on every path: one of this module, or of another whose summary can be read (``module_facts``)."""
        call = awaited.expr
        if not isinstance(call, nodes.CallExpr):
            return False
        callee = self._resolver.definition_of(call.callee)
        fullname = callee.fullname if callee is not None else getattr(call.callee, "fullname", "")
        if fullname.partition(".")[0] in semantics.CHECKPOINT_PACKAGES:
            return True
        if not (isinstance(callee, nodes.FuncDef) and callee.is_coroutine):
            return False
        if self._module.defines(callee):
            return self._summary(callee, None)
        facts = self._module.helper_facts(callee)
        return facts is not None and (facts.always_raises or facts.checkpoints)

    def _defers_reraise(self, stmt: nodes.AssignmentStmt) -> bool:
        """``err = exc`` (or ``self.error = exc``) where every path after the try statement raises it."""
        if self._origin is None or not self._holds_exception(stmt.rvalue):
            return False
        places = [place_of(target) for target in stmt.lvalues]
        return any(
            place in self._facts.raised and self._continuation_reraises(self._origin, place, self._given)
            for place in places
        )

    def _truth(self, condition: nodes.Expression) -> Truth:
        """Whether ``condition`` holds while the exception in hand is the current task's cancellation."""
        return evaluate(condition, self._atom, self._module.options)

    def _atom(self, expr: nodes.Expression) -> Truth:
        bound = self._bound_in_block(expr)
        if bound is not None:
            return self._local_truth(bound)
        identity = self._identity(expr)
        if identity is not None:
            return self._given if identity else self._given.negate()
        known = self._facts.current_task.truth(expr)
        if known is not Truth.UNKNOWN:
            return known
        if isinstance(expr, nodes.CallExpr):
            return self._isinstance_truth(expr)
        if isinstance(expr, nodes.ComparisonExpr):
            known = self._exact_class_truth(expr)
            if known is not Truth.UNKNOWN:
                return known
        checked = none_check(expr)
        if checked is not None and self._holds_exception(checked[0]):
            return Truth.of(not checked[1])
        return Truth.TRUE if self._holds_exception(expr) else Truth.UNKNOWN

    def _bound_in_block(self, expr: nodes.Expression) -> nodes.Var | None:
        """A local that the function assigns exactly once, in the analysed block (``should_raise =
        isinstance(exc, CancelledError)``): read there, it holds what that value was then."""
        if not (isinstance(expr, nodes.NameExpr) and expr.kind == nodes.LDEF and isinstance(expr.node, nodes.Var)):
            return None
        values = self._facts.stored.get(expr.node, [])
        if len(values) != 1 or values[0] is None or self._analysed is None:
            return None
        walked = self._scope.walked
        position = walked.positions.get(id(values[0]))
        return expr.node if position is not None and walked.encloses_any(self._analysed, [position]) else None

    def _local_truth(self, local: nodes.Var) -> Truth:
        if local in self._judging_locals:
            return Truth.UNKNOWN
        value = self._facts.stored[local][0]
        assert value is not None
        self._judging_locals.add(local)
        try:
            return self._truth(value)
        finally:
            self._judging_locals.discard(local)

    # -- the exit protocol --------------------------------------------------------------------

    def _is_given(self, expr: nodes.Expression) -> bool:
        """``expr`` is the exit method's parameter that holds the exception it was given."""
        expr = walk.unwrapped(expr)
        return isinstance(expr, nodes.NameExpr) and expr.node is not None and expr.node is self._facts.given

    def _identity(self, expr: nodes.Expression) -> bool | None:
        """For ``caught is given`` (either way round) ``True``, for ``is not`` ``False``; else ``None``."""
        if self._facts.given is None:
            return None
        checked = identity_check(expr)
        if checked is None:
            return None
        left, right, same = checked
        if self._is_given(left) == self._is_given(right):
            return None
        caught = right if self._is_given(left) else left
        return same if self._holds_exception(caught) else None

    def _given_when(self, condition: nodes.Expression, *, holds: bool) -> Truth:
        """Whether the exception in hand is the given one on the paths where ``condition`` is ``holds``."""
        if self._facts.given is None or self._given is not Truth.UNKNOWN:
            return self._given
        return implied(condition, self._atom, self._identity, self._module.options, holds=holds)

    def _exit_reraises(self, value: nodes.Expression | None) -> bool:
        """Returning ``value`` (``None``: nothing) re-raises the exception in hand: it is the one the
        exit method was given, and a falsy return makes the ``with`` statement raise it again."""
        if self._given is not Truth.TRUE or self._facts.given is None:
            return False
        return value is None or evaluate(value, self._value_atom, self._module.options) is Truth.FALSE

    def _value_atom(self, expr: nodes.Expression) -> Truth:
        """The truth of a returned value's leaf: as a condition, else by its literal type."""
        known = self._atom(expr)
        return known if known is not Truth.UNKNOWN else literal_type_truth(self._resolver.type_of(expr))

    def _isinstance_truth(self, call: nodes.CallExpr) -> Truth:
        """``isinstance(exc, T)`` on the exception in hand."""
        if not (
            isinstance(call.callee, nodes.NameExpr)
            and call.callee.fullname == "builtins.isinstance"
            and len(call.args) == 2
        ):
            return Truth.UNKNOWN
        return self._class_test_truth(call.args[0], call.args[1], exact=False)

    def _exact_class_truth(self, comparison: nodes.ComparisonExpr) -> Truth:
        """``type(exc) is T`` (``==``, ``exc.__class__``; ``is not``, ``!=``) on the exception in hand."""
        if len(comparison.operators) != 1 or comparison.operators[0] not in ("is", "==", "is not", "!="):
            return Truth.UNKNOWN
        for tested, named in (comparison.operands, comparison.operands[::-1]):
            subject = _class_of(tested)
            if subject is not None:
                truth = self._class_test_truth(subject, named, exact=True)
                return truth.negate() if comparison.operators[0] in ("is not", "!=") else truth
        return Truth.UNKNOWN

    def _class_test_truth(self, subject: nodes.Expression, named: nodes.Expression, *, exact: bool) -> Truth:
        """Whether ``subject``, the exception in hand, is an instance of the classes ``named``
        names (``exact``: of exactly one of them; a cancellation is exactly its library's class)."""
        if not self._holds_exception(subject):
            return Truth.UNKNOWN
        kinds = predicates.member_kinds(self._kinds) if self._is_member(subject) else self._kinds
        classes = predicates.classes_named_by(named, self._resolver)
        if exact:
            exact_classes = [predicates.CANCELLATION_CLASS_OF.get(kind) for kind in kinds]
            if None in exact_classes or not classes:
                return Truth.UNKNOWN
            names = {c.fullname for c in classes}
            if all(fullname in names for fullname in exact_classes):
                return Truth.TRUE
            return Truth.FALSE if not names & set(exact_classes) else Truth.UNKNOWN
        found = [predicates.cancellation_libraries(c) for c in classes]
        if all(f is None or not (f[0] & kinds) for f in found):
            return Truth.FALSE
        taken = frozenset().union(*(f[0] for f in found if f is not None and f[1]))
        return Truth.TRUE if kinds <= taken else Truth.UNKNOWN


def _class_of(expr: nodes.Expression) -> nodes.Expression | None:
    """``x`` of ``type(x)`` or ``x.__class__``."""
    if (
        isinstance(expr, nodes.CallExpr) and isinstance(expr.callee, nodes.RefExpr)
        and expr.callee.fullname == "builtins.type" and len(expr.args) == 1 and expr.arg_kinds == [nodes.ARG_POS]
    ):
        return expr.args[0]
    return expr.expr if isinstance(expr, nodes.MemberExpr) and expr.name == "__class__" else None


def _shields(manager: nodes.Expression) -> bool:
    """``CancelScope(shield=True)``, ``move_on_after(..., shield=True)`` and the like."""
    return (
        isinstance(manager, nodes.CallExpr)
        and isinstance(manager.callee, nodes.RefExpr)
        and manager.callee.fullname in semantics.SHIELDING_CALLS
        and walk.names_constant(walk.argument(manager, "shield"), True)
    )




def _joined(paths: list[Escape]) -> Truth:
    """What every one of ``paths`` knows about the given exception."""
    known = {path.given for path in paths}
    return known.pop() if len(known) == 1 else Truth.UNKNOWN


def _given_parameter(scope: FunctionScope, options: Options | None) -> nodes.Var | None:
    """In an exit method (``semantics.EXIT_EXCEPTION_PARAMETER``), the parameter that receives the
    exception, unless the method binds that name to something else while it holds one.

    The ``with`` statement passes the exception itself (never ``None``) when one left its block:
    a binding that runs only when the parameter is ``None`` (``if value is None: value = typ()``,
    contextlib's own form) or that gives it back when it holds one (``value = value or typ()``,
    ``typ() if value is None else value``) leaves it the given exception.
    """
    defn = scope.defn
    index = semantics.EXIT_EXCEPTION_PARAMETER.get(defn.name) if defn is not None else None
    if defn is None or index is None or defn.info is nodes.FUNC_NO_INFO or defn.is_static or defn.is_class:
        return None
    positional = [argument.variable for argument in defn.arguments[1:] if argument.kind.is_positional()]
    if index >= len(positional):
        return None
    given = positional[index]
    when_given = _truth_while_holding_exception(given)
    never_run = [block for stmt in scope.of(nodes.IfStmt) for block in _branches_never_run(stmt, when_given, options)]
    for position, node in enumerate(scope.nodes):
        targets: list[nodes.Node | None] = []
        if isinstance(node, nodes.AssignmentStmt):
            targets = list(node.lvalues)
        elif isinstance(node, (nodes.OperatorAssignmentStmt, nodes.AssignmentExpr)):
            targets = [node.lvalue if isinstance(node, nodes.OperatorAssignmentStmt) else node.target]
        elif isinstance(node, nodes.ForStmt):
            targets = [node.index]
        elif isinstance(node, nodes.WithStmt):
            targets = list(node.target)
        elif isinstance(node, nodes.TryStmt):
            targets = list(node.vars)
        elif isinstance(node, nodes.DelStmt):
            targets = [node.expr]
        binds = any(
            isinstance(name, nodes.NameExpr) and name.node is given
            for target in targets if target is not None
            for name in (target, *walk.descendants(target))
        )
        if (
            binds
            and not (isinstance(node, nodes.AssignmentStmt) and _gives_back(node, given, when_given, options))
            and not any(scope.walked.encloses_any(block, [position]) for block in never_run)
        ):
            return None
    return given


def _truth_while_holding_exception(parameter: nodes.Var) -> Atom:
    """The truth of a condition's leaf while ``parameter`` holds an exception (not ``None``, and
    truthy: exceptions define no ``__bool__``)."""

    def atom(leaf: nodes.Expression) -> Truth:
        checked = none_check(leaf)
        if checked is not None and place_of(checked[0]) is parameter:
            return Truth.FALSE if checked[1] else Truth.TRUE
        return Truth.TRUE if place_of(leaf) is parameter else Truth.UNKNOWN

    return atom


def _branches_never_run(stmt: nodes.IfStmt, atom: Atom, options: Options | None) -> Iterator[nodes.Block]:
    """The blocks of an ``if``/``elif``/``else`` that cannot run while ``atom`` decides its leaves:
    a branch whose condition is false, and every branch after one whose condition is true."""
    decided = False
    for condition, body in zip(stmt.expr, stmt.body, strict=True):
        truth = Truth.UNKNOWN if decided else evaluate(condition, atom, options)
        if decided or truth is Truth.FALSE:
            yield body
        decided = decided or truth is Truth.TRUE
    if decided and stmt.else_body is not None:
        yield stmt.else_body


def _gives_back(stmt: nodes.AssignmentStmt, variable: nodes.Var, atom: Atom, options: Options | None) -> bool:
    """``variable = variable or x`` and ``x if variable is None else variable``: the assignment binds
    ``variable`` to its own value whenever ``atom`` (what is true while it holds one) decides the choice."""
    if len(stmt.lvalues) != 1 or place_of(stmt.lvalues[0]) is not variable:
        return False
    value = stmt.rvalue
    if isinstance(value, nodes.OpExpr) and value.op == "or":
        return place_of(value.left) is variable  # an exception is truthy: ``or`` gives it back
    if isinstance(value, nodes.ConditionalExpr):
        truth = evaluate(value.cond, atom, options)
        chosen = value.if_expr if truth is Truth.TRUE else value.else_expr if truth is Truth.FALSE else None
        return chosen is not None and place_of(chosen) is variable
    return False


def _never_completes(stmt: nodes.Statement, scope: FunctionScope, options: Options | None) -> bool:
    """A statement after which mypy checks nothing in the same block."""
    if isinstance(stmt, (nodes.ReturnStmt, nodes.RaiseStmt, nodes.BreakStmt, nodes.ContinueStmt)):
        return True
    if isinstance(stmt, nodes.AssertStmt):
        return evaluate(stmt.expr, lambda _: Truth.UNKNOWN, options) is Truth.FALSE
    return isinstance(stmt, nodes.ExpressionStmt) and isinstance(scope.resolver.type_of(stmt.expr), UninhabitedType)


_COMPLETING_STATEMENTS = (
    nodes.PassStmt, nodes.ImportBase, nodes.GlobalDecl, nodes.NonlocalDecl, nodes.DelStmt, nodes.AssignmentStmt,
    nodes.OperatorAssignmentStmt,
)


def _visibly_finishes(scope: FunctionScope, options: Options | None) -> bool:
    """Some path through the function returns or reaches its end, as its structure shows: no flow
    need be followed to know it does not raise on every path.

    Asked only where nothing but the structure can end a path early: outside exit methods (whose
    return may re-raise the exception they were given) and in functions that never ask for the
    current task (so no condition or ``uncancel()`` is about its cancellation).  The flow could
    tell otherwise only where the statement judged is dead code, which mypy does not check.
    """
    defn = scope.defn
    assert defn is not None
    if defn.name in semantics.EXIT_EXCEPTION_PARAMETER or any(
        getattr(call.callee, "fullname", None) in semantics.CURRENT_TASK_FUNCTIONS for call in scope.of(nodes.CallExpr)
    ):
        return False
    return _block_finishes(defn.body, options)


def _block_finishes(block: nodes.Block, options: Options | None) -> bool:
    """Some path reaches the end of ``block`` (or a ``return``), judged by its last reachable
    statement: one that completes, or a compound statement with a path that does.  A condition
    counts only while it is not a constant for the target (``conditions.evaluate``)."""
    reachable = [statement for statement in block.body if not getattr(statement, "is_unreachable", False)]
    if not reachable:
        return True
    last = reachable[-1]
    if isinstance(last, (nodes.ReturnStmt, *_COMPLETING_STATEMENTS)):
        return True
    if isinstance(last, nodes.ExpressionStmt):
        return not isinstance(last.expr, (nodes.CallExpr, nodes.AwaitExpr))  # a call may never return
    if isinstance(last, nodes.WithStmt):
        return _block_finishes(last.body, options)
    if isinstance(last, (nodes.IfStmt, nodes.WhileStmt)):
        conditions = last.expr if isinstance(last, nodes.IfStmt) else [last.expr]
        if any(evaluate(condition, lambda _: Truth.UNKNOWN, options) is not Truth.UNKNOWN for condition in conditions):
            return False
    if isinstance(last, nodes.IfStmt):
        return last.else_body is None or any(_block_finishes(body, options) for body in [*last.body, last.else_body])
    if isinstance(last, (nodes.ForStmt, nodes.WhileStmt)):
        return last.else_body is None or _block_finishes(last.else_body, options)
    if isinstance(last, nodes.TryStmt):
        return all(
            _block_finishes(body, options) for body in (last.body, last.else_body, last.finally_body) if body is not None
        )
    return False


def _group_members_of(expr: nodes.Expression | None) -> nodes.Expression | None:
    """``g`` of ``g.exceptions``: the members of an exception group."""
    if isinstance(expr, nodes.MemberExpr) and expr.name == "exceptions":
        return expr.expr
    return None


def _parameters_of(call: nodes.CallExpr, callee: nodes.FuncDef) -> list[tuple[nodes.Expression, str]]:
    """Each argument of ``call`` with the name of the parameter of ``callee`` it binds (read from the
    signature's names, which a function loaded from mypy's cache keeps)."""
    bound_first = callee.info is not nodes.FUNC_NO_INFO and not callee.is_static and isinstance(call.callee, nodes.MemberExpr)
    signature = list(zip(callee.arg_names, callee.arg_kinds))[1 if bound_first else 0:]
    positional = [name for name, kind in signature if kind.is_positional()]
    by_name = {name for name, kind in signature if name is not None and not kind.is_star()}
    pairs: list[tuple[nodes.Expression, str]] = []
    for index, (argument, kind, name) in enumerate(zip(call.args, call.arg_kinds, call.arg_names, strict=True)):
        parameter = positional[index] if kind == nodes.ARG_POS and index < len(positional) else None
        if parameter is not None:
            pairs.append((argument, parameter))
        elif kind == nodes.ARG_NAMED and name in by_name:
            pairs.append((argument, name))
    return pairs


def _raises(scope: FunctionScope, module: ModuleContext, parameter: nodes.Var | None, checkpoints_raise: bool) -> bool:
    """Whether every path through ``scope``'s body raises (``parameter`` ``None``), or raises again
    ``parameter`` when it holds a cancellation of the module's libraries.

    A body that stands in for overrides (abstract, or trivial to mypy: ``pass``, ``...``, ``raise
    NotImplementedError``) says nothing about what a call of the method runs, and a generator's
    body does not run when it is called."""
    defn = scope.defn
    assert defn is not None
    if mypy_internals.stands_in_for_overrides(defn) or defn.is_generator or defn.is_async_generator:
        return False
    if parameter is None and not checkpoints_raise and _visibly_finishes(scope, module.options):
        return False
    flow = ReraiseFlow(scope, module, parameter, module.libraries_in_play, level_triggered=checkpoints_raise)
    ends = flow.escapes(defn.body)
    return not any(e.kind in _ENDING for e in ends) if parameter is None else not ends


def checkpoints_on_every_path(scope: FunctionScope, module: ModuleContext) -> bool:
    """What callers in other modules need where cancellation is level-triggered (``module_facts``):
    the coroutine function reaches an unshielded checkpoint (or raises) on every path, so a
    cancellation its caller handles is raised again inside it.  Asked only of coroutine functions
    that await, in modules that import a checkpointing library (``rules.summarise_helpers``):
    checkpoints of helpers in a third module are not followed."""
    return scope.defn is not None and _raises(scope, module, None, True)


def helper_summary(scope: FunctionScope, module: ModuleContext) -> tuple[bool, frozenset[str]]:
    """What callers in other modules need (``module_facts``): whether the function raises on every
    path, and which parameters it raises again when they hold a cancellation.  Only a function
    with a ``raise`` can; a parameter is tried only where a ``raise`` can reach it: one that can
    raise its value (``_raised_names``), or a bare ``raise`` outside the function's own handlers
    (inside one, it passes on what that handler caught).  Cancellation is taken as
    edge-triggered: the caller's library is not known here."""
    raises = scope.of(nodes.RaiseStmt)
    defn = scope.defn
    if not raises or defn is None:
        return False, frozenset()
    if _raises(scope, module, None, False):
        return True, frozenset()
    named = {name for stmt in raises if stmt.expr is not None for name in _raised_names(stmt.expr)}
    handlers = [handler for stmt in scope.of(nodes.TryStmt) for handler in stmt.handlers]
    bare = any(
        stmt.expr is None and not any(scope.walked.encloses_any(handler, [scope.walked.positions[id(stmt)]]) for handler in handlers)
        for stmt in raises
    )
    skip = 1 if defn.info is not nodes.FUNC_NO_INFO and not defn.is_static else 0
    candidates = [a.variable for a in defn.arguments[skip:] if a.kind.is_positional() or a.kind.is_named()]
    return False, frozenset(
        variable.name for variable in candidates
        if (bare or variable.name in named) and _raises(scope, module, variable, False)
    )


def _raised_names(expr: nodes.Expression) -> Iterator[str]:
    """The names whose value ``raise expr`` can raise: ``exc``, ``exc.with_traceback(tb)``,
    ``group.exceptions[0]``, ``a if c else b``; not a name passed to a call (``raise Error(exc)``
    raises a new exception)."""
    stack: list[nodes.Node] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, nodes.NameExpr):
            yield node.name
        elif isinstance(node, nodes.CallExpr):
            cast = node.analyzed  # ``cast(T, exc)``: semantic analysis keeps the cast beside the call
            stack.append(cast.expr if isinstance(cast, (nodes.CastExpr, nodes.AssertTypeExpr)) else node.callee)
        elif not isinstance(node, nodes.LambdaExpr):
            stack.extend(walk.children(node))


def _describe_raised(expr: nodes.Expression, raised: ProperType | None) -> str:
    if isinstance(raised, TypeType) and isinstance(raised.item, Instance):
        return raised.item.type.name
    if isinstance(raised, Instance):
        return raised.type.name
    return walk.written_name(expr.callee if isinstance(expr, nodes.CallExpr) else expr)

