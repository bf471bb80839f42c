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
    assert "cancel-plugin" not in result.stdout, result.stdout
    assert "chain.py:5: error: CancelledError caught here is swallowed: the handler ends at line 12007" in result.stdout
