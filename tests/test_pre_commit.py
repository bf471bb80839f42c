"""The repository's pre-commit hook runs mypy with the plugin, and sees the project's libraries.

The hook is used the way a project uses it: a ``.pre-commit-config.yaml`` naming this repository
at a commit, with ``additional_dependencies``.  The repository is a fresh git copy of this tree,
so uncommitted changes are tested too and the test also runs from an unpacked sdist.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ASYNCIO_SWALLOWING = "import asyncio\nasync def f() -> None:\n    try:\n        await asyncio.sleep(1)\n    except asyncio.CancelledError:\n        pass\n"
TRIO_SWALLOWING = "import trio\nasync def g() -> None:\n    try:\n        await trio.sleep(1)\n    except trio.Cancelled:\n        pass\n"
UNTRACKED = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", ".mypy_cache", ".pytest_cache",
                                   ".venv", ".ci-venvs", "build", "dist")


def git(project: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", *args],
                          cwd=project, check=True, capture_output=True, text=True).stdout.strip()


def committed(directory: Path) -> None:
    git(directory, "init", "-q")
    git(directory, "add", "-A")
    git(directory, "commit", "-qm", "snapshot")


def test_hook_does_not_hide_unresolved_imports() -> None:
    """--ignore-missing-imports would make trio/anyio types Any and their findings vanish."""
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "mypy-cancel-plugin" and hook["entry"] == "mypy"
    assert not any("ignore-missing-imports" in arg for arg in hook.get("args", []))


def run_hook(tmp_path: Path, additional_dependencies: list[str], files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``pre-commit run --all-files`` in a project whose config uses this repository's hook."""
    hook_repo = tmp_path / "hook-repo"
    if not hook_repo.exists():
        shutil.copytree(ROOT, hook_repo, ignore=UNTRACKED)
        committed(hook_repo)
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    for name, text in {"mypy.ini": "[mypy]\nplugins = mypy_cancel_plugin\n", **files}.items():
        (project / name).write_text(text)
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{
        "repo": str(hook_repo), "rev": git(hook_repo, "rev-parse", "HEAD"),
        "hooks": [{"id": "mypy-cancel-plugin", "additional_dependencies": additional_dependencies}],
    }]}))
    if not (project / ".git").exists():
        git(project, "init", "-q")
    git(project, "add", "-A")
    env = {"PRE_COMMIT_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"],
                          cwd=project, capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.slow
def test_hook_with_additional_dependencies_reports_asyncio_and_trio_then_passes(tmp_path: Path) -> None:
    files = {"app.py": ASYNCIO_SWALLOWING, "trio_app.py": TRIO_SWALLOWING}
    failing = run_hook(tmp_path, ["trio"], files)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "app.py:5: error: CancelledError caught here swallows the task's cancellation" in failing.stdout
    assert "trio_app.py:5: error: Cancelled caught here swallows the task's cancellation" in failing.stdout

    fixed = {name: text.replace("        pass\n", "        raise\n") for name, text in files.items()}
    passing = run_hook(tmp_path, ["trio"], fixed)
    assert passing.returncode == 0, passing.stdout + passing.stderr


@pytest.mark.slow
def test_hook_without_the_library_fails_loudly_instead_of_dropping_its_findings(tmp_path: Path) -> None:
    result = run_hook(tmp_path, [], {"trio_app.py": TRIO_SWALLOWING})
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'trio_app.py:1: error: Cannot find implementation or library stub for module named "trio"' in result.stdout
