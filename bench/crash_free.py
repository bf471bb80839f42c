"""Run mypy with the plugin over a large body of code nobody here wrote, and count crashes.

Targets (each one mypy run, --check-untyped-defs so every call hook can fire):
  stdlib    every .py file of this Python's standard library that parses, copied under a
            package of its own so imports still resolve to typeshed's stubs
  typeshed  the stdlib stubs shipped inside mypy (the plugin must skip stubs quietly)
  corpus    the pinned async packages of bench/corpus.txt, if bench/corpus.py has fetched them

Prints, per target: files, plugin diagnostics per code, INTERNAL ERRORs, tracebacks, and
``cancel-plugin`` reports (a rule that failed on a function).  Exits 1 if any of the last
three is non-zero.  ``--subset asyncio`` checks only the stdlib's asyncio, contextlib and
concurrent packages (what the slow-marked test runs).
"""

from __future__ import annotations

import argparse
import ast
import collections
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import mypy
from mypy.version import __version__ as mypy_version

from mypy_cancel_plugin.errorcodes import ALL_CODES

BENCH = Path(__file__).resolve().parent
CODE = re.compile(r"\[([a-z-]+)\]$")
PLUGIN_CODE_PREFIXES = ("cancel-", "unstructured-task", "yield-in-cancel-scope")
SUBSET = ("asyncio", "contextlib.py", "concurrent")


def copy_parsable(source: Path, destination: Path, suffix: str, only: tuple[str, ...] | None) -> int:
    """Copy every file under ``source`` that this Python can parse; make every folder a package."""
    count = 0
    for path in sorted(source.rglob(f"*{suffix}")):
        relative = path.relative_to(source)
        if "site-packages" in relative.parts or (only and relative.parts[0] not in only):
            continue
        if any(not part.isidentifier() for part in relative.with_suffix("").parts):
            continue
        try:
            text = path.read_text(encoding="utf-8")
            ast.parse(text, feature_version=sys.version_info[:2])
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        count += 1
    for folder in [destination, *(p for p in destination.rglob("*") if p.is_dir())]:
        init = folder / f"__init__{suffix}"
        if not init.exists():
            init.write_text("")
    return count


def corpus_roots() -> list[Path]:
    """Library folders of the pinned corpus that bench/corpus.py has already fetched."""
    sys.path.insert(0, str(BENCH))
    import corpus

    return [Path(p) for p in corpus.library_dirs()]


PLUGIN = "[mypy]\nplugins = mypy_cancel_plugin\n"
PLUGIN_SILENCED = PLUGIN + f"disable_error_code = {', '.join(code.code for code in ALL_CODES)}\n"
NO_PLUGIN = "[mypy]\n"


def run_mypy(
    workdir: Path, targets: list[str], config: str = PLUGIN
) -> tuple[subprocess.CompletedProcess[str], float]:
    (workdir / "mypy.ini").write_text(config)
    command = [
        sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-incremental",
        "--check-untyped-defs", "--ignore-missing-imports", "--follow-imports", "silent",
        "--python-version", "3.11", "--no-error-summary", "--explicit-package-bases", *targets,
    ]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    return result, time.perf_counter() - started


def summarize(name: str, files: int, result: subprocess.CompletedProcess[str], seconds: float) -> bool:
    output = result.stdout + result.stderr
    codes = collections.Counter(
        match.group(1) for line in result.stdout.splitlines() if (match := CODE.search(line))
    )
    plugin = {code: n for code, n in sorted(codes.items()) if code.startswith(PLUGIN_CODE_PREFIXES)}
    internal = output.count("INTERNAL ERROR")
    tracebacks = output.count("Traceback (most recent call last)")
    failures = codes.get("cancel-plugin", 0)
    print(f"{name}: {files} files, {seconds:.0f} s, mypy exit {result.returncode}")
    print(f"  plugin diagnostics: {sum(plugin.values())} {plugin}")
    print(f"  INTERNAL ERROR: {internal}  tracebacks: {tracebacks}  cancel-plugin failures: {failures}")
    if internal or tracebacks or result.returncode not in (0, 1):
        print("  --- last lines of output ---")
        print("\n".join(output.splitlines()[-20:]))
    return internal == 0 and tracebacks == 0 and failures == 0 and result.returncode in (0, 1)


def same_as_without_plugin(workdir: Path, targets: list[str]) -> bool:
    """With every plugin code disabled, mypy's output must be byte-identical to mypy without the plugin."""
    silenced, _ = run_mypy(workdir, targets, PLUGIN_SILENCED)
    plain, _ = run_mypy(workdir, targets, NO_PLUGIN)
    same = silenced.stdout == plain.stdout and silenced.returncode == plain.returncode
    lines = len(plain.stdout.splitlines())
    print(f"  parity (all plugin codes disabled vs no plugin, {lines} lines): {'identical' if same else 'DIFFERENT'}")
    return same


def check_target(name: str, files: int, workdir: Path, targets: list[str], parity: bool) -> bool:
    ok = summarize(name, files, *run_mypy(workdir, targets))
    return same_as_without_plugin(workdir, targets) and ok if parity else ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subset", choices=["asyncio", "full"], default="full")
    parser.add_argument("--targets", nargs="+", default=["stdlib", "typeshed", "corpus"],
                        choices=["stdlib", "typeshed", "corpus"])
    parser.add_argument("--parity", action="store_true",
                        help="also check that mypy's own output is unchanged with every plugin code disabled")
    args = parser.parse_args(argv)
    only = SUBSET if args.subset == "asyncio" else None
    print(f"mypy {mypy_version} / Python {sys.version.split()[0]}, subset={args.subset}")
    ok = True
    with tempfile.TemporaryDirectory(prefix="cancel-crash-free-") as tmp:
        workdir = Path(tmp)
        if "stdlib" in args.targets:
            files = copy_parsable(Path(sysconfig.get_paths()["stdlib"]), workdir / "pystdlib", ".py", only)
            ok &= check_target("stdlib", files, workdir, ["pystdlib"], args.parity)
        if "typeshed" in args.targets and args.subset == "full":
            stubs = Path(mypy.__file__).parent / "typeshed" / "stdlib"
            files = copy_parsable(stubs, workdir / "pytypeshed", ".pyi", None)
            ok &= check_target("typeshed", files, workdir, ["pytypeshed"], args.parity)
        if "corpus" in args.targets and args.subset == "full":
            roots = corpus_roots()
            if not roots:
                print("corpus: not fetched (run bench/corpus.py first); skipped")
            for root in roots:
                shutil.copytree(root, workdir / "corpus" / root.name, dirs_exist_ok=True)
            if roots:
                files = sum(1 for _ in (workdir / "corpus").rglob("*.py"))
                targets = [str(Path("corpus") / root.name) for root in roots]
                ok &= check_target("corpus", files, workdir, targets, args.parity)
    print("crash-free: yes" if ok else "crash-free: NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
