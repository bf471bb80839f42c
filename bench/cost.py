"""What the plugin costs: mypy over the corpus's library code without and with the plugin.

Runs are interleaved (without/with, then with/without, ...) so drift of the machine hits both
sides alike.  Each run gets a fresh cache directory (cold), then runs again on that same
directory (warm: what a developer's second `mypy` costs).  Prints files checked, the plugin's
reports per error code and per package (from the first cold run with the plugin), and the min
and median wall-time ratios with/without for cold and warm.  It also counts crashes (any
"INTERNAL ERROR" or Python traceback in any run's output, and exit statuses other than 0/1),
checks that a warm run repeats the cold run's diagnostics, and that mypy's own diagnostics are
the same with and without the plugin.  Exit status 1 if any of those checks fails.

mypy options, as a user checking these libraries would run it without their dependencies:
  --ignore-missing-imports    third-party dependencies are not installed (except what this
                              Python environment happens to have, e.g. trio/anyio)
  --follow-imports=silent     modules reached by import are analysed but not reported
  --python-version 3.11       the plugin's floor for cancelling()/uncancel(); every package
                              of the corpus supports it (quart's own floor is 3.13 but its
                              code parses and checks under 3.11)
  --check-untyped-defs        only with the switch of the same name (more hooks fire)

By default one mypy invocation checks all packages together (about 30 s cold for the whole
corpus on 2 cores, so 5 runs of each kind take about 6 minutes); ``--per-package`` runs one
invocation per package instead and sums the times.  Figures only: nothing here asserts a time.

CPU time (user + system of mypy and its workers) is the figure that counts: the machine may be
shared, and wall time moves with it; wall times are printed too.

Usage: python bench/cost.py [--runs 5] [--quick] [--packages a b | --split S] [--check-untyped-defs]
                            [--per-package] [--num-workers N]
"""

from __future__ import annotations

import argparse
import collections
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

from mypy_cancel_plugin.errorcodes import ALL_CODES  # noqa: E402 - the plugin under measurement

PLUGIN_CODES = frozenset(code.code for code in ALL_CODES)
DIAGNOSTIC = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?:\d+:)? (?P<severity>error|note|warning): "
                        r"(?P<message>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$")
CHECKED = re.compile(r"(?:checked|in) (\d+) source files?")
BASE_OPTIONS = ["--ignore-missing-imports", "--follow-imports=silent", "--python-version", "3.11",
                "--show-traceback", "--no-color-output", "--no-pretty"]


def is_plugin_code(code: str | None) -> bool:
    return code in PLUGIN_CODES


NOT_COVERED = re.compile(r'Error code "(?P<code>[a-z0-9-]+)" not covered by "type: ignore')


def is_plugin_note(diagnostic: re.Match[str]) -> bool:
    """A note mypy prints because of a finding: the one under it (fix and rule page; mypy prints
    notes without their code), or mypy's hint that a ``type: ignore[other-code]`` on its line
    does not cover the plugin's code."""
    if diagnostic["severity"] != "note":
        return False
    uncovered = NOT_COVERED.match(diagnostic["message"])
    return "/mypy_cancel_plugin/docs/" in diagnostic["message"] or (
        uncovered is not None and is_plugin_code(uncovered["code"])
    )


class Run:
    def __init__(self, stdout: str, stderr: str, status: int, seconds: float, cpu: float) -> None:
        self.stdout, self.stderr, self.status, self.seconds, self.cpu = stdout, stderr, status, seconds, cpu

    @property
    def crashes(self) -> int:
        text = self.stdout + self.stderr
        crashed = text.count("INTERNAL ERROR") + text.count("Traceback (most recent call last)")
        return crashed + (1 if self.status not in (0, 1) and not crashed else 0)

    def diagnostics(self) -> list[re.Match[str]]:
        return [m for m in map(DIAGNOSTIC.match, self.stdout.splitlines()) if m]

    def checked_files(self) -> int | None:
        found = CHECKED.findall(self.stdout.splitlines()[-1]) if self.stdout.strip() else []
        return int(found[-1]) if found else None


def run_mypy(config: Path, cache: Path, targets: list[str], extra: list[str]) -> Run:
    command = [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(cache),
               *BASE_OPTIONS, *extra, *targets]
    start, cpu_before = time.perf_counter(), _children_cpu()
    result = subprocess.run(command, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu_before
    return Run(result.stdout, result.stderr, result.returncode, wall, cpu)


def _children_cpu() -> float:
    """User + system CPU seconds of finished child processes (mypy and its --num-workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_group(config: Path, cache_root: Path, groups: list[list[str]], extra: list[str]) -> list[Run]:
    """One run per group of targets, each with its own cache under ``cache_root``."""
    return [run_mypy(config, cache_root / str(i), targets, extra) for i, targets in enumerate(groups)]


def merge(runs: list[Run]) -> Run:
    return Run("".join(r.stdout for r in runs), "".join(r.stderr for r in runs),
               max(r.status for r in runs), sum(r.seconds for r in runs), sum(r.cpu for r in runs))


def package_of(path: str, roots: dict[str, str]) -> str:
    resolved = str(Path(path).resolve())
    for root, name in roots.items():
        if resolved.startswith(root):
            return name
    return "?"


def ratio_line(label: str, without: list[float], with_: list[float]) -> str:
    ratios = [w / o for w, o in zip(with_, without)]
    return (f"{label:9} without: min {min(without):7.2f}s median {statistics.median(without):7.2f}s | "
            f"with: min {min(with_):7.2f}s median {statistics.median(with_):7.2f}s | "
            f"ratio min {min(with_) / min(without):.3f} median "
            f"{statistics.median(with_) / statistics.median(without):.3f} "
            f"(paired runs: {min(ratios):.3f}..{max(ratios):.3f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each kind (default 5)")
    parser.add_argument("--quick", action="store_true", help="one run of each kind")
    parser.add_argument("--packages", nargs="+", help="subset of bench/corpus.txt names")
    parser.add_argument("--check-untyped-defs", action="store_true")
    parser.add_argument("--per-package", action="store_true",
                        help="one mypy invocation per package (times summed)")
    parser.add_argument("--num-workers", type=int, default=0, help="mypy --num-workers N (parallel checking)")
    parser.add_argument("--split", choices=["seen", "tune", "holdout", "unseen", "all"], default="all",
                        help="packages of one half of bench/splits.txt (default: all)")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    if runs < 1:
        parser.error("--runs must be at least 1")

    names = args.packages or corpus.split_names(args.split)
    packages = corpus.ensure(names, log=lambda m: print(m, file=sys.stderr))
    roots = {str(p.root.resolve()) + "/": p.name for p in packages}
    targets = [[str(d) for d in p.packages] for p in packages]
    groups = targets if args.per_package else [[t for group in targets for t in group]]
    extra = ["--check-untyped-defs"] if args.check_untyped_defs else []
    if args.num_workers:
        extra += ["--num-workers", str(args.num_workers)]

    times: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    first: dict[str, Run] = {}
    crashes = 0
    warm_mismatch = 0
    with tempfile.TemporaryDirectory(prefix="mypy-cancel-cost-") as scratch_name:
        scratch = Path(scratch_name)
        configs = {"without": scratch / "without.ini", "with": scratch / "with.ini"}
        configs["without"].write_text("[mypy]\n")
        configs["with"].write_text("[mypy]\nplugins = mypy_cancel_plugin\n")
        for i in range(runs):
            order = ["without", "with"] if i % 2 == 0 else ["with", "without"]
            for side in order:
                cache = scratch / f"cache-{side}-{i}"
                cold = merge(run_group(configs[side], cache, groups, extra))
                warm = merge(run_group(configs[side], cache, groups, extra))
                times[side, "cold"].append(cold.seconds)
                times[side, "warm"].append(warm.seconds)
                times[side, "cold cpu"].append(cold.cpu)
                times[side, "warm cpu"].append(warm.cpu)
                crashes += cold.crashes + warm.crashes
                if cold.stdout != warm.stdout:
                    warm_mismatch += 1
                first.setdefault(side, cold)
                print(f"run {i + 1}/{runs} {side:7}: cold {cold.seconds:6.2f}s (cpu {cold.cpu:6.2f}s) "
                      f"warm {warm.seconds:6.2f}s (cpu {warm.cpu:6.2f}s)",
                      file=sys.stderr, flush=True)

    with_run, without_run = first["with"], first["without"]
    with_diags, without_diags = with_run.diagnostics(), without_run.diagnostics()
    plugin = [m for m in with_diags if is_plugin_code(m["code"])]
    own_with = sorted(m.group(0) for m in with_diags if not (is_plugin_code(m["code"]) or is_plugin_note(m)))
    own_without = sorted(m.group(0) for m in without_diags)
    files = sum(len(p.files()) for p in packages)

    mode = "one mypy per package" if args.per_package else "one mypy for all packages"
    print(f"mypy cost of mypy_cancel_plugin -- {len(packages)} packages, {mode}, {runs} run(s) each, "
          f"options: {' '.join(BASE_OPTIONS[:4] + extra)}")
    print(corpus.plugin_identity())
    print(f"files: {files} library .py files passed; mypy says checked: "
          f"{with_run.checked_files() if not args.per_package else 'n/a (per package)'}")
    print(f"mypy's own diagnostics (without plugin): {len(own_without)}")
    print(f"plugin reports: {len(plugin)}")
    by_code = collections.Counter(m["code"] for m in plugin)
    for code, count in sorted(by_code.items()):
        print(f"  {code:32} {count}")
    by_package: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for m in plugin:
        by_package[package_of(m["path"], roots)][m["code"]] += 1
    print("plugin reports per package:")
    for package in packages:
        counts = by_package.get(package.name, collections.Counter())
        detail = ", ".join(f"{c} {n}" for c, n in sorted(counts.items()))
        print(f"  {package.name:16} {sum(counts.values()):4}  {detail}")
    for kind in ("cold cpu", "warm cpu", "cold", "warm"):
        print(ratio_line(kind if "cpu" in kind else f"{kind} wall", times["without", kind], times["with", kind]))
    parity = own_with == own_without
    print(f"crashes (INTERNAL ERROR / traceback / exit status > 1) over {4 * runs * len(groups)} "
          f"mypy invocations: {crashes}")
    print(f"warm run output differs from its cold run: {warm_mismatch} of {2 * runs}")
    print(f"mypy's own diagnostics identical with and without the plugin: {'yes' if parity else 'NO'}")
    if not parity:
        for line in sorted(set(own_with) ^ set(own_without))[:20]:
            print(f"  differs: {line}")
    return 0 if crashes == 0 and warm_mismatch == 0 and parity else 1


if __name__ == "__main__":
    sys.exit(main())
