"""A small walk over ``mypy.nodes``.

mypy is compiled with mypyc, so ``mypy.traverser.TraverserVisitor`` cannot be
subclassed from Python.  Instead every node class the rules can meet is mapped
to the attributes that hold its children.  ``tests/test_mypy_contract.py``
fails when a mypy release adds a node class that is missing here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mypy import nodes

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

# Lambdas are not here: they cannot await or hold statements, and calls in them (callbacks
# that spawn tasks) belong to the code that writes them.
NEW_SCOPES = (nodes.FuncDef, nodes.ClassDef)


def _flatten(value: object) -> Iterator[nodes.Node]:
    if isinstance(value, nodes.Node):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _flatten(item)


def children(node: nodes.Node) -> Iterator[nodes.Node]:
    """Direct children of ``node``, in source order."""
    for attribute in CHILD_ATTRIBUTES.get(type(node), ()):
        yield from _flatten(getattr(node, attribute, None))


def descendants(node: nodes.Node) -> Iterator[nodes.Node]:
    """Every node below ``node`` that runs in the same scope (nested defs and classes excluded)."""
    stack = list(children(node))
    stack.reverse()
    while stack:
        current = stack.pop()
        yield current
        if not isinstance(current, NEW_SCOPES):
            grandchildren = list(children(current))
            grandchildren.reverse()
            stack.extend(grandchildren)


def scope_nodes(body: nodes.Block) -> Iterator[nodes.Node]:
    """``body`` itself and every node below it in the same scope."""
    yield body
    yield from descendants(body)


def module_top_level(tree: nodes.MypyFile) -> nodes.Block:
    """The statements of a module outside its functions and classes, as one block."""
    block = nodes.Block(list(tree.defs))
    block.set_line(1)
    return block


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


def functions(tree: nodes.MypyFile) -> Iterator[Function]:
    """Every ``def`` in a module, however deeply nested in classes, functions or statements."""
    Frame = tuple[nodes.Node, tuple[nodes.FuncDef | nodes.TypeInfo, ...], bool]
    stack: list[Frame] = [(node, (), False) for node in reversed(tree.defs)]
    while stack:
        node, enclosing, unannotated = stack.pop()
        if isinstance(node, (nodes.Decorator, nodes.FuncDef)):
            defn = node.func if isinstance(node, nodes.Decorator) else node
            decorators = tuple(node.decorators) if isinstance(node, nodes.Decorator) else ()
            unannotated = unannotated or defn.is_dynamic()
            yield Function(defn, decorators, enclosing, unannotated)
            inner = (*enclosing, defn)
            stack.extend((child, enclosing, unannotated) for child in reversed(decorators))
            stack.extend((child, inner, unannotated) for child in reversed(defn.body.body))
            continue
        if isinstance(node, nodes.ClassDef):
            enclosing = (*enclosing, node.info)
        stack.extend((child, enclosing, unannotated) for child in reversed(list(children(node))))


def dotted_name(expr: nodes.Expression) -> str | None:
    """``a.b.c`` for a name or attribute chain, as written; ``None`` for anything else."""
    if isinstance(expr, nodes.NameExpr):
        return expr.name
    if isinstance(expr, nodes.MemberExpr):
        base = dotted_name(expr.expr)
        return f"{base}.{expr.name}" if base is not None else None
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
