"""The re-raise analysis follows long statement chains without recursing per link."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFIG = "[mypy]\nplugins = mypy_cancel_plugin\npython_version = 3.11\n"


def test_a_handler_with_thousands_of_elif_branches(tmp_path: Path) -> None:
    branches = "".join(f"        elif n == {i}:\n            raise\n" for i in range(1, 6000))
    (tmp_path / "mypy.ini").write_text(CONFIG)
    (tmp_path / "chain.py").write_text(
        "import asyncio\n"
        "async def f(n: int) -> None:\n"
        "    try:\n"
        "        await asyncio.sleep(1)\n"
        "    except asyncio.CancelledError:\n"
        "        if n == 0:\n"
        "            raise\n" + branches + "        else:\n            pass\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-incremental", "chain.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert "[cancel-plugin]" not in result.stdout, result.stdout
    assert "chain.py:5: error: CancelledError caught here swallows the task's cancellation: the handler ends at line 12007" in result.stdout


def test_thousands_of_handlers_in_one_function_are_checked(tmp_path: Path) -> None:
    """Each handler copies the cancellation out and awaits a task cancelled earlier: the
    deferred re-raise and the awaited-task check are each worked out once per function (their
    time per handler is measured by bench/scaling.py, not here)."""
    handler = (
        "    try:\n        await t\n    except asyncio.CancelledError as e:\n"
        "        if flag:\n            err = e\n        print(1)\n"
    )
    (tmp_path / "mypy.ini").write_text(CONFIG)
    (tmp_path / "many.py").write_text(
        "import asyncio\n"
        "async def f(t: 'asyncio.Task[None]', flag: bool) -> None:\n"
        "    err = None\n"
        "    t.cancel()\n" + handler * 2000 + "    if err is not None:\n        raise err\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-incremental", "many.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert "[cancel-plugin]" not in result.stdout, result.stdout
    assert "Found 2000 errors" in result.stdout, result.stdout[-2000:]
