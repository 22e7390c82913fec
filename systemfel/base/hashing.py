"""Content hashes: a text's hash keys its vector and corrections; a file's hash makes ingest idempotent."""
from __future__ import annotations

import hashlib
from pathlib import Path


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
