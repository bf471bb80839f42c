"""The shared type-aware core: cancellation exceptions, event loops, futures and cancel scopes.

Every rule decides by these predicates over mypy types, never by how a name is spelled.
"""

from __future__ import annotations

from dataclasses import dataclass

from mypy import nodes
from mypy.types import (
    CallableType,
    FunctionLike,
    Instance,
    NoneType,
    ProperType,
    TupleType,
    TypeType,
    UnionType,
    get_proper_type,
)

from mypy_cancel_plugin.semantics import CANCEL_SCOPES, CANCELLATION_CLASSES, TASK_GROUPS, TaskGroupKind
from mypy_cancel_plugin.static_types import Resolver

BASE_EXCEPTION = "builtins.BaseException"
# How findings name the broadest clauses.
BASE_EXCEPTION_NAME = "BaseException"
BARE_EXCEPT_NAME = "BaseException (bare except)"

# A trio nursery (and anyio on trio) can raise a ``BaseExceptionGroup`` holding ``Cancelled``:
# ``except BaseExceptionGroup`` and ``except*`` meet trio's cancellation in that form too.
# asyncio's TaskGroup never groups the cancellation of the task that awaits it.
TRIO_GROUPED = "trio-group"
BASE_EXCEPTION_GROUP = "builtins.BaseExceptionGroup"
_MAX_TYPE_DEPTH = 8
ALL_LIBRARIES = frozenset({*CANCELLATION_CLASSES.values(), TRIO_GROUPED})


@dataclass(frozen=True)
class CaughtCancellation:
    """One class named by an ``except`` clause that can catch a cancellation."""

    name: str
    libraries: frozenset[str]
    # True when the class is a cancellation class or a base of one, so the clause takes every
    # cancellation of ``libraries``; False for a subclass, which takes only some.
    takes_all: bool


# The class each library's cancellation is exactly an instance of (asyncio raises exactly
# ``CancelledError``; trio's ``Cancelled`` is final): what ``type(exc) is T`` compares with.
CANCELLATION_CLASS_OF = {library: fullname for fullname, library in CANCELLATION_CLASSES.items()}


def cancellation_libraries(info: nodes.TypeInfo) -> tuple[frozenset[str], bool] | None:
    """Which libraries' cancellations ``except info`` catches, and whether it catches them all."""
    if info.fullname == BASE_EXCEPTION:
        return ALL_LIBRARIES, True
    if info.has_base(BASE_EXCEPTION_GROUP) and not info.has_base("builtins.Exception"):
        return frozenset([TRIO_GROUPED]), info.fullname == BASE_EXCEPTION_GROUP
    for fullname, library in CANCELLATION_CLASSES.items():
        if info.has_base(fullname):
            return frozenset([library]), info.fullname == fullname
    return None


def is_cancellation_instance(typ: ProperType | None) -> bool:
    """Whether raising a value of this type re-raises a cancellation (or an exception that may be one)."""
    if isinstance(typ, TypeType):
        typ = get_proper_type(typ.item)
    return isinstance(typ, Instance) and cancellation_libraries(typ.type) is not None


def exception_classes(typ: ProperType | None, depth: int = 0) -> list[nodes.TypeInfo]:
    """The classes an ``except`` clause names when its expression has type ``typ``.

    ``depth`` bounds the unfolding of a recursive alias (``Excs = type[E] | tuple[Excs, ...]``).
    """
    if depth > _MAX_TYPE_DEPTH:
        return []
    depth += 1
    if isinstance(typ, TypeType):
        item = get_proper_type(typ.item)
        if isinstance(item, Instance):
            return [item.type]
        if isinstance(item, UnionType):
            return [c for member in item.items for c in exception_classes(TypeType(member), depth)]
        return []
    if isinstance(typ, FunctionLike) and typ.is_type_obj():
        return [typ.type_object()]
    if isinstance(typ, TupleType):
        return [c for item in typ.items for c in exception_classes(get_proper_type(item), depth)]
    if isinstance(typ, Instance) and typ.type.fullname == "builtins.tuple" and typ.args:
        return exception_classes(get_proper_type(typ.args[0]), depth)
    if isinstance(typ, UnionType):
        return [c for item in typ.items for c in exception_classes(get_proper_type(item), depth)]
    return []


def classes_named_by(expr: nodes.Expression, resolver: Resolver, depth: int = 0) -> list[nodes.TypeInfo]:
    """The exception classes an ``except``/``isinstance``/``suppress`` argument names."""
    if isinstance(expr, nodes.TupleExpr) and depth < 8:
        return [c for item in expr.items for c in classes_named_by(item, resolver, depth + 1)]
    if isinstance(expr, nodes.NameExpr) and isinstance(expr.node, nodes.Var) and depth < 8:
        assigned = resolver.assigned_value(expr.node)
        if assigned is not None and not exception_classes(resolver.type_of(expr)):
            return classes_named_by(assigned, resolver, depth + 1)
        if expr.kind == nodes.GDEF:
            # A module constant's values are exact; its declared type (``tuple[type[BaseException], ...]``)
            # is only a bound on them.
            values = [_classes_of_value(value, resolver, depth + 1) for value in resolver.module_values(expr.node)]
            if values and all(classes is not None for classes in values):
                return [c for classes in values if classes is not None for c in classes]
    return exception_classes(resolver.type_of(expr))


def _classes_of_value(value: nodes.Expression, resolver: Resolver, depth: int) -> list[nodes.TypeInfo] | None:
    """The classes a value names, ``[]`` for an empty tuple or an ``Any`` (not guessed), ``None``
    when it is not a class or tuple of classes as written."""
    if depth > 8:
        return None
    if isinstance(value, nodes.TupleExpr):
        items = [_classes_of_value(item, resolver, depth + 1) for item in value.items]
        return None if any(item is None for item in items) else [c for item in items if item is not None for c in item]
    if resolver.is_any(value):
        return []
    return classes_named_by(value, resolver, depth) if isinstance(value, nodes.RefExpr) else None


def caught_cancellations(
    expr: nodes.Expression | None, resolver: Resolver, libraries_in_play: frozenset[str], *, star: bool = False
) -> list[CaughtCancellation]:
    """The cancellation-catching classes of one ``except`` clause (``None`` is a bare ``except:``).

    An ``except*`` clause also takes what it names out of exception groups.
    """
    if expr is None:
        return [CaughtCancellation(BARE_EXCEPT_NAME, libraries_in_play, True)]
    caught = []
    for info in classes_named_by(expr, resolver):
        found = cancellation_libraries(info)
        if found is None:
            continue
        libraries, takes_all = found
        if info.fullname == BASE_EXCEPTION:
            libraries = libraries_in_play
        elif TRIO_GROUPED in libraries:
            libraries &= libraries_in_play
        elif star and "trio" in libraries:
            libraries |= {TRIO_GROUPED}
        if libraries:
            caught.append(CaughtCancellation(info.name, libraries, takes_all))
    return caught


def libraries_in_play(roots: frozenset[str]) -> frozenset[str]:
    """Whose cancellations a broad clause in a module can meet, from the packages it imports.

    trio's where trio or anyio is imported; asyncio's where asyncio or anyio is, and in any
    module that does not import trio (the default event loop).
    """
    libraries = set()
    if roots & {"asyncio", "anyio"} or "trio" not in roots:
        libraries.add("asyncio")
    if roots & {"trio", "anyio"}:
        libraries.add("trio")
    return frozenset(libraries)


def imported_packages(tree: nodes.MypyFile) -> frozenset[str]:
    """The top-level packages a module imports."""
    imported: set[str] = set()
    for imp in tree.imports:
        if isinstance(imp, nodes.Import):
            imported.update(name for name, _ in imp.ids)
        elif isinstance(imp, (nodes.ImportFrom, nodes.ImportAll)):
            imported.add(imp.id)
    return frozenset(name.partition(".")[0] for name in imported)


def member_kinds(kinds: frozenset[str]) -> frozenset[str]:
    """The cancellations a member of a caught exception group can be: trio's grouped one is a plain ``Cancelled`` there."""
    return frozenset("trio" if kind == TRIO_GROUPED else kind for kind in kinds)


def with_grouped_cancellation(libraries: frozenset[str]) -> frozenset[str]:
    """Where trio's cancellation is in play, so is trio's cancellation inside exception groups."""
    return libraries | {TRIO_GROUPED} if "trio" in libraries else libraries


EVENT_LOOP = "asyncio.events.AbstractEventLoop"
FUTURES = ("asyncio.futures.Future", "_asyncio.Future")
# Context-manager wrappers whose first type argument is what ``with`` enters (``trio.open_nursery()``).
CONTEXT_MANAGER_WRAPPERS = (
    "contextlib.AbstractAsyncContextManager",
    "contextlib.AbstractContextManager",
    "contextlib._AsyncGeneratorContextManager",
    "contextlib._GeneratorContextManager",
)


def _instances(typ: ProperType | None) -> list[Instance] | None:
    """The instance types a value may have (``None`` members of an Optional dropped)."""
    if isinstance(typ, Instance):
        return [typ]
    if isinstance(typ, UnionType):
        members = [get_proper_type(item) for item in typ.items]
        instances = [m for m in members if isinstance(m, Instance) and m.type.fullname != "builtins.None"]
        others = [m for m in members if not isinstance(m, Instance) and not isinstance(m, NoneType)]
        return instances if instances and not others else None
    return None


def is_instance_of(typ: ProperType | None, fullnames: tuple[str, ...]) -> str | None:
    """The first of ``fullnames`` that every possible value of ``typ`` derives from."""
    instances = _instances(typ)
    if not instances:
        return None
    for fullname in fullnames:
        if all(instance.type.has_base(fullname) for instance in instances):
            return fullname
    return None


def is_event_loop(typ: ProperType | None) -> bool:
    return is_instance_of(typ, (EVENT_LOOP,)) is not None


def is_future(typ: ProperType | None) -> bool:
    return is_instance_of(typ, FUTURES) is not None


def declared_name(typ: ProperType | None, names: tuple[str, ...]) -> str | None:
    """Which of ``names`` (fully qualified, from the settings) a value of ``typ`` is: an instance
    of that class or of a subclass, the class itself, or that function or method."""
    if not names:
        return None
    if isinstance(typ, CallableType):
        if typ.is_type_obj():
            return is_instance_of(Instance(typ.type_object(), []), names)
        definition = typ.definition
        return definition.fullname if definition is not None and definition.fullname in names else None
    return is_instance_of(typ, names)


def cancel_scope_name(typ: ProperType | None) -> str | None:
    """The cancel scope (timeout, task group, nursery, cancel scope) a context manager opens."""
    instances = _instances(typ) or []
    if len(instances) != 1:
        return None
    (instance,) = instances
    if instance.type.fullname in CONTEXT_MANAGER_WRAPPERS and instance.args:
        return cancel_scope_name(get_proper_type(instance.args[0]))
    base = is_instance_of(instance, tuple(CANCEL_SCOPES))
    if base is None:
        return None
    public = CANCEL_SCOPES[base]
    return public if instance.type.fullname == base else f"{instance.type.name} (subclass of {public})"


def task_group_kind(typ: ProperType | None) -> TaskGroupKind | None:
    """The task group or nursery class every value of ``typ`` is (subclasses count)."""
    base = is_instance_of(typ, tuple(TASK_GROUPS))
    return TASK_GROUPS[base] if base is not None else None
