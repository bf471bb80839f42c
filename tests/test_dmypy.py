"""dmypy reports exactly what a cold ``mypy`` with the same targets and flags reports.

Driven the way editors drive it: VS Code's mypy extension (and pylsp-mypy) run
``dmypy run -- <flags> /abs/file.py`` for each opened or saved file; CI-like use runs the
whole project.  Every step -- open, save, edits of the file, of a helper it depends on, of an
ignored module and of a stub, deletion, settings changes -- is compared with a cold run.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import needs_working_daemon

pytestmark = needs_working_daemon

# What VS Code's mypy extension passes (microsoft/vscode-mypy, daemon mode).
VSCODE_FLAGS = (
    "--no-color-output", "--no-error-summary", "--show-absolute-path", "--show-column-numbers",
    "--show-error-codes", "--no-pretty", "--show-error-end",
)
DAEMON_CHATTER = ("Daemon started", "Restarting: plugins changed", "Daemon stopped")
CONFIG = "[mypy]\nplugins = mypy_cancel_plugin\nwarn_unused_ignores = True\nenable_error_code = ignore-without-code\n"

SWALLOW = "    except asyncio.CancelledError:\n        pass\n"
HELPERS = {
    "raises": "from typing import NoReturn\n\ndef fail(exc: BaseException) -> NoReturn:\n    raise exc\n",
    "returns": "def fail(exc: BaseException) -> None:\n    print(exc)\n",
    # not declared NoReturn: read through the summary helpers.py publishes (module_facts)
    "reraises": "import asyncio\n\ndef fail(exc: BaseException) -> None:\n    if isinstance(exc, asyncio.CancelledError):\n        raise exc\n",
}
STUB = {
    "raises": "from typing import NoReturn\n\ndef stop() -> NoReturn: ...\n",
    "returns": "def stop() -> None: ...\n",
}
PROJECT = {
    "helpers.py": HELPERS["raises"],
    "service.py": (
        "import asyncio\nimport helpers\n\nasync def serve() -> None:\n    try:\n        await asyncio.sleep(1)\n"
        "    except asyncio.CancelledError as exc:\n        helpers.fail(exc)\n"
    ),
    "worker.py": (
        "import asyncio\n\nasync def work() -> None:\n    try:\n        await asyncio.sleep(1)\n" + SWALLOW
        + "\nasync def quiet() -> None:\n    try:\n        await asyncio.sleep(1)\n"
        "    except asyncio.CancelledError:  # type: ignore[cancel-swallowed]\n        pass\n"
        "\nasync def bare() -> None:\n    try:\n        await asyncio.sleep(1)\n"
        "    except asyncio.CancelledError:  # type: ignore\n        pass\n"
    ),
    "quiet.py": "# mypy: ignore-errors\nimport asyncio\n\nasync def q() -> None:\n    try:\n        await asyncio.sleep(1)\n"
    + SWALLOW,
    "stubbed.pyi": STUB["raises"],
    "uses_stub.py": (
        "import asyncio\nimport stubbed\n\nasync def run() -> None:\n    try:\n        await asyncio.sleep(1)\n"
        "    except asyncio.CancelledError:\n        stubbed.stop()\n"
    ),
}


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "mypy.ini").write_text(CONFIG)
        for name, text in PROJECT.items():
            (root / name).write_text(text)

    def dmypy(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mypy.dmypy", "--status-file", str(self.root / ".dmypy.json"), *args],
            cwd=self.root, capture_output=True, text=True, timeout=300,
        )

    def targets(self, target: str) -> list[str]:
        return [str(self.root / target)] if target != "." else ["."]

    def daemon(self, target: str) -> list[str]:
        result = self.dmypy("run", "--", *VSCODE_FLAGS, *self.targets(target))
        assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
        assert "INTERNAL ERROR" not in result.stdout
        return sorted(line for line in result.stdout.splitlines() if line not in DAEMON_CHATTER)

    def cold(self, target: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--no-incremental", *VSCODE_FLAGS, *self.targets(target)],
            cwd=self.root, capture_output=True, text=True, timeout=300,
        )
        return sorted(result.stdout.splitlines())

    def step(self, target: str) -> list[str]:
        """One editor run of ``target``: the daemon must print what a cold run prints.

        Except mypy's notes on ``type: ignore`` comments of modules the update did not change:
        mypy's daemon drops those for its own errors too, with or without plugins.
        """
        daemon, cold = self.daemon(target), self.cold(target)
        assert daemon == [line for line in cold if not line.endswith(IGNORE_COMMENT_NOTES)] or daemon == cold
        return cold

    def write(self, name: str, text: str) -> None:
        (self.root / name).write_text(text)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    started = Project(tmp_path)
    yield started
    started.dmypy("kill")


IGNORE_COMMENT_NOTES = ("[unused-ignore]", "[ignore-without-code]")


def plugin_lines(lines: list[str], code: str = "cancel-swallowed") -> list[str]:
    return [line for line in lines if line.endswith(f"[{code}]")]


def test_editor_sequence_open_save_and_helper_change(project: Project) -> None:
    assert len(plugin_lines(project.step("worker.py"))) == 1  # open worker.py
    assert plugin_lines(project.step("service.py")) == []  # open service.py
    assert len(plugin_lines(project.step("worker.py"))) == 1  # save worker.py again
    project.write("helpers.py", HELPERS["returns"])  # the helper no longer raises
    project.step("helpers.py")  # save helpers.py
    assert len(plugin_lines(project.step("service.py"))) == 1  # the handler now swallows
    project.write("helpers.py", HELPERS["raises"])
    assert plugin_lines(project.step("service.py")) == []  # and the false alarm goes away
    project.write("helpers.py", HELPERS["reraises"])  # re-raises without saying so in its signature
    project.step("helpers.py")
    assert plugin_lines(project.step("service.py")) == []  # its body says it: still no report
    project.write("helpers.py", HELPERS["returns"])
    assert len(plugin_lines(project.step("service.py"))) == 1
    project.write("worker.py", PROJECT["worker.py"].replace(SWALLOW, "    except asyncio.CancelledError:\n        raise\n"))
    assert plugin_lines(project.step("worker.py")) == []  # the fix is seen on save


def test_whole_project_edits_of_ignored_modules_stubs_and_deletion(project: Project) -> None:
    first = project.step(".")
    assert len(plugin_lines(first)) == 1 and any("ignore-without-code" in line for line in first)
    project.write("quiet.py", PROJECT["quiet.py"] + "\nx = 1\n")
    assert project.step(".") == first  # editing an ignore-errors module keeps every finding
    project.write("stubbed.pyi", STUB["returns"])
    assert len(plugin_lines(project.step("."))) == 2  # the stub's helper no longer raises
    project.write("stubbed.pyi", STUB["raises"])
    assert project.step(".") == first
    (project.root / "service.py").unlink()
    assert len(plugin_lines(project.step("."))) == 1  # other modules keep their findings
    project.write("helpers.py", HELPERS["returns"])
    project.step(".")


def test_edited_module_keeps_its_ignore_comment_notes_as_in_a_cold_run(project: Project) -> None:
    """dmypy works out ``type: ignore`` notes before the rules run on a changed module: the
    plugin works them out again, so a used ignore is not "unused" and the hint names its code."""
    project.step("worker.py")
    project.write("worker.py", PROJECT["worker.py"] + "\nx = 1\n")
    daemon, cold = project.daemon("worker.py"), project.cold("worker.py")
    assert daemon == cold
    assert any('consider "type: ignore[cancel-swallowed]"' in line for line in cold)
    assert not any("[unused-ignore]" in line for line in cold)


def test_settings_change_is_applied_by_a_running_daemon(project: Project) -> None:
    assert len(plugin_lines(project.step("."))) == 1
    project.write("mypy.ini", CONFIG + "\n[mypy_cancel_plugin]\ndisable_error_code = cancel-swallowed\n")
    assert plugin_lines(project.step(".")) == []
    project.write("mypy.ini", CONFIG)
    assert len(plugin_lines(project.step("."))) == 1


def test_random_edit_sequences_match_cold_runs(project: Project) -> None:
    rng = random.Random(20261125)
    edits = {
        "helpers.py": list(HELPERS.values()),
        "stubbed.pyi": list(STUB.values()),
        "worker.py": [PROJECT["worker.py"], PROJECT["worker.py"].replace("pass", "raise")],
        "quiet.py": [PROJECT["quiet.py"], PROJECT["quiet.py"] + "y = 2\n"],
        "service.py": [PROJECT["service.py"], None],  # None: deleted
    }
    for _ in range(14):
        name = rng.choice(sorted(edits))
        text = rng.choice(edits[name])
        if text is None:
            (project.root / name).unlink(missing_ok=True)
        else:
            project.write(name, text)
        existing = [n for n in sorted(PROJECT) if n.endswith(".py") and (project.root / n).exists()]
        project.step(rng.choice([".", *existing]))


def test_plugin_codes_in_mypy_config_crash_mypys_daemon_and_the_plugin_setting_does_not(tmp_path: Path) -> None:
    """mypy's daemon resolves ``disable_error_code`` before any plugin loads (``KeyError``, mypy's
    bug); the plugin's own ``disable_error_code`` setting is the way that works everywhere.

    If the first assertion starts failing, mypy fixed it: update README's editor section.
    """
    project = Project(tmp_path)
    try:
        project.write("mypy.ini", CONFIG.replace("ignore-without-code", "ignore-without-code, cancel-swallowed"))
        crashed = project.dmypy("run", "--", ".")
        assert "KeyError" in crashed.stdout + crashed.stderr
        project.dmypy("kill")
        project.write("mypy.ini", CONFIG + "[mypy_cancel_plugin]\ndisable_error_code = cancel-swallowed\n")
        assert plugin_lines(project.step(".")) == []
    finally:
        project.dmypy("kill")
