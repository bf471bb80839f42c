"""Every error code the plugin reports, in one place.

Creating an ``ErrorCode`` registers it with mypy, which is what makes
``# type: ignore[code]`` and ``disable_error_code``/``enable_error_code`` accept it.  A code
created with ``default_enabled=False`` is reported only where it is enabled: by mypy's
``enable_error_code`` (mypy 1.19 and newer, or an inline ``# mypy:`` comment) or by the plugin's
own ``enable_error_code`` setting.
"""

from __future__ import annotations

from mypy.errorcodes import ErrorCode

CATEGORY = "mypy-cancel-plugin"
REPOSITORY = "https://github.com/mypy-cancel-plugin/mypy-cancel-plugin"


def page_url(code: str) -> str:
    """Where a code's rule page is on the web (a path would not exist in the user's project)."""
    return f"{REPOSITORY}/blob/main/mypy_cancel_plugin/docs/{code}.md"

CANCEL_SWALLOWED = ErrorCode(
    "cancel-swallowed",
    "A handler, suppress() or finally can discard the current task's cancellation",
    CATEGORY,
)
CANCEL_SWALLOWED_AWAITED_TASK = ErrorCode(
    "cancel-swallowed-awaited-task",
    "Awaiting a task this code cancelled also swallows the current task's own cancellation",
    CATEGORY,
    sub_code_of=CANCEL_SWALLOWED,
)

UNSTRUCTURED_TASK = ErrorCode(
    "unstructured-task",
    "A task is spawned where no task group owns its lifetime",
    CATEGORY,
)
UNSTRUCTURED_TASK_DISCARDED = ErrorCode(
    "unstructured-task-discarded",
    "A task no task group owns is spawned and its only reference dropped",
    CATEGORY,
    sub_code_of=UNSTRUCTURED_TASK,
)
UNSTRUCTURED_TASK_IMPLICIT = ErrorCode(
    "unstructured-task-implicit",
    "asyncio.shield/wait_for/gather/wait wrap a bare coroutine in a task no task group owns",
    CATEGORY,
    sub_code_of=UNSTRUCTURED_TASK,
)
YIELD_IN_CANCEL_SCOPE = ErrorCode(
    "yield-in-cancel-scope",
    "A generator yields while a timeout, task group or cancel scope is open (PEP 789)",
    CATEGORY,
)
TASK_CANCELLED_NOT_AWAITED = ErrorCode(
    "task-cancelled-not-awaited",
    "A coroutine cancels a task it started and never waits for it to finish",
    CATEGORY,
)
ASYNCIO_TIMEOUT_NOT_CAUGHT = ErrorCode(
    "asyncio-timeout-not-caught",
    "except TimeoutError around asyncio.wait_for on Python < 3.11, where asyncio raises its own TimeoutError",
    CATEGORY,
)
GATHER_CANCEL_AS_RESULT = ErrorCode(
    "gather-cancel-as-result",
    "Results of asyncio.gather(return_exceptions=True) sorted by a check that lets a cancelled child pass for a value",
    CATEGORY,
)
WAIT_FOR_SWALLOWS_CANCEL = ErrorCode(
    "wait-for-swallows-cancel",
    "asyncio.wait_for on Python < 3.12 can drop the awaiting task's cancellation",
    CATEGORY,
    default_enabled=False,
)
TASK_GROUP_NOT_OPEN = ErrorCode(
    "task-group-not-open",
    "A task is started in a task group or nursery whose async with block has ended, or that was never entered",
    CATEGORY,
)
CANCEL_SCOPE_ESCAPES_TASK = ErrorCode(
    "cancel-scope-escapes-task",
    "A cancel scope or task group is entered by hand in one function and exited in another, maybe in another task",
    CATEGORY,
)
PLUGIN_FAILURE = ErrorCode(
    "cancel-plugin",
    "mypy-cancel-plugin could not check a function, or a setting names nothing the project defines",
    CATEGORY,
)

ALL_CODES = (
    CANCEL_SWALLOWED,
    CANCEL_SWALLOWED_AWAITED_TASK,
    UNSTRUCTURED_TASK,
    UNSTRUCTURED_TASK_DISCARDED,
    UNSTRUCTURED_TASK_IMPLICIT,
    YIELD_IN_CANCEL_SCOPE,
    TASK_CANCELLED_NOT_AWAITED,
    ASYNCIO_TIMEOUT_NOT_CAUGHT,
    GATHER_CANCEL_AS_RESULT,
    WAIT_FOR_SWALLOWS_CANCEL,
    TASK_GROUP_NOT_OPEN,
    CANCEL_SCOPE_ESCAPES_TASK,
    PLUGIN_FAILURE,
)
