"""File names as text that can be stored and printed, whatever bytes the file system holds.

A name written on another system may not be UTF-8 ("r\\xe5pport.pdf" in Latin-1); Python keeps
such bytes as lone surrogates, which SQLite and a UTF-8 terminal refuse.
"""
from __future__ import annotations

import os
from pathlib import Path


def path_key(path: str | Path) -> str:
    """The path as valid text, one to one with the bytes: odd bytes written as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def display_name(path: str | Path) -> str:
    """The file name as a user reads it: UTF-8, else Windows-1252/Latin-1 (what Swedish names
    from older systems are written in)."""
    raw = os.fsencode(Path(path).name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def printable(text: str) -> str:
    """Any text with lone surrogates made visible, so it can be stored and printed."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") if text else text
