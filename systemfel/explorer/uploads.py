"""Saving uploaded PDFs under the database's storage folder without letting a name escape it."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

MAX_NAME_LENGTH = 120
FALLBACK_NAME = "uppladdad.pdf"
UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


def safe_filename(name: str) -> str:
    """The basename of an uploaded file with separators, '..' and control characters removed."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = UNSAFE.sub("", name)
    while ".." in name:
        name = name.replace("..", ".")
    name = name.strip(" .")
    if not name:
        return FALLBACK_NAME
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    if len(name) > MAX_NAME_LENGTH:
        name = name[: MAX_NAME_LENGTH - 4].rstrip(" .") + ".pdf"
    return name


def upload_folder(db_path: Path) -> Path:
    """Uploads live beside the database, so a database and its sources move together."""
    return Path(db_path).resolve().parent / "uppladdningar"


def save_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write one upload into `folder`; the result is always a direct child of `folder`."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / safe_filename(name)).resolve()
    if target.parent != folder:
        raise ValueError(f"Ogiltigt filnamn: {name!r}")
    target.write_bytes(data)
    return target
