"""What the plugin adds to one editor save under the mypy daemon.

An editor running dmypy re-checks the module that was saved.  This starts two daemons on
copies of one corpus package (the corpus stays untouched), one without and one with the plugin,
and times ``dmypy check`` after each of ``--edits`` saves of one module, alternating between them: a comment appended, so the
module is re-read and re-checked but its interface does not change (what most saves are).  It
prints the median time per save on each side and the difference, which is what the plugin adds
to a save (the daemon re-runs the module's rules after every update).

The module edited is the package's largest (the worst case; ``--module`` names another).
Figures only: nothing here asserts a time.

Usage: python bench/daemon_edit.py [--package httpx] [--module path/inside/package.py] [--edits 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

OPTIONS = ["--ignore-missing-imports", "--python-version", "3.11", "--no-color-output"]


def dmypy(workdir: Path, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mypy.dmypy", *args], cwd=workdir, capture_output=True, text=True)
    return time.perf_counter() - start, done


class Daemon:
    """A dmypy server on a fresh copy of one package, with or without the plugin."""

    def __init__(self, source: Path, relative: str, plugin: bool) -> None:
        self._temp = tempfile.TemporaryDirectory()
        self.workdir = Path(self._temp.name)
        self.package = source.name
        shutil.copytree(source, self.workdir / source.name)
        self.edited = self.workdir / source.name / relative
        (self.workdir / "mypy.ini").write_text("[mypy]\n" + ("plugins = mypy_cancel_plugin\n" if plugin else ""))
        _, started = dmypy(self.workdir, "start", "--", "--config-file", "mypy.ini", *OPTIONS)
        if started.returncode != 0:
            raise SystemExit(f"dmypy start failed: {started.stderr or started.stdout}")
        self.check()

    def check(self) -> float:
        elapsed, done = dmypy(self.workdir, "check", self.package)
        if done.returncode not in (0, 1):
            raise SystemExit(f"dmypy check failed: {done.stderr or done.stdout}")
        return elapsed

    def save(self, edit: int) -> float:
        """Seconds of ``dmypy check`` after one more comment line in the edited module."""
        with self.edited.open("a", encoding="utf-8") as handle:
            handle.write(f"\n# bench edit {edit}\n")
        return self.check()

    def stop(self) -> None:
        dmypy(self.workdir, "stop")
        self._temp.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="httpx", help="a bench/corpus.txt name (default httpx)")
    parser.add_argument("--module", help="the module to edit, relative to the package directory")
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    (pinned,) = corpus.ensure([args.package], log=lambda message: None)
    source = pinned.packages[0]
    if args.module:
        relative = args.module
    else:
        largest = max(source.rglob("*.py"), key=lambda path: path.stat().st_size)
        relative = str(largest.relative_to(source))
    lines = (source / relative).read_text(encoding="utf-8").count("\n")
    print(f"daemon re-check of one edited module: {args.package} ({source.name}), {relative} ({lines} lines), "
          f"{args.edits} edits each, {' '.join(OPTIONS)}")
    daemons = {plugin: Daemon(source, relative, plugin) for plugin in (False, True)}
    seconds: dict[bool, list[float]] = {False: [], True: []}
    try:
        for edit in range(args.edits):  # interleaved, so drift of the machine hits both alike
            for plugin in (False, True) if edit % 2 == 0 else (True, False):
                seconds[plugin].append(daemons[plugin].save(edit))
    finally:
        for daemon in daemons.values():
            daemon.stop()
    results = {plugin: statistics.median(times) for plugin, times in seconds.items()}
    for plugin, times in seconds.items():
        label = "with   " if plugin else "without"
        print(f"{label}: median {results[plugin] * 1000:7.1f} ms per save (min {min(times) * 1000:.1f}, "
              f"max {max(times) * 1000:.1f})")
    paired = [with_ - without for without, with_ in zip(seconds[False], seconds[True])]
    print(f"paired differences: median {statistics.median(paired) * 1000:.1f} ms")
    print(f"the plugin adds {(results[True] - results[False]) * 1000:.1f} ms per save (difference of medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
