"""Does the plugin's time grow linearly, and where does it go?  Figures, printed, never asserted.

``--curve``: the plugin's own time (all its work, timed inside one mypy process: the walk and
summaries mypy 2.4 asks for before a module's rules run, and the rules) over
1/4, 2/4, 3/4 and all of the corpus's files, in microseconds per line: flat means linear.

``--stress``: generated inputs that once made the plugin superlinear or fail, at three sizes
each -- many ``task.cancel(); try: await task; except CancelledError: pass`` handlers in one
function, a long ``elif`` chain in a handler, a ``cancelling()`` comparison with a huge
integer, deeply nested ``try`` statements -- with mypy's CPU time without and with the plugin.
The plugin's extra time per unit must stay flat as the size doubles.

``--breakdown``: where the plugin's time goes, in one cold mypy process over a split: the
module walk (nodes, microseconds per node), the helper summaries, and the rules by the kind of
scope they judge (module top level, coroutine function, generator, plain function), beside
mypy's whole CPU time and its garbage collections.  What a cheaper design must shrink.

Usage: python bench/scaling.py [--curve] [--stress] [--breakdown] [--split S]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from typing import Any
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

OPTIONS = ["--no-incremental", "--ignore-missing-imports", "--follow-imports=silent", "--python-version", "3.11"]
# Run inside a fresh Python: mypy with the plugin, each part of the plugin's work timed.
TIMED_RUN = textwrap.dedent("""
    import gc, json, sys, time
    from mypy import api
    from mypy_cancel_plugin import walk
    import mypy_cancel_plugin.rules as rules
    seconds, nodes, inside = {}, {}, [False]
    def add(key, spent):
        seconds[key] = seconds.get(key, 0.0) + spent
        if key in ("walk", "summaries") and not inside[0]:
            seconds["outside check_module"] = seconds.get("outside check_module", 0.0) + spent
    def kind_of(scope):
        defn = scope.function.defn if scope.function is not None else None
        if defn is None:
            return "module top level"
        return "coroutine function" if defn.is_coroutine else "generator" if defn.is_generator else "plain function"
    def timed_walk(tree, _walk=walk.module_scopes):
        start = time.process_time()
        scopes = _walk(tree)
        add("walk", time.process_time() - start)
        for scope in scopes:
            nodes[kind_of(scope)] = nodes.get(kind_of(scope), 0) + len(scope.in_order)
        return scopes
    def timed_rules(walked, *args, _run=rules._run_rules):
        start = time.process_time()
        try:
            return _run(walked, *args)
        finally:
            add("rules: " + kind_of(walked), time.process_time() - start)
    def timed_summaries(module, _summarise=rules.summarise_helpers):
        start = time.process_time()
        try:
            return _summarise(module)
        finally:
            add("summaries", time.process_time() - start)
    def timed_check(*args, _check=rules.check_module, **kwargs):
        start = time.process_time()
        inside[0] = True
        try:
            return _check(*args, **kwargs)
        finally:
            inside[0] = False
            add("check_module", time.process_time() - start)
    collections = [0, 0.0, 0.0]
    def collected(phase, info):
        if phase == "start":
            collections[2] = time.perf_counter()
        else:
            collections[0] += 1
            collections[1] += time.perf_counter() - collections[2]
    gc.callbacks.append(collected)
    walk.module_scopes = timed_walk
    rules._run_rules, rules.summarise_helpers, rules.check_module = timed_rules, timed_summaries, timed_check
    start = time.process_time()
    stdout, stderr, status = api.run(sys.argv[1:])
    total = time.process_time() - start
    output = stdout + stderr  # (a checked name may be called "Traceback": only a real one counts)
    crashed = "Traceback (most recent call last)" in output or "INTERNAL ERROR" in output
    # mypy 2.4 asks for a module's summaries (and so its walk) before its rules run: outside check_module.
    plugin = seconds.get("check_module", 0.0) + seconds.get("outside check_module", 0.0)
    print(json.dumps({"total": total, "plugin": plugin, "seconds": seconds, "nodes": nodes, "gc": collections[:2],
                      "status": status, "crashed": crashed}))
""")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_plugin_run(config: Path, targets: list[str]) -> dict[str, Any]:
    """One cold mypy with the plugin over ``targets``, each part of the plugin's work timed (``TIMED_RUN``)."""
    result = subprocess.run([sys.executable, "-c", TIMED_RUN, "--config-file", str(config), *OPTIONS, *targets],
                            capture_output=True, text=True)
    return json.loads(result.stdout.splitlines()[-1])


def mypy_cpu(config: Path, targets: list[str]) -> tuple[float, str]:
    before = _children_cpu()
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(config), *OPTIONS, *targets],
                            capture_output=True, text=True)
    return _children_cpu() - before, result.stdout + result.stderr


def curve(split: str, scratch: Path) -> None:
    config = scratch / "with.ini"
    config.write_text("[mypy]\nplugins = mypy_cancel_plugin\n")
    packages = corpus.ensure(corpus.split_names(split), log=lambda m: print(m, file=sys.stderr))
    files = sorted(str(f) for p in packages for f in p.files())
    print(f"size curve over the {split} corpus ({len(files)} files): the plugin's own CPU time per line")
    for quarter in (1, 2, 3, 4):
        chosen = files[: len(files) * quarter // 4]
        lines = sum(len(Path(f).read_bytes().splitlines()) for f in chosen)
        measured = timed_plugin_run(config, chosen)
        print(f"  {quarter}/4: {len(chosen):5} files {lines:8} lines  plugin {measured['plugin']:6.2f}s  "
              f"{1e6 * measured['plugin'] / lines:6.2f} us/line")


def breakdown(split: str, scratch: Path) -> None:
    config = scratch / "with.ini"
    config.write_text("[mypy]\nplugins = mypy_cancel_plugin\n")
    packages = corpus.ensure(corpus.split_names(split), log=lambda m: print(m, file=sys.stderr))
    measured = timed_plugin_run(config, [str(d) for p in packages for d in p.packages])
    seconds, nodes, plugin = measured["seconds"], measured["nodes"], measured["plugin"]
    walked = sum(nodes.values())
    walk, summaries = seconds.get("walk", 0.0), seconds.get("summaries", 0.0)
    rules_total = sum(spent for key, spent in seconds.items() if key.startswith("rules: "))
    print(f"where the plugin's time goes, one cold mypy over the {split} corpus ({len(packages)} packages), "
          f"CPU seconds{'  FAILED: a traceback in the output' if measured['crashed'] else ''}")
    print(f"  mypy with the plugin: {measured['total']:7.2f}s; garbage collections: {measured['gc'][0]} "
          f"taking {measured['gc'][1]:.2f}s")
    print(f"  the plugin: {plugin:7.2f}s ({100 * plugin / measured['total']:.1f}% of the run)")
    print(f"    walk:      {walk:7.2f}s over {walked} nodes ({1e6 * walk / max(walked, 1):.2f} us/node)")
    print(f"    summaries: {summaries:7.2f}s")
    print(f"    rules:     {rules_total:7.2f}s; the rest (contexts, reporting): {plugin - walk - summaries - rules_total:7.2f}s")
    for kind in ("module top level", "coroutine function", "generator", "plain function"):
        share = nodes.get(kind, 0) / max(walked, 1)
        print(f"      {kind:20} {seconds.get('rules: ' + kind, 0.0):7.2f}s rules, {100 * share:5.1f}% of the nodes")


def _awaited_tasks(n: int) -> str:
    body = "".join(f"    t{i}.cancel()\n    try:\n        await t{i}\n    except asyncio.CancelledError:\n        pass\n"
                   for i in range(n))
    args = ", ".join(f"t{i}: asyncio.Task[None]" for i in range(n))
    return f"import asyncio\n\nasync def f({args}) -> None:\n{body}"


def _elif_chain(n: int) -> str:
    branches = "".join(f"        elif x == {i}:\n            pass\n" for i in range(1, n))
    return ("import asyncio\n\nasync def f(x: int) -> None:\n    try:\n        await asyncio.sleep(1)\n"
            f"    except asyncio.CancelledError:\n        if x == 0:\n            pass\n{branches}")


def _huge_comparison(n: int) -> str:
    return ("import asyncio\n\nasync def f() -> None:\n    try:\n        await asyncio.sleep(1)\n"
            "    except asyncio.CancelledError:\n        task = asyncio.current_task()\n"
            f"        if task is not None and task.cancelling() > 1{'0' * n}:\n            raise\n")


def _nested_tries(n: int) -> str:
    lines = ["import asyncio", "", "async def f() -> None:"]
    for depth in range(n):
        lines.append("    " * (depth + 1) + "try:")
    lines.append("    " * (n + 1) + "await asyncio.sleep(1)")
    for depth in reversed(range(n)):
        lines.append("    " * (depth + 1) + "except asyncio.CancelledError:")
        lines.append("    " * (depth + 2) + "raise")
    return "\n".join(lines) + "\n"


STRESS: dict[str, tuple[Callable[[int], str], tuple[int, ...]]] = {
    "awaited-task handlers in one function": (_awaited_tasks, (750, 1500, 3000)),
    "elif branches in one handler": (_elif_chain, (1500, 3000, 6000)),
    "digits of a cancelling() bound": (_huge_comparison, (11, 1000, 4000)),
    "nested try statements": (_nested_tries, (25, 50, 90)),
}


def stress(scratch: Path) -> None:
    configs = {"without": scratch / "without.ini", "with": scratch / "with.ini"}
    configs["without"].write_text("[mypy]\n")
    configs["with"].write_text("[mypy]\nplugins = mypy_cancel_plugin\n")
    print("stress inputs: mypy CPU seconds without / with the plugin; extra per unit must stay flat")
    for name, (generate, sizes) in STRESS.items():
        print(f"  {name}:")
        for size in sizes:
            source = scratch / f"stress_{size}.py"
            source.write_text(generate(size))
            without, _ = mypy_cpu(configs["without"], [str(source)])
            with_, output = mypy_cpu(configs["with"], [str(source)])
            broken = "Traceback" in output or "INTERNAL ERROR" in output or "cancel-plugin" in output
            print(f"    {size:6}: without {without:6.2f}s with {with_:6.2f}s  extra {with_ - without:6.2f}s "
                  f"({1e3 * (with_ - without) / size:7.3f} ms/unit){'  FAILED: see output' if broken else ''}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--curve", action="store_true")
    parser.add_argument("--stress", action="store_true")
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--split", default="seen", choices=["seen", "tune", "holdout", "unseen", "all"])
    args = parser.parse_args(argv)
    print(corpus.plugin_identity())
    with tempfile.TemporaryDirectory(prefix="mypy-cancel-scaling-") as scratch:
        everything = not (args.curve or args.stress or args.breakdown)
        if args.curve or everything:
            curve(args.split, Path(scratch))
        if args.stress or everything:
            stress(Path(scratch))
        if args.breakdown or everything:
            breakdown(args.split, Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
