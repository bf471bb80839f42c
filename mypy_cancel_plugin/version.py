"""Versions: the package's, the rules' logic (for mypy's cache), and the mypy range supported."""

__version__ = "0.1.0"

# Bump whenever a rule changes what it reports: cached results of older logic are then discarded.
LOGIC_VERSION = 2

# mypy 2.4 is the first release with a once-per-module call after type checking.
MIN_MYPY = (2, 4)
MAX_MYPY_EXCLUSIVE = (2, 5)
SUPPORTED_RANGE = ">=2.4,<2.5"
