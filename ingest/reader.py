"""The reader boundary: one PDF file in, a ParsedDocument out, or an IngestError that says why not."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pdfplumber

from systemfel.ingest.blocks import BlockBuilder, LaidBlock, body_font_size
from systemfel.ingest.errors import IngestError
from systemfel.ingest.furniture import FurnitureDetector
from systemfel.ingest.layout import Line, PageLayout, Table, Word, insert_rows, shaded_boxes, table_rows
from systemfel.ingest.metadata import from_pdf_info
from systemfel.ingest.ocr import MIN_TEXT_CHARS, OcrPage, OcrSettings, OcrUnavailable, even_sizes, read_pages
from systemfel.ingest.passages import PassageSplitter
from systemfel.base.records import Block, DocumentMeta, Passage

log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 2000
DEFAULT_MAX_BYTES = 200 * 1024 * 1024


@dataclass
class ParsedDocument:
    pages: int
    blocks: list[Block]
    passages: list[Passage]
    pdf_meta: DocumentMeta = field(default_factory=DocumentMeta)
    warnings: list[str] = field(default_factory=list)  # Swedish, per page (OCR)
    ocr_pages: list[OcrPage] = field(default_factory=list)  # pages OCR read in this call (to cache)


@dataclass
class _RawPage:
    number: int
    width: float
    height: float
    words: list[Word]
    rects: list[dict]
    images: int
    tables: list[Table] = field(default_factory=list)

    @property
    def needs_ocr(self) -> bool:
        """An image and (almost) no text layer: a scan, maybe with a stray page number on top."""
        return self.images > 0 and sum(c.isalnum() for w in self.words for c in w.text) < MIN_TEXT_CHARS

    def take_ocr(self, page: OcrPage) -> None:
        """The OCR words instead of the (empty or garbage) text layer, in the scan's upright frame."""
        if page.words:
            self.words, self.width, self.height = page.words, page.width, page.height
            self.tables = []
            self.rects = [{"x0": x0, "top": top, "x1": x1, "bottom": bottom, "fill": True, "non_stroking_color": (0.9,)}
                          for x0, top, x1, bottom in page.boxes]  # fmt: skip


def _check_file(path: Path, max_bytes: int) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError("corrupt", f"Filen {path.name} går inte att läsa: {exc.strerror or exc}.") from exc
    if size == 0:
        raise IngestError("empty", f"Filen {path.name} är tom (0 byte).")
    if size > max_bytes:
        raise IngestError(
            "too_large",
            f"Filen {path.name} är för stor ({size / 1e6:.0f} MB; gränsen är {max_bytes / 1e6:.0f} MB).",
        )
    with path.open("rb") as handle:
        head = handle.read(1024)
    if b"%PDF-" not in head:
        raise IngestError("not_pdf", f"Filen {path.name} är ingen PDF-fil (den saknar PDF-huvud).")


def _is_password_error(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        name = type(exc).__name__
        if name in ("PDFPasswordIncorrect", "PDFEncryptionError", "PDFEncryptionWarning") or "password" in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__ or (exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None)
    return False


def _corrupt(path: Path, exc: BaseException) -> IngestError:
    if _is_password_error(exc):
        return IngestError(
            "encrypted",
            f"Filen {path.name} är skyddad med lösenord och kan inte läsas. Spara en kopia utan lösenord och läs in den.",
        )
    return IngestError("corrupt", f"Filen {path.name} är trasig och kan inte läsas ({type(exc).__name__}).")


def _extract_pages(path: Path, max_pages: int) -> tuple[list[_RawPage], dict]:
    """Everything we need from pdfplumber, with its exceptions turned into IngestError."""
    try:
        pdf = pdfplumber.open(path)
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for bad files
        raise _corrupt(path, exc) from exc
    try:
        try:
            n_pages = len(pdf.pages)
            info = dict(pdf.metadata or {})
        except Exception as exc:  # noqa: BLE001
            raise _corrupt(path, exc) from exc
        if n_pages > max_pages:
            raise IngestError(
                "too_many_pages", f"Filen {path.name} har {n_pages} sidor; gränsen är {max_pages} sidor."
            )
        if n_pages == 0:
            raise IngestError("empty", f"Filen {path.name} har inga sidor.")
        pages: list[_RawPage] = []
        failed = 0
        for number, page in enumerate(pdf.pages, start=1):
            try:
                words = page.extract_words(extra_attrs=["fontname", "size"], keep_blank_chars=False)
                rects = page.rects
                images = len(page.images)
                width, height = float(page.width), float(page.height)
                tables = _ruled_tables(page)
            except Exception as exc:  # noqa: BLE001 - one broken page must not lose the rest
                if _is_password_error(exc):
                    raise _corrupt(path, exc) from exc
                log.warning("page %d of %s cannot be read: %s", number, path.name, exc)
                failed += 1
                continue
            finally:
                page.close()  # frees the page's cached objects: keeps memory flat on long files
            pages.append(_RawPage(number, width, height, [Word.from_plumber(w) for w in words], rects, images, tables))
        if failed and not pages:
            raise IngestError("corrupt", f"Filen {path.name} är trasig: ingen sida gick att läsa.")
        return pages, info
    finally:
        try:
            pdf.close()  # walks the page tree again, which raises on a broken one
        except Exception as exc:  # noqa: BLE001 - closing must not mask the real outcome
            log.debug("closing %s failed: %s", path.name, exc)


def _ruled_tables(page) -> list[Table]:
    """Tables drawn with rules, at least two rows by two columns (a shaded quote box is one
    cell and stays text). Only pages with several rules are searched: it is the slow part."""
    if len(page.lines) + len(page.rects) < 4:
        return []
    tables = []
    for found in page.find_tables():
        rows = [list(row.cells) for row in found.rows]
        if len(rows) >= 2 and max((sum(c is not None for c in row) for row in rows), default=0) >= 2:
            tables.append(Table(bbox=tuple(found.bbox), rows=rows))
    return tables


def _no_text_error(path: Path, pages: list[_RawPage], ocr_note: str, warnings: list[str]) -> IngestError:
    if any(p.images for p in pages):
        if not ocr_note:  # OCR ran and found nothing to read
            return IngestError(
                "no_text", f"Filen {path.name} saknar läsbar text: OCR hittade ingen text. {' '.join(warnings)}".strip()
            )
        return IngestError(
            "no_text",
            f"Filen {path.name} saknar textlager: sidorna är bilder (troligen inskannade). {ocr_note} "
            "Gör annars en OCR-tolkning först, till exempel med ocrmypdf (ocrmypdf -l swe in.pdf ut.pdf), och läs in resultatet.",
        )
    return IngestError("no_text", f"Filen {path.name} innehåller ingen text (sidorna är tomma). OCR kan behövas.")


class DocumentReader:
    """PDF -> blocks -> passages. Holds the stage objects, so callers can tune them."""

    def __init__(
        self,
        layout: PageLayout | None = None,
        furniture: FurnitureDetector | None = None,
        builder: BlockBuilder | None = None,
        splitter: PassageSplitter | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        ocr: OcrSettings | None = None,
    ):
        self.ocr = ocr or OcrSettings()
        self.layout = layout or PageLayout()
        self.furniture = furniture or FurnitureDetector()
        self.builder = builder or BlockBuilder()
        self.splitter = splitter or PassageSplitter()
        self.max_pages = max_pages
        self.max_bytes = max_bytes

    def read(self, path: Path) -> ParsedDocument:
        path = Path(path)
        _check_file(path, self.max_bytes)
        raw_pages, info = _extract_pages(path, self.max_pages)
        warnings, fresh, ocr_note = self._read_scans(path, raw_pages)
        if not any(p.words for p in raw_pages):
            error = _no_text_error(path, raw_pages, ocr_note, warnings)
            error.ocr_pages = fresh
            raise error
        try:
            parsed = self._analyse(raw_pages, info)
            parsed.warnings, parsed.ocr_pages = warnings, fresh
            return parsed
        except IngestError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug of ours must not stop a batch, but must be seen
            log.exception("internal error while laying out %s", path)
            raise IngestError(
                "corrupt", f"Filen {path.name} kunde inte tolkas (internt fel: {type(exc).__name__}). Felet är loggat."
            ) from exc

    def _read_scans(self, path: Path, raw_pages: list[_RawPage]) -> tuple[list[str], list[OcrPage], str]:
        """OCR of the pages without a text layer: (warnings, pages read now, why OCR did not run)."""
        scanned = [p for p in raw_pages if p.needs_ocr]
        if not scanned:
            return [], [], ""
        if not self.ocr.enabled:
            return [], [], "OCR-läsning är avstängd (--no-ocr)."
        try:
            pages = read_pages(path, [p.number for p in scanned], self.ocr)
        except OcrUnavailable as exc:
            log.warning("%s: %s", path.name, exc)
            return [str(exc)], [], str(exc)
        warnings = []
        for raw in scanned:
            page = pages[raw.number]
            raw.take_ocr(page)
            if page.warning:
                warnings.append(page.warning)
        even_sizes([w for raw in scanned for w in raw.words])
        fresh = [page for number, page in sorted(pages.items()) if number not in self.ocr.cache]
        log.info("%s: %d pages read by OCR (%d from the cache)", path.name, len(scanned), len(scanned) - len(fresh))
        return warnings, fresh, ""

    def _analyse(self, raw_pages: list[_RawPage], info: dict) -> ParsedDocument:
        page_lines: list[list[Line]] = []
        for raw in raw_pages:
            boxes = shaded_boxes(raw.rects, raw.width, raw.height)
            words, rows = table_rows(raw.words, raw.tables, raw.number, raw.width, raw.height)
            lines = self.layout.lines(words, raw.number, raw.width, raw.height, boxes)
            page_lines.append(insert_rows(lines, rows))
        content = self.furniture.fit(page_lines).transform(page_lines)
        cover = _cover_page(content)
        lines = [line for page in content for line in page]
        laid = self.builder.build(lines, cover_page=cover)
        cover_title = _cover_title(laid)
        passages = self.splitter.split(laid)
        return ParsedDocument(
            pages=max((p.number for p in raw_pages), default=0),
            blocks=[b.to_block() for b in laid],
            passages=passages,
            pdf_meta=from_pdf_info(info, cover_title=cover_title),
        )


def _cover_page(pages: list[list[Line]]) -> int | None:
    """Page 1 is a cover when it holds few words, one of them set much larger than the text after it."""
    if len(pages) < 3 or not pages[0]:
        return None
    first = pages[0]
    words = sum(len(line.text.split()) for line in first)
    rest = [line for page in pages[1:] for line in page]
    if not rest:
        return None
    body = body_font_size(rest)
    if words <= 60 and max(line.size for line in first) >= 1.5 * body:
        return first[0].page
    return None


def _cover_title(blocks: list[LaidBlock]) -> str:
    cover = [b for b in blocks if b.cover]
    if not cover:
        return ""
    biggest = max(cover, key=lambda b: b.first.size)
    return biggest.text


def read_document(
    path: Path, *, max_pages: int | None = None, max_bytes: int = DEFAULT_MAX_BYTES, ocr: OcrSettings | None = None
) -> ParsedDocument:
    """Parse one PDF into blocks and passages, scanned pages by OCR; raises IngestError for
    files that cannot be read."""
    reader = DocumentReader(max_pages=max_pages or DEFAULT_MAX_PAGES, max_bytes=max_bytes or DEFAULT_MAX_BYTES, ocr=ocr)
    return reader.read(Path(path))
