"""What the tests need to know about the mypy they run against (the suite runs on several)."""

from __future__ import annotations

import re
import shutil
import tempfile

import pytest
from mypy.version import __version__ as mypy_version

_match = re.match(r"(\d+)\.(\d+)", mypy_version)
MYPY_RELEASE = (int(_match.group(1)), int(_match.group(2))) if _match else (0, 0)

# mypy accepts plugin codes in enable/disable_error_code (config file, command line) from 1.19.
needs_plugin_codes_in_mypy_options = pytest.mark.skipif(
    MYPY_RELEASE < (1, 19), reason="mypy < 1.19 rejects plugin codes in its own options (README)"
)
# --num-workers: 1.20.2's crashes without any plugin; it works from 2.0.
needs_parallel_workers = pytest.mark.skipif(MYPY_RELEASE < (2, 0), reason="mypy --num-workers works from 2.0")
# mypy 1.13's daemon crashes by itself (KeyError 'types' in its checker, no plugin loaded) in
# the editor sequences of tests/test_dmypy.py; daemon parity is tested from 1.19.
needs_working_daemon = pytest.mark.skipif(
    MYPY_RELEASE < (1, 19), reason="mypy < 1.19's daemon crashes on these sequences without any plugin"
)


def pytest_configure(config: pytest.Config) -> None:
    """A mypy cache of its own for this run of the suite.

    pytest-mypy-plugins keeps the cache of its mypy runs under its testing base, the system's
    temporary directory unless told otherwise, one per xdist worker but the same for every mypy
    release and every suite on the machine: a run of the suite on another mypy, started before,
    left a cache that made mypy 2.0.0 crash while reading it.
    """
    if getattr(config.option, "mypy_testing_base", None) == tempfile.gettempdir():
        config.option.mypy_testing_base = tempfile.mkdtemp(prefix="mypy-cancel-plugin-tests-")
        config.add_cleanup(lambda: shutil.rmtree(config.option.mypy_testing_base, ignore_errors=True))
