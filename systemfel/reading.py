"""Reading one file, in a worker process: PDF -> blocks -> passages -> masked -> labels and figures.

Kept apart from the pipeline so a worker imports only ingest/ and nlp/, not the models.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from systemfel.base.filenames import display_name, path_key, printable
from systemfel.base.processes import exit_with_parent
from systemfel.base.records import DocumentMeta, Passage
from systemfel.ingest import read_document
from systemfel.ingest.errors import IngestError
from systemfel.ingest.metadata import load_sidecar, resolve
from systemfel.ingest.ocr import OcrPage, OcrSettings
from systemfel.nlp.pii import PiiDetector
from systemfel.nlp.reader import PassageReader

log = logging.getLogger(__name__)

# Document fields that are free text and so may hold personal data (the year is a number).
MASKED_META_FIELDS = ("org", "region", "title", "report_kind")


class ReadOptions(Protocol):
    """The build options a reader needs (BuildOptions has them)."""

    keep_pii: bool
    meta_overrides: DocumentMeta
    actor_files: tuple[Path, ...]
    max_pages: int | None
    max_bytes: int | None
    workers: int
    ocr: bool
    ocr_lang: str | None


@dataclass
class ReadResult:
    """What a worker hands back for one file: everything to store, or why not."""

    path: str
    sha256: str
    file: str = ""  # the name users see, masked like every stored text
    pages: int = 0
    meta: DocumentMeta | None = None
    blocks: list = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    passage_pii: list[dict[str, int]] = field(default_factory=list)
    labels: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    ocr_pages: list[tuple[int, str]] = field(default_factory=list)  # (page, JSON) OCR read now, for the cache


class FileReader:
    """Turns one PDF into stored-ready records: parse, metadata, mask, label, figures.

    Runs inside a worker process, so it holds its own spaCy pipeline and touches no database.
    """

    def __init__(self, options: ReadOptions):
        self.options = options
        self.reader = PassageReader(actor_paths=tuple(options.actor_files))
        self.pii = PiiDetector(nlp=self.reader.nlp)

    def read(self, path: Path, sha256: str, ocr_cache: dict[int, str] | None = None) -> ReadResult:
        """`ocr_cache`: pages of this file OCR read before (JSON by page number)."""
        kwargs: dict = {"ocr": OcrSettings(
            enabled=self.options.ocr, lang=self.options.ocr_lang, workers=max(1, self.options.workers),
            cache={n: OcrPage.from_json(data) for n, data in (ocr_cache or {}).items()},
        )}  # fmt: skip
        if self.options.max_pages:
            kwargs["max_pages"] = self.options.max_pages
        if self.options.max_bytes:
            kwargs["max_bytes"] = self.options.max_bytes
        warnings: list[str] = []
        try:
            parsed = read_document(path, **kwargs)
            meta = resolve(load_sidecar(path, warnings), parsed.pdf_meta, path, self.options.meta_overrides)
        except IngestError as exc:
            return ReadResult(path_key(path), sha256, file=self._shown(display_name(path)),
                              error=self._shown(printable(exc.message)),
                              ocr_pages=[(page.number, page.to_json()) for page in exc.ocr_pages])  # fmt: skip
        warnings += parsed.warnings
        ocr_pages = [(page.number, page.to_json()) for page in parsed.ocr_pages]
        kept = self.reader.keep_passages(parsed.passages)
        if not kept:  # also a file whose only text is a lead-in line that leads nothing
            return ReadResult(
                path_key(path), sha256, file=self._shown(display_name(path)), pages=parsed.pages,
                error="Ingen brödtext hittades i filen (bara rubriker eller tomma sidor).", ocr_pages=ocr_pages,
            )  # fmt: skip
        texts = [p.text for p in kept] + [h for p in kept for h in p.heading_path]
        known = self.pii.known_names(texts) if not self.options.keep_pii else frozenset()
        passages, blocks, pii_counts = self._mask(kept, parsed.blocks, known)
        labels, figures = self.reader.read(passages, year=meta.year)
        if not self.options.keep_pii:
            meta = self.pii.mask_fields(meta, MASKED_META_FIELDS, known)
            figures = [self.pii.mask_fields(f, ("sentence",), known) for f in figures]
        return ReadResult(
            path=path_key(path),
            sha256=sha256,
            file=self._shown(display_name(path)),
            pages=parsed.pages,
            meta=meta,
            blocks=blocks,
            passages=passages,
            passage_pii=pii_counts,
            labels=labels,
            figures=figures,
            warnings=warnings,
            ocr_pages=ocr_pages,
        )

    def _shown(self, text: str) -> str:
        return text if self.options.keep_pii else self.pii.masked(text)

    def _mask(self, passages: list[Passage], blocks, known: frozenset[str]):
        """Mask personal data in every text and heading before anything is stored, unless the
        user asked to keep it. A name found anywhere in the report (`known`) is masked
        everywhere in it. Counts are of the passage texts (what a reader quotes)."""
        counts = []
        masked_passages = []
        for passage in passages:
            masked, found = self.pii.mask(passage.text, known)
            counts.append(found)
            if not self.options.keep_pii:
                passage = replace(self.pii.mask_fields(passage, ("heading_path",), known), text=masked)
            masked_passages.append(passage)
        if not self.options.keep_pii:
            blocks = [self.pii.mask_fields(b, ("text", "heading_path"), known) for b in blocks]
        return masked_passages, blocks, counts


# One FileReader per worker process: loading spaCy once per worker, not once per file.
_worker_reader: FileReader | None = None


def init_worker(options: ReadOptions, parent_pid: int) -> None:
    global _worker_reader
    logging.basicConfig(level=logging.WARNING)
    exit_with_parent(parent_pid)
    _worker_reader = FileReader(options)


def read_in_worker(path: Path, sha256: str, ocr_cache: dict[int, str] | None = None) -> ReadResult:
    assert _worker_reader is not None
    return _worker_reader.read(path, sha256, ocr_cache)
