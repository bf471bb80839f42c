"""The plugin's own settings, read from the configuration file mypy uses.

``[tool.mypy_cancel_plugin]`` in ``pyproject.toml``, or ``[mypy_cancel_plugin]`` in
``mypy.ini`` / ``.mypy.ini`` / ``setup.cfg`` (mypy ignores sections it does not own).
Anything malformed raises :class:`ConfigError` with one line naming the file, the key and what
it expects: a settings typo must stop the run loudly, never crash mypy or silently change what
is reported.
"""

from __future__ import annotations

import configparser
import sys
from collections.abc import Callable, Iterator, Mapping
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
# Settings whose entries are dotted names of the project's own modules, classes and functions.
API_NAME_SETTINGS = ("unstructured_task_allow", "cancel_scope_managers", "context_manager_decorators", "spawn_functions")


class ConfigError(Exception):
    """A setting the plugin cannot use; the message names the file, the key and what it expects."""


@dataclass(frozen=True)
class Settings:
    # Whose cancellation a broad ``except`` can meet: "auto" decides per module from its imports.
    libraries: tuple[str, ...] = ("auto",)
    # Fully qualified functions/classes (or modules) inside which ``unstructured-task`` is silent.
    unstructured_task_allow: tuple[str, ...] = ()
    # Last evidence level for untyped receivers: a name ``loop``/``_loop``/``*_loop`` is an event loop.
    unstructured_task_loop_names: bool = True
    # Last evidence level for a call given to ensure_future, shield, wait_for or gather: one nothing
    # says anything about is a coroutine.
    unstructured_task_untyped_calls: bool = True
    # Analyse functions without annotations too (mypy itself skips their bodies by default).
    check_unannotated: bool = True
    # The plugin's own switch for its codes: works where mypy's options cannot name them (the
    # daemon, mypy < 1.19).  Disabling a code covers its sub-codes unless one is enabled.
    disable_error_code: tuple[str, ...] = ()
    enable_error_code: tuple[str, ...] = ()
    # The project's own API, by fully qualified name (classes, functions, methods):
    # what ``with``/``async with`` of it (or of a call of it) opens a cancel scope;
    cancel_scope_managers: tuple[str, ...] = ()
    # decorators that make a generator a context manager (its ``yield`` is the managed block);
    context_manager_decorators: tuple[str, ...] = ()
    # functions that start a task no task group owns, as ``asyncio.create_task`` does.
    spawn_functions: tuple[str, ...] = ()

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

    def switches_on(self, code: ErrorCode) -> bool:
        """Whether ``enable_error_code`` switches on a code that is off by default."""
        return not code.default_enabled and code.code in self.enable_error_code

    def api_names(self) -> Iterator[tuple[str, str]]:
        """Every ``(setting, entry)`` that names a module, class or function of the project."""
        for setting in API_NAME_SETTINGS:
            for name in getattr(self, setting):
                yield setting, name

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
                return _from_toml(tomllib.load(handle), config_file)
        # ``RawConfigParser.read`` skips a missing file silently; ``read_file`` does not.
        parser = configparser.RawConfigParser()
        with open(config_file, encoding="utf-8") as handle:
            parser.read_file(handle)
        section = dict(parser[SECTION]) if parser.has_section(SECTION) else {}
        return _settings(section, f"{config_file}: [{SECTION}]", from_ini=True)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, configparser.Error) as problem:
        # Parser messages can span lines (configparser lists each bad line); keep one line.
        detail = " ".join(str(problem).split())
        raise ConfigError(f"{config_file}: cannot read the {SECTION} settings: {detail}") from problem


def _from_toml(document: Mapping[str, Any], config_file: str) -> Settings:
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{config_file}: [tool] must be a table; got {tool!r}")
    misspelled = SECTION.replace("_", "-")
    if misspelled in tool:
        raise ConfigError(f"{config_file}: [tool.{misspelled}] is not read; the section is [tool.{SECTION}]")
    where = f"{config_file}: [tool.{SECTION}]"
    table = tool.get(SECTION, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of settings; got {table!r}")
    return _settings(table, where, from_ini=False)


def _settings(raw: Mapping[str, Any], where: str, *, from_ini: bool) -> Settings:
    known = {field.name: field for field in fields(Settings)}
    spelled: dict[str, str] = {}  # setting name -> the key it was given as
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"{where}: unknown key {key!r}; known keys: {', '.join(sorted(known))}")
        if name in spelled:
            raise ConfigError(f"{where}: {spelled[name]!r} and {key!r} are the same setting; keep one")
        spelled[name] = key
        if isinstance(known[name].default, bool):
            values[name] = _boolean(value, key, where, from_ini=from_ini)
        else:
            values[name] = _names(value, key, where, from_ini=from_ini)
            NAME_CHECKS[name](values[name], value, key, where)
    return Settings(**values)


def _boolean(value: Any, key: str, where: str, *, from_ini: bool) -> bool:
    if isinstance(value, bool):
        return value
    # The spellings mypy's own ini options accept (yes/no, on/off, 1/0, true/false).
    if from_ini and isinstance(value, str) and value.strip().lower() in configparser.RawConfigParser.BOOLEAN_STATES:
        return configparser.RawConfigParser.BOOLEAN_STATES[value.strip().lower()]
    raise ConfigError(f"{where}: {key!r} must be a boolean (true or false); got {value!r}")


def _names(value: Any, key: str, where: str, *, from_ini: bool) -> tuple[str, ...]:
    if from_ini and isinstance(value, str):
        return tuple(item.strip() for item in value.replace("\n", ",").split(",") if item.strip())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ConfigError(f"{where}: {key!r} must be a list of strings; got {value!r}")


def _check_libraries(libraries: tuple[str, ...], value: Any, key: str, where: str) -> None:
    # An empty list would silently switch off every finding that depends on the libraries.
    if not libraries:
        raise ConfigError(f"{where}: {key!r} takes one or more of {', '.join(LIBRARY_CHOICES)}; got {value!r}")
    for library in libraries:
        if library not in LIBRARY_CHOICES:
            raise ConfigError(f"{where}: {key!r} takes {', '.join(LIBRARY_CHOICES)}; got {library!r}")
    if "auto" in libraries and len(set(libraries)) > 1:
        raise ConfigError(
            f"{where}: {key!r}: 'auto' detects the libraries per module and cannot be combined with others; got {value!r}"
        )


def _check_dotted_names(names: tuple[str, ...], value: Any, key: str, where: str) -> None:
    # A path or a typo would never match a function's full name, so nothing would be allowed.
    for name in names:
        if not all(part.isidentifier() for part in name.split(".")):
            raise ConfigError(f"{where}: {key!r} takes dotted names such as 'myapp.supervisor.Supervisor'; got {name!r}")


def _check_plugin_codes(codes: tuple[str, ...], value: Any, key: str, where: str) -> None:
    unknown = sorted(set(codes) - set(PLUGIN_CODES))
    if unknown:
        raise ConfigError(f"{where}: {key!r} takes this plugin's codes ({', '.join(PLUGIN_CODES)}); got {', '.join(unknown)}")


NAME_CHECKS: dict[str, Callable[[tuple[str, ...], Any, str, str], None]] = {
    "libraries": _check_libraries,
    **{setting: _check_dotted_names for setting in API_NAME_SETTINGS},
    "disable_error_code": _check_plugin_codes,
    "enable_error_code": _check_plugin_codes,
}
