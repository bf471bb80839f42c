"""``python -m mypy_cancel_plugin``: list the rules, or explain one, without leaving the terminal."""

from __future__ import annotations

import argparse
import sys
from importlib import resources

from mypy_cancel_plugin.errorcodes import ALL_CODES, page_url
from mypy_cancel_plugin.version import SUPPORTED_RANGE, __version__

# The rule pages ship inside the package, so every install layout (wheel, --user, editable,
# zip) can read them; their one copy in the repository is this directory too.
PAGES = resources.files("mypy_cancel_plugin") / "docs"


def list_rules() -> str:
    width = max(len(code.code) for code in ALL_CODES)
    lines = [f"mypy-cancel-plugin {__version__} (mypy {SUPPORTED_RANGE})"]
    for code in ALL_CODES:
        parent = f" (sub-code of {code.sub_code_of.code})" if code.sub_code_of else ""
        off = "" if code.default_enabled else " (off by default)"
        lines.append(f"  {code.code:<{width}}  {code.description}{parent}{off}")
        lines.append(f"  {'':<{width}}  {page_url(code.code)}")
    return "\n".join(lines)


def explain(code_name: str) -> tuple[str, int]:
    known = [code.code for code in ALL_CODES]
    if code_name not in known:
        return f"unknown code {code_name!r}; known codes: {', '.join(known)}", 2
    return (PAGES / f"{code_name}.md").read_text(encoding="utf-8").rstrip(), 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mypy_cancel_plugin", description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--list-rules", action="store_true", help="list every error code and its doc page")
    group.add_argument("--explain", metavar="CODE", help="print the doc page of one error code")
    args = parser.parse_args(argv)
    if args.list_rules:
        print(list_rules())
        return 0
    text, status = explain(args.explain)
    print(text, file=sys.stdout if status == 0 else sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
