"""``gather-cancel-as-result``: a child's cancellation taken for a result of ``asyncio.gather``.

With ``return_exceptions=True``, ``asyncio.gather`` puts what each child raised into its results
instead of raising it, and a cancelled child's ``CancelledError`` too.  Since Python 3.8 that is
a ``BaseException``: results sorted with ``isinstance(r, Exception)`` (or any exception classes
that leave it out) take it for a value, or drop it with the values, and the cancellation is lost.
The awaiting task's own cancellation is not at stake: gather raises it whatever
``return_exceptions`` says (bpo-32684).

The results are followed within the function: bound to locals (and copies), indexed, unpacked,
iterated by ``for`` or comprehensions, directly or through ``zip``/``enumerate``/``reversed``,
also through ``wait_for``/``shield``/``run_until_complete``.  Silent when an ``isinstance`` on the
same item names a class that takes the cancellation (``BaseException``, ``CancelledError``),
when the item is raised on a path a cancellation takes (``else: raise r``), when the results are
never sorted by exception class (returned, passed on, discarded whole), and when this function
cancelled the gathered tasks before gathering them: cleanup after cancel expects those errors.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator

from mypy import nodes

from mypy_cancel_plugin import predicates, semantics, walk
from mypy_cancel_plugin.conditions import Truth, evaluate
from mypy_cancel_plugin.context import FunctionScope, ModuleContext
from mypy_cancel_plugin.errorcodes import GATHER_CANCEL_AS_RESULT

Origins = frozenset[int]  # ids of the gather calls a value may come from
# An item of the results as the code names it: a local, or ``results[i]`` (base and index as written).
ItemKey = nodes.Var | tuple[str, str]
_MAX_ROUNDS = 8  # copies of copies: each round follows one more step
ISINSTANCE = "builtins.isinstance"


def check(function: FunctionScope, module: ModuleContext) -> None:
    gathers = [call for call in function.calls_to(semantics.GATHER) if _returns_exceptions(call)]
    if not gathers:
        return
    flow = _ResultsFlow(function, gathers)
    expected = _cancelled_before(function, gathers)
    # Each item of the results the code sorts with isinstance: the checks, and where it comes from.
    sorting: dict[ItemKey, list[tuple[nodes.CallExpr, _Verdict]]] = {}
    sources: dict[ItemKey, Origins] = {}
    for call in function.calls_to(ISINSTANCE):
        checked = _isinstance_subject(call)
        if checked is None:
            continue
        key, origins = flow.item(checked)
        if key is not None and origins - expected:
            sorting.setdefault(key, []).append((call, _verdict(call.args[1], function)))
            sources[key] = sources.get(key, frozenset()) | (origins - expected)
    for key, checks in sorting.items():
        verdicts = [verdict for _, verdict in checks]
        if _Verdict.TAKES_IT in verdicts or _Verdict.MISSES_IT not in verdicts:
            continue  # the cancellation is looked for, or the results are not sorted by exception class
        if _raised_where_a_cancellation_goes(key, flow, function, module):
            continue
        call = next(call for call, verdict in checks if verdict is _Verdict.MISSES_IT)
        _report(call, key, sources[key], flow, module)


def _returns_exceptions(call: nodes.CallExpr) -> bool:
    """``gather(..., return_exceptions=True)``, the keyword literally ``True``."""
    return walk.names_constant(walk.argument(call, semantics.RETURN_EXCEPTIONS), True)


def _isinstance_subject(call: nodes.CallExpr) -> nodes.Expression | None:
    """``x`` of ``isinstance(x, classes)``."""
    callee = call.callee
    if isinstance(callee, nodes.NameExpr) and callee.fullname == ISINSTANCE and len(call.args) == 2:
        return call.args[0]
    return None


class _Verdict(enum.Enum):
    """What one ``isinstance`` says about a cancellation among the results."""

    TAKES_IT = "takes"  # names CancelledError or a base of it: the code looks for it
    MISSES_IT = "misses"  # names exception classes, none of which a CancelledError is
    UNKNOWN = "unknown"  # not exception classes, or not all of them known


def _verdict(classes_expr: nodes.Expression, function: FunctionScope) -> _Verdict:
    items = classes_expr.items if isinstance(classes_expr, nodes.TupleExpr) else [classes_expr]
    classes = []
    for item in items:
        named = predicates.classes_named_by(item, function.resolver)
        if not named:
            return _Verdict.UNKNOWN  # a class the analysis cannot see might be the one
        classes += named
    if any(_takes_asyncio_cancellation(info) for info in classes):
        return _Verdict.TAKES_IT
    if any(info.has_base(predicates.BASE_EXCEPTION) for info in classes):
        return _Verdict.MISSES_IT
    return _Verdict.UNKNOWN


def _takes_asyncio_cancellation(info: nodes.TypeInfo) -> bool:
    found = predicates.cancellation_libraries(info)
    return found is not None and "asyncio" in found[0]


class _ResultsFlow:
    """Where the results of the function's ``gather(..., return_exceptions=True)`` calls go."""

    def __init__(self, function: FunctionScope, gathers: list[nodes.CallExpr]) -> None:
        self._gathers = {id(call): call for call in gathers}
        self.futures: dict[nodes.Var, Origins] = {}  # locals holding the gather future itself
        self.results: dict[nodes.Var, Origins] = {}  # locals holding the list of results
        self.items: dict[nodes.Var, Origins] = {}  # locals holding one item of the results
        bindings: list[tuple[nodes.Expression, nodes.Expression, bool]] = []  # (target, value, iterated)
        for statement in function.of(nodes.AssignmentStmt):
            bindings += [(target, statement.rvalue, False) for target in statement.lvalues]
        bindings += [(walrus.target, walrus.value, False) for walrus in function.of(nodes.AssignmentExpr)]
        bindings += [(index, sequence, True) for index, sequence in _loops(function)]
        for _ in range(_MAX_ROUNDS):
            changed = False
            for target, value, iterated in bindings:
                found = self._iterate(target, value) if iterated else self._bind(target, value)
                changed |= any([self._add(table, var, origins) for table, var, origins in found])
            if not changed:
                break

    def line_of(self, origin: int) -> int:
        return self._gathers[origin].line

    def _add(self, table: dict[nodes.Var, Origins], var: nodes.Var, origins: Origins) -> bool:
        if not origins or origins <= table.get(var, frozenset()):
            return False
        table[var] = table.get(var, frozenset()) | origins
        return True

    # -- what a value is --------------------------------------------------------------------

    def future(self, expr: nodes.Expression) -> Origins:
        """The gather future: the call, a local bound to it, or what passes it through (``wait_for``)."""
        if isinstance(expr, nodes.CallExpr):
            if id(expr) in self._gathers:
                return frozenset([id(expr)])
            passed = semantics.RESULT_PASSING_FUNCTIONS.get(_fullname(expr.callee))
            if passed is not None:
                argument = walk.argument(expr, passed[0], passed[1])
                return self.future(argument) if argument is not None else frozenset()
        return self._local(expr, self.futures)

    def result_list(self, expr: nodes.Expression) -> Origins:
        """The list of results: awaiting the future, ``loop.run_until_complete(future)``, or a local holding it."""
        if isinstance(expr, nodes.AwaitExpr):
            return self.future(expr.expr)
        if (
            isinstance(expr, nodes.CallExpr)
            and isinstance(expr.callee, nodes.MemberExpr)
            and expr.callee.name in semantics.LOOP_RUNNING_METHODS
            and expr.args
        ):
            return self.future(expr.args[0])
        return self._local(expr, self.results)

    def item(self, expr: nodes.Expression) -> tuple[ItemKey | None, Origins]:
        """Which item of the results ``expr`` is, and where it comes from."""
        expr = walk.unwrapped(expr)
        if isinstance(expr, nodes.IndexExpr) and not isinstance(expr.index, nodes.SliceExpr):
            origins = self.result_list(expr.base)
            base, index = walk.dotted_name(walk.unwrapped(expr.base)), _index_text(expr.index)
            return ((base, index) if base is not None and index is not None else None), origins
        if isinstance(expr, nodes.NameExpr) and isinstance(expr.node, nodes.Var) and expr.node in self.items:
            return expr.node, self.items[expr.node]
        return None, frozenset()

    def _local(self, expr: nodes.Expression, table: dict[nodes.Var, Origins]) -> Origins:
        expr = walk.unwrapped(expr)
        if isinstance(expr, nodes.NameExpr) and isinstance(expr.node, nodes.Var):
            return table.get(expr.node, frozenset())
        return frozenset()

    # -- where a binding puts it ------------------------------------------------------------

    def _bind(self, target: nodes.Expression, value: nodes.Expression) -> Iterator[tuple[dict[nodes.Var, Origins], nodes.Var, Origins]]:
        """``target = value``: a copy of the future, of the list, or of an item; unpacking takes items."""
        if isinstance(target, nodes.NameExpr) and isinstance(target.node, nodes.Var):
            yield self.futures, target.node, self.future(value)
            yield self.results, target.node, self.result_list(value)
            yield self.items, target.node, self.item(value)[1]
        elif isinstance(target, (nodes.TupleExpr, nodes.ListExpr)):
            origins = self.result_list(value)
            for part in target.items:
                if isinstance(part, nodes.StarExpr):
                    yield from self._named(part.expr, self.results, origins)
                else:
                    yield from self._named(part, self.items, origins)

    def _iterate(self, target: nodes.Expression, iterable: nodes.Expression) -> Iterator[tuple[dict[nodes.Var, Origins], nodes.Var, Origins]]:
        """``for target in iterable`` (or a comprehension): the items of the results, also through zip/enumerate."""
        yield from self._named(target, self.items, self.result_list(iterable))
        if not isinstance(iterable, nodes.CallExpr) or any(kind != nodes.ARG_POS for kind in iterable.arg_kinds):
            return
        name, arguments = _fullname(iterable.callee), iterable.args
        parts = target.items if isinstance(target, (nodes.TupleExpr, nodes.ListExpr)) else None
        if name == semantics.ZIP and parts is not None and len(parts) == len(arguments):
            for part, argument in zip(parts, arguments):
                yield from self._iterate(part, argument)
        elif name == semantics.ENUMERATE and parts is not None and len(parts) == 2 and arguments:
            yield from self._iterate(parts[1], arguments[0])
        elif name in semantics.SAME_ITEMS and len(arguments) == 1:
            yield from self._iterate(target, arguments[0])

    def _named(self, target: nodes.Expression, table: dict[nodes.Var, Origins], origins: Origins) -> Iterator[tuple[dict[nodes.Var, Origins], nodes.Var, Origins]]:
        if origins and isinstance(target, nodes.NameExpr) and isinstance(target.node, nodes.Var):
            yield table, target.node, origins


def _loops(function: FunctionScope) -> Iterator[tuple[nodes.Expression, nodes.Expression]]:
    """Every ``for index in sequence`` of the function, in statements and in comprehensions."""
    for loop in function.of(nodes.ForStmt):
        yield loop.index, loop.expr
    for generator in function.of(nodes.GeneratorExpr):
        yield from zip(generator.indices, generator.sequences)
    for comprehension in function.of(nodes.DictionaryComprehension):
        yield from zip(comprehension.indices, comprehension.sequences)


def _fullname(expr: nodes.Expression) -> str:
    return expr.fullname if isinstance(expr, nodes.RefExpr) else ""


def _index_text(index: nodes.Expression) -> str | None:
    if isinstance(index, nodes.IntExpr):
        return str(index.value)
    if isinstance(index, nodes.UnaryExpr) and index.op == "-" and isinstance(index.expr, nodes.IntExpr):
        return f"-{index.expr.value}"
    return walk.dotted_name(index)


def _key_of(expr: nodes.Expression, flow: _ResultsFlow) -> ItemKey | None:
    return flow.item(expr)[0]


def _raised_where_a_cancellation_goes(key: ItemKey, flow: _ResultsFlow, function: FunctionScope,
                                      module: ModuleContext) -> bool:
    """Whether some ``raise <item>`` lies on a path an item holding a ``CancelledError`` can take
    (``if isinstance(r, OSError): ... else: raise r``): the code re-raises what it did not sort
    out.  An ``assert`` that such an item fails (``assert isinstance(r, Exception)``) stops it too."""
    atom = _cancelled_item_truth(key, flow, function)
    if any(evaluate(stmt.expr, atom, module.options) is Truth.FALSE for stmt in function.of(nodes.AssertStmt)):
        return True
    raises = [stmt for stmt in function.of(nodes.RaiseStmt)
              if stmt.expr is not None and _key_of(stmt.expr, flow) == key]
    if not raises:
        return False
    position = function.walked.positions
    closed: list[nodes.Block] = []  # branches an item holding a cancellation never enters
    for stmt in function.of(nodes.IfStmt):
        branches = [*stmt.body, stmt.else_body]
        for index, condition in enumerate(stmt.expr):
            truth = evaluate(condition, atom, module.options)
            if truth is Truth.FALSE:
                closed.append(stmt.body[index])
            elif truth is Truth.TRUE:
                closed += [branch for branch in branches[index + 1:] if branch is not None]
                break
    return any(
        not any(function.walked.encloses_any(block, [position[id(stmt)]]) for block in closed)
        for stmt in raises
    )


def _cancelled_item_truth(key: ItemKey, flow: _ResultsFlow, function: FunctionScope) -> Callable[[nodes.Expression], Truth]:
    """The truth of a leaf condition when the item ``key`` holds a ``CancelledError``."""

    def atom(expr: nodes.Expression) -> Truth:
        if not isinstance(expr, nodes.CallExpr):
            return Truth.UNKNOWN
        subject = _isinstance_subject(expr)
        if subject is None or _key_of(subject, flow) != key:
            return Truth.UNKNOWN
        verdict = _verdict(expr.args[1], function)
        return {_Verdict.TAKES_IT: Truth.TRUE, _Verdict.MISSES_IT: Truth.FALSE}.get(verdict, Truth.UNKNOWN)

    return atom


def _cancelled_before(function: FunctionScope, gathers: list[nodes.CallExpr]) -> Origins:
    """The gathers whose awaitables this function cancelled before gathering them (``t.cancel()``
    on one of them, or on the loop variable over a collection it gathers): cleanup after cancel,
    where a ``CancelledError`` in the results is the expected outcome."""
    position = function.walked.positions
    looped: dict[nodes.Var, str] = {}  # loop variable -> the collection it runs over
    for index, sequence in _loops(function):
        source = _source(sequence)
        if source is not None and isinstance(index, nodes.NameExpr) and isinstance(index.node, nodes.Var):
            looped[index.node] = source
    cancels: list[tuple[int, str]] = []
    for call in function.of(nodes.CallExpr):
        callee = call.callee
        if isinstance(callee, nodes.MemberExpr) and callee.name == "cancel" and not call.args:
            receiver = callee.expr
            for source in (_source(receiver), looped.get(receiver.node) if isinstance(receiver, nodes.NameExpr)
                           and isinstance(receiver.node, nodes.Var) else None):
                if source is not None:
                    cancels.append((position[id(call)], source))
    expected = set()
    for gather in gathers:
        at = position[id(gather)]
        cancelled = {source for cancelled_at, source in cancels if cancelled_at < at}
        if cancelled & _gathered_sources(gather):
            expected.add(id(gather))
    return frozenset(expected)


def _gathered_sources(gather: nodes.CallExpr) -> set[str]:
    """What a gather waits for, as written: ``gather(task)``, ``gather(*tasks)``, ``gather(*(t for t in tasks))``."""
    sources = set()
    for argument, name in zip(gather.args, gather.arg_names):
        if name is not None:
            continue
        value = argument.expr if isinstance(argument, nodes.StarExpr) else argument
        if isinstance(value, nodes.ListComprehension):
            value = value.generator
        sequences = value.sequences if isinstance(value, nodes.GeneratorExpr) else [value]
        sources |= {source for source in map(_source, sequences) if source is not None}
    return sources


def _source(expr: nodes.Expression) -> str | None:
    """A collection or task as written: ``tasks``, ``self._tasks``; ``d.values()`` counts as ``d``."""
    if isinstance(expr, nodes.CallExpr) and not expr.args and isinstance(expr.callee, nodes.MemberExpr):
        expr = expr.callee.expr
    return walk.dotted_name(expr)


def _report(call: nodes.CallExpr, key: ItemKey, origins: Origins, flow: _ResultsFlow, module: ModuleContext) -> None:
    item = key.name if isinstance(key, nodes.Var) else f"{key[0]}[{key[1]}]"
    line = min(flow.line_of(origin) for origin in origins)
    named = call.args[1]
    classes = walk.written_name(named) if isinstance(named, (nodes.RefExpr, nodes.TupleExpr)) else "..."
    message = (
        f"isinstance({item}, {classes}) lets a cancelled child of "
        f"asyncio.gather(..., return_exceptions=True) at line {line} pass for a result: "
        f"its CancelledError is a BaseException, and the cancellation is lost"
    )
    fix = (
        f'sort the results by "BaseException" and re-raise a cancellation: '
        f'"if isinstance({item}, asyncio.CancelledError): raise {item}"'
    )
    module.report(call, message, GATHER_CANCEL_AS_RESULT, fix=fix)
