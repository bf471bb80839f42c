"""``python -m mypy_cancel_plugin --list-rules`` and ``--explain CODE``."""

from __future__ import annotations

import subprocess
import sys

from mypy_cancel_plugin.errorcodes import ALL_CODES


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy_cancel_plugin", *args], capture_output=True, text=True)


def test_list_rules_names_every_code_and_its_page() -> None:
    result = cli("--list-rules")
    assert result.returncode == 0
    for code in ALL_CODES:
        assert code.code in result.stdout and f"docs/rules/{code.code}.md" in result.stdout
    assert "(sub-code of cancel-swallowed)" in result.stdout


def test_explain_prints_the_doc_page() -> None:
    result = cli("--explain", "cancel-swallowed")
    assert result.returncode == 0
    assert result.stdout.startswith("# `cancel-swallowed`") and "## Fix" in result.stdout


def test_explain_unknown_code_is_one_clear_line() -> None:
    result = cli("--explain", "no-such-code")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("unknown code 'no-such-code'; known codes: cancel-swallowed")
