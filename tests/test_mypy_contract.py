"""Fails loudly when a mypy release changes an internal the plugin builds on."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from mypy import nodes
from mypy.plugin import Plugin

import mypy_cancel_plugin
from mypy_cancel_plugin import mypy_internals, walk

ABSTRACT_NODE_CLASSES = {
    nodes.Expression, nodes.Statement, nodes.RefExpr, nodes.Lvalue, nodes.ImportBase,
    nodes.FakeExpression, nodes.TypeVarLikeExpr, nodes.FuncItem, nodes.FuncBase,
}


def concrete_node_classes() -> list[type]:
    return [
        cls
        for cls in vars(nodes).values()
        if inspect.isclass(cls)
        and issubclass(cls, (nodes.Expression, nodes.Statement))
        and cls not in ABSTRACT_NODE_CLASSES
    ]


def test_walk_knows_every_statement_and_expression_class() -> None:
    missing = sorted(cls.__name__ for cls in concrete_node_classes() if cls not in walk.CHILD_ATTRIBUTES)
    assert not missing, f"add these mypy node classes to walk.CHILD_ATTRIBUTES: {missing}"


@pytest.mark.parametrize("cls", list(walk.CHILD_ATTRIBUTES), ids=lambda cls: cls.__name__)
def test_walked_attributes_exist(cls: type) -> None:
    for attribute in walk.CHILD_ATTRIBUTES[cls]:
        assert hasattr(cls, attribute), f"mypy.nodes.{cls.__name__} no longer has {attribute!r}"


def test_this_mypy_has_every_internal_the_plugin_uses() -> None:
    """The type-map hand-off, Errors, Scope and Plugin calls of ``mypy_internals`` (per mypy version)."""
    assert mypy_internals.contract_problems() == []


def test_imports_resolve_through_mypys_own_helpers() -> None:
    """``from ..a import b`` in a package's submodule, and a name looked up in the loaded modules."""
    package = nodes.MypyFile([], [])
    package._fullname = "pkg.sub.mod"
    package.path = "pkg/sub/mod.py"
    assert mypy_internals.imported_module_name(package, 2, "a") == "pkg.a"
    assert mypy_internals.imported_module_name(package, 0, "asyncio") == "asyncio"
    function = nodes.FuncDef("spawn", [], nodes.Block([]))
    function._fullname = "pkg.a.spawn"
    module = nodes.MypyFile([], [])
    module._fullname = "pkg.a"
    module.names = nodes.SymbolTable({"spawn": nodes.SymbolTableNode(nodes.GDEF, function)})
    assert mypy_internals.definition_named("pkg.a.spawn", {"pkg.a": module}) is function
    assert mypy_internals.definition_named("pkg.a.missing", {"pkg.a": module}) is None
    assert mypy_internals.definition_named("nowhere.spawn", {"pkg.a": module}) is None


def test_generic_members_are_seen_through_the_instance() -> None:
    """``as_supertype`` and ``as_member_of`` on classes mypy analysed: a dict's ``__getitem__``
    returns its value type, and ``dict`` seen as ``Mapping`` keeps its arguments."""
    from mypy import build
    from mypy.modulefinder import BuildSource
    from mypy.options import Options
    from mypy.types import CallableType, Instance, get_proper_type

    options = Options()
    options.incremental = False
    source = "import asyncio\nevents: dict[str, asyncio.Event] = {}\n"
    result = build.build([BuildSource("m.py", "m", source)], options)
    declared = get_proper_type(result.files["m"].names["events"].node.type)  # type: ignore[union-attr]
    assert isinstance(declared, Instance)
    getitem = declared.type.get("__getitem__")
    assert getitem is not None and isinstance(getitem.node, nodes.FuncDef) and getitem.node.type is not None
    bound = get_proper_type(mypy_internals.as_member_of(getitem.node.type, declared, getitem.node.info))
    assert isinstance(bound, CallableType)
    assert str(bound.ret_type) == "asyncio.locks.Event"
    mapping = mypy_internals.as_supertype(declared, "typing.Mapping")
    assert mapping is not None
    assert [get_proper_type(arg).type.fullname for arg in mapping.args] == [  # type: ignore[attr-defined]
        "builtins.str", "asyncio.locks.Event"
    ]


def test_an_unfollowed_import_is_told_from_other_anys() -> None:
    """mypy types a name whose import it could not follow ``Any`` of its own kind; an explicit
    ``Any`` and a followed import are not that."""
    from mypy import build
    from mypy.modulefinder import BuildSource
    from mypy.options import Options

    options = Options()
    options.incremental = False
    options.ignore_missing_imports = True
    source = ("from typing import Any\nimport asyncio\nimport not_installed_pkg.sub\n"
              "from not_installed_pkg import timeout as t\nexplicit: Any = 1\n")
    result = build.build([BuildSource("m.py", "m", source)], options)
    names = result.files["m"].names
    types = {name: getattr(names[name].node, "type", None) for name in ("not_installed_pkg", "t", "explicit", "asyncio")}
    assert mypy_internals.is_unfollowed_import(types["not_installed_pkg"])
    assert mypy_internals.is_unfollowed_import(types["t"])
    assert not mypy_internals.is_unfollowed_import(types["explicit"])
    assert not mypy_internals.is_unfollowed_import(types["asyncio"])
    assert not mypy_internals.is_unfollowed_import(None)


def test_the_contract_check_notices_a_missing_hand_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mypy_internals, "_source_text", lambda module: "nothing here")
    problems = mypy_internals.contract_problems()
    assert any("mypy.build" in problem for problem in problems)
    assert any("mypy.server.update" in problem for problem in problems)


def test_the_hand_off_reaches_the_plugin_on_this_mypy(tmp_path: Path) -> None:
    """A real build: the tap receives the type map of the module just checked, with its types."""
    (tmp_path / "mypy.ini").write_text("[mypy]\nplugins = mypy_cancel_plugin\n")
    (tmp_path / "m.py").write_text(
        "import asyncio\nasync def f(loop: asyncio.AbstractEventLoop) -> None:\n"
        "    loop.create_task(asyncio.sleep(1))\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-incremental", "m.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert "[unstructured-task-discarded]" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("version", ["1.12.1", "0.991", "unknown"])
def test_too_old_a_mypy_is_refused_with_one_line_and_status_2(
    version: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        mypy_cancel_plugin.plugin(version)
    assert refused.value.code == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and f"this is mypy {version}" in message and ">=1.13" in message


def test_a_newer_mypy_that_changed_is_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(mypy_internals, "contract_problems", lambda: ["Scope.enter_class is gone"])
    with pytest.raises(SystemExit) as refused:
        mypy_cancel_plugin.plugin("9.0.0")
    assert refused.value.code == 2
    assert "newer than tested, and it changed: Scope.enter_class is gone" in capsys.readouterr().err


@pytest.mark.parametrize("version", ["1.13.0", "2.0.0", "2.4.1", "2.4.2+dev.abc", "3.0.0"])
def test_supported_and_newer_unchanged_mypy_gets_the_plugin(version: str) -> None:
    assert issubclass(mypy_cancel_plugin.plugin(version), Plugin)

