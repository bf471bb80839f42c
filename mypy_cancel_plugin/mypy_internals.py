"""The one place that touches mypy internals; ``tests/test_mypy_contract.py`` pins each use.

mypy has no plugin call "a module was just type-checked, here are its types".  What every
mypy from 1.13 on does: with ``options.export_types`` set, ``State.finish_passes()`` (after a
module is checked) and the daemon's ``reprocess_nodes()`` (after it re-checks some targets of
an unchanged module) hand the checker's expression type map to
``manager.all_types.update(...)``.  Replacing ``manager.all_types`` with a ``dict`` subclass
turns that line into the call the rules run from, on every version and in every mode, with
mypy's own types and without copying them.

Findings are reported through the build's ``Errors`` under a ``Scope`` positioned at the
function they are in, so they carry mypy's fine-grained target (the daemon re-checks targets
with errors after each update, and that re-check calls the rules again) and show under that
function with ``--show-error-context``.
"""

from __future__ import annotations

import contextlib
import gc
import re
from pathlib import Path
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from mypy import errorcodes
from mypy.errors import Errors
from mypy.nodes import GDEF, NOT_ABSTRACT, Expression, FuncDef, MypyFile, SymbolNode, SymbolTableNode, TypeInfo, Var
from mypy.options import Options
from mypy.scope import Scope
from mypy.semanal import is_trivial_body
from mypy.types import AnyType, Instance, LiteralType, Type, TypeOfAny, TypeVarId, get_proper_type
from mypy.lookup import lookup_fully_qualified
from mypy.expandtype import expand_type, expand_type_by_instance
from mypy.maptype import map_instance_to_supertype
from mypy.util import correct_relative_import, decode_python_encoding

TypeMap = Mapping[Expression, Type]
# Line ends for Python's tokenizer: not form feeds and the other ``str.splitlines`` separators.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Finding(Protocol):
    """What ``report_findings`` needs of a finding (``context.Diagnostic`` has it)."""

    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...
    @property
    def end_line(self) -> int: ...
    @property
    def end_column(self) -> int: ...
    @property
    def message(self) -> str: ...
    @property
    def code(self) -> errorcodes.ErrorCode: ...
    @property
    def note(self) -> str: ...
    @property
    def enclosing(self) -> tuple[FuncDef | TypeInfo, ...]: ...


def find_build_manager(modules: dict[str, MypyFile]) -> Any | None:
    """From ``Plugin.set_modules``: the ``BuildManager`` whose ``modules`` is this dict."""
    for referrer in gc.get_referrers(modules):
        if (
            getattr(referrer, "modules", None) is modules
            and isinstance(getattr(referrer, "errors", None), Errors)
            and isinstance(getattr(referrer, "all_types", None), dict)
        ):
            return referrer
    return None


class TypeMapTap(dict):  # type: ignore[type-arg]  # keys and values as in BuildManager.all_types
    """Stands in for ``manager.all_types``: each module's type map is handed to ``receive``.

    The map is forwarded into this dict only when the user asked mypy for it
    (``export_types``, read by API callers as ``BuildResult.types``).
    """

    def __init__(self, receive: Callable[[TypeMap], None], *, keep: bool) -> None:
        super().__init__()
        self._receive = receive
        self._keep = keep

    def update(self, type_map: TypeMap) -> None:  # type: ignore[override]
        if self._keep:
            dict.update(self, type_map)
        self._receive(type_map)


def tap_type_maps(manager: Any, options: Options, receive: Callable[[TypeMap], None]) -> None:
    """Route every checked module's type map to ``receive`` (see the module docstring)."""
    if not isinstance(manager.all_types, TypeMapTap):
        manager.all_types = TypeMapTap(receive, keep=options.export_types)
    options.export_types = True


def keep_type_export_on(options: Options) -> None:
    """dmypy resets ``export_types`` after each run: turn it on again before the next checks."""
    options.export_types = True


def module_just_checked(manager: Any, type_map: TypeMap, seen: set[str] | None) -> MypyFile | None:
    """The module whose type map mypy is handing over, if the plugin may report on it now.

    ``errors`` names the module mypy is working on.  Modules whose diagnostics mypy skips
    (``ignore_errors``, silenced third-party code) can reach the hand-off without
    ``errors.set_file()``, still pointing at another module; reporting there would make mypy
    crash.  ``seen`` (outside the daemon) holds modules already done in this build, so a stale
    pointer can never run a module twice; the daemon re-checks modules on purpose.
    """
    errors: Errors = manager.errors
    module = errors.target_module
    tree: MypyFile | None = manager.modules.get(module) if module is not None else None
    if module is None or tree is None or tree.is_stub or errors.file != tree.path:
        return None
    if errors.file in errors.ignored_files or errors.options.ignore_errors:
        return None
    if seen is not None:
        if errors.scope is not None or module in seen:
            return None
        seen.add(module)
    elif errors.scope is not None and _scope_module(errors.scope) is not None:
        return None  # inside a checker pass, not after one
    return tree


def _scope_module(scope: Scope) -> str | None:
    return scope.module


def replace_findings(errors: Errors, path: str, codes: frozenset[str]) -> None:
    """Drop this plugin's earlier findings in ``path``: the daemon re-runs a module's rules."""
    infos = errors.error_info_map.get(path)
    if infos:
        errors.error_info_map[path] = [info for info in infos if not (info.code and info.code.code in codes)]


def enabled_by_options(options: Options, code: errorcodes.ErrorCode) -> bool:
    """Whether mypy's own options for a module (``enable_error_code`` in the configuration, on the
    command line or in an inline ``# mypy:`` comment) switch ``code`` on there."""
    return code in options.enabled_error_codes and code not in options.disabled_error_codes


def report_findings(
    errors: Errors,
    tree: MypyFile,
    options: Options,
    findings: Iterable[Finding],
    switched_on: Iterable[errorcodes.ErrorCode] = (),
) -> None:
    """Report ``findings`` in ``tree`` as mypy reports its own errors, each under its function's scope.

    ``switched_on``: codes that are off by default and that the plugin's own settings enable;
    mypy drops findings of a code its options do not enable, so they are enabled for as long as
    the findings are reported (what mypy's options disable stays disabled).
    """
    saved = (errors.file, errors.target_module, errors.options, errors.scope)
    path = errors.file
    added = [code for code in switched_on if code not in options.enabled_error_codes]
    options.enabled_error_codes.update(added)
    try:
        for found in findings:
            scope = Scope()
            with _entered(scope, tree.fullname, found.enclosing):
                errors.set_file(path, tree.fullname, options, scope=scope)
                for message, severity in ((found.message, "error"), (found.note, "note")):
                    if message:
                        errors.report(
                            found.line,
                            found.column,
                            message,
                            severity=severity,
                            code=found.code,
                            end_line=found.end_line,
                            end_column=found.end_column,
                        )
    finally:
        options.enabled_error_codes.difference_update(added)
        file, module, saved_options, saved_scope = saved
        errors.set_file(file, module, saved_options, scope=saved_scope)


@contextlib.contextmanager
def _entered(scope: Scope, module: str, enclosing: tuple[FuncDef | TypeInfo, ...]) -> Iterator[None]:
    with scope.module_scope(module), contextlib.ExitStack() as stack:
        for node in enclosing:
            if isinstance(node, TypeInfo):
                scope.enter_class(node)
                stack.callback(scope.leave_class)
            else:
                stack.enter_context(scope.function_scope(node))
        yield


def refresh_ignore_notes(errors: Errors, path: str, options: Options) -> None:
    """dmypy decides which ``type: ignore`` comments are unused (or lack a code) before the
    rules run on a changed module; work those notes out again now that the findings are in."""
    stale = (errorcodes.UNUSED_IGNORE, errorcodes.IGNORE_WITHOUT_CODE)
    infos = errors.error_info_map.get(path, [])
    if not any(info.code in stale for info in infos):
        return  # not worked out yet (a full build does it after the rules): nothing is stale
    errors.error_info_map[path] = [info for info in infos if info.code not in stale]
    warn_unused = (
        options.warn_unused_ignores or errorcodes.UNUSED_IGNORE in options.enabled_error_codes
    ) and errorcodes.UNUSED_IGNORE not in options.disabled_error_codes
    if warn_unused:
        errors.generate_unused_ignore_errors(path)
    if errors.is_error_code_enabled(errorcodes.IGNORE_WITHOUT_CODE):
        errors.generate_ignore_without_code_errors(path, options.warn_unused_ignores)


def checked_source_lines(manager: Any, path: str) -> list[str]:
    """The text mypy checked for ``path`` (an editor's unsaved buffer under ``--shadow-file``),
    split into lines as Python's tokenizer splits them; empty where mypy read no file (``-c``)."""
    try:
        data = manager.fscache.read(manager.maybe_swap_for_shadow_path(path))
    except OSError:
        return []
    return _LINE_BREAK.split(decode_python_encoding(data))


def imported_module_name(module: MypyFile, relative: int, imported: str) -> str:
    """The absolute name of the module an import statement of ``module`` names (``from ..a import b``)."""
    return correct_relative_import(module.fullname, relative, imported, module.is_package_init_file())[0]


def definition_named(fullname: str, modules: dict[str, MypyFile]) -> SymbolNode | None:
    """What a fully qualified name refers to, in the modules mypy has loaded (``None``: not there)."""
    found = lookup_fully_qualified(fullname, modules)
    return found.node if found is not None else None


def is_unfollowed_import(typ: Type | None) -> bool:
    """Whether mypy typed a name ``Any`` because the import that binds it could not be followed."""
    proper = get_proper_type(typ) if typ is not None else None
    return isinstance(proper, AnyType) and proper.type_of_any == TypeOfAny.from_unimported_type


def as_supertype(typ: Instance, fullname: str) -> Instance | None:
    """``typ`` seen as its base class ``fullname`` (``dict_values[str, T]`` as ``Iterable[T]``)."""
    base = next((info for info in typ.type.mro if info.fullname == fullname), None)
    return map_instance_to_supertype(typ, base) if base is not None else None


def as_member_of(declared: Type, instance: Instance, owner: TypeInfo) -> Type:
    """A member's declared type as ``instance`` sees it: the type variables of ``owner`` (the
    class that declares it, ``instance``'s class or a base) bound (``dict[str, Event]``'s
    ``__getitem__`` returns ``Event``, not ``_VT``)."""
    return expand_type_by_instance(declared, map_instance_to_supertype(instance, owner))


def with_type_variables(typ: Type, bound: Mapping[TypeVarId, Type]) -> Type:
    """``typ`` with the type variables ``bound`` gives replaced (a generic call's result, solved)."""
    return expand_type(typ, bound)


# The private module-level name under which a module's helper summaries travel (``module_facts``).
FACTS_NAME = "__mypy_cancel_plugin_facts__"


def publish_facts(tree: MypyFile, text: str | None, modules: Mapping[str, MypyFile]) -> None:
    """Keep ``text`` in ``tree``'s symbol table as a private name typed ``Literal[text]`` (``None``: drop it).

    mypy serialises the symbol table into its cache and hashes it into the module's interface,
    so a module loaded from the cache still has the text, and a change to it re-checks the
    modules that depend on this one; the daemon's snapshot of a name includes its type, so a
    change also fires the name's trigger.
    """
    builtins = modules.get("builtins")
    str_info = builtins.names.get("str") if builtins is not None else None
    if text is None or str_info is None or not isinstance(str_info.node, TypeInfo):
        tree.names.pop(FACTS_NAME, None)
        return
    var = Var(FACTS_NAME, LiteralType(text, Instance(str_info.node, [])))
    var._fullname = f"{tree.fullname}.{FACTS_NAME}"
    var.is_ready = True
    tree.names[FACTS_NAME] = SymbolTableNode(GDEF, var, module_public=False, plugin_generated=True)


def published_facts(tree: MypyFile) -> str | None:
    """The text ``publish_facts`` kept in ``tree`` (also when mypy loaded the module from its cache)."""
    symbol = tree.names.get(FACTS_NAME)
    var = symbol.node if symbol is not None else None
    literal = get_proper_type(var.type) if isinstance(var, Var) else None
    return literal.value if isinstance(literal, LiteralType) and isinstance(literal.value, str) else None


def facts_trigger(module: str) -> str:
    """The daemon's trigger of a module's published facts (fired when they change)."""
    return f"<{module}.{FACTS_NAME}>"


def has_bodies(tree: MypyFile) -> bool:
    """Whether mypy parsed ``tree`` in this build (a module loaded from the cache keeps no statements)."""
    return bool(tree.defs)


def publishes(manager: Any, tree: MypyFile) -> bool:
    """Whether the rules run on ``tree`` when it is checked (``module_just_checked``), so it publishes facts."""
    return not tree.is_stub and tree.path not in manager.errors.ignored_files


def stands_in_for_overrides(defn: FuncDef) -> bool:
    """Whether ``defn``'s body only stands in for what overrides do: it is abstract, or its body is
    trivial as mypy judges it (a docstring, ``pass``, ``...``, ``raise NotImplementedError``)."""
    return defn.abstract_status != NOT_ABSTRACT or is_trivial_body(defn.body)


def add_indirect_dependency(tree: MypyFile, module: str) -> bool:
    """Make ``module``'s interface part of ``tree``'s cache key (mypy >= 1.19 reads ``tree.module_refs``
    right after the type-map hand-off and records them as indirect dependencies).  ``False``: this
    mypy has no such set."""
    refs = getattr(tree, "module_refs", None)
    if not isinstance(refs, set):
        return False
    refs.add(module)
    return True


def add_daemon_dependency(manager: Any, tree: MypyFile, trigger: str, target: str) -> None:
    """Under the daemon (or with a fine-grained cache): re-check ``target`` when ``trigger`` fires.

    ``tree.plugin_deps`` goes into the module's dependency map when it is computed; the
    daemon's own map (``manager.fg_deps``) is also updated at once, since a re-check of some
    targets does not recompute the module-level dependencies.
    """
    tree.plugin_deps.setdefault(trigger, set()).add(target)
    if manager.options.fine_grained_incremental:
        manager.fg_deps.setdefault(trigger, set()).add(target)


def request_daemon_restart(manager: Any, reason: str) -> None:
    """Make dmypy's next plugin check differ from its start, so it restarts with fresh settings.

    dmypy compares ``manager.plugins_snapshot`` with a snapshot taken just after it builds a
    new plugin in each ``dmypy run``; a plugin setting is not part of that snapshot.
    """
    manager.plugins_snapshot[f"mypy_cancel_plugin ({reason})"] = reason


def contract_problems() -> list[str]:
    """What this mypy lacks of the internals above (empty when all is there).

    Checked on a mypy newer than the tested range before the plugin runs on it.  The hand-off
    line is looked for in mypy's own source, which compiled wheels ship next to the binaries.
    """
    import mypy.build
    import mypy.server.update
    from mypy.plugin import Plugin

    problems = []
    hand_offs = {
        mypy.build: "manager.all_types.update(self.type_map())",
        mypy.server.update: "manager.all_types.update(graph[module_id].type_map())",
    }
    for module, line in hand_offs.items():
        source = _source_text(module)
        if source is not None and line not in source:
            problems.append(f"{module.__name__} no longer hands type maps to all_types")
    needed = {
        Errors: ("set_file", "report", "generate_unused_ignore_errors", "generate_ignore_without_code_errors",
                 "is_error_code_enabled"),
        Scope: ("module_scope", "function_scope", "enter_class", "leave_class"),
        Plugin: ("set_modules", "get_additional_deps", "report_config_data"),
    }
    for cls, names in needed.items():
        problems += [f"{cls.__name__}.{name} is gone" for name in names if not hasattr(cls, name)]
    instance_attributes = {Errors(Options()): ("error_info_map", "ignored_lines", "ignored_files", "target_module",
                                               "file", "scope", "options"),
                           Options(): ("export_types", "fine_grained_incremental", "cache_fine_grained",
                                       "warn_unused_ignores", "enabled_error_codes", "disabled_error_codes"),
                           MypyFile([], []): ("plugin_deps", "defs", "imports", "is_stub"),
                           FuncDef(): ("abstract_status",)}
    for instance, names in instance_attributes.items():
        problems += [f"{type(instance).__name__}.{name} is gone" for name in names if not hasattr(instance, name)]
    return problems


def _source_text(module: Any) -> str | None:
    """A module's Python source, also for a compiled module (its ``.py`` lies beside the binary)."""
    source = Path(module.__file__).with_name(module.__name__.rpartition(".")[2] + ".py")
    try:
        return source.read_text(encoding="utf-8")
    except OSError:
        return None
