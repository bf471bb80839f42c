"""The plugin's own settings, read from the configuration file mypy uses.

``[tool.mypy_cancel_plugin]`` in ``pyproject.toml``, or ``[mypy_cancel_plugin]`` in
``mypy.ini`` / ``.mypy.ini`` / ``setup.cfg`` (mypy ignores sections it does not own).
"""

from __future__ import annotations

import configparser
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from mypy.errorcodes import ErrorCode

from mypy_cancel_plugin.errorcodes import ALL_CODES

if sys.version_info >= (3, 11):
    import tomllib
else:  # mypy itself depends on tomli before 3.11
    import tomli as tomllib

SECTION = "mypy_cancel_plugin"
LIBRARY_CHOICES = ("auto", "asyncio", "trio", "anyio")
PLUGIN_CODES = tuple(code.code for code in ALL_CODES)


class ConfigError(Exception):
    """A setting the plugin cannot use; the message names the file, the key and what it expects."""


@dataclass(frozen=True)
class Settings:
    # Whose cancellation a broad ``except`` can meet: "auto" decides per module from its imports.
    libraries: tuple[str, ...] = ("auto",)
    # Fully qualified functions/classes (or modules) inside which ``unstructured-task`` is silent.
    unstructured_task_allow: tuple[str, ...] = ()
    # Analyse functions without annotations too (mypy itself skips their bodies by default).
    check_unannotated: bool = True
    # The plugin's own switch for its codes: works where mypy's options cannot name them (the
    # daemon, mypy < 1.19).  Disabling a code covers its sub-codes unless one is enabled.
    disable_error_code: tuple[str, ...] = ()
    enable_error_code: tuple[str, ...] = ()

    def report_data(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    def libraries_in_play(self, detected: frozenset[str]) -> frozenset[str]:
        if "auto" in self.libraries:
            return detected
        assumed = {"asyncio", "trio"} if "anyio" in self.libraries else set()
        return frozenset(assumed | (set(self.libraries) - {"anyio"}))

    def reports(self, code: ErrorCode) -> bool:
        """Whether findings of ``code`` are reported, by ``disable_error_code``/``enable_error_code``."""
        for switched in (code.code, code.sub_code_of.code if code.sub_code_of else None):
            if switched in self.enable_error_code:
                return True
            if switched in self.disable_error_code:
                return False
        return True

    def allows_unstructured_tasks_in(self, names: tuple[str, ...]) -> bool:
        return any(
            name == allowed or name.startswith(allowed + ".")
            for name in names
            for allowed in self.unstructured_task_allow
        )


def load(config_file: str | None) -> Settings:
    """The settings in ``config_file`` (defaults when there is none or it has no plugin section)."""
    if config_file is None:
        return Settings()
    try:
        if config_file.endswith(".toml"):
            with open(config_file, "rb") as handle:
                table = tomllib.load(handle).get("tool", {}).get(SECTION)
            where = f"{config_file}: [tool.{SECTION}]"
            return _settings(table or {}, where, from_ini=False)
        parser = configparser.RawConfigParser()
        parser.read(config_file, encoding="utf-8")
        section = dict(parser[SECTION]) if parser.has_section(SECTION) else {}
        return _settings(section, f"{config_file}: [{SECTION}]", from_ini=True)
    except (OSError, tomllib.TOMLDecodeError, configparser.Error) as problem:
        raise ConfigError(f"{config_file}: cannot read the {SECTION} settings: {problem}") from problem


def _settings(raw: Mapping[str, Any], where: str, *, from_ini: bool) -> Settings:
    known = {field.name: field for field in fields(Settings)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"{where}: unknown key {key!r}; known keys: {', '.join(sorted(known))}")
        if isinstance(known[name].default, bool):
            values[name] = _boolean(value, key, where, from_ini=from_ini)
        else:
            values[name] = _names(value, key, where, from_ini=from_ini)
    for library in values.get("libraries", ()):
        if library not in LIBRARY_CHOICES:
            raise ConfigError(f"{where}: 'libraries' takes {', '.join(LIBRARY_CHOICES)}; got {library!r}")
    for key in ("disable_error_code", "enable_error_code"):
        unknown = sorted(set(values.get(key, ())) - set(PLUGIN_CODES))
        if unknown:
            raise ConfigError(
                f"{where}: {key!r} takes this plugin's codes ({', '.join(PLUGIN_CODES)}); got {', '.join(unknown)}"
            )
    return Settings(**values)


def _boolean(value: Any, key: str, where: str, *, from_ini: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_ini and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(f"{where}: {key!r} must be a boolean (true or false); got {value!r}")


def _names(value: Any, key: str, where: str, *, from_ini: bool) -> tuple[str, ...]:
    if from_ini and isinstance(value, str):
        return tuple(item.strip() for item in value.replace("\n", ",").split(",") if item.strip())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ConfigError(f"{where}: {key!r} must be a list of strings; got {value!r}")
