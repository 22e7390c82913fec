"""Saving uploaded PDFs under the database's storage folder, by content, without letting a name
escape it. Each upload lands in a folder named after its SHA-256, under its own (cleaned)
name: two reports called "rapport.pdf" are two files, and the same report uploaded twice is
one. Nothing is ever replaced because of its name."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import BinaryIO

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


CHUNK = 1 << 20
HASH_FOLDER_LENGTH = 16  # 64 bits of SHA-256: no two reports a user has will share it


def save_upload(folder: Path, name: str, data: bytes | BinaryIO) -> Path:
    """Write one upload to `folder`/<content hash>/<cleaned name>, streamed in chunks from a
    file-like object (or bytes). The result always lies two levels below `folder`."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    clean = safe_filename(name)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".uppladdning-", suffix=".part", delete=False) as tmp:
        try:
            if isinstance(data, (bytes, bytearray, memoryview)):
                digest.update(data)
                tmp.write(data)
            else:
                if hasattr(data, "seek"):
                    data.seek(0)
                for chunk in iter(lambda: data.read(CHUNK), b""):
                    digest.update(chunk)
                    tmp.write(chunk)
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    home = folder / digest.hexdigest()[:HASH_FOLDER_LENGTH]
    target = (home / clean).resolve()
    if target.parent != home or home.parent != folder:
        os.unlink(tmp.name)
        raise ValueError(f"Ogiltigt filnamn: {name!r}")
    home.mkdir(exist_ok=True)
    if target.exists():
        os.unlink(tmp.name)  # the same report, uploaded again under the same name
    else:
        shutil.move(tmp.name, target)
    return target


MAX_UPLOAD_TOTAL_MB = 200  # one batch of uploads; each file is also capped by server.maxUploadSize


def upload_size_problem(sizes: list[int], limit_mb: int = MAX_UPLOAD_TOTAL_MB) -> str | None:
    """A Swedish explanation when one batch of uploads is larger than `limit_mb`, else None."""
    total = sum(sizes)
    if total > limit_mb * 1024 * 1024:
        return (
            f"Filerna är tillsammans {total / 1024 / 1024:.0f} MB; högst {limit_mb} MB kan läsas in åt gången. "
            "Ladda upp dem i flera omgångar, eller läs in dem med `systemfel build`."
        )
    return None


def replace_report(store, old_doc_id: int, new_status: str) -> bool:
    """After the new version of a report was built: remove the old one, but only when the new
    one was stored as a report of its own ("new"). A failed or duplicate upload keeps the old."""
    if new_status != "new":
        return False
    store.delete_document(old_doc_id)
    return True
