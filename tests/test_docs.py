"""Every error code has a doc page whose examples really type-check the way the page says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mypy_cancel_plugin.__main__ import PAGES
from mypy_cancel_plugin.errorcodes import ALL_CODES

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def section_code(page: str, heading: str) -> str:
    section = page.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    match = BLOCK.search(section)
    assert match, f"no python example under '## {heading}'"
    return match.group(1)


def reported_codes(tmp_path: Path, source: str) -> set[str]:
    (tmp_path / "example.py").write_text(source)
    (tmp_path / "mypy.ini").write_text("[mypy]\nplugins = mypy_cancel_plugin\npython_version = 3.11\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--config-file", "mypy.ini", "example.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    return set(re.findall(r"\[([a-z-]+)\]$", result.stdout, re.M))


@pytest.mark.parametrize("code", [code.code for code in ALL_CODES])
def test_every_code_has_a_page_with_what_why_and_silencing(code: str) -> None:
    page = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    assert page.startswith(f"# `{code}`")
    for heading in ("What it does", "Silencing"):
        assert f"## {heading}" in page
    assert f"(mypy_cancel_plugin/docs/{code}.md)" in (ROOT / "README.md").read_text()


EXAMPLE_CODES = [code.code for code in ALL_CODES if code.code != "cancel-plugin"]


@pytest.mark.parametrize("code", EXAMPLE_CODES)
def test_bad_example_is_reported_and_good_example_is_clean(tmp_path: Path, code: str) -> None:
    page = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    assert reported_codes(tmp_path, section_code(page, "Example")) == {code}
    assert reported_codes(tmp_path, section_code(page, "Fix")) == set()


# The repository's copies (links are read on GitHub), wherever the tested package is installed.
MARKDOWN = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(ROOT.glob("docs/*.md")), *sorted(ROOT.glob("mypy_cancel_plugin/docs/*.md"))]
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("document", MARKDOWN, ids=lambda path: str(path.relative_to(ROOT)))
def test_relative_links_point_at_files_that_exist(document: Path) -> None:
    targets = [target for target in LINK.findall(document.read_text(encoding="utf-8")) if "://" not in target]
    missing = [target for target in targets if not (document.parent / target).exists()]
    assert not missing, f"{document.name} links to missing files: {missing}"
