"""Every error code has a doc page, and what the pages show really behaves as they say.

A rule page's python blocks are type-checked in one mypy run: the block under "Example" must
be reported exactly on its lines marked ``# error``, with the page's code, and every block under
"Fix" and "Accepted idioms" must be clean.  Settings snippets must be accepted by the plugin.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest

from mypy_cancel_plugin import config
from mypy_cancel_plugin.__main__ import PAGES
from mypy_cancel_plugin.errorcodes import ALL_CODES

ROOT = Path(__file__).resolve().parents[1]
RULE_SECTIONS = ("What it does", "Why is this bad?", "Example", "Fix", "Accepted idioms", "Options",
                 "Known limits", "Silencing", "References")
EXAMPLE_CODES = [code.code for code in ALL_CODES if code.code != "cancel-plugin"]
# The target each page's examples are checked for (a rule about older Pythons needs one).
TARGET_VERSION = {"asyncio-timeout-not-caught": "3.10"}
# Codes off by default: their pages' examples are checked with the code switched on.
OFF_BY_DEFAULT = {code.code for code in ALL_CODES if not code.default_enabled}
# The repository's copies (links are read on GitHub), wherever the tested package is installed.
MARKDOWN = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(ROOT.glob("docs/*.md")),
            *sorted(ROOT.glob("mypy_cancel_plugin/docs/*.md"))]
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def page(code: str) -> str:
    return (PAGES / f"{code}.md").read_text(encoding="utf-8")


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def blocks(text: str, language: str) -> list[str]:
    """Fenced blocks of one language, also those indented inside list items."""
    return [textwrap.dedent(body) for _, body in re.findall(rf"^( *)```{language}\n(.*?)^\1```", text, re.S | re.M)]


def mypy_errors(project: Path, *args: str) -> dict[str, set[tuple[int, str]]]:
    """(line, code) of every error mypy reports in ``project``, per file."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "-O", "json", *args],
        cwd=project, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    errors: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for line in result.stdout.splitlines():
        error = json.loads(line)
        if error["severity"] == "error":
            errors[error["file"]].add((error["line"], error["code"]))
    return errors


@pytest.mark.parametrize("code", [code.code for code in ALL_CODES])
def test_every_code_has_a_page_linked_from_the_readme(code: str) -> None:
    text = page(code)
    assert text.startswith(f"# `{code}`")
    expected = RULE_SECTIONS if code in EXAMPLE_CODES else ("What it does", "Why it matters", "Silencing")
    assert tuple(sections(text)) == expected
    assert ("**Off by default**" in text) == (code in OFF_BY_DEFAULT)
    assert f"(mypy_cancel_plugin/docs/{code}.md)" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("code", EXAMPLE_CODES)
def test_example_is_reported_where_marked_and_fixes_and_idioms_are_clean(tmp_path: Path, code: str) -> None:
    parts = sections(page(code))
    example = blocks(parts["Example"], "python")[0]
    clean = blocks(parts["Fix"], "python") + blocks(parts["Accepted idioms"], "python")
    assert clean, "a rule page shows correct code"
    sources = {"example.py": example, **{f"clean_{n}.py": source for n, source in enumerate(clean)}}
    for name, source in sources.items():
        (tmp_path / name).write_text(source)
    target = TARGET_VERSION.get(code, "3.11")
    switched_on = f"[mypy_cancel_plugin]\nenable_error_code = {code}\n" if code in OFF_BY_DEFAULT else ""
    (tmp_path / "mypy.ini").write_text(f"[mypy]\nplugins = mypy_cancel_plugin\npython_version = {target}\n{switched_on}")
    errors = mypy_errors(tmp_path, "--config-file", "mypy.ini", *sources)
    marked = {(number, code) for number, line in enumerate(example.splitlines(), 1) if "# error" in line}
    assert marked and errors.pop("example.py", set()) == marked
    assert dict(errors) == {}, "fixes and accepted idioms must type-check cleanly"


SETTINGS_SNIPPETS = [
    pytest.param(snippet, file_name, id=f"{document.name}-{n}")
    for document in MARKDOWN
    for language, file_name, header in (("toml", "pyproject.toml", "[tool.mypy_cancel_plugin]"), ("ini", "mypy.ini", "[mypy_cancel_plugin]"))
    for n, snippet in enumerate(blocks(document.read_text(encoding="utf-8"), language))
    if header in snippet
]


@pytest.mark.parametrize("snippet, file_name", SETTINGS_SNIPPETS)
def test_documented_settings_are_accepted(tmp_path: Path, snippet: str, file_name: str) -> None:
    (tmp_path / file_name).write_text(snippet)
    assert config.load(str(tmp_path / file_name)) != config.Settings()


GETTING_STARTED = sections((ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8"))
# One finding of each kind: a kept task, a discarded one, an awaited cancelled task, a plain swallow.
FINDINGS = """\
import asyncio

async def work() -> None:
    await asyncio.sleep(1)

async def kept() -> None:
    task = asyncio.create_task(work())
    await task

async def dropped() -> None:
    asyncio.create_task(work())

async def stop(worker: asyncio.Task[None]) -> None:
    worker.cancel()
    try:
        await worker
    except asyncio.CancelledError:
        pass

async def swallow() -> None:
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        pass
"""
EVERY_CODE = {"unstructured-task", "unstructured-task-discarded", "cancel-swallowed-awaited-task", "cancel-swallowed"}


def two_packages(project: Path, config_name: str, config_text: str) -> dict[str, set[str]]:
    """Codes reported per file of ``myapp.api`` and ``myapp.legacy``, each holding FINDINGS."""
    for package in ("myapp", "myapp/api", "myapp/legacy"):
        (project / package).mkdir(parents=True, exist_ok=True)
        (project / package / "__init__.py").write_text("")
    (project / "myapp/api/x.py").write_text(FINDINGS)
    (project / "myapp/legacy/y.py").write_text(FINDINGS)
    (project / config_name).write_text(config_text)
    errors = mypy_errors(project, "--python-version", "3.11", "-p", "myapp")
    return {file: {code for _, code in found} for file, found in errors.items()}


@pytest.mark.parametrize("language, config_name, reported", [
    ("ini", "mypy.ini", {"myapp/api/x.py"}),
    ("toml", "pyproject.toml", {"myapp/api/x.py"}),
])
def test_getting_started_per_package_recipes_check_only_the_packages_they_name(
    tmp_path: Path, language: str, config_name: str, reported: set[str]
) -> None:
    (config,) = blocks(GETTING_STARTED["Package by package"], language)
    assert two_packages(tmp_path, config_name, config) == {file: EVERY_CODE for file in reported}


def test_getting_started_sub_code_recipe_reports_only_the_sub_codes(tmp_path: Path) -> None:
    (config,) = blocks(GETTING_STARTED["One sub-code at a time"], "ini")
    sub_codes = {"unstructured-task-discarded", "cancel-swallowed-awaited-task"}
    assert two_packages(tmp_path, "mypy.ini", config) == {"myapp/api/x.py": sub_codes, "myapp/legacy/y.py": sub_codes}


def test_getting_started_baseline_script_fails_only_on_new_findings(tmp_path: Path) -> None:
    (script,) = blocks(GETTING_STARTED["A baseline of today's findings"], "python")
    (tmp_path / "cancel_baseline.py").write_text(script)
    (tmp_path / "mypy.ini").write_text("[mypy]\nplugins = mypy_cancel_plugin\npython_version = 3.11\n")
    app = tmp_path / "app.py"

    def baseline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "cancel_baseline.py", *args, "app.py"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)

    app.write_text(FINDINGS)
    recorded = baseline("--update")
    assert recorded.returncode == 0 and "4 findings recorded" in recorded.stdout, recorded.stdout + recorded.stderr
    app.write_text("\n\n" + FINDINGS)  # lines move: nothing is new
    assert baseline().returncode == 0
    app.write_text(FINDINGS + "\nasync def again() -> None:\n    try:\n        await work()\n    except asyncio.CancelledError:\n        pass\n")
    new = baseline()
    assert new.returncode == 1 and "new: app.py:23, app.py:29: CancelledError caught here swallows the task's cancellation" in new.stdout, new.stdout
    app.write_text(FINDINGS + "x: int = 'not an int'\n")  # mypy's own errors still fail the run
    failed = baseline()
    assert failed.returncode == 1 and "app.py:25: error: Incompatible types in assignment" in failed.stdout, failed.stdout
    app.write_text(FINDINGS.split("async def stop", 1)[0])  # fixed sites: pass, and say the baseline can shrink
    shrunk = baseline()
    assert shrunk.returncode == 0 and "run with --update" in shrunk.stdout


@pytest.mark.parametrize("document", MARKDOWN, ids=lambda path: str(path.relative_to(ROOT)))
def test_relative_links_point_at_files_that_exist(document: Path) -> None:
    targets = [target for target in LINK.findall(document.read_text(encoding="utf-8")) if "://" not in target]
    missing = [target for target in targets if not (document.parent / target).exists()]
    assert not missing, f"{document.name} links to missing files: {missing}"
