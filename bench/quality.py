"""Detection quality of the plugin, flake8-async and ruff against hand-labeled corpus sites.

Steps: fetch the corpus if needed (bench/corpus.py); list candidate sites with the ast-only
finder (bench/find_sites.py); load the verdicts of bench/labels.jsonl (rules in
bench/LABELING.md); run the three tools; turn each tool's output into ``path:line:rule`` with
the adapters below; map a report anywhere inside a site of the same rule to that site (the
innermost one); print per rule TP/FP/FN, precision and recall for all three tools, then the
same without the sites labeled ``hard``.  A report inside no site at all is shown in column OUT
(for the linters mostly ASYNC102/120 on an ``await`` in a ``finally`` or an ``except
Exception``, which the rough mapping does not cover; for the plugin, a finder blind spot) and
counts as a false positive in the precision: precision = TP / (TP + FP + OUT) (since
bench-unseen; before, OUT was left out of the precision).  OUT is still printed on its own so it
stays visible.  A report on an unlabeled site counts nowhere but is tallied.

``--split seen|tune|holdout|unseen|all`` restricts everything (sites, labels, tool runs) to the
packages of that split in bench/splits.txt (``unseen`` = tune + holdout); the report names the
split it scored.  Without it every package (or the ``--packages`` subset) is scored.

Rules and what maps to them:
  cancel-swallowed       plugin cancel-swallowed, cancel-swallowed-awaited-task;
                         flake8-async / ruff ASYNC102, ASYNC103, ASYNC104, ASYNC120
  unstructured-task      plugin unstructured-task, unstructured-task-discarded;
                         flake8-async / ruff ASYNC300, ruff RUF006
  yield-in-cancel-scope  plugin yield-in-cancel-scope; flake8-async / ruff ASYNC119

The linters live in their own virtualenv, <corpus cache>/linters (created on first use with the
versions pinned in LINTERS), never in the project's dependencies.

Exit status: 2 if labels are stale (finder version changed, a labeled site vanished or its code
changed) or unreadable; with --strict also 2 while any site is unlabeled; else 0.

Usage: bench/quality [--show] [--strict] [--packages a b] [--split seen|tune|holdout|unseen|all]
                     [--tools plugin flake8-async ruff]
                     [--mypy-output text|json] [--check-untyped-defs] [--labels FILE]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
import find_sites  # noqa: E402

BENCH = Path(__file__).resolve().parent
LABELS = BENCH / "labels.jsonl"
LINTERS = ["flake8==7.5.0", "flake8-async==26.8.1", "ruff==0.17.6"]
FLAKE8_CODES = ["ASYNC102", "ASYNC103", "ASYNC104", "ASYNC119", "ASYNC120", "ASYNC300"]
RULES = ["cancel-swallowed", "unstructured-task", "yield-in-cancel-scope"]
TOOLS = ["plugin", "flake8-async", "ruff"]
LINTER_RULE = {
    "ASYNC102": "cancel-swallowed", "ASYNC103": "cancel-swallowed", "ASYNC104": "cancel-swallowed",
    "ASYNC120": "cancel-swallowed", "ASYNC300": "unstructured-task", "RUF006": "unstructured-task",
    "ASYNC119": "yield-in-cancel-scope",
}
MYPY_OPTIONS = ["--ignore-missing-imports", "--follow-imports=silent", "--python-version", "3.11",
                "--no-error-summary", "--show-traceback", "--no-color-output", "--no-pretty",
                "--show-column-numbers"]
TEXT_LINE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?:(?P<col>\d+):)?\s*(?P<rest>.*)$")
MYPY_CODE = re.compile(r"\[(?P<code>[a-z0-9-]+)\]\s*$")
LINT_CODE = re.compile(r"^(?:error: )?(?P<code>[A-Z]+[0-9]+)\b")


@dataclasses.dataclass(frozen=True)
class Report:
    tool: str
    path: str  # <dist>/<path in package tree>, like site paths
    line: int
    rule: str
    code: str
    message: str
    col: int | None = None  # 1-based, where the tool prints one


# ---------------------------------------------------------------- adapters: output -> reports
def plugin_rule(code: str) -> str | None:
    if code.startswith("cancel-swallowed"):
        return "cancel-swallowed"
    if code.startswith("unstructured-task"):
        return "unstructured-task"
    if code.startswith("yield-in-cancel-scope"):
        return "yield-in-cancel-scope"
    return None  # mypy's own codes, cancel-plugin (internal failure)


class PathMap:
    """Absolute corpus paths -> ``<dist>/<path in package tree>``."""

    def __init__(self, packages: list[corpus.Package]) -> None:
        self.roots = [(str(p.root.resolve()) + os.sep, p.name) for p in packages]

    def __call__(self, path: str) -> str | None:
        resolved = str(Path(path).resolve())
        for root, name in self.roots:
            if resolved.startswith(root):
                return f"{name}/{Path(resolved[len(root):]).as_posix()}"
        return None


def adapt_mypy_text(output: str, paths: PathMap) -> list[Report]:
    reports = []
    for raw in output.splitlines():
        match = TEXT_LINE.match(raw)
        code = MYPY_CODE.search(raw)
        if not match or not code or ": error:" not in raw:
            continue
        rule, path = plugin_rule(code["code"]), paths(match["path"])
        if rule and path:
            reports.append(Report("plugin", path, int(match["line"]), rule, code["code"], match["rest"],
                                  _column(match["col"])))
    return reports


def adapt_mypy_json(output: str, paths: PathMap) -> list[Report]:
    reports = []
    for raw in output.splitlines():
        raw = raw.strip()
        if not raw.startswith("{"):
            continue
        item = json.loads(raw)
        code = item.get("code") or ""
        rule, path = plugin_rule(code), paths(item.get("file", ""))
        if rule and path and item.get("severity", "error") == "error":
            column = item.get("column")
            reports.append(Report("plugin", path, int(item["line"]), rule, code, item.get("message", ""),
                                  column + 1 if isinstance(column, int) and column >= 0 else None))
    return reports


def adapt_ruff_json(output: str, paths: PathMap) -> list[Report]:
    """ruff --output-format json (ruff's concise text names rules, not codes, since 0.15)."""
    reports = []
    for item in json.loads(output or "[]"):
        code = item.get("code") or ""
        rule, path = LINTER_RULE.get(code), paths(item.get("filename", ""))
        if rule and path:
            reports.append(Report("ruff", path, int(item["location"]["row"]), rule, code, item.get("message", ""),
                                  item["location"].get("column")))
    return reports


def adapt_lint_text(tool: str, output: str, paths: PathMap) -> list[Report]:
    """flake8's default format (and ruff's older concise one): path:line:col: CODE message."""
    reports = []
    for raw in output.splitlines():
        match = TEXT_LINE.match(raw)
        if not match:
            continue
        code = LINT_CODE.match(match["rest"])
        if not code:
            continue
        rule, path = LINTER_RULE.get(code["code"]), paths(match["path"])
        if rule and path:
            reports.append(Report(tool, path, int(match["line"]), rule, code["code"], match["rest"],
                                  _column(match["col"])))
    return reports


def _column(text: str | None) -> int | None:
    return int(text) if text else None


# ---------------------------------------------------------------- running the tools
def linters_venv() -> Path:
    home = corpus.cache_dir() / "linters"
    marker = home / "installed.txt"
    if marker.exists() and marker.read_text().split() == LINTERS:
        return home
    print(f"quality: creating {home} with {' '.join(LINTERS)}", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(home)
    subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", *LINTERS], check=True)
    marker.write_text("\n".join(LINTERS) + "\n")
    return home


def run_plugin(targets: list[str], paths: PathMap, output: str,
               extra: list[str] = []) -> tuple[list[Report], int]:
    with tempfile.TemporaryDirectory(prefix="mypy-cancel-quality-") as scratch:
        config = Path(scratch) / "mypy.ini"
        config.write_text("[mypy]\nplugins = mypy_cancel_plugin\n")
        command = [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir",
                   str(Path(scratch) / "cache"), *MYPY_OPTIONS, *extra]
        if output == "json":
            command += ["-O", "json"]
        # Run outside the checkout: ``-m`` puts the working directory first on ``sys.path``, so a
        # checkout's own copy of the plugin would shadow the installed one ``plugin_identity`` names.
        result = subprocess.run([*command, *targets], capture_output=True, text=True, cwd=scratch)
    text = result.stdout + result.stderr
    crashes = text.count("INTERNAL ERROR") + text.count("Traceback (most recent call last)")
    adapt = adapt_mypy_json if output == "json" else adapt_mypy_text
    return adapt(result.stdout, paths), crashes


def run_flake8(home: Path, targets: list[str], paths: PathMap) -> list[Report]:
    """flake8-async takes minutes on the corpus; its output is cached per linter pins + targets
    (the corpus is pinned by hash, so the same targets mean the same code)."""
    command = [str(home / "bin" / "flake8"), "--isolated", "--select", ",".join(FLAKE8_CODES),
               "--format", "default", "-j", "2", *targets]
    key = hashlib.sha256("\0".join([*LINTERS, *command[1:]]).encode()).hexdigest()[:16]
    cached = corpus.cache_dir() / "lint-results" / f"flake8-{key}.txt"
    if cached.exists():
        return adapt_lint_text("flake8-async", cached.read_text(), paths)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode not in (0, 1):
        raise SystemExit(f"flake8 failed:\n{result.stderr[-2000:]}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(result.stdout)
    return adapt_lint_text("flake8-async", result.stdout, paths)


def run_ruff(home: Path, targets: list[str], paths: PathMap) -> list[Report]:
    result = subprocess.run(
        [str(home / "bin" / "ruff"), "check", "--isolated", "--no-cache", "--preview",
         "--select", "ASYNC,RUF006", "--output-format", "json", "--exit-zero", *targets],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"ruff failed:\n{result.stderr[-2000:]}")
    return adapt_ruff_json(result.stdout, paths)


# ---------------------------------------------------------------- labels and scoring
class StaleLabels(Exception):
    pass


def load_labels(sites: list[find_sites.Site], path: Path = LABELS,
                packages: set[str] | None = None) -> dict[str, dict]:
    """Labels of the sites found; with ``packages``, labels of other packages (not scanned
    this run, e.g. under --packages/--split) are skipped instead of reported as vanished."""
    if not path.exists():
        return {}
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if not lines:
        return {}
    header = json.loads(lines[0])
    if header.get("finder_version") != find_sites.FINDER_VERSION:
        raise StaleLabels(f"{path.name} was made for finder version {header.get('finder_version')}, "
                          f"the finder is version {find_sites.FINDER_VERSION}: relabel")
    by_id = {s.id: s for s in sites}
    labels: dict[str, dict] = {}
    problems = []
    for number, line in enumerate(lines[1:], 2):
        label = json.loads(line)
        if packages is not None and label["id"].split("/", 1)[0] not in packages:
            continue
        site = by_id.get(label["id"])
        if label["id"] in labels:
            problems.append(f"line {number}: {label['id']} labeled twice")
        elif label.get("verdict") not in ("violation", "ok"):
            problems.append(f"line {number}: verdict must be violation or ok")
        elif site is None:
            problems.append(f"line {number}: {label['id']} is no longer a site")
        elif site.fingerprint != label.get("fingerprint"):
            problems.append(f"line {number}: {label['id']}: code changed since it was labeled")
        labels[label["id"]] = label
    if problems:
        raise StaleLabels("stale labels:\n  " + "\n  ".join(problems))
    return labels


def site_index(sites: list[find_sites.Site]) -> dict[tuple[str, str], list[find_sites.Site]]:
    index: dict[tuple[str, str], list[find_sites.Site]] = collections.defaultdict(list)
    for site in sites:
        index[site.path, site.rule].append(site)
    return index


def locate(report: Report, index) -> find_sites.Site | None:
    """The site a report flags: among the sites of its rule whose lines hold it, those of the
    kind its code names (``-implicit`` reports a task ``implicit-task`` sites stand for, any
    other code a spawn; an ``-implicit`` report sits on an argument, so ``gather(wait_for(c))``'s
    report on ``wait_for(c)`` is not that call's own), then the innermost, then, among sites on one line, the last starting
    at or before the report's column (``{create_task(a), create_task(b)}``)."""
    inside = [s for s in index.get((report.path, report.rule), ()) if s.line <= report.line <= s.end_line]
    if report.rule == "unstructured-task":
        implicit = report.code.endswith("-implicit")
        inside = [s for s in inside if (s.kind == "implicit-task") == implicit] or inside
        if implicit:  # it flags an argument of the call it names, never a call starting where it does
            inside = [s for s in inside if (s.line, s.col) != (report.line, report.col)] or inside
    if not inside:
        return None
    narrowest = min(s.end_line - s.line for s in inside)
    inside = [s for s in inside if s.end_line - s.line == narrowest]
    last_line = max(s.line for s in inside)
    inside = [s for s in inside if s.line == last_line]
    if report.col is not None and report.line == last_line:
        before = [s for s in inside if s.col <= report.col]
        return max(before, key=lambda s: s.col) if before else min(inside, key=lambda s: s.col)
    return min(inside, key=lambda s: s.col)


def beside_a_stub(site, packages) -> bool:
    """Whether the site's ``.py`` has a ``.pyi`` of the same module beside it: mypy then reads the
    stub and never checks the ``.py`` (given a directory, or the module by name), so no mypy
    plugin sees its code."""
    dist, _, relative = site.path.partition("/")
    root = next((p.root for p in packages if p.name == dist), None)
    return root is not None and (root / relative).with_suffix(".pyi").is_file()


@dataclasses.dataclass
class Score:
    tp: set = dataclasses.field(default_factory=set)
    fp: set = dataclasses.field(default_factory=set)
    fn: set = dataclasses.field(default_factory=set)
    out: set = dataclasses.field(default_factory=set)
    unlabeled: set = dataclasses.field(default_factory=set)

    def table_cells(self) -> str:
        tp, fp, fn, out = len(self.tp), len(self.fp), len(self.fn), len(self.out)
        # a report inside no candidate site is a false positive too (it flags no labeled violation)
        precision = f"{tp / (tp + fp + out):.2f}" if tp + fp + out else "  - "
        recall = f"{tp / (tp + fn):.2f}" if tp + fn else "  - "
        return f"{tp:4} {fp:4} {fn:4} {out:4}  {precision:>5} {recall:>5}"


def score(tool: str, rule: str, reports: list[Report], sites, labels, index, left_out: frozenset[str] = frozenset()) -> Score:
    """One tool's figures on one rule; the sites in ``left_out`` are not scored (a report there counts nowhere)."""
    result = Score()
    hit: set[str] = set()
    for report in reports:
        if report.tool != tool or report.rule != rule:
            continue
        site = locate(report, index)
        if site is None:
            result.out.add(f"{report.path}:{report.line}:{report.code}")
            continue
        hit.add(site.id)
    for site in sites:
        if site.rule != rule:
            continue
        label = labels.get(site.id)
        if label is None:
            if site.id in hit:
                result.unlabeled.add(site.id)
            continue
        if site.id in left_out:
            continue
        if label["verdict"] == "violation":
            (result.tp if site.id in hit else result.fn).add(site.id)
        elif site.id in hit:
            result.fp.add(site.id)
    return result


def print_table(title: str, scores: dict[tuple[str, str], Score]) -> None:
    print(f"\n{title}")
    print(f"{'rule':24} {'tool':13} {'  TP   FP   FN  OUT   prec   rec'}   (prec = TP/(TP+FP+OUT))")
    for rule in RULES:
        for tool in TOOLS:
            if (tool, rule) in scores:
                print(f"{rule:24} {tool:13} {scores[tool, rule].table_cells()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="list every false positive and negative")
    parser.add_argument("--strict", action="store_true", help="fail while any site is unlabeled")
    parser.add_argument("--packages", nargs="+")
    parser.add_argument("--split", choices=corpus.SPLIT_CHOICES,
                        help="score only the packages of this split (bench/splits.txt)")
    parser.add_argument("--tools", nargs="+", default=TOOLS, choices=TOOLS)
    parser.add_argument("--mypy-output", choices=["text", "json"], default="json")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--check-untyped-defs", action="store_true",
                        help="run the plugin with mypy's --check-untyped-defs")
    args = parser.parse_args(argv)

    try:
        names = corpus.restrict(args.packages, args.split)
    except corpus.CorpusError as error:
        print(f"quality: {error}", file=sys.stderr)
        return 2
    packages = corpus.ensure(names, log=lambda m: print(m, file=sys.stderr))
    sites = find_sites.find(packages)
    try:
        labels = load_labels(sites, args.labels, {p.name for p in packages})
    except (StaleLabels, json.JSONDecodeError, KeyError) as error:
        print(f"quality: {error}", file=sys.stderr)
        return 2
    by_id = {s.id: s for s in sites}
    labels = {k: v for k, v in labels.items() if k in by_id}  # --packages subset
    unlabeled = [s for s in sites if s.id not in labels]

    paths = PathMap(packages)
    targets = [str(d) for p in packages for d in p.packages]
    reports: list[Report] = []
    crashes = 0
    if "plugin" in args.tools:
        plugin_reports, crashes = run_plugin(
            targets, paths, args.mypy_output, ["--check-untyped-defs"] if args.check_untyped_defs else [])
        reports += plugin_reports
    if {"flake8-async", "ruff"} & set(args.tools):
        home = linters_venv()
        if "flake8-async" in args.tools:
            reports += run_flake8(home, targets, paths)
        if "ruff" in args.tools:
            reports += run_ruff(home, targets, paths)

    index = site_index(sites)
    verdicts = collections.Counter(l["verdict"] for l in labels.values())
    hard = sum(1 for l in labels.values() if l.get("hard"))
    split = args.split or "all"
    print(f"split: {split}{' (--packages subset)' if args.packages else ''}: "
          + " ".join(p.name for p in packages))
    print(f"corpus: {len(packages)} packages; finder v{find_sites.FINDER_VERSION}: {len(sites)} sites; "
          f"labeled {len(labels)} ({verdicts['violation']} violation, {verdicts['ok']} ok, {hard} hard); "
          f"unlabeled {len(unlabeled)}")
    per_rule = collections.Counter(s.rule for s in unlabeled)
    if unlabeled:
        print("unlabeled sites per rule: " + ", ".join(f"{r} {n}" for r, n in sorted(per_rule.items())))
    if "plugin" in args.tools:
        print(corpus.plugin_identity())
        print(f"plugin crashes (INTERNAL ERROR / traceback): {crashes}")
    all_scores = {(t, r): score(t, r, reports, sites, labels, index) for t in args.tools for r in RULES}
    hard_sites = frozenset(site for site, label in labels.items() if label.get("hard"))
    easy_scores = {(t, r): score(t, r, reports, sites, labels, index, hard_sites) for t in args.tools for r in RULES}
    print_table("all labeled sites", all_scores)
    print_table("without sites labeled hard", easy_scores)
    unchecked = frozenset(s.id for s in sites if s.id in labels and beside_a_stub(s, packages))
    if unchecked:
        violations = sum(labels[site]["verdict"] == "violation" for site in unchecked)
        print(f"\n{len(unchecked)} labeled sites ({violations} violations) are in .py files mypy does not check: a .pyi "
              "of the same module lies beside them, and mypy checks the stub instead")
        print_table("without sites in files mypy does not check",
                    {(t, r): score(t, r, reports, sites, labels, index, unchecked) for t in args.tools for r in RULES})
    reported_unlabeled = {t: sum(len(all_scores[t, r].unlabeled) for r in RULES) for t in args.tools}
    print("\nreports on unlabeled sites (not scored): "
          + ", ".join(f"{t} {n}" for t, n in reported_unlabeled.items()))

    if args.show:
        for (tool, rule), result in all_scores.items():
            for kind, ids in (("false positive", result.fp), ("false negative", result.fn),
                              ("outside any site (counted as FP)", result.out)):
                for site_id in sorted(ids):
                    site = by_id.get(site_id)
                    label = labels.get(site_id, {})
                    where = site_id if site else site_id.rsplit(":", 1)[0]
                    code = site.code if site else ""
                    print(f"{tool:12} {rule:22} {kind}: {where}  {code}")
                    if label:
                        print(f"{'':36} label: {label['verdict']}/{label.get('kind')}"
                              f"{' (hard)' if label.get('hard') else ''}: {label.get('reason')}")
    if args.strict and unlabeled:
        print(f"quality: --strict: {len(unlabeled)} unlabeled sites", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
