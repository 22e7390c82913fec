"""Cells that a spreadsheet program must show as text, never run as a formula.

Every CSV and Excel writer (CLI exports, explorer downloads) passes text through `inert`.
"""
from __future__ import annotations

# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """A leading apostrophe keeps a quote such as "=HYPERLINK(...)" text when Excel opens the CSV."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value
