"""A small walk over ``mypy.nodes``.

mypy is compiled with mypyc, so ``mypy.traverser.TraverserVisitor`` cannot be
subclassed from Python.  Instead every node class the rules can meet is mapped
to the attributes that hold its children.  ``tests/test_mypy_contract.py``
fails when a mypy release adds a node class that is missing here.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from mypy import nodes

N = TypeVar("N", bound=nodes.Node)

# Node class -> attributes holding child nodes (a node, None, or nested lists/tuples of them).
# References to definitions (``RefExpr.node``, ``CallExpr.analyzed``, ``FuncDef.original_def``)
# are deliberately absent: they lead to other scopes and other modules.
CHILD_ATTRIBUTES: dict[type[nodes.Node], tuple[str, ...]] = {
    # statements
    nodes.Block: ("body",),
    nodes.ExpressionStmt: ("expr",),
    nodes.AssignmentStmt: ("lvalues", "rvalue"),
    nodes.OperatorAssignmentStmt: ("lvalue", "rvalue"),
    nodes.WhileStmt: ("expr", "body", "else_body"),
    nodes.ForStmt: ("index", "expr", "body", "else_body"),
    nodes.ReturnStmt: ("expr",),
    nodes.AssertStmt: ("expr", "msg"),
    nodes.DelStmt: ("expr",),
    nodes.IfStmt: ("expr", "body", "else_body"),
    nodes.RaiseStmt: ("expr", "from_expr"),
    nodes.TryStmt: ("body", "types", "handlers", "else_body", "finally_body"),
    nodes.WithStmt: ("expr", "target", "body"),
    nodes.MatchStmt: ("subject", "guards", "bodies"),
    nodes.TypeAliasStmt: (),
    nodes.PassStmt: (),
    nodes.BreakStmt: (),
    nodes.ContinueStmt: (),
    nodes.GlobalDecl: (),
    nodes.NonlocalDecl: (),
    nodes.Import: (),
    nodes.ImportFrom: (),
    nodes.ImportAll: (),
    # definitions (new scopes: the walk reports them and does not enter them)
    nodes.FuncDef: ("body",),
    nodes.Decorator: ("decorators", "func"),
    nodes.OverloadedFuncDef: ("items", "impl"),
    nodes.ClassDef: ("decorators", "defs"),
    nodes.LambdaExpr: ("body",),
    # expressions
    nodes.NameExpr: (),
    nodes.MemberExpr: ("expr",),
    nodes.CallExpr: ("callee", "args"),
    nodes.IndexExpr: ("base", "index"),
    nodes.UnaryExpr: ("expr",),
    nodes.OpExpr: ("left", "right"),
    nodes.ComparisonExpr: ("operands",),
    nodes.AssignmentExpr: ("target", "value"),
    nodes.StarExpr: ("expr",),
    nodes.YieldExpr: ("expr",),
    nodes.YieldFromExpr: ("expr",),
    nodes.AwaitExpr: ("expr",),
    nodes.CastExpr: ("expr",),
    nodes.AssertTypeExpr: ("expr",),
    nodes.RevealExpr: ("expr",),
    nodes.SuperExpr: ("call",),
    nodes.ListExpr: ("items",),
    nodes.TupleExpr: ("items",),
    nodes.SetExpr: ("items",),
    nodes.DictExpr: ("items",),
    nodes.GeneratorExpr: ("left_expr", "sequences", "condlists"),
    nodes.ListComprehension: ("generator",),
    nodes.SetComprehension: ("generator",),
    nodes.DictionaryComprehension: ("key", "value", "sequences", "condlists"),
    nodes.ConditionalExpr: ("cond", "if_expr", "else_expr"),
    nodes.SliceExpr: ("begin_index", "end_index", "stride"),
    nodes.TypeApplication: ("expr",),
    nodes.IntExpr: (),
    nodes.StrExpr: (),
    nodes.BytesExpr: (),
    nodes.FloatExpr: (),
    nodes.ComplexExpr: (),
    nodes.EllipsisExpr: (),
    nodes.TempNode: (),
    # produced by semantic analysis in place of calls; never reached through CHILD_ATTRIBUTES
    nodes.TypeVarExpr: (),
    nodes.ParamSpecExpr: (),
    nodes.TypeVarTupleExpr: (),
    nodes.TypeAliasExpr: (),
    nodes.NamedTupleExpr: (),
    nodes.TypedDictExpr: (),
    nodes.EnumCallExpr: (),
    nodes.NewTypeExpr: (),
    nodes.PromoteExpr: (),
}
# Node classes that newer mypy releases added (absent from the oldest supported one).
for _name, _attributes in (("TemplateStrExpr", ("items",)), ("TypeFormExpr", ())):
    if hasattr(nodes, _name):
        CHILD_ATTRIBUTES[getattr(nodes, _name)] = _attributes

_ATTRIBUTES_LAST_FIRST = {kind: attributes[::-1] for kind, attributes in CHILD_ATTRIBUTES.items()}

# Lambdas are not here: they cannot await or hold statements, and calls in them (callbacks
# that spawn tasks) belong to the code that writes them.
NEW_SCOPES = (nodes.FuncDef, nodes.ClassDef)


def push_children(node: nodes.Node, push: Callable[[nodes.Node], object]) -> None:
    """Push the direct children of ``node`` last first, so that a stack pops them in source order.

    Hot (the module's walk calls it on every node): the values are read straight off the node,
    and the common shapes (a node, a flat list of nodes) are pushed without a further call.
    """
    for attribute in _ATTRIBUTES_LAST_FIRST.get(type(node), ()):
        value = getattr(node, attribute, None)
        if type(value) is list:
            for item in reversed(value):
                if type(item) is list or type(item) is tuple:
                    _push_reversed(item, push)
                elif item is not None:
                    push(item)
        elif type(value) is tuple:
            _push_reversed(value, push)
        elif value is not None:
            push(value)


def _push_reversed(value: Any, push: Callable[[nodes.Node], object]) -> None:
    """Push the nodes in ``value`` (a node, ``None``, or nested lists/tuples of them) last first."""
    value_type = type(value)
    if value_type is list or value_type is tuple:
        for item in reversed(value):
            _push_reversed(item, push)
    elif value is not None:
        push(value)


def children(node: nodes.Node) -> list[nodes.Node]:
    """Direct children of ``node``, in source order."""
    out: list[nodes.Node] = []
    push_children(node, out.append)
    out.reverse()
    return out


def descendants(node: nodes.Node) -> Iterator[nodes.Node]:
    """Every node below ``node`` that runs in the same scope (nested defs and classes excluded)."""
    stack: list[nodes.Node] = []
    push_children(node, stack.append)
    while stack:
        current = stack.pop()
        yield current
        if not isinstance(current, NEW_SCOPES):
            push_children(current, stack.append)


@dataclass(frozen=True)
class Function:
    """A function definition, the decorators written on it, and what encloses it."""

    defn: nodes.FuncDef
    decorators: tuple[nodes.Expression, ...]
    # The enclosing classes and functions, outermost first (mypy's scope for this function).
    enclosing: tuple[nodes.FuncDef | nodes.TypeInfo, ...]
    # Unannotated, or nested in an unannotated function: mypy checks it only with check_untyped_defs.
    unannotated: bool

    @property
    def qualified_names(self) -> tuple[str, ...]:
        """Its own fully qualified name, then those of what encloses it, innermost first."""
        return (self.defn.fullname, *(node.fullname for node in reversed(self.enclosing)))


@dataclass
class ScopeNodes:
    """The nodes that run in one scope (a function body, or the module's top level with its
    class bodies), in source order, collected by the module's single walk."""

    function: Function | None
    in_order: list[nodes.Node] = field(default_factory=list)
    # Block -> [first, end) of its nodes in ``in_order``: what runs inside it.
    block_spans: dict[int, tuple[int, int]] = field(default_factory=dict)
    # Positions in ``in_order`` where the coroutine can be suspended, and of yields.
    await_points: list[int] = field(default_factory=list)
    yields: list[int] = field(default_factory=list)
    # Node class -> its nodes in this scope, in source order: rules visit only the sites they judge.
    # (Its lists are never empty: a kind gets one when the walk meets its first node.)
    by_kind: defaultdict[type[nodes.Node], list[Any]] = field(default_factory=lambda: defaultdict(list))

    @cached_property
    def positions(self) -> dict[int, int]:
        """``id(node)`` -> its position in ``in_order`` (built on first use: few rules need it)."""
        return {id(node): position for position, node in enumerate(self.in_order)}

    def of(self, kind: type[N]) -> list[N]:
        """The nodes of exactly class ``kind`` in this scope, in source order."""
        return self.by_kind.get(kind) or []

    @cached_property
    def returned(self) -> list[nodes.Expression]:
        """What the scope's own ``return`` statements give back (a lambda's body is not one)."""
        in_lambdas = {id(lambda_.body.body[-1]) for lambda_ in self.of(nodes.LambdaExpr)}
        return [node.expr for node in self.of(nodes.ReturnStmt) if node.expr is not None and id(node) not in in_lambdas]

    def encloses_any(self, block: nodes.Block, positions: list[int]) -> bool | None:
        """Whether one of ``positions`` lies inside ``block`` (``None``: not a block of this scope)."""
        inside = self._inside(block, positions)
        return None if inside is None else inside[0] < inside[1]

    def nodes_at(self, block: nodes.Block, positions: list[int]) -> list[nodes.Node]:
        """The nodes at those of ``positions`` that lie inside ``block``, in source order."""
        inside = self._inside(block, positions)
        return [] if inside is None else [self.in_order[p] for p in positions[inside[0]:inside[1]]]

    def exclusive(self, first: int, second: int) -> bool:
        """Whether the nodes at two positions lie in branches of which one run takes only one: two
        bodies of an ``if``/``elif``/``else`` or a ``match``, or two ``except`` handlers."""
        branching: list[list[nodes.Block]] = [
            [*stmt.body, *filter(None, [stmt.else_body])] for stmt in self.of(nodes.IfStmt)
        ]
        branching += [stmt.bodies for stmt in self.of(nodes.MatchStmt)]
        branching += [stmt.handlers for stmt in self.of(nodes.TryStmt)]
        for blocks in branching:
            holding = {
                index for index, block in enumerate(blocks) for at in (first, second) if self.encloses_any(block, [at])
            }
            if len(holding) == 2:
                return True
        return False

    def _inside(self, block: nodes.Block, positions: list[int]) -> tuple[int, int] | None:
        """Which of the sorted ``positions`` lie inside ``block``, as a slice of them."""
        span = self.block_spans.get(id(block))
        if span is None:
            return None
        first, end = span
        return bisect.bisect_left(positions, first), bisect.bisect_left(positions, end)


_YIELDS = frozenset({nodes.YieldExpr, nodes.YieldFromExpr})
_MAYBE_ASYNC = frozenset({nodes.WithStmt, nodes.ForStmt, nodes.GeneratorExpr, nodes.DictionaryComprehension})
Chain = tuple[nodes.FuncDef | nodes.TypeInfo, ...]


def module_scopes(tree: nodes.MypyFile) -> list[ScopeNodes]:
    """One walk over the module: its top level first, then every ``def``, however nested.

    Class bodies, decorators and default argument values run where they are written, so
    they belong to the enclosing scope; a ``def`` body is a scope of its own.
    """
    top = ScopeNodes(None)
    scopes = [top]
    pending: list[ScopeNodes] = []  # functions met, walked after their enclosing scope
    _walk_scope(top, [*tree.defs], (), False, pending)
    while pending:
        scope = pending.pop()
        scopes.append(scope)
        function = scope.function
        assert function is not None
        _walk_scope(scope, [function.defn.body], (*function.enclosing, function.defn), function.unannotated, pending)
    return scopes


def _walk_scope(
    scope: ScopeNodes, roots: list[nodes.Node], chain: Chain, unannotated: bool, pending: list[ScopeNodes]
) -> None:
    """Collect the nodes of one scope in source order; queue the functions defined in it.

    Hot: every node of every module passes here once, so dispatch is by exact type, the
    few kinds that need more than their children are found by one lookup, and the stack
    holds nodes, or a tuple that closes a block's span or a class body.
    """
    order, spans, await_points, yields = scope.in_order, scope.block_spans, scope.await_points, scope.yields
    by_kind = scope.by_kind
    special = _SPECIAL_KINDS
    classes: list[nodes.TypeInfo] = []  # classes whose body is being walked, outermost first
    decorators_of: dict[int, tuple[nodes.Expression, ...]] = {}
    stack: list[Any] = list(reversed(roots))
    push = stack.append
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is tuple:
            closed = node[0]
            if type(closed) is nodes.Block:
                spans[id(closed)] = (spans[id(closed)][0], len(order))
            else:
                classes.pop()
            continue
        position = len(order)
        order.append(node)
        by_kind[kind].append(node)
        what = special.get(kind)
        if what is not None:
            if what is _LEAF:
                continue  # no children (most nodes are names and literals)
            if what is _AWAIT or (what is _MAYBE_AWAIT and is_await_point(node)):
                await_points.append(position)
            elif what is _YIELD:
                yields.append(position)
            elif what is _DEF:
                enclosing = (*chain, *classes)
                function = Function(node, decorators_of.pop(id(node), ()), enclosing, unannotated or node.is_dynamic())
                pending.append(ScopeNodes(function))
                defaults = [argument.initializer for argument in node.arguments if argument.initializer is not None]
                stack.extend(reversed(defaults))
                continue
            elif what is _DECORATED:
                # The decorators run in this scope; the function they decorate gets its own.
                decorators_of[id(node.func)] = tuple(node.decorators)
                push(node.func)
                stack.extend(reversed(node.decorators))
                continue
            elif what is _CLASS:
                if isinstance(node.info, nodes.FakeInfo):
                    continue  # semantic analysis skipped this class (unreachable code): so does the walk
                classes.append(node.info)
                push((node,))
                stack.extend(reversed([*node.decorators, *node.base_type_exprs, *node.defs.body]))
                continue
            elif what is _BLOCK:
                spans[id(node)] = (position + 1, position + 1)
                if node.is_unreachable:
                    continue  # mypy does not check it (a version or platform the target is not): nor do the rules
                push((node,))
        push_children(node, push)


# What the walk does beyond visiting children, by node class.
_AWAIT, _MAYBE_AWAIT, _YIELD, _DEF, _DECORATED, _CLASS, _BLOCK, _LEAF = (
    "await", "maybe await", "yield", "def", "decorated", "class", "block", "leaf"
)
_SPECIAL_KINDS: dict[type[nodes.Node], str] = {
    **{kind: _LEAF for kind, attributes in CHILD_ATTRIBUTES.items() if not attributes},
    nodes.AwaitExpr: _AWAIT,
    **dict.fromkeys(_MAYBE_ASYNC, _MAYBE_AWAIT),
    **dict.fromkeys(_YIELDS, _YIELD),
    nodes.FuncDef: _DEF,
    nodes.Decorator: _DECORATED,
    nodes.ClassDef: _CLASS,
    nodes.Block: _BLOCK,
}


def dotted_name(expr: nodes.Expression) -> str | None:
    """``a.b.c`` for a name or attribute chain, as written; ``None`` for anything else."""
    if isinstance(expr, nodes.NameExpr):
        return expr.name
    if isinstance(expr, nodes.MemberExpr):
        base = dotted_name(expr.expr)
        return f"{base}.{expr.name}" if base is not None else None
    return None


def unwrapped(expr: nodes.Expression) -> nodes.Expression:
    """The value a walrus or a ``cast`` stands for (``(t := x)`` and ``cast(T, x)`` hold ``x``)."""
    while isinstance(expr, (nodes.AssignmentExpr, nodes.CastExpr)):
        expr = expr.value if isinstance(expr, nodes.AssignmentExpr) else expr.expr
    return expr


def written_name(expr: nodes.Expression) -> str:
    """How a message names a class (or a tuple of them) as the code writes it: ``asyncio.CancelledError``,
    ``(OSError, ValueError)``; ``an exception`` for anything else."""
    if isinstance(expr, nodes.TupleExpr):
        return "(" + ", ".join(written_name(item) for item in expr.items) + ")"
    return dotted_name(expr) or "an exception"


def argument(call: nodes.CallExpr, name: str, position: int | None = None) -> nodes.Expression | None:
    """What ``call`` passes for the parameter ``name``: by keyword, or at ``position`` (counting
    positional arguments only, none after a ``*args``)."""
    index = 0
    for value, kind, keyword in zip(call.args, call.arg_kinds, call.arg_names):
        if kind == nodes.ARG_NAMED and keyword == name:
            return value
        if kind == nodes.ARG_STAR:
            position = None
        elif kind == nodes.ARG_POS:
            if index == position:
                return value
            index += 1
    return None


_MAX_CONSTANT_BITS = 256  # a larger integer literal is not worked out (``2**10**9`` would take the run down)
_CONSTANTS: dict[str, bool | None] = {"builtins.True": True, "builtins.False": False, "builtins.None": None}


def names_constant(expr: nodes.Expression | None, value: bool | None) -> bool:
    """``expr`` is the literal ``True``, ``False`` or ``None``: the one given as ``value``."""
    return (
        isinstance(expr, nodes.NameExpr) and expr.fullname in _CONSTANTS and _CONSTANTS[expr.fullname] is value
    )


def int_constant(expr: nodes.Expression) -> int | None:
    """The value of an integer literal expression (``10**11``, ``-1``); ``None`` if not one or huge."""
    if isinstance(expr, nodes.IntExpr):
        return expr.value
    if isinstance(expr, nodes.UnaryExpr) and expr.op in ("-", "+"):
        value = int_constant(expr.expr)
        return None if value is None else (-value if expr.op == "-" else value)
    if isinstance(expr, nodes.OpExpr) and expr.op in ("+", "-", "*", "**"):
        left, right = int_constant(expr.left), int_constant(expr.right)
        if left is None or right is None:
            return None
        if expr.op == "**":
            if right < 0 or right * max(abs(left), 1).bit_length() > _MAX_CONSTANT_BITS:
                return None
            return int(left**right)
        return left + right if expr.op == "+" else left - right if expr.op == "-" else left * right
    return None


def is_await_point(node: nodes.Node) -> bool:
    """Where a coroutine can be suspended, and so where a cancellation can be delivered."""
    if isinstance(node, nodes.AwaitExpr):
        return True
    if isinstance(node, (nodes.WithStmt, nodes.ForStmt)):
        return node.is_async
    if isinstance(node, (nodes.GeneratorExpr, nodes.DictionaryComprehension)):
        return any(node.is_async)
    return False
