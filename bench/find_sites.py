"""List every candidate site of the plugin's rules in the corpus, with the standard `ast` only.

Independent of the plugin (it imports nothing from it, nor mypy) so it cannot share its blind
spots.  A *site* is a stretch of source a rule could report on; bench/quality.py maps every
tool's report that falls inside a site to that site, and bench/labels.jsonl holds a verdict per
site.  Kinds (rule in brackets):

  except     [cancel-swallowed]  an `except`/`except*` clause that could catch cancellation by
             spelling: bare, BaseException, *CancelledError, *Cancelled,
             get_cancelled_exc_class(), *ExceptionGroup, a tuple containing one, a name the
             package itself defines as a subclass or alias of one of those, or a variable
             (lower-case name, or attribute of self/cls) whose value the clause cannot show.
             Span: the whole handler.
  suppress   [cancel-swallowed]  a `with`/`async with` item `...suppress(...)` of such a type.
             Span: the whole with statement.
  finally-return / finally-break / finally-continue  [cancel-swallowed]  a statement leaving a
             `finally` block (a break/continue of a loop inside the finally does not).
  create_task / ensure_future  [unstructured-task]  any call of something named so.
  yield      [yield-in-cancel-scope]  a `yield`/`yield from` lexically inside a `with`/
             `async with` of an async generator (not of a nested function).
Added in finder v3 (the v2 kinds above are found exactly as before, same ids and fingerprints):
  Task       [unstructured-task]  a construction of asyncio's Task class: `asyncio.Task(...)`,
             `asyncio.tasks.Task(...)`, or a bare `Task(...)` / alias imported from asyncio.
  run_coroutine_threadsafe  [unstructured-task]  any call of something named so.
  implicit-task  [unstructured-task]  a call of asyncio's `shield`, `wait_for`, `gather` or
             `wait` (spelled `asyncio.X`, `asyncio.tasks.X`, or a name imported from asyncio) with
             an argument that could be a bare coroutine: any positional argument (for `wait`,
             the elements of a list/tuple/set literal, else the argument itself) that is not
             itself a direct call of create_task / ensure_future / Task / create_future.
  helper-task  [unstructured-task]  an expression statement (result dropped, `await` not
             counted) calling, by name, a function or method the package defines whose
             `return` gives a task it started: `return <create_task/ensure_future/Task call>`
             or `return v` with `v = <such a call>` in the same function.

Site id: ``<dist>/<path in the package tree>:<line>:<kind>``, with ``#2``, ``#3``... appended to
a later site of the same kind on the same line (in visiting order: an outer call before the
calls in its arguments; only `implicit-task` sites such as ``wait_for(shield(t))`` need it).  ``fingerprint`` hashes the site's
source text, so a label whose code changed is detected as stale.  FINDER_VERSION changes
whenever the set of sites this script finds could change; labels made for another version are
stale as a whole.

CLI: python bench/find_sites.py [--packages ...] [--split seen|tune|holdout|unseen|all] [--json]
     [--unlabeled bench/labels.jsonl]
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

FINDER_VERSION = 3
RULE_OF_KIND = {
    "except": "cancel-swallowed",
    "except*": "cancel-swallowed",
    "suppress": "cancel-swallowed",
    "finally-return": "cancel-swallowed",
    "finally-break": "cancel-swallowed",
    "finally-continue": "cancel-swallowed",
    "create_task": "unstructured-task",
    "ensure_future": "unstructured-task",
    "yield": "yield-in-cancel-scope",
    "Task": "unstructured-task",
    "run_coroutine_threadsafe": "unstructured-task",
    "implicit-task": "unstructured-task",
    "helper-task": "unstructured-task",
}
CANCEL_NAMES = frozenset({"BaseException", "CancelledError", "Cancelled"})
TASK_NAMES = frozenset({"create_task", "ensure_future"})
TASK_MAKERS = frozenset({"create_task", "ensure_future", "Task", "create_future"})
IMPLICIT_TASK_FUNCTIONS = frozenset({"shield", "wait_for", "gather", "wait"})


@dataclasses.dataclass
class Site:
    id: str
    rule: str
    kind: str
    path: str  # <dist>/<path in package tree>
    line: int
    end_line: int
    col: int  # 1-based column where the site's node starts, as mypy, flake8 and ruff print it
    function: str
    code: str  # first line of the site, stripped
    fingerprint: str

    def as_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


class PackageNames:
    """Names a package defines that stand for a cancellation-catching type."""

    def __init__(self, trees: list[ast.Module]) -> None:
        self.names: set[str] = set()
        classes: list[tuple[str, list[ast.expr]]] = []
        aliases: list[tuple[str, ast.expr]] = []
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    classes.append((node.name, node.bases))
                elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = last_name(node.targets[0]) if isinstance(node.targets[0], (ast.Name, ast.Attribute)) else None
                    if target:
                        aliases.append((target, node.value))
                elif isinstance(node, ast.AnnAssign) and node.value is not None:
                    target = last_name(node.target)
                    if target:
                        aliases.append((target, node.value))
        self.task_helpers: set[str] = set()
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and returns_new_task(node):
                    self.task_helpers.add(node.name)
        changed = True
        while changed:  # fixpoint over subclasses and aliases defined in the package
            changed = False
            for name, bases in classes:
                if name not in self.names and any(self.spelled(b, False) for b in bases):
                    self.names.add(name)
                    changed = True
            for name, value in aliases:
                if name not in self.names and self.spelled(value, False):
                    self.names.add(name)
                    changed = True

    def spelled(self, node: ast.expr | None, variables: bool = True) -> bool:
        """Could an except clause of this type catch cancellation, judging by its spelling?"""
        if node is None:
            return True
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(self.spelled(e, variables) for e in node.elts)
        if isinstance(node, ast.Call):
            return last_name(node.func) == "get_cancelled_exc_class"
        if isinstance(node, ast.Subscript):  # e.g. type[...] never, but Union-like aliases
            return False
        if isinstance(node, ast.Starred):
            return self.spelled(node.value, variables)
        name = last_name(node)
        if name is None:
            return False
        if name in CANCEL_NAMES or name.endswith(("CancelledError", "ExceptionGroup")) or name in self.names:
            return True
        # a variable, parameter or attribute of self holding exception types: its value is not
        # visible here, so it could be a cancellation type
        holder = isinstance(node, ast.Name) or (
            isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls"))
        return variables and holder and not name.lstrip("_")[:1].isupper()


class Finder(ast.NodeVisitor):
    def __init__(self, path: str, source: str, names: PackageNames,
                 from_asyncio: dict[str, str] | None = None) -> None:
        self.path, self.names = path, names
        self.from_asyncio = from_asyncio or {}
        self.lines = source.splitlines()
        self.sites: list[Site] = []
        self.scope: list[str] = []
        self.async_generator: list[bool] = []  # per enclosing function
        self.with_depth: list[int] = []  # with/async with nesting inside the current function

    # -- helpers
    def add(self, node: ast.AST, kind: str, end_line: int | None = None) -> None:
        line = node.lineno  # type: ignore[attr-defined]
        end = end_line or getattr(node, "end_lineno", line) or line
        text = "\n".join(self.lines[line - 1:end])
        site_id = f"{self.path}:{line}:{kind}"
        taken = {site.id for site in self.sites}
        if site_id in taken:  # a second site of the same kind on the same line (outer call first)
            number = 2
            while f"{site_id}#{number}" in taken:
                number += 1
            site_id = f"{site_id}#{number}"
        self.sites.append(Site(
            id=site_id, rule=RULE_OF_KIND[kind], kind=kind, path=self.path,
            line=line, end_line=end, col=getattr(node, "col_offset", 0) + 1,
            function=".".join(self.scope) or "<module>",
            code=self.lines[line - 1].strip(),
            fingerprint=hashlib.sha1(text.encode()).hexdigest()[:12]))

    def visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        is_async_gen = isinstance(node, ast.AsyncFunctionDef) and has_own_yield(node)
        self.scope.append(getattr(node, "name", "<lambda>"))
        self.async_generator.append(is_async_gen)
        self.with_depth.append(0)
        self.generic_visit(node)
        self.with_depth.pop()
        self.async_generator.pop()
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = visit_function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    def visit_with(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            call = item.context_expr
            if (isinstance(call, ast.Call) and last_name(call.func) == "suppress"
                    and any(self.names.spelled(a) for a in call.args if a is not None)):
                self.add(node, "suppress")
                break
        if self.with_depth:
            self.with_depth[-1] += 1
        self.generic_visit(node)
        if self.with_depth:
            self.with_depth[-1] -= 1

    visit_With = visit_AsyncWith = visit_with

    def visit_try(self, node: ast.Try) -> None:
        star = isinstance(node, getattr(ast, "TryStar", ()))
        for handler in node.handlers:
            if self.names.spelled(handler.type):
                self.add(handler, "except*" if star else "except")
        for statement in node.finalbody:
            for exit_node, kind in finally_exits(statement):
                self.add(exit_node, kind)
        self.generic_visit(node)

    visit_Try = visit_TryStar = visit_try

    def asyncio_name(self, func: ast.expr) -> str | None:
        """The asyncio function a call's target names (`asyncio.X`, `asyncio.tasks.X`, or a
        name imported from asyncio), else None."""
        if isinstance(func, ast.Name):
            return self.from_asyncio.get(func.id)
        if isinstance(func, ast.Attribute):
            base = func.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and (base.id == "asyncio" or self.from_asyncio.get(base.id) in (
                    "tasks", "futures")) and not isinstance(func.value, ast.Call):
                return func.attr
        return None

    def visit_Call(self, node: ast.Call) -> None:
        name = last_name(node.func)
        if name in TASK_NAMES:
            self.add(node, name)
        elif name == "run_coroutine_threadsafe":
            self.add(node, "run_coroutine_threadsafe")
        else:
            target = self.asyncio_name(node.func)
            if target == "Task":
                self.add(node, "Task")
            elif target in IMPLICIT_TASK_FUNCTIONS and self.may_get_coroutine(target, node):
                self.add(node, "implicit-task")
        self.generic_visit(node)

    @staticmethod
    def may_get_coroutine(function: str, call: ast.Call) -> bool:
        arguments: list[ast.expr] = list(call.args)
        if function == "wait" and arguments and isinstance(arguments[0], (ast.List, ast.Tuple, ast.Set)):
            arguments = list(arguments[0].elts)
        elif function in ("wait", "wait_for", "shield"):
            arguments = arguments[:1]
        return any(not (isinstance(a, ast.Call) and last_name(a.func) in TASK_MAKERS) for a in arguments)

    def visit_Expr(self, node: ast.Expr) -> None:
        call = node.value
        if isinstance(call, ast.Call) and last_name(call.func) in self.names.task_helpers \
                and last_name(call.func) not in TASK_NAMES:
            self.add(node, "helper-task")
        self.generic_visit(node)

    def visit_yield(self, node: ast.Yield | ast.YieldFrom) -> None:
        if self.async_generator and self.async_generator[-1] and self.with_depth[-1] > 0:
            self.add(node, "yield")
        self.generic_visit(node)

    visit_Yield = visit_YieldFrom = visit_yield


def own_nodes(function: ast.AST):
    """Nodes of a function's body, not of functions or classes nested in it."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def is_task_start(node: ast.expr | None) -> bool:
    return (isinstance(node, ast.Call) and last_name(node.func) in ("create_task", "ensure_future", "Task"))


def returns_new_task(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Does some `return` of the function give a task it started itself?"""
    started: set[str] = set()
    returns: list[ast.expr] = []
    for node in own_nodes(function):
        if isinstance(node, ast.Assign) and is_task_start(node.value):
            started.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and is_task_start(node.value) and isinstance(node.target, ast.Name):
            started.add(node.target.id)
        elif isinstance(node, ast.Return) and node.value is not None:
            returns.append(node.value)
    return any(is_task_start(r) or (isinstance(r, ast.Name) and r.id in started) for r in returns)


def asyncio_imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> asyncio name for `from asyncio[.x] import name [as alias]`."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "asyncio":
            for alias in node.names:
                out[alias.asname or alias.name] = alias.name
    return out


def has_own_yield(function: ast.AST) -> bool:
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def finally_exits(statement: ast.stmt, in_loop: bool = False):
    """return anywhere, break/continue not owned by a loop inside the finally."""
    if isinstance(statement, ast.Return):
        yield statement, "finally-return"
        return
    if isinstance(statement, (ast.Break, ast.Continue)):
        if not in_loop:
            yield statement, "finally-break" if isinstance(statement, ast.Break) else "finally-continue"
        return
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return
    loop = isinstance(statement, (ast.For, ast.AsyncFor, ast.While))
    for field in ("body", "orelse", "finalbody", "handlers"):
        for child in getattr(statement, field, []) or []:
            if isinstance(child, ast.ExceptHandler):
                for inner in child.body:
                    yield from finally_exits(inner, in_loop)
            else:
                # a loop's else: clause is not inside the loop for break/continue
                yield from finally_exits(child, in_loop or (loop and field == "body"))
    if isinstance(statement, ast.Match):
        for case in statement.cases:
            for inner in case.body:
                yield from finally_exits(inner, in_loop)


def find(packages: list[corpus.Package]) -> list[Site]:
    sites: list[Site] = []
    for package in packages:
        files = package.files()
        parsed: list[tuple[Path, str, ast.Module]] = []
        for file in files:
            source = file.read_text(encoding="utf-8", errors="replace")
            try:
                parsed.append((file, source, ast.parse(source, str(file))))
            except SyntaxError:
                print(f"find_sites: cannot parse {file}; skipped", file=sys.stderr)
        names = PackageNames([tree for _, _, tree in parsed])
        for file, source, tree in parsed:
            finder = Finder(f"{package.name}/{file.relative_to(package.root).as_posix()}", source, names,
                            asyncio_imports(tree))
            finder.visit(tree)
            sites.extend(finder.sites)
    return sites


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", nargs="+")
    parser.add_argument("--split", choices=corpus.SPLIT_CHOICES,
                        help="only the packages of this split (bench/splits.txt)")
    parser.add_argument("--json", action="store_true", help="one JSON object per site")
    parser.add_argument("--unlabeled", type=Path, metavar="LABELS",
                        help="only the sites that have no label in this file")
    args = parser.parse_args(argv)
    try:
        names = corpus.restrict(args.packages, args.split)
    except corpus.CorpusError as error:
        print(f"find_sites: {error}", file=sys.stderr)
        return 2
    sites = find(corpus.ensure(names, log=lambda m: print(m, file=sys.stderr)))
    if args.unlabeled:
        lines = [l for l in args.unlabeled.read_text().splitlines()[1:] if l.strip()]
        done = {json.loads(l)["id"] for l in lines}
        sites = [s for s in sites if s.id not in done]
    for site in sites:
        if args.json:
            print(json.dumps(site.as_json()))
        else:
            print(f"{site.id}  [{site.function}]  {site.code}")
    counts: dict[str, int] = {}
    for site in sites:
        counts[site.kind] = counts.get(site.kind, 0) + 1
    print(f"finder v{FINDER_VERSION}{' (split ' + args.split + ')' if args.split else ''}"
          f"{' unlabeled' if args.unlabeled else ''}: {len(sites)} sites: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
