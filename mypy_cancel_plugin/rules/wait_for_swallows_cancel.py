"""``wait-for-swallows-cancel``: ``asyncio.wait_for`` on a target before Python 3.12.

Until 3.12, ``wait_for`` runs the awaitable as a task of its own and sleeps on a future of its
own; when the awaiting task is cancelled in the same step of the event loop in which that inner
task finishes, ``wait_for`` returns the result and the cancellation is gone (CPython gh-86296,
bpo-42130).  3.12 rebuilt it on ``asyncio.timeout()``, which awaits in place and keeps the
cancellation, so the verdict follows the configured ``python_version``.

Every such call is exposed (the race is in ``wait_for`` itself, not in how it is used), so the
code is off by default: switching it on audits a code base that must still run on older Pythons.
``timeout=None`` is a plain ``await`` in every version and is never reported.
"""

from __future__ import annotations

from mypy_cancel_plugin import semantics, walk
from mypy_cancel_plugin.context import FunctionScope, ModuleContext
from mypy_cancel_plugin.errorcodes import WAIT_FOR_SWALLOWS_CANCEL


def check(function: FunctionScope, module: ModuleContext) -> None:
    version = module.options.python_version
    if version >= semantics.WAIT_FOR_ON_TIMEOUT_FROM or not module.reports(WAIT_FOR_SWALLOWS_CANCEL):
        return
    for call in function.calls_to(semantics.WAIT_FOR):
        if walk.names_constant(walk.argument(call, "timeout", 1), None):
            continue  # no timeout: wait_for is a plain ``await`` of its argument
        target = ".".join(map(str, version))
        message = (
            f"asyncio.wait_for() can swallow the cancellation of the task awaiting it on Python {target}: "
            f"a cancellation that arrives as the awaited operation finishes is dropped and the result "
            f"returned (CPython gh-86296, fixed in 3.12)"
        )
        module.report(call, message, WAIT_FOR_SWALLOWS_CANCEL, fix=_fix(version))


def _fix(version: tuple[int, int]) -> str:
    """A timeout that keeps the cancellation, in a form that exists on the target."""
    if version >= semantics.ASYNCIO_TIMEOUT_FROM:
        return 'await the operation inside "async with asyncio.timeout(...)", which keeps the cancellation'
    return (
        'await the operation inside "async with async_timeout.timeout(...)" (the async-timeout package; '
        "asyncio.timeout needs Python 3.11), which keeps the cancellation"
    )
