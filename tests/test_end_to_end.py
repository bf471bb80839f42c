"""Real mypy runs on real files: the diagnostics behave like mypy's own in every mode."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import needs_parallel_workers, needs_plugin_codes_in_mypy_options

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "service.py"
PLUGIN_CONFIG = "[mypy]\nplugins = mypy_cancel_plugin\n"

SWALLOWING = '''\
import asyncio

async def first() -> None:
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        pass
'''


def run_mypy(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", *args],
        cwd=project, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300,
    )


def plugin_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert "INTERNAL ERROR" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if ": error:" in line]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "mypy.ini").write_text(PLUGIN_CONFIG)
    shutil.copy(EXAMPLE, tmp_path / "service.py")
    (tmp_path / "second.py").write_text(SWALLOWING)
    return tmp_path


def test_example_reports_every_bug_it_marks(project: Path) -> None:
    lines = plugin_lines(run_mypy(project, "service.py", "--no-incremental"))
    marked = [n for n, text in enumerate(EXAMPLE.read_text().splitlines(), 1) if "# bug" in text]
    reported = sorted(int(line.split(":")[1]) for line in lines)
    assert reported == marked


def test_warm_cache_reports_exactly_what_a_cold_run_reports(project: Path) -> None:
    cold = run_mypy(project, ".", "--cache-dir", "cache")
    warm = run_mypy(project, ".", "--cache-dir", "cache")
    assert plugin_lines(cold) and plugin_lines(warm) == plugin_lines(cold)
    assert warm.returncode == cold.returncode == 1


def test_edit_of_one_file_with_warm_cache_matches_a_cold_run(project: Path) -> None:
    run_mypy(project, ".", "--cache-dir", "cache")
    second = project / "second.py"
    second.write_text(SWALLOWING + SWALLOWING.replace("first", "again").replace("import asyncio\n", ""))
    after_edit = plugin_lines(run_mypy(project, ".", "--cache-dir", "cache"))
    cold = plugin_lines(run_mypy(project, ".", "--cache-dir", "fresh-cache"))
    assert after_edit == cold
    assert sum("second.py" in line for line in cold) == 2


@needs_parallel_workers
def test_parallel_workers_report_what_a_serial_run_reports(project: Path) -> None:
    serial = plugin_lines(run_mypy(project, ".", "--no-incremental"))
    parallel = plugin_lines(run_mypy(project, ".", "--num-workers", "2", "--cache-dir", "workers-cache"))
    # mypy 2.4.0's workers print files in the order they finish; each file's lines are the same.
    assert sorted(parallel) == sorted(serial)


def test_output_is_the_same_under_any_hash_seed(project: Path) -> None:
    outputs = {
        "\n".join(plugin_lines(run_mypy(project, ".", "--no-incremental", env={"PYTHONHASHSEED": seed})))
        for seed in ("0", "1", "12345")
    }
    assert len(outputs) == 1


def test_json_output_carries_the_code_and_position(project: Path) -> None:
    result = run_mypy(project, "second.py", "--no-incremental", "-O", "json")
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["code"] == "cancel-swallowed"
    assert (record["line"], record["column"], record["severity"]) == (6, 4, "error")
    assert record["message"].startswith("CancelledError caught here swallows the task's cancellation")


@pytest.mark.parametrize(
    "config, args",
    [
        pytest.param(PLUGIN_CONFIG + "disable_error_code = cancel-swallowed\n", (),
                     marks=needs_plugin_codes_in_mypy_options, id="ini"),
        pytest.param(PLUGIN_CONFIG, ("--disable-error-code", "cancel-swallowed"),
                     marks=needs_plugin_codes_in_mypy_options, id="command-line"),
        pytest.param(PLUGIN_CONFIG + "\n[mypy-second]\ndisable_error_code = cancel-swallowed\n", (),
                     marks=needs_plugin_codes_in_mypy_options, id="per-module"),
        pytest.param(PLUGIN_CONFIG + "\n[mypy_cancel_plugin]\ndisable_error_code = cancel-swallowed\n", (),
                     id="plugin-setting"),
        pytest.param(PLUGIN_CONFIG + "\n[mypy-second]\nignore_errors = True\n", (), id="per-module-ignore-errors"),
    ],
)
def test_disabled_codes_report_nothing(project: Path, config: str, args: tuple[str, ...]) -> None:
    (project / "mypy.ini").write_text(config)
    assert plugin_lines(run_mypy(project, "second.py", "--no-incremental", *args)) == []


def test_pyproject_configuration(project: Path) -> None:
    (project / "mypy.ini").unlink()
    (project / "pyproject.toml").write_text('[tool.mypy]\nplugins = ["mypy_cancel_plugin"]\n')
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "second.py", "--no-incremental"],
        cwd=project, capture_output=True, text=True, timeout=300,
    )
    assert len(plugin_lines(result)) == 1


def test_follow_imports_silent_reports_only_the_checked_module(project: Path) -> None:
    (project / "main.py").write_text("import second\n")
    lines = plugin_lines(run_mypy(project, "main.py", "--no-incremental", "--follow-imports", "silent"))
    assert lines == []
    followed = plugin_lines(run_mypy(project, "main.py", "--no-incremental"))
    assert len(followed) == 1 and followed[0].startswith("second.py:6:")


@needs_plugin_codes_in_mypy_options
def test_plugin_with_every_code_disabled_changes_nothing_in_mypy_output(project: Path) -> None:
    (project / "typed.py").write_text(SWALLOWING + "x: int = 'not an int'\n" + "async def g():\n    return 1 + ''\n")
    codes = ["cancel-swallowed", "cancel-swallowed-awaited-task", "cancel-plugin"]
    disabled = [arg for code in codes for arg in ("--disable-error-code", code)]
    with_plugin = run_mypy(project, "typed.py", "service.py", "--no-incremental", "--check-untyped-defs", *disabled)
    (project / "mypy.ini").write_text("[mypy]\n")
    without = run_mypy(project, "typed.py", "service.py", "--no-incremental", "--check-untyped-defs")
    assert with_plugin.stdout == without.stdout and "error" in without.stdout


def test_stub_files_are_skipped(project: Path) -> None:
    (project / "stubbed.pyi").write_text("async def f() -> None: ...\n")
    assert plugin_lines(run_mypy(project, "stubbed.pyi", "--no-incremental")) == []


BARE_EXCEPT = "import asyncio\n\nasync def f() -> None:\n    try:\n        await asyncio.sleep(1)\n\n    except:\n        pass\n"


def test_live_mode_positions_come_from_the_text_mypy_checks(project: Path) -> None:
    """pylsp-mypy's live mode checks an unsaved buffer (``--shadow-file``): lines follow it."""
    (project / "live.py").write_text("x = 1\n")
    (project / "buffer.py").write_text("\n\n" + BARE_EXCEPT)
    lines = plugin_lines(run_mypy(project, "live.py", "--no-incremental", "--shadow-file", "live.py", "buffer.py"))
    assert [line.split(":")[1] for line in lines] == ["9"]


def test_form_feeds_do_not_shift_positions(project: Path) -> None:
    (project / "paged.py").write_text("\f\n" + BARE_EXCEPT.replace("\n\n    except", "\n\f\n    except"))
    lines = plugin_lines(run_mypy(project, "paged.py", "--no-incremental"))
    assert [line.split(":")[1] for line in lines] == ["8"]


def test_a_program_passed_as_a_string_is_checked_without_reading_any_file(project: Path) -> None:
    lines = plugin_lines(run_mypy(project, "--no-incremental", "-c", BARE_EXCEPT))
    assert [line.split(":")[1] for line in lines] == ["6"]  # no file: the line after the try body


def test_a_type_ignore_on_a_bare_except_line_silences_it_wherever_blank_lines_are(project: Path) -> None:
    text = BARE_EXCEPT.replace("\n\n    except:", "\n\n\n    # cleanup\n    except:  # type: ignore[cancel-swallowed]")
    (project / "ignored.py").write_text(text)
    assert plugin_lines(run_mypy(project, "ignored.py", "--no-incremental", "--warn-unused-ignores")) == []


def test_findings_show_under_their_function_with_error_context(project: Path) -> None:
    (project / "nested.py").write_text(
        "import asyncio\n\nclass Service:\n    async def stop(self) -> None:\n        try:\n"
        "            await asyncio.sleep(1)\n        except asyncio.CancelledError:\n            pass\n"
    )
    lines = run_mypy(project, "nested.py", "--no-incremental", "--show-error-context").stdout.splitlines()
    assert lines[0] == 'nested.py: note: In member "stop" of class "Service":'
    assert lines[1].startswith("nested.py:7: error: CancelledError caught here")
    assert lines[2].startswith('nested.py:7: note: Clean up, then "raise". See https://')


def test_a_warm_cache_follows_a_helper_changed_in_another_module(project: Path) -> None:
    """A verdict that reads another module's declaration (``-> NoReturn``) is recomputed when
    that module changes, as mypy re-checks the modules that depend on it."""
    (project / "helpers.py").write_text("from typing import NoReturn\ndef fail(e: BaseException) -> NoReturn:\n    raise e\n")
    (project / "uses.py").write_text(
        "import asyncio\nimport helpers\nasync def f() -> None:\n    try:\n        await asyncio.sleep(1)\n"
        "    except asyncio.CancelledError as e:\n        helpers.fail(e)\n"
    )
    assert plugin_lines(run_mypy(project, "uses.py", "--cache-dir", "cache")) == []
    (project / "helpers.py").write_text("def fail(e: BaseException) -> None:\n    print(e)\n")
    warm = plugin_lines(run_mypy(project, "uses.py", "--cache-dir", "cache"))
    assert warm == plugin_lines(run_mypy(project, "uses.py", "--no-incremental")) and len(warm) == 1


# (helper module, a module whose handler relies on the helper, the helper's edit that breaks it)
HELPER_BODIES = {
    "reraises": (
        "import asyncio\ndef fail(e: BaseException) -> None:\n    if isinstance(e, asyncio.CancelledError):\n        raise e\n",
        "import asyncio\nimport helpers\nasync def f() -> None:\n    try:\n        await asyncio.sleep(1)\n"
        "    except asyncio.CancelledError as e:\n        helpers.fail(e)\n",
        ("raise e", "print(e)"),
    ),
    "checkpoints": (
        "import trio\nasync def settle() -> None:\n    await trio.sleep(0)\n",
        "import trio\nimport helpers\nasync def f() -> None:\n    try:\n        await trio.sleep(1)\n"
        "    except trio.Cancelled:\n        await helpers.settle()\n",
        ("await trio.sleep(0)", "print()"),
    ),
}


@pytest.mark.parametrize("helper", sorted(HELPER_BODIES))
def test_a_warm_cache_follows_the_body_of_a_helper_in_another_module(project: Path, helper: str) -> None:
    """A verdict that reads another module's helper body (its published summary) is recomputed when
    only that body changes, and a warm run that loads the helper from the cache agrees with a cold run."""
    body, uses, (before, after) = HELPER_BODIES[helper]
    (project / "helpers.py").write_text(body)
    (project / "uses.py").write_text(uses)
    assert plugin_lines(run_mypy(project, "uses.py", "--cache-dir", "cache")) == []
    (project / "uses.py").write_text(uses + "\n")  # re-checked; helpers.py comes from the cache
    assert plugin_lines(run_mypy(project, "uses.py", "--cache-dir", "cache")) == []
    (project / "helpers.py").write_text(body.replace(before, after))  # the body alone changes
    warm = plugin_lines(run_mypy(project, "uses.py", "--cache-dir", "cache"))
    assert warm == plugin_lines(run_mypy(project, "uses.py", "--no-incremental")) and len(warm) == 1


def test_cancel_swallowed_highlights_the_whole_except_clause(project: Path) -> None:
    (project / "ranges.py").write_text(
        "import asyncio\nasync def f() -> None:\n    try:\n        await asyncio.sleep(1)\n"
        "    except asyncio.CancelledError as exc:\n        pass\n"
        "    try:\n        await asyncio.sleep(1)\n    except (OSError,\n            BaseException):\n        pass\n"
        "    try:\n        await asyncio.sleep(1)\n    except:\n        pass\n"
    )
    lines = plugin_lines(run_mypy(project, "ranges.py", "--no-incremental", "--show-column-numbers", "--show-error-end"))
    assert [line.split(": error")[0] for line in lines] == [
        "ranges.py:5:5:5:33",  # except asyncio.CancelledError
        "ranges.py:9:5:10:26",  # except (OSError,\n BaseException)
        "ranges.py:14:5:14:10",  # except
    ]


MAIN_TASKS = '''import asyncio

def serve(loop: asyncio.AbstractEventLoop) -> None:
    with asyncio.Runner() as runner:
        runner.run(main())
    loop.run_until_complete(shutdown())

async def main() -> None:
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        pass

async def shutdown() -> None:
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        pass
'''


def test_runner_methods_are_recognised_with_asyncio_read_from_the_cache(project: Path) -> None:
    """Types read from mypy's cache name no definition for a method (mypy 1.13): the runner
    methods are found through their class all the same."""
    (project / "warm.py").write_text("import asyncio\n")
    run_mypy(project, "warm.py", "--cache-dir", "cache")
    (project / "tasks.py").write_text(MAIN_TASKS)
    assert plugin_lines(run_mypy(project, "tasks.py", "--cache-dir", "cache")) == []
    assert plugin_lines(run_mypy(project, "tasks.py", "--no-incremental")) == []
