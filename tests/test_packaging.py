"""What a user downloads: the wheel and sdist, built from this tree as the release workflow does.

Built offline (``--no-isolation``, setuptools from the test extra) into a temporary directory:
about a second, so it runs in the default suite.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest
from trove_classifiers import classifiers as known_classifiers

from mypy_cancel_plugin.errorcodes import REPOSITORY
from mypy_cancel_plugin.errorcodes import ALL_CODES
from mypy_cancel_plugin.version import __version__

ROOT = Path(__file__).resolve().parents[1]
PAGES = {f"mypy_cancel_plugin/docs/{code.code}.md" for code in ALL_CODES}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist, then the wheel built from that sdist (``python -m build``'s default)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    return out


def wheel_of(dist: Path) -> Path:
    (wheel,) = dist.glob(f"mypy_cancel_plugin-{__version__}-py3-none-any.whl")
    return wheel


def metadata(dist: Path) -> Message:
    with zipfile.ZipFile(wheel_of(dist)) as wheel:
        return email.message_from_bytes(wheel.read(f"mypy_cancel_plugin-{__version__}.dist-info/METADATA"))


def test_wheel_holds_the_package_its_pages_py_typed_and_the_license(dist: Path) -> None:
    with zipfile.ZipFile(wheel_of(dist)) as wheel:
        names = set(wheel.namelist())
        assert wheel.read(f"mypy_cancel_plugin-{__version__}.dist-info/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
    expected = {"mypy_cancel_plugin/py.typed", "mypy_cancel_plugin/__main__.py", "mypy_cancel_plugin/rules/__init__.py"} | PAGES
    assert expected <= names
    # Nothing beside the package and its metadata: no tests, no data files under <prefix>/share.
    assert {name.split("/")[0] for name in names} == {"mypy_cancel_plugin", f"mypy_cancel_plugin-{__version__}.dist-info"}


def test_wheel_metadata_license_urls_and_classifiers(dist: Path) -> None:
    meta = metadata(dist)
    assert meta["Version"] == __version__
    assert meta["License-Expression"] == "MIT" and meta.get_all("License-File") == ["LICENSE"]
    assert f"Repository, {REPOSITORY}" in meta.get_all("Project-URL")
    classifiers = meta.get_all("Classifier")
    assert set(classifiers) <= known_classifiers, set(classifiers) - known_classifiers
    # PEP 639: a License classifier next to License-Expression is an error.
    assert not [c for c in classifiers if c.startswith("License ::")]
    for expected in ("Typing :: Typed", "Framework :: AsyncIO", "Framework :: Trio", "Framework :: AnyIO",
                     "Operating System :: OS Independent"):
        assert expected in classifiers
    minors = sorted(int(c.rsplit(".", 1)[1]) for c in classifiers if c.startswith("Programming Language :: Python :: 3."))
    assert minors == list(range(10, 15)) and meta["Requires-Python"] == ">=3.10"


def test_sdist_carries_tests_docs_examples_and_license(dist: Path) -> None:
    (sdist,) = dist.glob(f"mypy_cancel_plugin-{__version__}.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.partition("/")[2] for name in archive.getnames()}
    in_tree = {
        path.relative_to(ROOT).as_posix()
        for directory in ("tests", "docs", "examples", "bench", "mypy_cancel_plugin")
        for path in (ROOT / directory).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert any(name.startswith("tests/typecheck/") and name.endswith(".yml") for name in in_tree)
    assert "docs/getting-started.md" in in_tree
    assert in_tree | {"LICENSE", "CHANGELOG.md", "README.md", ".pre-commit-hooks.yaml"} <= names


def test_installed_wheel_explains_rules_without_the_source_tree(dist: Path, tmp_path: Path) -> None:
    """``pip install --target`` and ``python -S``: only the wheel's copy of the package is importable."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel_of(dist))],
                   check=True, capture_output=True, timeout=300)
    # mypy and its dependencies from this environment, without its .pth files (the editable hook).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-S", "-m", "mypy_cancel_plugin", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    where = subprocess.run([sys.executable, "-S", "-c", "import mypy_cancel_plugin; print(mypy_cancel_plugin.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(target))
    explained = cli("--explain", "cancel-swallowed")
    page = (ROOT / "mypy_cancel_plugin/docs/cancel-swallowed.md").read_text(encoding="utf-8")
    assert explained.returncode == 0 and explained.stdout == page.rstrip() + "\n"
    listed = cli("--list-rules")
    assert listed.returncode == 0 and f"{REPOSITORY}/blob/main/mypy_cancel_plugin/docs/cancel-swallowed.md" in listed.stdout
