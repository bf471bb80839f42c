"""The static type of an expression: mypy's own where the checker has one, else from declarations.

The checker's expression type map (handed over for each module, see ``mypy_internals``) is
exact: narrowed, inferred, generic.  It is silent or says ``Any`` where mypy did not check
(unannotated bodies without ``--check-untyped-defs``, code it skipped); there types are
rebuilt from declarations: classes, declared and inferred variable types, attribute and
property types, and callees' return types, and a local name is followed to the value last
assigned to it.  ``None`` means "unknown": the rules stay silent rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence

from mypy import nodes
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    LiteralType,
    NoneType,
    Overloaded,
    ProperType,
    TupleType,
    Type,
    TypeOfAny,
    TypeType,
    TypeVarId,
    TypeVarType,
    UnionType,
    get_proper_type,
)

from mypy_cancel_plugin import mypy_internals, walk

_MAX_DEPTH = 8


def checker_inferred_local(var: nodes.Var) -> bool:
    """A local variable whose type, if any, the checker inferred while checking the function body:
    known only once that body is checked (``module_facts`` works without it)."""
    return var.is_inferred and "." not in var.fullname


def class_object_type(info: nodes.TypeInfo) -> TypeType:
    """The type of a class object, ``type[C]``."""
    args = [AnyType(TypeOfAny.special_form)] * len(info.defn.type_vars)
    return TypeType(Instance(info, args))


def declared_type(node: nodes.SymbolNode | None) -> ProperType | None:
    """The type a definition gives to a name that refers to it."""
    if isinstance(node, nodes.TypeInfo):
        return class_object_type(node)
    if isinstance(node, nodes.TypeAlias):
        target = get_proper_type(node.target)
        return TypeType(target) if isinstance(target, Instance) else None
    if isinstance(node, nodes.Var):
        return get_proper_type(node.type) if node.type is not None else None
    if isinstance(node, nodes.Decorator):
        return declared_type(node.var) or declared_type(node.func)
    if isinstance(node, (nodes.FuncDef, nodes.OverloadedFuncDef)):
        return get_proper_type(node.type) if node.type is not None else None
    return None


def return_type(callee: ProperType | None) -> ProperType | None:
    """What calling a value of type ``callee`` returns."""
    if isinstance(callee, CallableType):
        return get_proper_type(callee.ret_type)
    if isinstance(callee, Overloaded):
        results = {str(item.ret_type): get_proper_type(item.ret_type) for item in callee.items}
        if len(results) == 1:
            return next(iter(results.values()))
        # Every overload returns the same class (``asyncio.sleep``: a coroutine of one result or
        # another): the class is known, its type arguments are not.
        classes = {result.type for result in results.values() if isinstance(result, Instance)}
        if len(classes) == 1 and all(isinstance(result, Instance) for result in results.values()):
            (info,) = classes
            return Instance(info, [AnyType(TypeOfAny.special_form)] * len(info.defn.type_vars))
        return None
    if isinstance(callee, TypeType) and isinstance(callee.item, Instance):
        return callee.item
    return None


def _instance_of(typ: ProperType | None) -> Instance | None:
    if isinstance(typ, UnionType):  # ``X | None``: code reaching an attribute has checked for None
        members = [get_proper_type(item) for item in typ.items]
        others = [member for member in members if not isinstance(member, NoneType)]
        typ = others[0] if len(others) == 1 else None
    if isinstance(typ, Instance):
        return typ
    if isinstance(typ, TupleType):
        return typ.partial_fallback
    if isinstance(typ, LiteralType):
        return typ.fallback
    return None


def member_type(owner: ProperType | None, name: str) -> ProperType | None:
    """The type of ``owner.name`` for an instance or a class object."""
    if isinstance(owner, TypeType) and isinstance(owner.item, Instance):
        owner = owner.item
    elif isinstance(owner, CallableType) and owner.is_type_obj():  # a class object typed by its constructor
        owner = get_proper_type(owner.ret_type)
    instance = _instance_of(owner)
    if instance is None:
        return None
    symbol = instance.type.get(name)
    if symbol is None:
        return None
    node = symbol.node
    if isinstance(node, nodes.Decorator) and node.var.is_property:
        declared = return_type(declared_type(node.func))
    elif isinstance(node, nodes.FuncDef) and node.is_property:
        declared = return_type(declared_type(node))
    elif isinstance(node, nodes.OverloadedFuncDef) and node.is_property:
        first = node.items[0] if node.items else None
        declared = return_type(declared_type(first.func)) if isinstance(first, nodes.Decorator) else None
    else:
        declared = declared_type(node)
    defined_in = node.info if isinstance(node, (nodes.FuncBase, nodes.Decorator, nodes.Var)) else None
    if declared is None or defined_in is None or isinstance(defined_in, nodes.FakeInfo) or not defined_in.defn.type_vars:
        return declared  # nothing generic to bind
    return get_proper_type(mypy_internals.as_member_of(declared, instance, defined_in))


def item_type(container: ProperType | None, index: nodes.Expression) -> ProperType | None:
    """What ``container[index]`` gives: a tuple's item at a literal index, else what the
    container's ``__getitem__`` returns for an index that is not a slice."""
    position = walk.int_constant(index)
    if isinstance(container, TupleType) and position is not None:
        items = container.items
        return get_proper_type(items[position]) if -len(items) <= position < len(items) else None
    getitem = member_type(container, "__getitem__")
    if isinstance(getitem, Overloaded) and not isinstance(index, nodes.SliceExpr):
        by_index = [item for item in getitem.items if not _takes_slice(item)]
        getitem = by_index[0] if len(by_index) == 1 else Overloaded(by_index) if by_index else None
    return return_type(getitem)


def _takes_slice(signature: CallableType) -> bool:
    """An overload of ``__getitem__`` for slices (its index parameter, after ``self``, is a ``slice``)."""
    index = get_proper_type(signature.arg_types[-1]) if signature.arg_types else None
    return isinstance(index, Instance) and index.type.fullname == "builtins.slice"


def awaited_type(awaitable: ProperType | None) -> ProperType | None:
    """What ``await`` of a value of this type produces (coroutines and awaitables)."""
    instance = _instance_of(awaitable)
    if instance is None:
        return None
    if instance.type.fullname in ("typing.Coroutine", "types.CoroutineType") and len(instance.args) == 3:
        return get_proper_type(instance.args[2])
    if instance.type.fullname in ("typing.Awaitable", "asyncio.futures.Future", "_asyncio.Future",
                                  "_asyncio.Task", "asyncio.tasks.Task") and instance.args:
        return get_proper_type(instance.args[-1])
    return None


class Resolver:
    """Static types of expressions inside one function (or a module's top level)."""

    def __init__(
        self,
        function: nodes.FuncDef | None,
        assignments: Sequence[nodes.AssignmentStmt],
        checked_types: Mapping[nodes.Expression, Type],
        global_values: Callable[[], Mapping[nodes.Var, list[nodes.Expression]]] = dict,
        *,
        infer_locals: bool = True,
    ) -> None:
        self._function = function
        # False: a local's type comes from the values assigned to it, never from the checker's inference.
        self._infer_locals = infer_locals
        self._assignment_statements = assignments  # the function's own, in source order
        self._checked_types = checked_types  # the checker's type map of the module
        self._assignments: dict[nodes.Var, list[nodes.Expression]] | None = None
        self._global_values = global_values  # the module's, built once per module on first use

    def type_of(self, expr: nodes.Expression, depth: int = 0) -> ProperType | None:
        checked = self._checked_types.get(expr)
        if checked is not None:
            proper = get_proper_type(checked)
            if not isinstance(proper, AnyType):
                return proper
        if depth > _MAX_DEPTH:
            return None
        depth += 1
        if isinstance(expr, nodes.NameExpr):
            return self._name_type(expr, depth)
        if isinstance(expr, nodes.MemberExpr):
            if expr.node is not None and not isinstance(expr.node, nodes.MypyFile):
                known = declared_type(expr.node)
                if known is not None:
                    return known
            return member_type(self.type_of(expr.expr, depth), expr.name)
        if isinstance(expr, nodes.CallExpr):
            callee_type = self.type_of(expr.callee, depth)
            if isinstance(callee_type, CallableType) and callee_type.variables:
                return self._solved_return(expr, callee_type, depth)
            return return_type(callee_type)
        if isinstance(expr, nodes.IndexExpr):
            return item_type(self.type_of(expr.base, depth), expr.index)
        if isinstance(expr, nodes.AwaitExpr):
            return awaited_type(self.type_of(expr.expr, depth))
        if isinstance(expr, (nodes.CastExpr, nodes.AssertTypeExpr)):
            return get_proper_type(expr.type)
        if isinstance(expr, nodes.AssignmentExpr):
            return self.type_of(expr.value, depth)
        return None

    def _solved_return(self, call: nodes.CallExpr, callee: CallableType, depth: int) -> ProperType | None:
        """What a generic callee returns, its type variables bound from its arguments' types (in code
        mypy did not check: ``await wait_for(open_connection(...), 5)`` gives the connection's pair)."""
        bound: dict[TypeVarId, Type] = {}
        for argument, index in formal_arguments(call, callee.arg_names, callee.arg_kinds, False):
            _bind_type_variables(get_proper_type(callee.arg_types[index]), self.type_of(argument, depth), bound)
        return get_proper_type(mypy_internals.with_type_variables(callee.ret_type, bound))

    def definition_of(self, expr: nodes.Expression) -> nodes.SymbolNode | None:
        """The function or variable a callee expression names (``f``, ``mod.f``, ``self.method``)."""
        node: nodes.SymbolNode | None = None
        if isinstance(expr, nodes.RefExpr) and expr.node is not None:
            node = expr.node
        elif isinstance(expr, nodes.MemberExpr):
            node = _member_definition(self.type_of(expr.expr), expr.name)
        return node.func if isinstance(node, nodes.Decorator) else node

    def _name_type(self, expr: nodes.NameExpr, depth: int) -> ProperType | None:
        node = expr.node
        ignored = not self._infer_locals and isinstance(node, nodes.Var) and checker_inferred_local(node)
        known = None if ignored else declared_type(node)
        if known is not None and not isinstance(known, AnyType):
            return known
        if isinstance(node, nodes.Var):
            if node.is_self and self._function is not None and self._function.info:
                return Instance(self._function.info, [])
            assigned = self.assigned_value(node)
            if assigned is not None:
                return self.type_of(assigned, depth)
        return known

    def is_any(self, expr: nodes.Expression) -> bool:
        """Whether the checker typed ``expr`` ``Any`` (an unresolved import, an untyped value)."""
        checked = self._checked_types.get(expr)
        return checked is not None and isinstance(get_proper_type(checked), AnyType)

    def module_values(self, var: nodes.Var) -> list[nodes.Expression]:
        """Every value the module's top level assigns to a global, in source order."""
        return self._global_values().get(var, [])

    def assigned_value(self, var: nodes.Var) -> nodes.Expression | None:
        """The value a local name was last assigned in this function, if it has one."""
        if self._assignments is None:
            self._assignments = values_by_name(self._assignment_statements)
        values = self._assignments.get(var)
        return values[-1] if values else None


def _bind_type_variables(formal: ProperType, actual: ProperType | None, bound: dict[TypeVarId, Type],
                         depth: int = 0) -> None:
    """Bind the type variables of a parameter's declared type to what the argument's type has in
    their place (``Awaitable[T]`` given a ``Coroutine[Any, Any, X]``: ``T`` is ``X``).  Recursive
    aliases unfold without end: past ``_MAX_DEPTH`` levels nothing more is bound."""
    if actual is None or isinstance(actual, AnyType) or depth > _MAX_DEPTH:
        return
    if isinstance(formal, TypeVarType):
        bound.setdefault(formal.id, actual)
    elif isinstance(formal, UnionType):
        for item in formal.items:
            _bind_type_variables(get_proper_type(item), actual, bound, depth + 1)
    elif isinstance(formal, Instance) and isinstance(actual, Instance):
        seen = mypy_internals.as_supertype(actual, formal.type.fullname)
        for formal_arg, actual_arg in zip(formal.args, seen.args if seen is not None else ()):
            _bind_type_variables(get_proper_type(formal_arg), get_proper_type(actual_arg), bound, depth + 1)


def formal_arguments(
    call: nodes.CallExpr, names: Sequence[str | None], kinds: Sequence[nodes.ArgKind], bound: bool
) -> Iterator[tuple[nodes.Expression, int]]:
    """Each argument of ``call`` with the index of the parameter it is passed to.

    ``bound``: the callee's first parameter (``self``) is filled by the call itself.
    Arguments after a ``*args``/``**kwargs`` in the call are not matched.
    """
    position = 1 if bound else 0
    for argument, kind, name in zip(call.args, call.arg_kinds, call.arg_names):
        if kind == nodes.ARG_POS:
            if position < len(kinds) and kinds[position].is_positional():
                yield argument, position
            position += 1
        elif kind == nodes.ARG_NAMED and name in names:
            yield argument, list(names).index(name)
        else:
            return


def _member_definition(owner: ProperType | None, name: str) -> nodes.SymbolNode | None:
    """What ``name`` is on a value of type ``owner``: on a union, the one definition every item
    shares (``Client | Component`` both inheriting ``disconnect``); ``None`` leaves it out."""
    if isinstance(owner, UnionType):
        found = {
            id(node): node for node in (
                _member_definition(get_proper_type(item), name) for item in owner.items
                if not isinstance(get_proper_type(item), NoneType)
            )
        }
        return next(iter(found.values())) if len(found) == 1 else None
    instance = owner.item if isinstance(owner, TypeType) else owner
    if not isinstance(instance, Instance):
        return None
    symbol = instance.type.get(name)
    return symbol.node if symbol is not None else None


def values_by_name(statements: Sequence[nodes.AssignmentStmt]) -> dict[nodes.Var, list[nodes.Expression]]:
    """Each name ``statements`` assign to a plain variable -> the values, in source order."""
    values: dict[nodes.Var, list[nodes.Expression]] = {}
    for node in statements:
        for lvalue in node.lvalues:
            if isinstance(lvalue, nodes.NameExpr) and isinstance(lvalue.node, nodes.Var):
                values.setdefault(lvalue.node, []).append(node.rvalue)
    return values


def import_bindings(
    statements: Iterable[nodes.ImportBase], module: nodes.MypyFile, modules: dict[str, nodes.MypyFile]
) -> Iterator[tuple[nodes.Var, nodes.Expression]]:
    """Each global an import statement binds -> a reference to what that statement imports.

    mypy types a name ``Any`` when its first import's module is missing (``try: from a import f``
    / ``except ImportError: from b import f``) and keeps a ``Var`` for it: the alternatives
    still say what it is.  An import of a module mypy has not loaded says nothing.
    """
    for statement, fullname, target in _imported_vars(statements, module):
        imported = modules.get(fullname) or mypy_internals.definition_named(fullname, modules)
        if imported is not None:
            yield target, _reference(target.name, imported, statement)


def unfollowed_imports(statements: Iterable[nodes.ImportBase], module: nodes.MypyFile) -> dict[nodes.Var, str]:
    """Each global an import binds to a module or name mypy could not follow (not installed,
    ``ignore_missing_imports``) -> the dotted name it imports (``async_timeout``,
    ``async_timeout.timeout``): the one thing the code still says about the value."""
    return {
        target: fullname for _, fullname, target in _imported_vars(statements, module)
        if mypy_internals.is_unfollowed_import(target.type)
    }


def _imported_vars(
    statements: Iterable[nodes.ImportBase], module: nodes.MypyFile
) -> Iterator[tuple[nodes.ImportBase, str, nodes.Var]]:
    """Each global an import statement binds that mypy left a ``Var`` (typed ``Any``), with the
    dotted name the statement imports to it; a name mypy resolved itself is not one."""
    for statement in statements:
        if isinstance(statement, nodes.ImportFrom):
            source = mypy_internals.imported_module_name(module, statement.relative, statement.id)
            pairs = [(f"{source}.{name}", as_name or name) for name, as_name in statement.names]
        elif isinstance(statement, nodes.Import):  # ``import a.b`` binds ``a``; ``import a.b as c`` binds ``c``
            pairs = [(name if as_name else name.partition(".")[0], as_name or name.partition(".")[0])
                     for name, as_name in statement.ids]
        else:
            continue
        for fullname, local in pairs:
            symbol = module.names.get(local)
            if symbol is not None and isinstance(symbol.node, nodes.Var):
                yield statement, fullname, symbol.node


def spelled_name(expr: nodes.Expression, imported: Mapping[nodes.Var, str]) -> str | None:
    """The dotted name ``expr`` spells through an import mypy could not follow
    (``async_timeout.timeout`` for ``async_timeout.timeout`` after ``import async_timeout``)."""
    members: list[str] = []
    while isinstance(expr, nodes.MemberExpr):
        members.append(expr.name)
        expr = expr.expr
    if not (isinstance(expr, nodes.NameExpr) and isinstance(expr.node, nodes.Var) and expr.node in imported):
        return None
    return ".".join([imported[expr.node], *reversed(members)])


def _reference(name: str, node: nodes.SymbolNode, at: nodes.Context) -> nodes.NameExpr:
    """A name expression that refers to ``node``, placed at ``at`` (an import's value)."""
    expr = nodes.NameExpr(name)
    expr.node = node
    expr.fullname = node.fullname
    expr.kind = nodes.GDEF
    expr.set_line(at)
    return expr


def callee_fullname(callee: nodes.Expression, callee_type: ProperType | None,
                    named: Container[str] = ()) -> str | None:
    """The function a callee names: as written when that is one of ``named``, else through its
    type (aliases: ``spawn = asyncio.create_task``), else as written."""
    written = callee.fullname if isinstance(callee, nodes.RefExpr) else None
    if written in named:
        return written
    if isinstance(callee_type, CallableType) and callee_type.definition is not None:
        return callee_type.definition.fullname
    return written


def iterable_item_type(typ: ProperType | None) -> ProperType | None:
    """The item type of an iterable's type (``list[Task[None]]`` -> ``Task[None]``), read off its
    ``Iterable`` base: a dict's values view iterates its second type argument, not its first."""
    iterable = mypy_internals.as_supertype(typ, "typing.Iterable") if isinstance(typ, Instance) else None
    return get_proper_type(iterable.args[0]) if iterable is not None and iterable.args else None
