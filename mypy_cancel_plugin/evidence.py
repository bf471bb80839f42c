"""What an untyped value is, from the evidence its module gives.

mypy types ``self._loop`` as ``Any`` when an unannotated ``__init__`` stores a parameter in
it; a reviewer still knows it is an event loop.  This module decides such values from what
the code says about them, strongest evidence first, and stops at the first level that
decides:

1. **Types**: the checker's type map and declarations (``static_types.Resolver``), items of
   declared containers included.
2. **Values**: what the module assigns to the name or attribute (``self._loop = loop or
   asyncio.get_event_loop()``), binds with ``async with ... as`` or ``for ... in``, and what
   its calls pass for a parameter of a function defined here.  The class those values agree
   on types the value (``self.event = asyncio.Event()`` makes ``self.event.wait()`` a
   coroutine; an unannotated helper of the module has the class its ``return``s agree on).
   A global's alternative imports are values of it.  A type that says only "awaitable" is
   decided here too: a plain ``def -> Awaitable[T]`` of the module is what it returns.
   A value follows where it goes: a variable holding a class constructs it when called (its
   arguments are values of ``__init__``'s parameters), and what is stored in a container
   (``c[k] = v``, ``c.append(v)``) is what reading it gives (``c[k]``, ``c.values()``), a
   comprehension's items are what its element expression gives, and unpacking gives each
   target its item (``reader, writer = await open_connection()``).
3. **Uses**: how the module uses the value: passed where a parameter declares an event loop
   or a coroutine, its loop-only methods called (``call_soon``, ``run_in_executor``), called
   with the result awaited (a coroutine function).
4. **Names** (optional, ``loop_names``): a name or attribute nothing above says anything
   about, spelled ``loop``, ``_loop`` or ``<anything>_loop``, is an event loop, and so is
   what an untyped function spelled so returns (``helpers.get_running_loop()``).
5. **Purpose** (optional, ``untyped_calls``, decided in ``rules/unstructured_task``): a
   call nothing above says anything about (``says_nothing_about``) given to ``ensure_future``,
   ``shield``, ``wait_for`` or ``gather`` is a coroutine, since wrapping one is what they are
   for (a future comes from an API mypy types); so is each item of a sequence given to
   ``gather(*...)`` or ``wait`` when every item the code puts in is such a call.

A value whose evidence disagrees (a loop in one assignment, anything else in another) is
none of the kinds in particular, and no name decides it.  Evidence is gathered in one pass over the module; each value is judged once.
"""

from __future__ import annotations

import re
from typing import TypeVar
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from mypy import nodes
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    NoneType,
    Overloaded,
    ProperType,
    Type,
    TypeOfAny,
    TypeType,
    TypeVarType,
    UninhabitedType,
    UnionType,
    get_proper_type,
)

from mypy_cancel_plugin import predicates, semantics, walk
from mypy_cancel_plugin.static_types import (
    Resolver,
    checker_inferred_local,
    class_object_type,
    declared_type,
    formal_arguments,
    iterable_item_type,
    member_type,
    return_type,
)

# What a value is, as far as spawning tasks goes.
LOOP = "event loop"
TASK_GROUP = "task group"  # any cancel scope: a task group, a nursery, or what opens them
FUTURE = "future"  # a Future or Task: ensure_future() wraps it in nothing
COROUTINE = "coroutine"  # an awaitable that is not a future: a task is made to run it
# Declared awaitable, nothing more (``Awaitable[T]``, a class with ``__await__``): a future or a
# coroutine.  Only ``kind_of_type`` says it; the evidence decides it further (``_awaitable_kind``).
AWAITABLE = "awaitable"
COROUTINE_FUNCTION = "coroutine function"
OTHER = "other"  # a known type that is none of the above

# Methods only an event loop has: scheduling callbacks and running work in executors
# (``AbstractEventLoop``'s own API; task groups, nurseries and futures have none of them).
LOOP_ONLY_METHODS = frozenset(
    {"call_soon", "call_soon_threadsafe", "call_later", "call_at", "run_in_executor",
     "run_until_complete", "create_future", "set_default_executor"}
)
# Methods that put items into a container: ``append(x)``, ``add(x)``, ``insert(i, x)`` add their
# last argument; ``extend(xs)``/``update(xs)`` add the items of it.
ADDS_ITEM = frozenset({"append", "add", "insert", "appendleft"})
ADDS_ITEMS_OF = frozenset({"extend", "update", "extendleft"})
# ``c.values()``: what a mapping holds under its keys (iterating ``c`` itself gives the keys).
STORED_VALUES = "values"
STORED_ITEMS = "items"  # ``c.items()``: (key, stored value) pairs
LOOP_NAME = re.compile(r"(.*_)?loop")
# What a name can refer to that is not a value of its own: the names level leaves these alone.
_NOT_VALUES = (nodes.FuncBase, nodes.Decorator, nodes.TypeInfo, nodes.TypeAlias, nodes.MypyFile)
# What calling an ``async def`` (or a ``@types.coroutine`` generator function) gives.
COROUTINE_CLASSES = ("typing.Coroutine", "typing.AwaitableGenerator")
_MAX_DEPTH = 8  # nesting of one value's expression
_MAX_CHAIN = 64  # variables judged through one another
_MAX_ROUNDS = 4  # of binding constructions through variables that hold a class
T = TypeVar("T")
Reader = Callable[[nodes.Expression, "nodes.FuncDef | None"], T]  # what an expression in a function gives


def kind_of_type(typ: ProperType | None) -> str | None:
    """What a value of a known type is; ``None`` for no type, ``Any``, or a type variable no call
    has solved (the items of an empty ``set()`` are not known to be anything).

    ``Any | AbstractEventLoop`` (``loop or asyncio.get_event_loop()`` with ``loop: Any``) is
    judged by its known members, as the ``or`` itself would be.
    """
    if typ is None or isinstance(typ, (AnyType, NoneType, TypeVarType, UninhabitedType)):
        return None
    if isinstance(typ, UnionType):
        members = [get_proper_type(item) for item in typ.items]
        known = [member for member in members if not isinstance(member, AnyType)]
        if len(known) < len(members):
            return _agree(kind_of_type(member) for member in known)
    if predicates.is_event_loop(typ):
        return LOOP
    if predicates.cancel_scope_name(typ) is not None:
        return TASK_GROUP
    if predicates.is_future(typ):
        return FUTURE
    if predicates.is_instance_of(typ, COROUTINE_CLASSES) is not None:
        return COROUTINE
    if predicates.is_instance_of(typ, ("typing.Awaitable",)) is not None or (
        isinstance(typ, Instance) and typ.type.get("__await__") is not None
    ):
        return AWAITABLE
    if isinstance(typ, CallableType):
        definition = typ.definition
        if isinstance(definition, nodes.FuncDef) and definition.is_coroutine:
            return COROUTINE_FUNCTION
        if kind_of_type(get_proper_type(typ.ret_type)) in (COROUTINE, AWAITABLE):
            return COROUTINE_FUNCTION
    if isinstance(typ, Overloaded):  # ``asyncio.sleep``: every overload a coroutine function
        return _all_agree(kind_of_type(item) for item in typ.items) or OTHER
    return OTHER


def item_kind_of_type(typ: ProperType | None) -> str | None:
    """What the items of an iterable of this type are, by its item type."""
    item = iterable_item_type(typ)
    return kind_of_type(item) if item is not None else None


def _all_agree(kinds: Iterable[str | None]) -> str | None:
    """The one kind every piece of evidence gives; ``None`` when any is unknown or they differ."""
    found = set(kinds)
    return found.pop() if len(found) == 1 else None


def _is_known(typ: ProperType | None) -> bool:
    return typ is not None and not isinstance(typ, AnyType)


def _unpacked(
    targets: list[nodes.Expression], value: nodes.Expression
) -> Iterator[tuple[nodes.Expression, nodes.Expression]]:
    """Each target of ``a, b = value`` with the value it gets: an item written out (``a, b = x, y``),
    else ``value[i]`` (``reader, writer = await open_connection()``); a starred target gets a list
    and is left out, and the targets after it count from the end."""
    starred = next((index for index, target in enumerate(targets) if isinstance(target, nodes.StarExpr)), None)
    written = value.items if isinstance(value, (nodes.TupleExpr, nodes.ListExpr)) else None
    if written is not None and (starred is not None or len(written) != len(targets)
                                or any(isinstance(item, nodes.StarExpr) for item in written)):
        return  # the items do not line up one to one
    for position, target in enumerate(targets):
        if position == starred:
            continue
        if written is not None:
            yield target, written[position]
            continue
        index = position if starred is None or position < starred else position - len(targets)
        literal = nodes.IntExpr(index) if index >= 0 else nodes.UnaryExpr("-", nodes.IntExpr(-index))
        item = nodes.IndexExpr(value, literal)
        item.set_line(value)
        yield target, item


def _agree(kinds: Iterable[str | None]) -> str | None:
    """One kind from several pieces of evidence: a task group wins; evidence that disagrees
    says the value is none of the kinds in particular (``OTHER``), unlike no evidence (``None``)."""
    known = {kind for kind in kinds if kind is not None}
    if TASK_GROUP in known:
        return TASK_GROUP
    if len(known) > 1:
        return OTHER
    return known.pop() if known else None


def _unannotated_any(typ: ProperType) -> bool:
    """``Any`` that stands for code nobody annotated, or type arguments nobody wrote (a bare
    ``Callable`` returns it), directly or through values derived from it."""
    if not isinstance(typ, AnyType):
        return False
    source = typ.source_any if typ.type_of_any == TypeOfAny.from_another_any and typ.source_any else typ
    return source.type_of_any in (TypeOfAny.unannotated, TypeOfAny.from_omitted_generics)


def _declared(var: nodes.Var) -> bool:
    """Whether a variable has a type of its own (an explicit ``Any`` too): not an unannotated
    one, nor the ``None`` mypy infers from a first ``self.x = None`` that later code replaces, nor
    the ``Any`` it infers from an untyped value (``for cmd in self.pending.values()``)."""
    declared = get_proper_type(var.type) if var.type is not None else None
    unannotated = isinstance(declared, AnyType) and (declared.type_of_any == TypeOfAny.unannotated or var.is_inferred)
    return declared is not None and not unannotated and not (isinstance(declared, NoneType) and var.is_inferred)


def _one_class(types: Iterable[ProperType | None]) -> Instance | TypeType | None:
    """The type all known, non-``None`` types agree on (by class), if there is one: instances of
    one class, or that class object itself (``factory = Connection``: calling it constructs one)."""
    found = [typ for typ in types if typ is not None and not isinstance(typ, (NoneType, AnyType))]
    instances = {typ.type for typ in found if isinstance(typ, Instance)}
    constructed = {class_constructed(typ) for typ in found if not isinstance(typ, Instance)}
    if len(instances) == 1 and not constructed:
        first = found[0]
        assert isinstance(first, Instance)
        return first
    if len(constructed) == 1 and not instances:
        (info,) = constructed
        return class_object_type(info) if info is not None else None
    return None


def class_constructed(typ: ProperType | None) -> nodes.TypeInfo | None:
    """The class a call of a value of this type constructs: ``type[C]``, or the class object ``C``
    (mypy types a variable holding a class as its constructor's signature)."""
    if isinstance(typ, TypeType) and isinstance(typ.item, Instance):
        return typ.item.type
    if isinstance(typ, CallableType) and typ.is_type_obj():
        return typ.type_object()
    return None


def self_variable(defn: nodes.FuncDef) -> nodes.Var | None:
    """The ``self`` parameter of a method (``None`` for functions, static and class methods)."""
    if defn.info and defn.arguments and not defn.is_static and not defn.is_class:
        return defn.arguments[0].variable
    return None


def var_of(
    expr: nodes.Expression, self_class: Mapping[nodes.Var, nodes.TypeInfo], resolver: Resolver
) -> nodes.Var | None:
    """The variable or attribute an expression names: ``x``, ``self.x``, ``obj.attr``.

    An attribute is the class's own ``Var`` (a subclass's ``self.x`` is its base's); ``self_class``
    maps each method's ``self`` to its class, so a closure's ``self`` is known too.
    """
    if isinstance(expr, nodes.NameExpr):
        return expr.node if isinstance(expr.node, nodes.Var) else None
    if not isinstance(expr, nodes.MemberExpr):
        return None
    if isinstance(expr.node, nodes.Var):
        return expr.node
    owner = expr.expr
    info = None
    if isinstance(owner, nodes.NameExpr) and isinstance(owner.node, nodes.Var):
        info = self_class.get(owner.node)
    if info is None:
        typ = resolver.type_of(owner)
        info = typ.type if isinstance(typ, Instance) else None
    symbol = info.get(expr.name) if info is not None else None
    return symbol.node if symbol is not None and isinstance(symbol.node, nodes.Var) else None


def _vars_read(scope: walk.ScopeNodes) -> list[nodes.Var]:
    """The variables the scope's names read, once per reading name (a name an assignment, a ``with``,
    a ``for`` or a comprehension binds is written there, not read)."""
    written = {id(lvalue) for assignment in scope.of(nodes.AssignmentStmt) for lvalue in assignment.lvalues}
    written.update(id(target) for with_stmt in scope.of(nodes.WithStmt) for target in with_stmt.target)
    written.update(id(loop.index) for loop in scope.of(nodes.ForStmt))
    comprehensions: list[nodes.GeneratorExpr | nodes.DictionaryComprehension] = [
        *scope.of(nodes.GeneratorExpr), *scope.of(nodes.DictionaryComprehension)
    ]
    written.update(id(index) for comprehension in comprehensions for index in comprehension.indices)
    return [name.node for name in scope.of(nodes.NameExpr) if isinstance(name.node, nodes.Var) and id(name) not in written]


class ModuleEvidence:
    """Values, bindings and uses of every variable and attribute of one module.

    Gathered on the first question a type does not answer: most modules never ask one.
    """

    def __init__(self, scopes: Sequence[walk.ScopeNodes], checked_types: Mapping[nodes.Expression, Type], *,
                 loop_names: bool,
                 imported: Callable[[], Iterable[tuple[nodes.Var, nodes.Expression]]] = tuple,
                 loop_class: Callable[[], Instance | None] = lambda: None, infer_locals: bool = True) -> None:
        self._infer_locals = infer_locals  # False: see ``static_types.Resolver``
        self._scopes = scopes
        self._is_gathered = False
        self._imported = imported  # each global an import binds -> what it imports
        self._checked_types = checked_types
        self._loop_names = loop_names
        self._loop_class = loop_class  # ``asyncio.AbstractEventLoop``, where the build has it
        self._resolvers: dict[int, Resolver] = {}
        # Var -> (expression whose value it holds, function the expression is in)
        self._values: dict[nodes.Var, list[tuple[nodes.Expression, nodes.FuncDef | None]]] = defaultdict(list)
        # Var -> sequences it iterates over (``for x in seq``, comprehensions)
        self._elements: dict[nodes.Var, list[tuple[nodes.Expression, nodes.FuncDef | None]]] = defaultdict(list)
        # Var -> what the module puts into the container it holds: items, and sequences of items
        self._items: dict[nodes.Var, list[tuple[nodes.Expression, nodes.FuncDef | None]]] = defaultdict(list)
        self._items_of: dict[nodes.Var, list[tuple[nodes.Expression, nodes.FuncDef | None]]] = defaultdict(list)
        # Var -> values stored in the container it holds by key or index (``c[k] = v``)
        self._stored: dict[nodes.Var, list[tuple[nodes.Expression, nodes.FuncDef | None]]] = defaultdict(list)
        self._uses: dict[nodes.Var, set[str]] = defaultdict(set)
        self._reads: Counter[nodes.Var] = Counter()
        self._self_class: dict[nodes.Var, nodes.TypeInfo] = {}
        # FuncDef -> the expressions its ``return`` statements give back
        self._returned: dict[nodes.FuncDef, list[nodes.Expression]] = {}
        # (question, Var or FuncDef) -> answer; the questions being answered; whether an answer
        # met one still being answered (a cycle)
        self._judged: dict[tuple[str, object], object] = {}
        self._judging: set[tuple[str, object]] = set()
        self._incomplete = False
        self._defined: set[int] = set()  # the module's own functions
        # calls of a variable or attribute (``self.factory(...)``): what it holds is known only
        # once every value is in (``_bind_constructions``)
        self._variable_calls: list[tuple[nodes.CallExpr, nodes.FuncDef | None]] = []
        self._class_kinds: dict[nodes.TypeInfo, str | None] = {}  # ``_parameter_kind``

    def _gathered(self) -> None:
        """Gather the module's facts, once, before the first question that needs them."""
        if not self._is_gathered:
            self._is_gathered = True
            self._collect(self._scopes)
            for var, value in self._imported():
                self._values[var].append((value, None))
            self._bind_constructions()

    def read_count(self, name: nodes.NameExpr, chain: Sequence[nodes.FuncDef | nodes.TypeInfo]) -> int:
        """How many places of the module read the variable ``name`` refers to (targets it is assigned to
        do not count).  ``chain``: the function ``name`` is in, and what encloses it.  A local of one
        of them is read only in the outermost function and the scopes nested in it: counted there,
        without gathering the module's facts."""
        var = name.node
        assert isinstance(var, nodes.Var)
        outermost = next((node for node in chain if isinstance(node, nodes.FuncDef)), None)
        if name.kind != nodes.LDEF or outermost is None or self._is_gathered:
            self._gathered()
            return self._reads[var]
        return sum(
            read is var
            for scope in self._scopes
            if scope.function is not None
            and (scope.function.defn is outermost or outermost in scope.function.enclosing)
            for read in _vars_read(scope)
        )

    # -- gathering: over the nodes the module's walk collected -------------------------

    def _collect(self, scopes: Sequence[walk.ScopeNodes]) -> None:
        """Visit only the kinds of node that bind, read or pass on a value, kind by kind."""
        defined = self._defined
        for scope in scopes:
            for defn in scope.of(nodes.FuncDef):
                self._enter_function(defn)
                defined.add(id(defn))
        for scope in scopes:
            function = scope.function.defn if scope.function is not None else None
            for assignment in scope.of(nodes.AssignmentStmt):
                for lvalue in assignment.lvalues:
                    self._bind(lvalue, assignment.rvalue, function)
            for with_stmt in scope.of(nodes.WithStmt):
                for target, entered in zip(with_stmt.target, with_stmt.expr):
                    if target is not None:
                        self._bind(target, entered, function)
            for loop in scope.of(nodes.ForStmt):
                self._iterate(loop.index, loop.expr, function)
            comprehensions: list[nodes.GeneratorExpr | nodes.DictionaryComprehension] = [
                *scope.of(nodes.GeneratorExpr), *scope.of(nodes.DictionaryComprehension)
            ]
            for comprehension in comprehensions:
                for index, sequence in zip(comprehension.indices, comprehension.sequences):
                    self._iterate(index, sequence, function)
            if function is not None:
                self._returned[function] = scope.returned
            for awaited in scope.of(nodes.AwaitExpr):
                if isinstance(awaited.expr, nodes.CallExpr):
                    self._use(awaited.expr.callee, COROUTINE_FUNCTION, function)
        for scope in scopes:
            function = scope.function.defn if scope.function is not None else None
            self._reads.update(_vars_read(scope))
            for call in scope.of(nodes.CallExpr):
                self._call(call, function)

    def _enter_function(self, defn: nodes.FuncDef) -> None:
        for argument in defn.arguments:
            if argument.initializer is not None:
                self._values[argument.variable].append((argument.initializer, None))
        own = self_variable(defn)
        if own is not None:
            self._self_class[own] = defn.info

    def _bind(self, target: nodes.Expression, value: nodes.Expression, function: nodes.FuncDef | None) -> None:
        if isinstance(target, (nodes.TupleExpr, nodes.ListExpr)):
            for item_target, item_value in _unpacked(target.items, value):
                self._bind(item_target, item_value, function)
            return
        if isinstance(target, nodes.IndexExpr):  # ``c[k] = v``: a value the container holds, not one of ``c``
            container = self.var_of(target.base, function)
            if container is not None:
                self._stored[container].append((value, function))
            return
        var = self.var_of(target, function)
        if var is not None:
            self._values[var].append((value, function))

    def _iterate(self, target: nodes.Expression, sequence: nodes.Expression, function: nodes.FuncDef | None) -> None:
        pair = _items_pair(target, sequence)
        if pair is not None:  # ``for key, value in c.items()``: each value is one of ``c.values()``
            value_target, values = pair
            self._iterate(value_target, values, function)
            return
        var = self.var_of(target, function)
        if var is not None:
            self._elements[var].append((sequence, function))

    def _use(self, expr: nodes.Expression, kind: str, function: nodes.FuncDef | None) -> None:
        var = self.var_of(expr, function)
        if var is not None:
            self._uses[var].add(kind)

    def _call(self, call: nodes.CallExpr, function: nodes.FuncDef | None) -> None:
        """Record what a call says about its receiver, its arguments and its callee's parameters."""
        callee = call.callee
        if isinstance(callee, nodes.MemberExpr) and callee.name in LOOP_ONLY_METHODS:
            self._use(callee.expr, LOOP, function)
        if isinstance(callee, nodes.MemberExpr) and call.args and callee.name in ADDS_ITEM | ADDS_ITEMS_OF:
            container = self.var_of(callee.expr, function)
            if container is not None:
                added = self._items if callee.name in ADDS_ITEM else self._items_of
                added[container].append((call.args[-1], function))
        resolver = self.resolver(function)
        target = resolver.definition_of(callee)
        if isinstance(target, nodes.Var):
            self._variable_calls.append((call, function))
        elif isinstance(target, (nodes.TypeInfo, nodes.TypeAlias)):
            self._bind_arguments(call, function, class_constructed(declared_type(target)))
        elif isinstance(target, nodes.FuncDef):
            self._bind_arguments(call, function, target)
        signature = resolver.type_of(callee)
        if isinstance(signature, CallableType):  # a value passed where a type is declared is of it
            for argument, index in formal_arguments(call, signature.arg_names, signature.arg_kinds, False):
                expected = self._parameter_kind(get_proper_type(signature.arg_types[index]))
                if expected == LOOP:
                    self._use(argument, LOOP, function)
                elif expected in (COROUTINE, AWAITABLE) and isinstance(argument, nodes.CallExpr):
                    self._use(argument.callee, COROUTINE_FUNCTION, function)

    def _parameter_kind(self, declared: ProperType) -> str | None:
        """``kind_of_type`` of a parameter's declared type, worked out once per class for instances
        (most parameters are ``str``, ``int``, a class of the program; only a context manager
        wrapper's kind depends on its type arguments)."""
        if not isinstance(declared, Instance) or declared.type.fullname in predicates.CONTEXT_MANAGER_WRAPPERS:
            return kind_of_type(declared)
        info = declared.type
        if info not in self._class_kinds:
            self._class_kinds[info] = kind_of_type(declared)
        return self._class_kinds[info]

    def _bind_arguments(self, call: nodes.CallExpr, function: nodes.FuncDef | None,
                        callee: nodes.SymbolNode | None) -> None:
        """A value passed for a parameter of a function of this module (a class's: its ``__init__``)
        is a value of that parameter.  Other modules' functions may come from the cache without
        their bodies and arguments."""
        bound = isinstance(call.callee, nodes.MemberExpr) and isinstance(callee, nodes.FuncDef) and bool(callee.info)
        if isinstance(callee, nodes.TypeInfo):
            init = callee.get("__init__")
            callee, bound = (init.node if init is not None else None), True
        if isinstance(callee, nodes.FuncDef) and id(callee) in self._defined:
            for argument, index in formal_arguments(call, callee.arg_names, callee.arg_kinds, bound):
                self._values[callee.arguments[index].variable].append((argument, function))

    def _bind_constructions(self) -> None:
        """Bind the arguments of calls of a variable that holds a class: ``self.factory(a, b)``
        constructs what the module's values of ``self.factory`` agree on.

        Those values are known only now, and binding adds values, so answers worked out while
        binding are dropped; a round that binds more may let another call resolve.
        """
        pending = self._variable_calls
        for _ in range(_MAX_ROUNDS):
            constructed = [(call, function, class_constructed(self.type_of(call.callee, function)))
                           for call, function in pending]
            pending = [(call, function) for call, function, info in constructed if info is None]
            if len(pending) == len(constructed):
                break
            for call, function, info in constructed:
                if info is not None:
                    self._bind_arguments(call, function, info)
            self._judged.clear()
        self._variable_calls = []

    # -- judging ---------------------------------------------------------------------

    def resolver(self, function: nodes.FuncDef | None) -> Resolver:
        """A resolver by types alone (locals are followed by the evidence instead)."""
        key = id(function)
        if key not in self._resolvers:
            self._resolvers[key] = Resolver(function, (), self._checked_types, infer_locals=self._infer_locals)
        return self._resolvers[key]

    def var_of(self, expr: nodes.Expression, function: nodes.FuncDef | None) -> nodes.Var | None:
        """The variable or attribute an expression names: ``x``, ``self.x``, ``obj.attr``."""
        return var_of(expr, self._self_class, self.resolver(function))

    def kind_of(self, expr: nodes.Expression, function: nodes.FuncDef | None, depth: int = 0,
                resolver: Resolver | None = None) -> str | None:
        """What the value of ``expr`` (in ``function``) is, by the strongest evidence that decides."""
        if isinstance(expr, nodes.CallExpr) and isinstance(expr.analyzed, nodes.CastExpr):
            expr = expr.analyzed  # ``cast(T, x)``: semantic analysis keeps the cast beside the call
        resolver = resolver or self.resolver(function)
        known = kind_of_type(self.type_of(expr, function, resolver))
        if known == AWAITABLE:
            return self._awaitable_kind(expr, function, resolver)
        if known is not None or depth > _MAX_DEPTH:
            return known
        if isinstance(expr, nodes.RefExpr):
            definition = self._definition_of(expr, function, resolver)
            if isinstance(definition, nodes.FuncBase):  # an unannotated def has no type, but a kind
                return COROUTINE_FUNCTION if isinstance(definition, nodes.FuncDef) and definition.is_coroutine else None
        self._gathered()
        depth += 1
        if isinstance(expr, nodes.OpExpr) and expr.op in ("or", "and"):
            return _agree(self.kind_of(side, function, depth) for side in (expr.left, expr.right))
        if isinstance(expr, nodes.ConditionalExpr):
            return _agree(self.kind_of(side, function, depth) for side in (expr.if_expr, expr.else_expr))
        if isinstance(expr, nodes.AssignmentExpr):
            return self.kind_of(expr.value, function, depth)
        if isinstance(expr, nodes.CastExpr):  # a cast to ``Any`` hides what the value is, it does not change it
            return self.kind_of(expr.expr, function, depth)
        if isinstance(expr, nodes.CallExpr):
            return COROUTINE if self.kind_of(expr.callee, function, depth) == COROUTINE_FUNCTION else None
        if isinstance(expr, nodes.IndexExpr):
            return self._stored_kind(expr.base, function)
        var = self.var_of(expr, function)
        if var is not None and self._has_evidence(var):
            judged = self.judge(var)
            if judged is not None or self._declared(var):
                return judged  # values that say nothing leave the name to decide
        named = isinstance(expr, (nodes.NameExpr, nodes.MemberExpr)) and LOOP_NAME.fullmatch(expr.name)
        return LOOP if self._loop_names and named else None

    def says_nothing_about(self, expr: nodes.Expression, function: nodes.FuncDef | None, depth: int = 0) -> bool:
        """Whether no level says anything about ``expr``: no type but the ``Any`` of unannotated code
        (not an explicit ``Any``, not an unresolved import's), no definition, and no value, element
        or use recorded for what it names, or only values nothing is known of either (an attribute
        of such a value, a call of an unannotated function of another module, an item of an unknown
        container).  Evidence that disagrees is evidence."""
        resolver = self.resolver(function)
        typ = resolver.type_of(expr)
        if typ is not None and not _unannotated_any(typ):
            return False
        if depth > _MAX_DEPTH:
            return False
        self._gathered()
        depth += 1
        if isinstance(expr, nodes.CallExpr):
            definition = self._definition_of(expr.callee, function, resolver)
            if isinstance(definition, nodes.FuncDef):
                if definition.type is not None or definition.is_coroutine:
                    return False
                if id(definition) in self._defined:
                    return definition not in self._returned  # its returns, when here, say what it gives
                # A plain def of another module (its body is not read here): what the call gives is
                # that body's business, no more a coroutine than anything else; called in turn
                # (``make_app()(scope)``, ``depth > 1``), what it gives is unknown.
                return depth > 1
            callee_type = resolver.type_of(expr.callee)
            if isinstance(callee_type, CallableType):  # a bare ``Callable`` returns what nobody wrote
                return _unannotated_any(get_proper_type(callee_type.ret_type))
            return self.says_nothing_about(expr.callee, function, depth)
        if isinstance(expr, nodes.IndexExpr):
            return self.says_nothing_about(expr.base, function, depth)
        if not isinstance(expr, nodes.RefExpr):
            return False
        definition = self._definition_of(expr, function, resolver)
        if definition is not None and not isinstance(definition, nodes.Var):
            return False  # a function, a class, a module
        var = self.var_of(expr, function)
        if var is None:  # an attribute of something else: known only through its owner
            return isinstance(expr, nodes.MemberExpr) and self.says_nothing_about(expr.expr, function, depth)
        if self._declared(var) or var in self._uses or var in self._elements:
            return False
        return all(self.says_nothing_about(value, where, depth) for value, where in self._values.get(var, ()))

    def items_are_calls_nothing_says_anything_about(self, sequence: nodes.Expression,
                                                    function: nodes.FuncDef | None) -> bool:
        """Whether every item of ``sequence`` is a call ``says_nothing_about``, and it has one: the
        items it writes out, or, for a variable, those of every sequence and item the module puts in."""
        verdicts = self._item_verdicts(sequence, function, 0)
        return bool(verdicts) and all(verdicts)

    def _item_verdicts(self, sequence: nodes.Expression, function: nodes.FuncDef | None, depth: int) -> list[bool]:
        """One verdict per item the code puts in ``sequence`` (an empty container puts in none)."""
        if _holds_nothing(sequence):
            return []
        spelled = _spelled_items(sequence)
        if spelled is not None:
            return [isinstance(item, nodes.CallExpr) and self.says_nothing_about(item, function) for item in spelled]
        self._gathered()
        var = self.var_of(sequence, function)
        if var is None or depth > _MAX_DEPTH:
            return [False]
        nested = self._iterated(
            var, lambda item, where: [isinstance(item, nodes.CallExpr) and self.says_nothing_about(item, where)],
            lambda items, where: self._item_verdicts(items, where, depth + 1),
        )
        return [verdict for verdicts in nested for verdict in verdicts]

    def _awaitable_kind(self, expr: nodes.Expression, function: nodes.FuncDef | None, resolver: Resolver) -> str | None:
        """A value declared only awaitable: what the code it comes from makes it.

        A call of a plain ``def`` of this module is what its ``return``s agree on (a future it
        hands out, or a coroutine); an inferred variable is what its values agree on.  Where no code
        says more (a parameter, a ``Callable[..., Awaitable[T]]``, another module's function, a
        body that returns nothing, as a Protocol's) it is a coroutine, the common case.
        """
        self._gathered()
        if isinstance(expr, nodes.CallExpr):
            definition = self._definition_of(expr.callee, function, resolver)
            returned = self._returned.get(definition) if isinstance(definition, nodes.FuncDef) else None
            if returned and isinstance(definition, nodes.FuncDef) and not definition.is_coroutine:
                kind = self._answer("returns kind", definition, lambda: _all_agree(
                    self.kind_of(value, definition) for value in returned
                ))
                return kind if isinstance(kind, str) else None
        var = self.var_of(expr, function)
        return self.judge(var) if var is not None and var.is_inferred else COROUTINE

    def _has_evidence(self, var: nodes.Var) -> bool:
        """Anything but a name: a declared type (an explicit ``Any`` too), values or uses."""
        return self._declared(var) or any(
            var in facts for facts in (self._values, self._elements, self._uses)
        )

    def judge(self, var: nodes.Var) -> str | None:
        """What a variable or attribute holds, by its values first, then its uses."""
        kind = self._answer("kind", var, lambda: self._decide(var))
        assert kind is None or isinstance(kind, str)
        return kind

    def _answer(self, question: str, subject: object, decide: Callable[[], object]) -> object:
        """``decide()``, once per question and subject.

        An answer that met a question still being answered (``a = b; b = a``) is incomplete
        and kept only for the outermost question, so the result does not depend on which
        variable is asked about first.
        """
        key = (question, subject)
        if key in self._judged:
            return self._judged[key]
        if key in self._judging or len(self._judging) > _MAX_CHAIN:
            self._incomplete = True
            return None
        outer_incomplete, self._incomplete = self._incomplete, False
        self._judging.add(key)
        try:
            answer = decide()
        finally:
            self._judging.discard(key)
        if not self._incomplete or not self._judging:
            self._judged[key] = answer
        self._incomplete = outer_incomplete or self._incomplete
        return answer

    # -- types the module's values give ------------------------------------------------

    def type_of(self, expr: nodes.Expression, function: nodes.FuncDef | None, resolver: Resolver | None = None,
                depth: int = 0) -> ProperType | None:
        """The static type of ``expr``, or else the one the module's values give it.

        ``self.event = asyncio.Event()`` in an unannotated ``__init__`` leaves ``self.event``
        typed ``Any``; its value says it is an ``Event``, so ``self.event.wait()`` is a
        coroutine.  A call of an unannotated function of this module has the type its
        ``return`` statements agree on.
        """
        known = (resolver or self.resolver(function)).type_of(expr)
        if (known is not None and not isinstance(known, (AnyType, NoneType))) or depth > _MAX_DEPTH or not isinstance(
            expr, (nodes.RefExpr, nodes.CallExpr, nodes.IndexExpr)
        ):
            return known
        self._gathered()
        depth += 1
        if isinstance(expr, nodes.IndexExpr):
            return self._stored_type(expr.base, function)
        if isinstance(expr, nodes.CallExpr):
            definition = self._definition_of(expr.callee, function)
            untyped = definition is None  # a callee nothing resolves, or an unannotated def
            if isinstance(definition, nodes.FuncDef) and definition.type is None:
                if definition.is_coroutine:
                    return None
                if id(definition) in self._defined:  # the module's own: what its returns agree on
                    return self._returned_type(definition)
                untyped = True
            returned = return_type(self.type_of(expr.callee, function, None, depth))
            if _is_known(returned) or not untyped:
                return returned  # declared (``-> Any`` too), a class, or a variable holding a callable
            return self._named_loop(expr.callee, getter=True) or returned
        var = self.var_of(expr, function)
        if var is not None and not self._declared(var):
            valued = self._value_type(var)
            return valued if valued is not None or self._has_evidence(var) else self._named_loop(expr)
        if isinstance(expr, nodes.MemberExpr):
            owner = self.type_of(expr.expr, function, None, depth)
            symbol = owner.type.get(expr.name) if isinstance(owner, Instance) else None
            if symbol is not None and isinstance(symbol.node, nodes.Var) and not self._declared(symbol.node):
                return self._value_type(symbol.node)  # an attribute of an object the values typed
            member = member_type(owner, expr.name)
            if _is_known(member) or var is not None or (symbol is not None and isinstance(symbol.node, _NOT_VALUES)):
                return member
            return self._named_loop(expr) or member
        return self._named_loop(expr) if var is None else None

    def _named_loop(self, expr: nodes.Expression, *, getter: bool = False) -> Instance | None:
        """The names level, for types: a value nothing else types, spelled like an event loop
        (``self._loop``, ``loop``), or what an untyped getter spelled so returns
        (``helpers.get_running_loop()``, asked with ``getter``), is an ``asyncio.AbstractEventLoop``,
        so its methods have types too.  A name of a function, class or module is no value."""
        if not self._loop_names or not isinstance(expr, (nodes.NameExpr, nodes.MemberExpr)):
            return None
        if not getter and isinstance(expr.node, _NOT_VALUES):
            return None
        return self._loop_class() if LOOP_NAME.fullmatch(expr.name) else None

    def _definition_of(self, callee: nodes.Expression, function: nodes.FuncDef | None,
                       resolver: Resolver | None = None) -> nodes.SymbolNode | None:
        """The function or variable a callee names, its owner typed by the module's values too."""
        definition = (resolver or self.resolver(function)).definition_of(callee)
        if definition is None and isinstance(callee, nodes.MemberExpr):
            owner = self.type_of(callee.expr, function)
            symbol = owner.type.get(callee.name) if isinstance(owner, Instance) else None
            node = symbol.node if symbol is not None else None
            definition = node.func if isinstance(node, nodes.Decorator) else node
        return definition

    def _value_type(self, var: nodes.Var) -> ProperType | None:
        """The one class every typed value the module gives ``var`` is an instance of (the items
        of what it iterates over, for a loop variable)."""
        return self._agreed_class("type", var, lambda: [
            *(self.type_of(value, where) for value, where in self._values.get(var, ())),
            *(self._item_type(sequence, where) for sequence, where in self._elements.get(var, ())),
        ])

    def _item_type(self, sequence: nodes.Expression, function: nodes.FuncDef | None) -> ProperType | None:
        """The class of a sequence's items: its type's item type, its literal items, or what the
        module puts into the container."""
        item = iterable_item_type(self.resolver(function).type_of(sequence))
        if item is not None and not isinstance(item, (AnyType, TypeVarType)):  # (a type variable no call solved)
            return item
        spelled = _spelled_items(sequence)
        if spelled is not None:
            return _one_class(self.type_of(item, function) for item in spelled)
        copied = _copied(sequence)
        if copied is not None:
            return self._item_type(copied, function)
        container = _values_of(sequence)
        if container is not None:
            return self._stored_type(container, function)
        var = self.var_of(sequence, function)
        if var is None:
            return None
        return self._agreed_class("item type", var, lambda: self._iterated(var, self.type_of, self._item_type))

    def _stored_type(self, container: nodes.Expression, function: nodes.FuncDef | None) -> ProperType | None:
        """The class of what a container holds under its keys or indexes (``c[k]``, ``c.values()``)."""
        if isinstance(container, nodes.DictExpr):
            return _one_class(self.type_of(value, function) for _, value in container.items)
        if isinstance(container, nodes.DictionaryComprehension):
            return self.type_of(container.value, function)
        var = self.var_of(container, function)
        if var is None:
            return None
        return self._agreed_class("stored type", var, lambda: self._held(
            var, self.type_of, self._item_type, self._stored_type
        ))

    def _iterated(self, var: nodes.Var, item: Reader[T], items: Reader[T]) -> list[T]:
        """What iterating the container ``var`` holds gives: the ``items`` of each sequence assigned
        to it or added to it (``c.extend(vs)``), and each ``item`` added (``c.append(v)``)."""
        return [
            *(items(value, where) for value, where in self._values.get(var, ())),
            *(item(expr, where) for expr, where in self._items.get(var, ())),
            *(items(expr, where) for expr, where in self._items_of.get(var, ())),
        ]

    def _held(self, var: nodes.Var, value: Reader[T], items: Reader[T], container: Reader[T]) -> list[T]:
        """What the module puts into the container ``var`` holds, as reading it by key or index
        gives it: each ``value`` stored (``c[k] = v``) or added (``c.append(v)``), the ``items`` of
        a sequence added (``c.extend(vs)``, ``c.update(...)``), and what another ``container``
        assigned to ``var`` holds.  Keys are not among them: ``for k in c`` does not read these."""
        return [
            *(value(expr, where) for expr, where in [*self._stored.get(var, ()), *self._items.get(var, ())]),
            *(items(expr, where) for expr, where in self._items_of.get(var, ())),
            *(container(expr, where) for expr, where in self._values.get(var, ())),
        ]

    def _returned_type(self, defn: nodes.FuncDef) -> ProperType | None:
        return self._agreed_class("returns", defn, lambda: [
            self.type_of(value, defn) for value in self._returned.get(defn, ())
        ])

    def _agreed_class(self, question: str, subject: object,
                      types: Callable[[], Iterable[ProperType | None]]) -> Instance | TypeType | None:
        """The class ``types()`` agree on, worked out once per question and subject."""
        typ = self._answer(question, subject, lambda: _one_class(types()))
        return typ if isinstance(typ, (Instance, TypeType)) else None

    def _declared(self, var: nodes.Var) -> bool:
        return _declared(var) and (self._infer_locals or not checker_inferred_local(var))

    def _decide(self, var: nodes.Var) -> str | None:
        own = var.type if self._infer_locals or not checker_inferred_local(var) else None
        kind = kind_of_type(get_proper_type(own) if own is not None else None)
        if kind == AWAITABLE:  # values that agree decide; else an awaitable is a coroutine, as declared
            values = self._values.get(var, ()) if var.is_inferred else ()
            kind = _agree([self.kind_of(value, function) for value, function in values])
            return COROUTINE if kind in (None, OTHER) else kind
        if kind is None:
            kind = _agree(
                [self.kind_of(value, function) for value, function in self._values.get(var, ())]
                + [self.element_kind(sequence, function) for sequence, function in self._elements.get(var, ())]
            )
        return kind if kind is not None else _agree(self._uses.get(var, ()))

    def element_kind(self, sequence: nodes.Expression, function: nodes.FuncDef | None, depth: int = 0,
                     resolver: Resolver | None = None) -> str | None:
        """What the items of a sequence are: its type's item type, its literal items, or its values'
        (items declared only awaitable are what those say, else coroutines).  Coroutines the code
        puts in a container declared to hold something else (``tasks: list[Task]`` and
        ``tasks.append(self.handle(info))``, which mypy reports) are coroutines all the same."""
        if _holds_nothing(sequence):
            return None  # its type is only what its context declares
        known = item_kind_of_type((resolver or self.resolver(function)).type_of(sequence))
        if known == AWAITABLE:  # the items written out say what they are; a name's values may not
            found = self._element_kind_by_code(sequence, function, depth)
            return COROUTINE if found is None and _spelled_items(sequence) is None else found
        if depth > _MAX_DEPTH or known == COROUTINE:
            return known
        found = self._element_kind_by_code(sequence, function, depth)
        return found if known is None or found == COROUTINE else known

    def _element_kind_by_code(self, sequence: nodes.Expression, function: nodes.FuncDef | None,
                              depth: int) -> str | None:
        self._gathered()
        depth += 1
        spelled = _spelled_items(sequence)
        if spelled is not None:
            return _agree(self.kind_of(item, function, depth) for item in spelled)
        copied = _copied(sequence)
        if copied is not None:
            return self.element_kind(copied, function, depth)
        container = _values_of(sequence)
        if container is not None:
            return self._stored_kind(container, function)
        var = self.var_of(sequence, function)
        if var is None:
            return None
        return _agree(self._iterated(
            var, lambda item, where: self.kind_of(item, where, depth),
            lambda items, where: self.element_kind(items, where, depth),
        ))

    def _stored_kind(self, container: nodes.Expression, function: nodes.FuncDef | None) -> str | None:
        """What the values a container holds under its keys or indexes are (``c[k]``, ``c.values()``)."""
        if isinstance(container, (nodes.DictExpr, nodes.DictionaryComprehension)):
            return _agree(self.kind_of(value, function) for value in _spelled_values(container))
        var = self.var_of(container, function)
        if var is None:
            return None
        kind = self._answer("stored kind", var, lambda: _agree(self._held(
            var, self.kind_of, self.element_kind, self._stored_kind
        )))
        return kind if isinstance(kind, str) else None


def _spelled_items(sequence: nodes.Expression) -> list[nodes.Expression] | None:
    """The items a display writes out, or a comprehension's element expression."""
    if isinstance(sequence, (nodes.ListExpr, nodes.TupleExpr, nodes.SetExpr)):
        return sequence.items
    if isinstance(sequence, (nodes.ListComprehension, nodes.SetComprehension)):
        sequence = sequence.generator
    return [sequence.left_expr] if isinstance(sequence, nodes.GeneratorExpr) else None


def _spelled_values(container: nodes.DictExpr | nodes.DictionaryComprehension) -> list[nodes.Expression]:
    """The values a dict display writes out, or a dict comprehension's value expression."""
    return [value for _, value in container.items] if isinstance(container, nodes.DictExpr) else [container.value]


def _holds_nothing(sequence: nodes.Expression) -> bool:
    """An empty display, or a builtin container made empty (``[]``, ``set()``)."""
    if isinstance(sequence, nodes.CallExpr):
        callee = sequence.callee
        return not sequence.args and isinstance(callee, nodes.RefExpr) and callee.fullname in semantics.SAME_ITEMS
    return _spelled_items(sequence) == []


def _copied(sequence: nodes.Expression) -> nodes.Expression | None:
    """The iterable a builtin copies, whose items are the copy's: ``x`` of ``list(x)``, ``sorted(x)``."""
    if not isinstance(sequence, nodes.CallExpr) or sequence.arg_kinds[:1] != [nodes.ARG_POS]:
        return None
    callee = sequence.callee
    return sequence.args[0] if isinstance(callee, nodes.RefExpr) and callee.fullname in semantics.SAME_ITEMS else None


def _items_pair(target: nodes.Expression, sequence: nodes.Expression) -> tuple[nodes.Expression, nodes.Expression] | None:
    """``value`` and ``c.values()`` for ``for key, value in c.items()``."""
    container = _viewed(sequence, STORED_ITEMS)
    if (
        container is None
        or not isinstance(target, (nodes.TupleExpr, nodes.ListExpr)) or len(target.items) != 2
        or any(isinstance(item, nodes.StarExpr) for item in target.items)
    ):
        return None
    values = nodes.CallExpr(nodes.MemberExpr(container, STORED_VALUES), [], [], [])
    values.set_line(sequence)
    return target.items[1], values


def _values_of(sequence: nodes.Expression) -> nodes.Expression | None:
    """The container whose stored values ``sequence`` is: ``c`` of ``c.values()``."""
    return _viewed(sequence, STORED_VALUES)


def _viewed(sequence: nodes.Expression, view: str) -> nodes.Expression | None:
    """``c`` of ``c.<view>()``."""
    callee = sequence.callee if isinstance(sequence, nodes.CallExpr) and not sequence.args else None
    return callee.expr if isinstance(callee, nodes.MemberExpr) and callee.name == view else None
