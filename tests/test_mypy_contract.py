"""Fails loudly when a mypy release changes an internal the plugin builds on."""

from __future__ import annotations

import inspect

import pytest
from mypy import nodes
from mypy.errors import Errors
from mypy.plugin import Plugin

import mypy_cancel_plugin
from mypy_cancel_plugin import walk

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


def test_errors_has_what_the_reporting_guard_reads() -> None:
    for attribute in ("target_module", "scope", "file", "ignored_files", "options", "report"):
        assert hasattr(Errors, attribute), f"mypy.errors.Errors no longer has {attribute!r}"


def test_plugin_api_has_the_once_per_module_call() -> None:
    assert hasattr(Plugin, "get_additional_indirect_deps")


@pytest.mark.parametrize("version", ["2.3.1", "1.13.0", "3.0.0", "unknown"])
def test_unsupported_mypy_is_refused_with_one_line(version: str) -> None:
    with pytest.raises(SystemExit) as refused:
        mypy_cancel_plugin.plugin(version)
    message = str(refused.value)
    assert "\n" not in message
    assert f"this is mypy {version}" in message and ">=2.4" in message


@pytest.mark.parametrize("version", ["2.4.0", "2.4.1", "2.4.2+dev.abc"])
def test_supported_mypy_gets_the_plugin(version: str) -> None:
    assert issubclass(mypy_cancel_plugin.plugin(version), Plugin)
