"""What mypy's call hooks learnt about calls, kept until the module's rules run.

Hooks fire while mypy checks a module and see its exact types (narrowed receivers,
generics, inferred locals); the rules run afterwards, once per module.  The memo holds the
call node itself, so an id reused by another node can never pick up a stale fact.
"""

from __future__ import annotations

from mypy import nodes


class CallFacts:
    def __init__(self) -> None:
        self._facts: dict[int, tuple[nodes.Context, object]] = {}

    def record(self, call: nodes.Context, fact: object) -> None:
        """Remember ``fact`` for ``call``; a later check of the same call (deferral) replaces it."""
        self._facts[id(call)] = (call, fact)

    def take(self, call: nodes.Context) -> tuple[bool, object]:
        """``(True, fact)`` if a hook saw ``call`` (and forget it), else ``(False, None)``."""
        found = self._facts.get(id(call))
        if found is None or found[0] is not call:
            return False, None
        del self._facts[id(call)]
        return True, found[1]
