"""``python -m mypy_cancel_plugin --list-rules`` and ``--explain CODE``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mypy_cancel_plugin.errorcodes import REPOSITORY
from mypy_cancel_plugin.errorcodes import ALL_CODES


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy_cancel_plugin", *args], capture_output=True, text=True, cwd=cwd)


def test_list_rules_names_every_code_and_the_url_of_its_page() -> None:
    result = cli("--list-rules")
    assert result.returncode == 0
    for code in ALL_CODES:
        assert code.code in result.stdout
        assert f"{REPOSITORY}/blob/main/mypy_cancel_plugin/docs/{code.code}.md" in result.stdout
    assert "(sub-code of cancel-swallowed)" in result.stdout
    assert "wait-for-swallows-cancel" in next(line for line in result.stdout.splitlines() if "(off by default)" in line)


def test_explain_prints_the_page_shipped_in_the_package(tmp_path: Path) -> None:
    """Run from elsewhere: the page comes from the package, not from a checkout's docs/."""
    result = cli("--explain", "cancel-swallowed", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("# `cancel-swallowed`") and "## Fix" in result.stdout


def test_explain_unknown_code_is_one_clear_line() -> None:
    result = cli("--explain", "no-such-code")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("unknown code 'no-such-code'; known codes: cancel-swallowed")
