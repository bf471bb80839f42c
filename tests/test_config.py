"""The plugin's own settings: read from pyproject.toml or mypy.ini, with clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mypy_cancel_plugin import config

SPAWNING = '''\
import asyncio

async def work() -> None: ...

class Supervisor:
    async def run(self) -> None:
        asyncio.create_task(work())

    def helper(self):
        async def nested() -> None:
            asyncio.create_task(work())
        return nested

async def elsewhere() -> None:
    asyncio.create_task(work())
'''


def mypy(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", *args],
        cwd=project, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.parametrize(
    "file_name, text",
    [
        ("pyproject.toml", '[tool.mypy]\nplugins = ["mypy_cancel_plugin"]\n'
                           '[tool.mypy_cancel_plugin]\nunstructured_task_allow = ["spawning.Supervisor"]\n'),
        ("mypy.ini", "[mypy]\nplugins = mypy_cancel_plugin\n"
                     "[mypy_cancel_plugin]\nunstructured_task_allow = spawning.Supervisor\n"),
        ("setup.cfg", "[mypy]\nplugins = mypy_cancel_plugin\n"
                      "[mypy_cancel_plugin]\nunstructured-task-allow =\n    spawning.Supervisor\n"),
    ],
)
def test_allow_list_silences_unstructured_task_inside_named_class(tmp_path: Path, file_name: str, text: str) -> None:
    (tmp_path / file_name).write_text(text)
    (tmp_path / "spawning.py").write_text(SPAWNING)
    result = mypy(tmp_path, "spawning.py")
    reported = [line.split(":")[1] for line in result.stdout.splitlines() if "unstructured-task" in line]
    assert reported == ["15"], result.stdout + result.stderr


@pytest.mark.parametrize(
    "file_name, text, expected",
    [
        ("pyproject.toml", '[tool.mypy]\nplugins = ["mypy_cancel_plugin"]\n[tool.mypy_cancel_plugin]\nspeed = 3\n',
         "pyproject.toml: [tool.mypy_cancel_plugin]: unknown key 'speed'; known keys: check_unannotated, disable_error_code, enable_error_code, libraries, unstructured_task_allow"),
        ("pyproject.toml", '[tool.mypy]\nplugins = ["mypy_cancel_plugin"]\n[tool.mypy_cancel_plugin]\ncheck_unannotated = "yes"\n',
         "pyproject.toml: [tool.mypy_cancel_plugin]: 'check_unannotated' must be a boolean (true or false); got 'yes'"),
        ("mypy.ini", "[mypy]\nplugins = mypy_cancel_plugin\n[mypy_cancel_plugin]\nlibraries = asyncio, curio\n",
         "mypy.ini: [mypy_cancel_plugin]: 'libraries' takes auto, asyncio, trio, anyio; got 'curio'"),
        ("pyproject.toml", '[tool.mypy]\nplugins = ["mypy_cancel_plugin"]\n[tool.mypy_cancel_plugin]\nunstructured_task_allow = "a.b"\n',
         "pyproject.toml: [tool.mypy_cancel_plugin]: 'unstructured_task_allow' must be a list of strings; got 'a.b'"),
    ],
    ids=["unknown-key", "wrong-type-bool", "bad-library", "wrong-type-list"],
)
def test_bad_settings_give_one_clear_line(tmp_path: Path, file_name: str, text: str, expected: str) -> None:
    (tmp_path / file_name).write_text(text)
    (tmp_path / "spawning.py").write_text(SPAWNING)
    result = mypy(tmp_path, "spawning.py")
    assert result.returncode != 0
    assert result.stderr.strip() == f"mypy-cancel-plugin: {expected}"
    assert "Traceback" not in result.stdout + result.stderr


def test_check_unannotated_false_skips_functions_mypy_skips(tmp_path: Path) -> None:
    (tmp_path / "mypy.ini").write_text("[mypy]\nplugins = mypy_cancel_plugin\n[mypy_cancel_plugin]\ncheck_unannotated = false\n")
    (tmp_path / "spawning.py").write_text(SPAWNING)
    reported = [line.split(":")[1] for line in mypy(tmp_path, "spawning.py").stdout.splitlines() if ": error:" in line]
    assert reported == ["7", "15"]


def test_settings_change_the_cache_key() -> None:
    default = config.Settings().report_data()
    changed = config.Settings(check_unannotated=False).report_data()
    assert default != changed and default == config.Settings().report_data()


def test_no_config_file_means_defaults() -> None:
    assert config.load(None) == config.Settings()


def test_libraries_setting_overrides_detection() -> None:
    detected = frozenset({"asyncio"})
    assert config.Settings().libraries_in_play(detected) == detected
    assert config.Settings(libraries=("anyio",)).libraries_in_play(detected) == {"asyncio", "trio"}
    assert config.Settings(libraries=("trio",)).libraries_in_play(detected) == {"trio"}
