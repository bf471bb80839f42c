"""The repository's pre-commit hook really runs mypy with the plugin (``pre-commit try-repo``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SWALLOWING = "import asyncio\nasync def f() -> None:\n    try:\n        await asyncio.sleep(1)\n    except asyncio.CancelledError:\n        pass\n"


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", *args],
                   cwd=project, check=True, capture_output=True)


@pytest.mark.slow
def test_hook_reports_then_passes_once_fixed(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(SWALLOWING)
    (project / "mypy.ini").write_text("[mypy]\nplugins = mypy_cancel_plugin\n")
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "init")
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "mypy-cancel-plugin", "--all-files"]
    env = {"PRE_COMMIT_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    failing = subprocess.run(command, cwd=project, capture_output=True, text=True, env=env, timeout=600)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "app.py:5: error: CancelledError caught here is swallowed" in failing.stdout

    (project / "app.py").write_text(SWALLOWING.replace("        pass\n", "        raise\n"))
    passing = subprocess.run(command, cwd=project, capture_output=True, text=True, env=env, timeout=600)
    assert passing.returncode == 0, passing.stdout + passing.stderr
