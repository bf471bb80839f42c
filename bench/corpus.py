"""The pinned corpus of third-party async libraries the benchmarks run on.

``bench/corpus.txt`` pins each package (``name==version sha256 kind file``).  This module
fetches a missing file with ``pip download`` into a cache outside the repository (default
``~/.cache/mypy-cancel-plugin/corpus``, override with the ``MYPY_CANCEL_CORPUS`` environment
variable), checks its sha256 (a mismatch is an error, never a warning), unpacks it, and keeps
only the *library* code: the top-level import package(s), without ``tests``/``test``/``docs``/
``examples`` folders and ``conftest.py`` files.  Every step is skipped when its result is
already there, so a second call does no work beyond a stat per package.

Layout of the cache::

    dl/<file>                         the downloaded sdist or wheel
    lib/<name>-<version>/<package>/   the library code (paths below keep the archive's layout)
    lib/<name>-<version>/.complete    written last; its presence means the tree is whole

Library use::

    import corpus
    for pkg in corpus.ensure():          # fetch whatever is missing
        pkg.root, pkg.packages           # lib/<name>-<version>, [lib/.../<import package>, ...]
    corpus.library_dirs()                # import-package folders of what is already fetched

CLI: ``python bench/corpus.py [--packages a b ...] [--split seen|tune|holdout|unseen|all]
[--list] [--verify]``.  ``bench/splits.txt`` assigns every pinned package to a split.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

BENCH = Path(__file__).resolve().parent
PINS = BENCH / "corpus.txt"
SPLITS_FILE = BENCH / "splits.txt"
SPLITS = ("seen", "tune", "holdout")
SPLIT_CHOICES = ("seen", "tune", "holdout", "unseen", "all")
EXCLUDED_DIRS = frozenset({"tests", "test", "docs", "doc", "examples", "example", "benchmarks"})
EXCLUDED_FILES = frozenset({"conftest.py"})
KEPT_SUFFIXES = (".py", ".pyi", "py.typed")
NOT_LIBRARY = frozenset({"tests", "test", "docs", "doc", "examples", "example", "scripts",
                         "benchmarks", "openspec", "tools"})


class CorpusError(Exception):
    """Something about the corpus cannot be fixed by fetching again (e.g. a hash mismatch)."""


@dataclasses.dataclass(frozen=True)
class Pin:
    name: str
    version: str
    sha256: str
    kind: str  # "sdist" or "wheel"
    filename: str

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


@dataclasses.dataclass(frozen=True)
class Package:
    pin: Pin
    root: Path  # lib/<name>-<version>
    packages: tuple[Path, ...]  # the import packages under root

    @property
    def name(self) -> str:
        return self.pin.name

    def files(self) -> list[Path]:
        return sorted(f for p in self.packages for f in p.rglob("*.py"))


def cache_dir() -> Path:
    env = os.environ.get("MYPY_CANCEL_CORPUS")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "mypy-cancel-plugin" / "corpus"


def load_pins(path: Path = PINS) -> list[Pin]:
    pins = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 4 or "==" not in fields[0] or fields[2] not in ("sdist", "wheel"):
            raise CorpusError(f"{path}:{number}: expected 'name==version sha256 sdist|wheel file'")
        name, version = fields[0].split("==", 1)
        pins.append(Pin(name, version, fields[1].lower(), fields[2], fields[3]))
    return pins


def select(pins: list[Pin], names: list[str] | None) -> list[Pin]:
    if not names:
        return pins
    wanted = {n.lower().replace("_", "-") for n in names}
    unknown = wanted - {p.name for p in pins}
    if unknown:
        raise CorpusError(f"not in {PINS.name}: {', '.join(sorted(unknown))}")
    return [p for p in pins if p.name in wanted]


def load_splits(path: Path = SPLITS_FILE) -> dict[str, str]:
    """Package name -> ``seen`` / ``tune`` / ``holdout`` (bench/splits.txt)."""
    splits: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 2 or fields[1] not in SPLITS:
            raise CorpusError(f"{path}:{number}: expected 'name seen|tune|holdout'")
        splits[fields[0]] = fields[1]
    return splits


def split_names(split: str) -> list[str]:
    """Names of the pinned packages in ``split`` (``unseen`` = tune + holdout, ``all`` = every
    pin); a pin missing from splits.txt is an error, so no package is silently left out."""
    if split not in SPLIT_CHOICES:
        raise CorpusError(f"unknown split {split!r}; one of {', '.join(SPLIT_CHOICES)}")
    splits = load_splits()
    pins = load_pins()
    missing = [p.name for p in pins if p.name not in splits]
    if missing:
        raise CorpusError(f"{SPLITS_FILE.name} has no split for: {', '.join(missing)}")
    wanted = {"unseen": {"tune", "holdout"}, "all": set(SPLITS)}.get(split, {split})
    return [p.name for p in pins if splits[p.name] in wanted]


def restrict(names: list[str] | None, split: str | None) -> list[str] | None:
    """``--packages`` and ``--split`` combined: the named packages that are in the split."""
    if not split:
        return names
    chosen = split_names(split)
    if names:
        named = {p.name for p in select(load_pins(), names)}
        chosen = [n for n in chosen if n in named]
    if not chosen:
        raise CorpusError(f"no package of split {split!r} selected")
    return chosen


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pip_download(pin: Pin, into: Path) -> None:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--quiet", "--python-version", "3.13", "-d", str(into)]
    if pin.kind == "sdist":
        command += ["--no-binary", pin.name]
    else:
        command += ["--only-binary", ":all:"]
    command.append(f"{pin.name}=={pin.version}")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise CorpusError(f"pip download {pin.name}=={pin.version} failed:\n{result.stderr[-2000:]}")


def fetch(pin: Pin, log=print) -> Path:
    """The verified archive of ``pin`` in the cache, downloaded if missing."""
    target = cache_dir() / "dl" / pin.filename
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        log(f"corpus: downloading {pin.name}=={pin.version} ({pin.kind})")
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            _pip_download(pin, Path(scratch))
            got = Path(scratch) / pin.filename
            if not got.exists():
                names = ", ".join(p.name for p in Path(scratch).iterdir())
                raise CorpusError(f"pip download {pin.name}=={pin.version} gave {names!r}, "
                                  f"not {pin.filename!r}")
            _check_hash(pin, got)
            got.replace(target)
    else:
        _check_hash(pin, target)
    return target


def _check_hash(pin: Pin, path: Path) -> None:
    actual = sha256_of(path)
    if actual != pin.sha256:
        raise CorpusError(
            f"sha256 mismatch for {path}:\n  expected {pin.sha256} (bench/corpus.txt)\n"
            f"  got      {actual}\nDelete the file to download it again, or fix the pin.")


def _members(pin: Pin, archive: Path) -> list[tuple[PurePosixPath, bytes | None]]:
    """(path inside the package tree, reader) for every member, top folder of sdists stripped."""
    out: list[tuple[PurePosixPath, bytes | None]] = []
    if pin.kind == "wheel":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    out.append((PurePosixPath(info.filename), zf.read(info)))
    else:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                if not member.isfile():
                    continue
                parts = PurePosixPath(member.name).parts[1:]  # strip "<name>-<version>/"
                if not parts or not parts[-1].endswith(KEPT_SUFFIXES):
                    continue
                handle = tf.extractfile(member)
                out.append((PurePosixPath(*parts), handle.read() if handle else b""))
    return out


def _library_prefixes(paths: list[PurePosixPath]) -> list[PurePosixPath]:
    """Top-level import packages: folders with an __init__.py at the top or under src/."""
    found = set()
    for path in paths:
        if path.name != "__init__.py":
            continue
        parent = path.parent
        if len(parent.parts) == 1 or (len(parent.parts) == 2 and parent.parts[0] == "src"):
            if parent.name not in NOT_LIBRARY and not parent.name.endswith((".dist-info", ".egg-info")):
                found.add(parent)
    return sorted(found)


def unpack(pin: Pin, archive: Path) -> Package:
    root = cache_dir() / "lib" / pin.key
    marker = root / ".complete"
    if marker.exists() and marker.read_text().strip() == pin.sha256:
        return Package(pin, root, _read_packages(root))
    members = _members(pin, archive)
    prefixes = _library_prefixes([p for p, _ in members])
    if not prefixes:
        raise CorpusError(f"{pin.filename}: no top-level import package found")
    scratch = Path(tempfile.mkdtemp(dir=root.parent if root.parent.exists() else None,
                                    prefix=f".{pin.key}-"))
    try:
        for path, data in members:
            prefix = next((p for p in prefixes if path.parts[:len(p.parts)] == p.parts), None)
            if prefix is None or not path.name.endswith(KEPT_SUFFIXES):
                continue
            inner = path.parts[len(prefix.parts):]
            if any(part in EXCLUDED_DIRS for part in inner[:-1]) or path.name in EXCLUDED_FILES:
                continue
            # keep the package folder name, drop a leading src/
            destination = scratch.joinpath(prefix.name, *inner)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data or b"")
        (scratch / ".packages").write_text("\n".join(p.name for p in prefixes) + "\n")
        (scratch / ".complete").write_text(pin.sha256 + "\n")
        root.parent.mkdir(parents=True, exist_ok=True)
        if root.exists():
            shutil.rmtree(root)
        scratch.replace(root)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch)
    return Package(pin, root, _read_packages(root))


def _read_packages(root: Path) -> tuple[Path, ...]:
    return tuple(root / name for name in (root / ".packages").read_text().split())


def prepared(pin: Pin) -> Package | None:
    root = cache_dir() / "lib" / pin.key
    marker = root / ".complete"
    if marker.exists() and marker.read_text().strip() == pin.sha256:
        return Package(pin, root, _read_packages(root))
    return None


def ensure(names: list[str] | None = None, log=print) -> list[Package]:
    """Every selected package, fetched, verified and unpacked if it was not already."""
    out = []
    for pin in select(load_pins(), names):
        package = prepared(pin)
        if package is None:
            package = unpack(pin, fetch(pin, log))
        out.append(package)
    return out


def library_dirs(fetch_missing: bool = False) -> list[Path]:
    """Import-package folders of the corpus; only those already fetched unless told to fetch."""
    if fetch_missing:
        return [p for pkg in ensure() for p in pkg.packages]
    return [p for pin in load_pins() if (pkg := prepared(pin)) for p in pkg.packages]


def plugin_identity() -> str:
    """Version, git commit and dirtiness of the mypy_cancel_plugin the benchmarks import, so a
    printed figure can be tied to the code that produced it (an editable install follows the
    work tree)."""
    try:
        import mypy_cancel_plugin
    except ImportError as error:
        return f"mypy_cancel_plugin not importable ({error})"
    source = Path(mypy_cancel_plugin.__file__).resolve().parent
    version = getattr(mypy_cancel_plugin, "__version__", "?")
    try:
        head = subprocess.run(["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"mypy_cancel_plugin {version} ({source})"
    return f"mypy_cancel_plugin {version} at {head}{' + uncommitted changes' if dirty else ''} ({source})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", nargs="+", help="subset of corpus.txt names")
    parser.add_argument("--split", choices=SPLIT_CHOICES,
                        help="only the packages of this split (bench/splits.txt)")
    parser.add_argument("--list", action="store_true", help="print each library folder")
    parser.add_argument("--verify", action="store_true",
                        help="re-check the sha256 of every cached archive")
    args = parser.parse_args(argv)
    try:
        packages = ensure(restrict(args.packages, args.split), log=lambda m: print(m, file=sys.stderr))
        if args.verify:
            for package in packages:
                fetch(package.pin)
    except CorpusError as error:
        print(f"corpus: error: {error}", file=sys.stderr)
        return 2
    for package in packages:
        files = package.files()
        line = f"{package.pin.name}=={package.pin.version}: {len(files)} files"
        if args.list:
            line += "  " + " ".join(str(p) for p in package.packages)
        print(line)
    print(f"cache: {cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
