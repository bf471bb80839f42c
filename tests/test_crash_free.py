"""Slow: mypy with the plugin over the standard library's asyncio, contextlib and concurrent.

No crash, no rule failure, and mypy's own output unchanged when every plugin code is disabled.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_stdlib_subset_is_crash_free() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "crash_free.py"), "--subset", "asyncio", "--targets", "stdlib", "--parity"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INTERNAL ERROR: 0  tracebacks: 0  cancel-plugin failures: 0" in result.stdout
    assert "crash-free: yes" in result.stdout
    assert "identical" in result.stdout
