"""What the async libraries mean, as data: the analyses read these tables, never spellings.

Adding a library (or a library's new API) should only ever mean adding rows here.
"""

from __future__ import annotations

from typing import NamedTuple

# The exception each library raises inside a task (or trio/anyio scope) that is being cancelled.
# anyio has no class of its own: ``anyio.get_cancelled_exc_class()`` is typed
# ``type[BaseException]`` and is recognised through that type.
CANCELLATION_CLASSES = {
    "asyncio.exceptions.CancelledError": "asyncio",
    "trio._core._exceptions.Cancelled": "trio",
}

# Cancel scopes by fullname, with the public name messages use.
CANCEL_SCOPES = {
    "asyncio.taskgroups.TaskGroup": "asyncio.TaskGroup",
    "asyncio.timeouts.Timeout": "asyncio.Timeout",
    "anyio.abc._tasks.TaskGroup": "anyio TaskGroup",
    "anyio._core._tasks.CancelScope": "anyio.CancelScope",
    "trio._core._run.Nursery": "trio.Nursery",
    "trio._core._run.CancelScope": "trio.CancelScope",
    "async_timeout.Timeout": "async_timeout.Timeout",  # its own class before 3.11, asyncio's from then
}
# The calls that open those scopes, by the public name code spells: what still says what a call
# opens when mypy could not follow the library's import (not installed, ignore_missing_imports).
CANCEL_SCOPE_CALLS = {
    **dict.fromkeys(("async_timeout.timeout", "async_timeout.timeout_at"), "async_timeout.Timeout"),
    **dict.fromkeys(("trio.CancelScope", "trio.move_on_after", "trio.move_on_at", "trio.fail_after", "trio.fail_at"),
                    "trio.CancelScope"),
    "trio.open_nursery": "trio.Nursery",
    **dict.fromkeys(("anyio.CancelScope", "anyio.move_on_after", "anyio.move_on_at", "anyio.fail_after",
                     "anyio.fail_at"), "anyio.CancelScope"),
    "anyio.create_task_group": "anyio TaskGroup",
}

class TaskGroupKind(NamedTuple):
    """A task group class: the methods that start a child in it, and what they raise when the
    group is not open (``None``: the library never hands out a group that was not entered)."""

    name: str  # as messages name it
    spawn_methods: frozenset[str]
    closed_error: str  # after its ``async with`` block has ended
    unentered_error: str | None  # before it was entered
    # The spawn takes a coroutine object, which then never runs (a "never awaited" warning before 3.13).
    takes_coroutine: bool


# Task groups and nurseries by fullname.
TASK_GROUPS = {
    "asyncio.taskgroups.TaskGroup": TaskGroupKind(
        "asyncio.TaskGroup", frozenset({"create_task"}),
        'RuntimeError("TaskGroup ... is finished")', 'RuntimeError("TaskGroup ... has not been entered")', True,
    ),
    "anyio.abc._tasks.TaskGroup": TaskGroupKind(
        "anyio TaskGroup", frozenset({"start_soon", "start"}),
        'RuntimeError("This task group is not active")', 'RuntimeError("This task group is not active")', False,
    ),
    # A trio nursery exists only inside ``async with trio.open_nursery()``: it cannot be unentered.
    "trio._core._run.Nursery": TaskGroupKind(
        "trio.Nursery", frozenset({"start_soon", "start"}), 'RuntimeError("Nursery is closed to new arrivals")', None,
        False,
    ),
}
TASK_GROUP_SPAWN_METHODS = frozenset(method for kind in TASK_GROUPS.values() for method in kind.spawn_methods)
# Calls that make a task group that is not open yet (besides constructing a task group class).
TASK_GROUP_FACTORIES = frozenset({"anyio._core._tasks.create_task_group"})

# Entering and exiting a context manager by hand, and the exit stacks that hold one open.
ENTER_METHODS = ("__aenter__", "__enter__")
# The exit protocol: ``__exit__``/``__aexit__(self, exc_type, exc_value, traceback)`` receives the
# exception that left the ``with`` block in its positional parameter of this index (``self`` not
# counted).  A falsy return makes the ``with`` statement raise that exception again; a truthy one
# suppresses it.
EXIT_EXCEPTION_PARAMETER = {"__aexit__": 1, "__exit__": 1}
EXIT_METHODS = frozenset(EXIT_EXCEPTION_PARAMETER)
# Exit-stack methods that enter their argument and keep it open until the stack closes ...
STACK_ENTER_METHODS = frozenset({"enter_async_context", "enter_context"})
# ... the methods that close the stack (exiting what it holds) ...
STACK_CLOSE_METHODS = frozenset({"aclose", "close", *EXIT_METHODS})
# ... and the one that moves what it holds to a new stack.
STACK_MOVE_METHOD = "pop_all"

# Decorators that make a generator a context manager: its ``yield`` is the managed block.
ASYNC_CONTEXT_MANAGER = "contextlib.asynccontextmanager"
GENERATOR_CONTEXT_MANAGERS = frozenset({ASYNC_CONTEXT_MANAGER, "contextlib.contextmanager"})
# Fixture decorators: the test runs at the fixture's ``yield``, like a managed block.
FIXTURE_DECORATORS = frozenset({
    "pytest.fixture",
    "_pytest.fixtures.fixture",
    "pytest_asyncio.fixture",
    "pytest_asyncio.plugin.fixture",
})

# asyncio's task objects, and the calls that return the task running the current code.
TASK_CLASSES = ("asyncio.tasks.Task", "_asyncio.Task")
CURRENT_TASK_FUNCTIONS = frozenset({"asyncio.tasks.current_task", "_asyncio.current_task"})
# Tests that a value is a coroutine, or a callable whose calls give one: the code they guard knows it.
COROUTINE_TESTS = frozenset({"asyncio.coroutines.iscoroutine", "inspect.iscoroutine"})
COROUTINE_FUNCTION_TESTS = frozenset({"asyncio.coroutines.iscoroutinefunction", "inspect.iscoroutinefunction"})
# Tests that a value is an asyncio future (which ``ensure_future`` hands back as it is, no task).
FUTURE_TESTS = frozenset({"asyncio.futures.isfuture", "asyncio.base_futures.isfuture"})
# Classes an ``isinstance`` test names: asyncio's futures (tasks are futures), and coroutines.
FUTURE_CLASSES = frozenset({"asyncio.futures.Future", "_asyncio.Future", "asyncio.tasks.Task", "_asyncio.Task"})
COROUTINE_CLASSES = frozenset({"typing.Coroutine", "collections.abc.Coroutine", "types.CoroutineType"})
# ``Task.cancelling()`` is the number of pending cancellation requests of that task;
# ``Task.uncancel()`` withdraws one and returns how many remain.
CANCEL_COUNT_READERS = frozenset({"cancelling"})
CANCEL_COUNT_DECREMENTERS = frozenset({"uncancel"})

# Task methods that only ask about or change its state: a call of one neither waits for the task
# nor hands it to another owner.
TASK_STATE_METHODS = frozenset({
    "cancel", "cancelled", "cancelling", "uncancel", "done", "get_name", "set_name", "get_coro",
    "get_context", "get_loop", "get_stack", "print_stack", "remove_done_callback",
})
# Functions whose ``done, pending = await f(...)`` hands back tasks the caller still owns.
TASK_WAITING_FUNCTIONS = frozenset({"asyncio.tasks.wait"})

# asyncio's functions that wait for other awaitables, wrapping a bare coroutine in a task of
# their own.  From Python 3.12 ``wait_for`` is ``asyncio.timeout()`` around an ``await`` in place:
# no task of its own, and no race with the caller's cancellation.
GATHER = "asyncio.tasks.gather"
WAIT = "asyncio.tasks.wait"
WAIT_FOR = "asyncio.tasks.wait_for"
SHIELD = "asyncio.tasks.shield"
WAIT_FOR_ON_TIMEOUT_FROM = (3, 12)
# From Python 3.11 ``wait`` refuses a bare coroutine with ``TypeError`` instead of wrapping it.
WAIT_REJECTS_COROUTINES_FROM = (3, 11)
# ``gather(..., return_exceptions=True)`` hands back what each child raised as an item of its
# results, a cancelled child's ``CancelledError`` included, instead of raising it.
RETURN_EXCEPTIONS = "return_exceptions"
# Calls whose result is what the awaitable passed to them (parameter name and position) gives.
RESULT_PASSING_FUNCTIONS = {WAIT_FOR: ("fut", 0), SHIELD: ("arg", 0)}
# Event loop methods that run an awaitable to completion and return its result.
LOOP_RUNNING_METHODS = frozenset({"run_until_complete"})
# What runs its argument as the main task of an event loop of its own, and how it takes it: the
# coroutine (``asyncio.run(main())``) or the coroutine function (``trio.run(main)``).  Nothing
# outside that task waits for its cancellation: the runner cancels it only to stop (``Ctrl-C``).
GIVEN_A_COROUTINE, GIVEN_A_FUNCTION = "coroutine", "function"
RUNNERS = {
    "asyncio.runners.run": GIVEN_A_COROUTINE,
    "asyncio.runners.Runner.run": GIVEN_A_COROUTINE,
    "asyncio.events.AbstractEventLoop.run_until_complete": GIVEN_A_COROUTINE,
    "asyncio.base_events.BaseEventLoop.run_until_complete": GIVEN_A_COROUTINE,
    "trio._core._run.run": GIVEN_A_FUNCTION,
    "anyio._core._eventloop.run": GIVEN_A_FUNCTION,
}
RUNNER_METHODS = frozenset(fullname.rpartition(".")[2] for fullname in RUNNERS)
# Builtins that iterate over the items of what they are given: one each (``reversed``, ``list``,
# ``tuple``, ``iter``, and the copies ``set``, ``frozenset``, ``sorted``), in tuples with the
# items of other iterables (``zip``), or numbered (``enumerate``).
SAME_ITEMS = frozenset({"builtins.reversed", "builtins.list", "builtins.tuple", "builtins.iter", "builtins.set",
                        "builtins.frozenset", "builtins.sorted"})
ZIP = "builtins.zip"
ENUMERATE = "builtins.enumerate"

# ``async with asyncio.timeout(...)`` exists from 3.11; before, the async-timeout package's
# ``async_timeout.timeout(...)`` is the same thing.
ASYNCIO_TIMEOUT_FROM = (3, 11)

# Calls (and context managers) that signal a timeout with asyncio's ``TimeoutError``.  Before
# Python 3.11 that is ``asyncio.exceptions.TimeoutError``, a class of its own that
# ``except TimeoutError`` (the builtin) does not catch; from 3.11 the two are one class.
ASYNCIO_TIMEOUT_RAISERS = frozenset({
    WAIT_FOR,
    "async_timeout.timeout",
    "async_timeout.timeout_at",
})
ASYNCIO_TIMEOUT_ERROR = "asyncio.exceptions.TimeoutError"
BUILTIN_TIMEOUT_ERROR = "builtins.TimeoutError"
ASYNCIO_TIMEOUT_IS_BUILTIN_FROM = (3, 11)

# Event-loop libraries, by top-level package, with the cancellation kinds (of ``predicates``) that
# can arrive in a function that awaits their objects: code awaiting ``asyncio.sleep()`` or an
# asyncio ``Future`` runs on asyncio's loop, so trio's ``Cancelled`` cannot reach it, even in a
# module that imports anyio.  anyio runs on either and says nothing.
BACKEND_CANCELLATIONS = {
    "asyncio": frozenset({"asyncio"}),
    "trio": frozenset({"trio", "trio-group"}),
}

# Libraries whose cancellation is level-triggered: a cancelled scope raises its cancellation
# again at every checkpoint until the scope is left, so a handler that reaches an unshielded
# checkpoint cannot swallow it.  The keys are the cancellation kinds of ``predicates``; asyncio's
# is level-triggered only where it comes through anyio (a module importing anyio, not asyncio).
LEVEL_TRIGGERED_KINDS = frozenset({"trio", "trio-group"})
LEVEL_TRIGGERED_FRAMEWORKS = frozenset({"anyio"})
# Awaiting a call of an async function or method defined in these packages is a checkpoint.
CHECKPOINT_PACKAGES = frozenset({"trio", "anyio"})
# Cancel scopes (and their constructors) whose ``shield=True`` keeps cancellation out of the body.
SHIELDING_CALLS = frozenset({
    "trio._core._run.CancelScope",
    "trio._timeouts.move_on_after",
    "trio._timeouts.move_on_at",
    "trio._timeouts.fail_after",
    "trio._timeouts.fail_at",
    "anyio._core._tasks.CancelScope",
    "anyio._core._tasks.move_on_after",
    "anyio._core._tasks.move_on_at",
    "anyio._core._tasks.fail_after",
    "anyio._core._tasks.fail_at",
})


def is_level_triggered(kinds: frozenset[str], imported: frozenset[str]) -> bool:
    """Whether every cancellation of ``kinds`` is raised again at the next checkpoint.

    ``imported`` holds the top-level packages the module imports.
    """
    asyncio_via_framework = bool(imported & LEVEL_TRIGGERED_FRAMEWORKS) and "asyncio" not in imported
    rest = kinds - LEVEL_TRIGGERED_KINDS - ({"asyncio"} if asyncio_via_framework else set())
    return bool(kinds) and not rest
