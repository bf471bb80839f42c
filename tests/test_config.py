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
    reported = [line.split(":")[1] for line in result.stdout.splitlines() if "[unstructured-task" in line]
    assert reported == ["15"], result.stdout + result.stderr


TOML = '[tool.mypy]\nplugins = ["mypy_cancel_plugin"]\n'
INI = "[mypy]\nplugins = mypy_cancel_plugin\n"
IN_TOML = "pyproject.toml: [tool.mypy_cancel_plugin]"
IN_INI = "mypy.ini: [mypy_cancel_plugin]"
CHOICES = "auto, asyncio, trio, anyio"
KNOWN_KEYS = "cancel_scope_managers, check_unannotated, context_manager_decorators, disable_error_code, enable_error_code, libraries, spawn_functions, unstructured_task_allow, unstructured_task_loop_names, unstructured_task_untyped_calls"

BAD_SETTINGS = {
    "unknown-key": ("pyproject.toml", TOML + "[tool.mypy_cancel_plugin]\nspeed = 3\n",
                    f"{IN_TOML}: unknown key 'speed'; known keys: {KNOWN_KEYS}"),
    "unknown-key-setup-cfg": ("setup.cfg", INI + "[mypy_cancel_plugin]\nspeed = 3\n",
                              f"setup.cfg: [mypy_cancel_plugin]: unknown key 'speed'; known keys: {KNOWN_KEYS}"),
    "section-not-a-table": ("pyproject.toml", TOML + '[tool]\nmypy_cancel_plugin = "x"\n',
                            f"{IN_TOML} must be a table of settings; got 'x'"),
    "section-array-of-tables": ("pyproject.toml", TOML + '[[tool.mypy_cancel_plugin]]\nlibraries = ["trio"]\n',
                                f"{IN_TOML} must be a table of settings; got [{{'libraries': ['trio']}}]"),
    "section-misspelled": ("pyproject.toml", TOML + '[tool.mypy-cancel-plugin]\nlibraries = ["trio"]\n',
                           "pyproject.toml: [tool.mypy-cancel-plugin] is not read; the section is [tool.mypy_cancel_plugin]"),
    "nested-table-for-a-list": ("pyproject.toml", TOML + "[tool.mypy_cancel_plugin.libraries]\ntrio = true\n",
                                f"{IN_TOML}: 'libraries' must be a list of strings; got {{'trio': True}}"),
    "nested-table-unknown": ("pyproject.toml", TOML + "[tool.mypy_cancel_plugin.overrides]\nlibraries = []\n",
                             f"{IN_TOML}: unknown key 'overrides'; known keys: {KNOWN_KEYS}"),
    "wrong-type-bool": ("pyproject.toml", TOML + '[tool.mypy_cancel_plugin]\ncheck_unannotated = "yes"\n',
                        f"{IN_TOML}: 'check_unannotated' must be a boolean (true or false); got 'yes'"),
    "wrong-type-bool-ini": ("mypy.ini", INI + "[mypy_cancel_plugin]\ncheck_unannotated = maybe\n",
                            f"{IN_INI}: 'check_unannotated' must be a boolean (true or false); got 'maybe'"),
    "wrong-type-list": ("pyproject.toml", TOML + '[tool.mypy_cancel_plugin]\nunstructured_task_allow = "a.b"\n',
                        f"{IN_TOML}: 'unstructured_task_allow' must be a list of strings; got 'a.b'"),
    "wrong-item-type": ("pyproject.toml", TOML + "[tool.mypy_cancel_plugin]\nlibraries = [1]\n",
                        f"{IN_TOML}: 'libraries' must be a list of strings; got [1]"),
    "bad-library": ("mypy.ini", INI + "[mypy_cancel_plugin]\nlibraries = asyncio, curio\n",
                    f"{IN_INI}: 'libraries' takes {CHOICES}; got 'curio'"),
    "empty-libraries-toml": ("pyproject.toml", TOML + "[tool.mypy_cancel_plugin]\nlibraries = []\n",
                             f"{IN_TOML}: 'libraries' takes one or more of {CHOICES}; got []"),
    "empty-libraries-ini": ("mypy.ini", INI + "[mypy_cancel_plugin]\nlibraries =\n",
                            f"{IN_INI}: 'libraries' takes one or more of {CHOICES}; got ''"),
    "auto-with-others": ("pyproject.toml", TOML + '[tool.mypy_cancel_plugin]\nlibraries = ["auto", "trio"]\n',
                         f"{IN_TOML}: 'libraries': 'auto' detects the libraries per module and cannot be combined with others; got ['auto', 'trio']"),
    "allow-not-a-dotted-name": ("mypy.ini", INI + "[mypy_cancel_plugin]\nunstructured_task_allow = myapp/supervisor.py\n",
                                f"{IN_INI}: 'unstructured_task_allow' takes dotted names such as 'myapp.supervisor.Supervisor'; got 'myapp/supervisor.py'"),
    "spawn-function-not-a-dotted-name": ("pyproject.toml", TOML + '[tool.mypy_cancel_plugin]\nspawn_functions = ["myapp.spawn()"]\n',
                                         f"{IN_TOML}: 'spawn_functions' takes dotted names such as 'myapp.supervisor.Supervisor'; got 'myapp.spawn()'"),
    "same-setting-twice": ("pyproject.toml", TOML + '[tool.mypy_cancel_plugin]\nunstructured_task_allow = ["a"]\nunstructured-task-allow = ["b"]\n',
                           f"{IN_TOML}: 'unstructured_task_allow' and 'unstructured-task-allow' are the same setting; keep one"),
}


@pytest.mark.parametrize("file_name, text, expected", BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_bad_settings_stop_mypy_with_status_2_and_one_line(tmp_path: Path, file_name: str, text: str, expected: str) -> None:
    (tmp_path / file_name).write_text(text)
    (tmp_path / "spawning.py").write_text(SPAWNING)
    result = mypy(tmp_path, "spawning.py")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"mypy-cancel-plugin: {expected}\n")


def test_bad_settings_leave_json_output_empty(tmp_path: Path) -> None:
    (tmp_path / "mypy.ini").write_text(INI + "[mypy_cancel_plugin]\nlibraries =\n")
    (tmp_path / "spawning.py").write_text(SPAWNING)
    result = mypy(tmp_path, "-O", "json", "spawning.py")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1 and "'libraries' takes one or more" in result.stderr


def test_bad_settings_under_dmypy_answer_status_2_and_keep_the_daemon_up(tmp_path: Path) -> None:
    (tmp_path / "mypy.ini").write_text(INI + "[mypy_cancel_plugin]\nlibraries =\n")
    (tmp_path / "spawning.py").write_text(SPAWNING)
    dmypy = [sys.executable, "-m", "mypy.dmypy", "--status-file", str(tmp_path / "dmypy.json")]
    try:
        result = subprocess.run([*dmypy, "run", "--", "spawning.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert result.returncode == 2
        assert "mypy-cancel-plugin: mypy.ini: [mypy_cancel_plugin]: 'libraries' takes one or more" in result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        assert subprocess.run([*dmypy, "status"], cwd=tmp_path, capture_output=True).returncode == 0
    finally:
        subprocess.run([*dmypy, "kill"], cwd=tmp_path, capture_output=True)


@pytest.mark.parametrize(
    "file_name, text",
    [("pyproject.toml", TOML + "[tool.mypy_cancel_plugin]\nlibraries = [\n"),
     ("mypy.ini", INI + "[mypy_cancel_plugin]\nlibraries = trio\n[mypy_cancel_plugin]\nlibraries = trio\n")],
    ids=["invalid-toml", "duplicate-ini-section"],
)
def test_unparsable_file_is_reported_by_mypy_before_the_plugin_loads(tmp_path: Path, file_name: str, text: str) -> None:
    """mypy reads the file with the same parsers first; the plugin's own handling is below."""
    (tmp_path / file_name).write_text(text)
    (tmp_path / "spawning.py").write_text(SPAWNING)
    result = mypy(tmp_path, "spawning.py")
    assert result.stderr.startswith(f"{file_name}: ") and "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "file_name, content, expected",
    [
        ("pyproject.toml", b"[tool.mypy_cancel_plugin]\nlibraries = [\n", "Invalid value"),
        ("pyproject.toml", b"[tool.mypy_cancel_plugin]\n[tool.mypy_cancel_plugin]\n", "Cannot declare"),
        ("mypy.ini", b"[mypy_cancel_plugin]\n[mypy_cancel_plugin]\n", "section 'mypy_cancel_plugin' already exists"),
        ("mypy.ini", b"[mypy_cancel_plugin]\nlibraries = trio\nlibraries = anyio\n", "option 'libraries' in section"),
        ("mypy.ini", b"[mypy_cancel_plugin]\nlibraries = trio\nnot a setting\nnor this\n", "parsing errors"),
        ("mypy.ini", b"[mypy_cancel_plugin]\nlibraries = tr\xefo\n", "can't decode"),
        ("missing.ini", None, "No such file"),
    ],
    ids=["invalid-toml", "duplicate-toml-table", "duplicate-ini-section", "duplicate-ini-key",
         "ini-syntax", "not-utf8", "unreadable"],
)
def test_unreadable_settings_raise_one_line_config_error(tmp_path: Path, file_name: str, content: bytes | None, expected: str) -> None:
    path = tmp_path / file_name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(config.ConfigError) as raised:
        config.load(str(path))
    message = str(raised.value)
    assert message.startswith(f"{path}: cannot read the mypy_cancel_plugin settings: ") and expected in message
    assert "\n" not in message


@pytest.mark.parametrize("spelling, value", [("yes", True), ("On", True), ("1", True), ("no", False), ("off", False), ("0", False)])
def test_ini_booleans_take_mypys_spellings(tmp_path: Path, spelling: str, value: bool) -> None:
    (tmp_path / "mypy.ini").write_text(f"[mypy_cancel_plugin]\ncheck_unannotated = {spelling}\n")
    assert config.load(str(tmp_path / "mypy.ini")).check_unannotated is value


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
