"""Reading one file, in a worker process: PDF -> blocks -> passages -> masked -> labels and figures.

Kept apart from the pipeline so a worker imports only ingest/ and nlp/, not the models.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from systemfel.base.records import DocumentMeta, Passage
from systemfel.ingest import read_document
from systemfel.ingest.errors import IngestError
from systemfel.ingest.metadata import load_sidecar, resolve
from systemfel.nlp.pii import PiiDetector
from systemfel.nlp.reader import PassageReader

log = logging.getLogger(__name__)


class ReadOptions(Protocol):
    """The build options a reader needs (BuildOptions has them)."""

    keep_pii: bool
    meta_overrides: DocumentMeta
    actor_files: tuple[Path, ...]
    max_pages: int | None
    max_bytes: int | None


@dataclass
class ReadResult:
    """What a worker hands back for one file: everything to store, or why not."""

    path: str
    sha256: str
    pages: int = 0
    meta: DocumentMeta | None = None
    blocks: list = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    passage_pii: list[dict[str, int]] = field(default_factory=list)
    labels: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    error: str = ""
    warnings: list[str] = field(default_factory=list)


class FileReader:
    """Turns one PDF into stored-ready records: parse, metadata, mask, label, figures.

    Runs inside a worker process, so it holds its own spaCy pipeline and touches no database.
    """

    def __init__(self, options: ReadOptions):
        self.options = options
        self.reader = PassageReader(actor_paths=tuple(options.actor_files))
        self.pii = PiiDetector()

    def read(self, path: Path, sha256: str) -> ReadResult:
        kwargs = {}
        if self.options.max_pages:
            kwargs["max_pages"] = self.options.max_pages
        if self.options.max_bytes:
            kwargs["max_bytes"] = self.options.max_bytes
        warnings: list[str] = []
        try:
            parsed = read_document(path, **kwargs)
            meta = resolve(load_sidecar(path, warnings), parsed.pdf_meta, path, self.options.meta_overrides)
        except IngestError as exc:
            return ReadResult(str(path), sha256, error=exc.message)
        if not parsed.passages:
            return ReadResult(
                str(path), sha256, pages=parsed.pages,
                error="Ingen brödtext hittades i filen (bara rubriker eller tomma sidor).",
            )  # fmt: skip
        passages, blocks, pii_counts = self._mask(self.reader.keep_passages(parsed.passages), parsed.blocks)
        return ReadResult(
            path=str(path),
            sha256=sha256,
            pages=parsed.pages,
            meta=meta,
            blocks=blocks,
            passages=passages,
            passage_pii=pii_counts,
            labels=self.reader.label(passages),
            figures=self.reader.figures(passages, year=meta.year),
            warnings=warnings,
        )

    def _mask(self, passages: list[Passage], blocks):
        """Mask personal data before anything is stored, unless the user asked to keep it."""
        counts = []
        masked_passages = []
        for passage in passages:
            masked, found = self.pii.mask(passage.text)
            counts.append(found)
            masked_passages.append(passage if self.options.keep_pii else replace(passage, text=masked))
        if not self.options.keep_pii:
            blocks = [replace(b, text=self.pii.mask(b.text)[0]) for b in blocks]
        return masked_passages, blocks, counts


# One FileReader per worker process: loading spaCy once per worker, not once per file.
_worker_reader: FileReader | None = None


def init_worker(options: ReadOptions) -> None:
    global _worker_reader
    logging.basicConfig(level=logging.WARNING)
    _worker_reader = FileReader(options)


def read_in_worker(path: Path, sha256: str) -> ReadResult:
    assert _worker_reader is not None
    return _worker_reader.read(path, sha256)
