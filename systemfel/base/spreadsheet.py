"""Cells that a spreadsheet program must show as text, never run as a formula.

Every CSV and Excel writer (CLI exports, explorer downloads) passes text through `inert`.
"""
from __future__ import annotations

import re

# Characters that XML (and so .xlsx and a REFI-QDA project) cannot hold.
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """A leading apostrophe keeps a quote such as "=HYPERLINK(...)" text when Excel opens the CSV."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value
