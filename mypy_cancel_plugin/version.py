"""Versions: the package's, the rules' logic (for mypy's cache), and the mypy releases supported."""

__version__ = "0.2.0"

# Bump whenever a rule changes what it reports: cached results of older logic are then discarded.
LOGIC_VERSION = 14

# mypy 1.13 is the oldest release whose type-map hand-off the plugin builds on (see
# mypy_internals); releases after the newest tested one run if that hand-off is still there.
MIN_MYPY = (1, 13)
NEWEST_TESTED_MYPY = (2, 4)
SUPPORTED_RANGE = ">=1.13 (tested up to 2.4)"
