"""Summaries of a module's helpers that the verdicts of other modules read.

A caller in another module is judged like a caller in the helper's own module once the helper
is summarised: it returns a task no task group owns, it raises on every path, it raises again a
parameter that holds a cancellation, or (a coroutine function) it reaches an unshielded
checkpoint on every path, which raises again a level-triggered cancellation.  Three properties
keep those verdicts the same in a cold run, a warm run and the daemon:

- A module's summaries are worked out from that module alone, without the checker's type map
  (declarations only, as in unchecked code), so they are the same whether the module's body is
  here (parsed in this run) or only what it published is (loaded from mypy's cache).
- Each module the rules run on publishes its summaries in its own symbol table
  (``mypy_internals.publish_facts``): the cache keeps them, and a change to them changes the
  module's interface, which makes mypy re-check the modules that depend on it.
- A module that reads another's summaries depends on that module: an indirect dependency on
  mypy >= 1.19 (before, only modules it imports are read), and under the daemon each function
  whose verdict read them is re-checked when they change.

Summaries do not follow helpers across a second module (what a helper returns from a helper of
a third module is not summarised): every summary is then a function of one module's source.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from mypy import nodes
from mypy.options import Options

from mypy_cancel_plugin import mypy_internals, walk
from mypy_cancel_plugin.config import Settings
from mypy_cancel_plugin.context import ModuleContext


class TaskHandOff(enum.IntEnum):
    """What a helper's returned value hands its caller: a task it started that no group owns, kept
    by the helper as well, or as the only reference (ordered: the only reference on some path wins)."""

    NONE = 0
    KEPT = 1
    ONLY_REFERENCE = 2


class HelperFacts(NamedTuple):
    """What callers elsewhere need to know about one function."""

    returned_task: TaskHandOff = TaskHandOff.NONE
    always_raises: bool = False
    # Parameters it raises again, on every path, when they hold a cancellation.
    reraised_parameters: frozenset[str] = frozenset()
    # A coroutine function that reaches an unshielded checkpoint (or raises) on every path.
    checkpoints: bool = False


# A module's summaries, computed from its context (built without a type map): fullname -> facts.
Summarise = Callable[[ModuleContext], dict[str, HelperFacts]]


def encode(facts: dict[str, HelperFacts]) -> str | None:
    """The published form (stable: the module's interface hash is taken over it)."""
    if not facts:
        return None
    rows = {
        name: [int(fact.returned_task), int(fact.always_raises), sorted(fact.reraised_parameters),
               int(fact.checkpoints)]
        for name, fact in facts.items()
    }
    return json.dumps(rows, sort_keys=True, separators=(",", ":"))


def decode(text: str | None) -> dict[str, HelperFacts]:
    """What ``encode`` published; anything else (another plugin version's form) is no facts."""
    try:
        rows = json.loads(text) if text else {}
        return {
            name: HelperFacts(TaskHandOff(task), bool(raises), frozenset(str(p) for p in parameters), bool(checkpoints))
            for name, (task, raises, parameters, checkpoints) in rows.items()
        }
    except (ValueError, TypeError, AttributeError):
        return {}


class SharedFacts:
    """Every module's summaries for one build (or one daemon), worked out once and read on demand.

    A module's summaries are worked out at the first of: mypy serialising it for its cache (the
    plugin's ``report_config_data`` call), its rules running, or a reader asking; they are
    published at the first two, whichever mypy does before it serialises.  Working them out
    needs the module's walk, which its rules share.
    """

    def __init__(self, manager: Any, settings: Settings, summarise: Summarise) -> None:
        self._manager = manager
        self._settings = settings
        self._summarise = summarise
        # Module name -> its summaries, as published or worked out in this build.
        self._known: dict[str, dict[str, HelperFacts]] = {}
        # Walks made for summaries before the module's rules ran (mypy 2.4 writes the cache first).
        self._walks: dict[str, list[walk.ScopeNodes]] = {}

    def walk_of(self, tree: nodes.MypyFile) -> list[walk.ScopeNodes]:
        """The module's walk, for its rules (made here unless summarising it made one already)."""
        return self._walks.pop(tree.fullname, None) or walk.module_scopes(tree)

    def rules_ran(self, module: ModuleContext) -> None:
        """The module's rules have run: work out its summaries with their walk, unless done already,
        and publish them.  mypy up to 1.18 serialises the module for its cache before asking
        ``report_config_data``, but after this call; the daemon writes no cache, re-checks changed
        code, and so works them out afresh each time (a change fires their trigger)."""
        name = module.tree.fullname
        if self._manager.options.fine_grained_incremental or name not in self._known:
            self._known[name] = self._worked_out(module.tree, module.scopes)
        mypy_internals.publish_facts(module.tree, encode(self._known[name]), self._manager.modules)

    def publish(self, name: str) -> None:
        """Just before mypy serialises the module for its cache (from 1.19; mypy 2.4 does it before
        checking function bodies, so before the module's rules run): keep its summaries in it."""
        tree = self._manager.modules.get(name)
        if tree is None or not mypy_internals.publishes(self._manager, tree):
            return
        if name not in self._known:
            if not mypy_internals.has_bodies(tree):
                return  # (mypy 2.3 drops a checked module's statements before writing its cache: known by then)
            scopes = walk.module_scopes(tree)
            self._walks[name] = scopes  # its rules, which run next, use it
            self._known[name] = self._worked_out(tree, scopes)
        mypy_internals.publish_facts(tree, encode(self._known[name]), self._manager.modules)

    def read(self, defn: nodes.FuncDef, reader: ModuleContext) -> HelperFacts | None:
        """The summary of ``defn``, a function of another module, for the verdicts of ``reader``
        (``None``: that module's summaries cannot be read from here).  Records the dependency."""
        owner = _module_of(defn, self._manager.modules)
        if owner is None or owner == reader.tree.fullname or not self._may_depend(reader.tree, owner):
            return None
        target = next((node.fullname for node in reader.enclosing if isinstance(node, nodes.FuncDef)),
                      reader.tree.fullname)
        if self._manager.options.fine_grained_incremental or self._manager.options.cache_fine_grained:
            mypy_internals.add_daemon_dependency(self._manager, reader.tree, mypy_internals.facts_trigger(owner), target)
        return self._facts_of(owner).get(defn.fullname, HelperFacts())

    def _facts_of(self, name: str) -> dict[str, HelperFacts]:
        known = self._known.get(name)
        if known is not None:
            return known
        tree = self._manager.modules[name]
        if not mypy_internals.has_bodies(tree):
            facts = decode(mypy_internals.published_facts(tree))
        elif mypy_internals.publishes(self._manager, tree):
            facts = self._worked_out(tree, None)  # checked in this run, its rules not run yet (an import cycle)
        else:
            facts = {}
        self._known[name] = facts
        return facts

    def _worked_out(self, tree: nodes.MypyFile, scopes: list[walk.ScopeNodes] | None) -> dict[str, HelperFacts]:
        """Summaries from the module's source and declarations alone; a failure gives none (the
        rules report their own)."""
        options: Options = self._manager.options
        try:
            module = ModuleContext(tree, self._settings, {}, list, options, scopes or walk.module_scopes(tree),
                                   self._manager.modules, infer_locals=False)
        except Exception:  # noqa: BLE001 - a plugin bug must not crash mypy
            return {}
        try:
            return self._summarise(module)
        except Exception:  # noqa: BLE001 - as above
            return {}
        finally:
            module.release()

    def _may_depend(self, reader: nodes.MypyFile, owner: str) -> bool:
        """Make ``owner`` a dependency of ``reader`` where this mypy allows it, else require an import of it."""
        if owner not in self._manager.modules:
            return False
        return mypy_internals.add_indirect_dependency(reader, owner) or owner in _imported_modules(reader)


def _module_of(defn: nodes.FuncDef, modules: dict[str, nodes.MypyFile]) -> str | None:
    """The module that defines ``defn`` (a method's class knows it; a function's is its name's prefix)."""
    if defn.info is not nodes.FUNC_NO_INFO and defn.info is not None:
        return defn.info.module_name
    module = defn.fullname.rpartition(".")[0]
    return module if module in modules else None


def _imported_modules(tree: nodes.MypyFile) -> set[str]:
    """The modules ``tree``'s import statements name (what mypy makes its dependencies)."""
    names: set[str] = set()
    for statement in tree.imports:
        if isinstance(statement, nodes.Import):
            names.update(name for name, _ in statement.ids)
        elif isinstance(statement, (nodes.ImportFrom, nodes.ImportAll)):
            base = mypy_internals.imported_module_name(tree, statement.relative, statement.id)
            names.add(base)
            if isinstance(statement, nodes.ImportFrom):
                names.update(f"{base}.{name}" for name, _ in statement.names)
    return names
