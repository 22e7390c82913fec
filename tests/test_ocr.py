"""Scanned reports read by OCR (issue 15), on scans made here from a corpus report: its pages
rendered at 200 dpi, turned a little, greyed and speckled, saved as an image-only PDF.

OCR costs 5-20 s a page on this machine, so the scans hold only a few pages, chosen for the
gold keys on them, and each is read once per module."""
from __future__ import annotations

import csv
import functools
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
import pytesseract
from PIL import Image
from rapidfuzz import fuzz

from systemfel.base.names import ocr_note
from systemfel.base.textnorm import normalize_for_match
from systemfel.cli import main
from systemfel.ingest import read_document
from systemfel.ingest.ocr import OcrSettings, installed_languages, resolve_lang
from systemfel.ingest.quality import running_lines
from systemfel.nlp.reader import PassageReader
from systemfel.pipeline import BuildOptions, build
from systemfel.store import Store
from tests.conftest import CORPUS, DATA
from tests.scans import image_pdf, scan_image, scanned_copy

REPORT = CORPUS / "po-varmland-2021.pdf"
SCANNED = [4, 5, 8, 11]  # pages of REPORT with 17 gold keys between them (deficiencies and good examples)


def tesseract_ready() -> bool:
    try:
        return "swe" in installed_languages()
    except Exception:  # noqa: BLE001 - any failure means: no OCR here
        return False


needs_tesseract = pytest.mark.skipif(not tesseract_ready(), reason="Tesseract med svensk modell saknas (make ocr-deps)")


@functools.lru_cache(maxsize=None)
def _born_passages():
    return read_document(REPORT).passages


def gold_keys(pages: list[int]) -> list[str]:
    """The gold keys of REPORT that the born-digital reading finds on these pages."""
    keys = [item["key"] for item in map(json.loads, (DATA / "dev.jsonl").read_text().splitlines())
            if item["doc"] == REPORT.stem]  # fmt: skip
    return [k for k in keys if any(normalize_for_match(k) in normalize_for_match(p.text) and p.page in pages
                                   for p in _born_passages())]  # fmt: skip


def best_match(key: str, passages) -> tuple[int, object]:
    """(score, passage): the passage holding the key with the fewest differing characters."""
    key = normalize_for_match(key)
    scored = [(fuzz.partial_ratio(key, normalize_for_match(p.text)), p) for p in passages]
    return max(scored, key=lambda pair: pair[0])


# ------------------------------------------------------------------ a scanned report
@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scan")
    path = scanned_copy(REPORT, SCANNED, folder / "scanned.pdf")
    parsed = read_document(path, ocr=OcrSettings(workers=2))
    # the born-digital version of the same pages
    born_path = folder / "born.pdf"
    source, born = pdfium.PdfDocument(REPORT), pdfium.PdfDocument.new()
    born.import_pages(source, [n - 1 for n in SCANNED])
    born.save(born_path)
    return path, parsed, read_document(born_path)


@needs_tesseract
def test_scanned_report_keys_found(scanned):
    _, parsed, _ = scanned
    keys = gold_keys(SCANNED)
    assert len(keys) >= 15
    found = [k for k in keys if best_match(k, parsed.passages)[0] >= 90]
    assert len(found) / len(keys) >= 0.95, sorted(set(keys) - set(found))


@needs_tesseract
def test_scanned_report_has_no_running_header_or_page_number(scanned):
    _, parsed, _ = scanned
    headers = running_lines(REPORT)
    assert headers  # the report has a running header to remove
    for passage in parsed.passages:
        text = normalize_for_match(passage.text)
        assert not any(fuzz.partial_ratio(normalize_for_match(h), text) >= 90 for h in headers), passage.text
        assert not text.strip().isdigit()


@needs_tesseract
def test_scanned_passage_lengths_like_born_digital(scanned):
    _, parsed, born = scanned
    words = [len(p.text.split()) for p in parsed.passages]
    born_words = [len(p.text.split()) for p in born.passages]
    assert 0.75 <= statistics.median(words) / statistics.median(born_words) <= 1.33
    assert 0.75 <= len(words) / len(born_words) <= 1.33
    assert max(words) <= 250  # the splitter's limit holds


@needs_tesseract
def test_scanned_keys_read_as_the_same_kind_and_level(scanned):
    _, parsed, born = scanned
    reader = PassageReader()
    ours = dict(zip(map(id, parsed.passages), reader.label(parsed.passages)))
    theirs = dict(zip(map(id, born.passages), reader.label(born.passages)))
    same = total = 0
    for key in gold_keys(SCANNED):
        score, passage = best_match(key, parsed.passages)
        born_passage = best_match(key, born.passages)[1]
        if score < 90:
            continue
        total += 1
        a, b = ours[id(passage)], theirs[id(born_passage)]
        same += (a.kind, a.level) == (b.kind, b.level)
    assert total >= 15 and same / total >= 0.9


@needs_tesseract
def test_scanned_passages_carry_ocr_confidence(scanned):
    _, parsed, born = scanned
    assert parsed.passages and all(p.ocr and 50 <= p.ocr_confidence <= 100 for p in parsed.passages)
    assert not any(p.ocr or p.ocr_confidence is not None for p in born.passages)
    assert sorted(p.number for p in parsed.ocr_pages) == [1, 2, 3, 4]


@needs_tesseract
def test_cached_pages_are_not_read_again(scanned, monkeypatch):
    path, parsed, _ = scanned

    def no_ocr(*args, **kwargs):
        raise AssertionError("OCR ran on a cached page")

    monkeypatch.setattr(pytesseract, "image_to_pdf_or_hocr", no_ocr)
    monkeypatch.setattr(pytesseract, "image_to_osd", no_ocr)
    again = read_document(path, ocr=OcrSettings(cache={p.number: p for p in parsed.ocr_pages}))
    assert [p.text for p in again.passages] == [p.text for p in parsed.passages]
    assert again.ocr_pages == []  # nothing new to cache


# ------------------------------------------------------------------ a mixed, awkward file
MIXED_TEXT_PAGE, MIXED_UPSIDE_DOWN, MIXED_SIDEWAYS = 7, 9, 10


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Page 1 a text page of REPORT, 2 a scan upside down, 3 a scan fed in sideways, 4 a blank
    scan, 5 a photo, 6 an image too small to read. (An upright scan is the `scanned` fixture's.)"""
    folder = tmp_path_factory.mktemp("mixed")
    scans = [scan_image(REPORT, MIXED_UPSIDE_DOWN, turn=180), scan_image(REPORT, MIXED_SIDEWAYS, turn=90)]
    blank = Image.new("L", scans[0].size, 236)
    y, x = np.mgrid[0 : scans[0].height, 0 : scans[0].width]
    photo = Image.fromarray((128 + 60 * np.sin(x / 90.0) * np.cos(y / 130.0)).astype(np.uint8))
    image_pdf([*scans, blank, photo], folder / "scans.pdf")
    Image.new("L", (40, 30), 0).save(folder / "tiny.pdf", resolution=10)
    out = pdfium.PdfDocument.new()
    out.import_pages(pdfium.PdfDocument(REPORT), [MIXED_TEXT_PAGE - 1])
    out.import_pages(pdfium.PdfDocument(folder / "scans.pdf"))
    out.import_pages(pdfium.PdfDocument(folder / "tiny.pdf"))
    out.save(folder / "mixed.pdf")
    return read_document(folder / "mixed.pdf", ocr=OcrSettings(workers=2))


@needs_tesseract
def test_mixed_pdf_reads_text_pages_as_text_and_scans_by_ocr(mixed):
    text_keys, scan_keys = gold_keys([MIXED_TEXT_PAGE]), gold_keys([MIXED_UPSIDE_DOWN])
    assert text_keys and scan_keys
    for key in text_keys:  # verbatim, from the text layer
        passage = next(p for p in mixed.passages if normalize_for_match(key) in normalize_for_match(p.text))
        assert passage.page == 1 and not passage.ocr
    for key in scan_keys:
        score, passage = best_match(key, mixed.passages)
        assert score >= 90 and passage.page == 2 and passage.ocr


@needs_tesseract
def test_pages_upside_down_or_sideways_are_turned_upright(mixed):
    for page, number in ((2, MIXED_UPSIDE_DOWN), (3, MIXED_SIDEWAYS)):
        keys = gold_keys([number])
        assert keys
        for key in keys:
            score, passage = best_match(key, mixed.passages)
            assert score >= 90 and passage.page == page, key


@needs_tesseract
def test_blank_photo_and_tiny_pages_are_reported_per_page(mixed):
    assert len(mixed.warnings) == 3, mixed.warnings
    blank, photo, tiny = mixed.warnings
    assert blank.startswith("Sida 4") and "ingen läsbar text" in blank
    assert photo.startswith("Sida 5") and "ingen läsbar text" in photo
    assert tiny.startswith("Sida 6") and "för liten" in tiny
    assert not any(p.page >= 4 for p in mixed.passages)


# ------------------------------------------------------------------ builds
@pytest.fixture(scope="module")
def one_page_scan(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("one")
    return scanned_copy(REPORT, [12], folder / "skannad.pdf")


@needs_tesseract
def test_rebuild_takes_ocr_from_the_store(one_page_scan, tmp_path, monkeypatch, capsys):
    options = BuildOptions(workers=0, analyse=False)
    with Store(tmp_path / "ocr.db") as store:
        first = build(store, [one_page_scan], options=options)
        assert [f.status for f in first.files] == ["new"]
        doc = store.documents()[0]
        assert store.ocr_pages(doc.sha256, resolve_lang(None)).keys() == {1}
        texts = [(p.text, p.ocr, p.ocr_confidence) for p in store.passages()]
        assert texts and all(ocr and confidence > 50 for _, ocr, confidence in texts)

        def no_ocr(*args, **kwargs):
            raise AssertionError("OCR ran again on a file read before")

        monkeypatch.setattr(pytesseract, "image_to_pdf_or_hocr", no_ocr)
        monkeypatch.setattr(pytesseract, "image_to_osd", no_ocr)
        store.delete_document(doc.id)  # the file must be read again, its OCR not
        second = build(store, [one_page_scan], options=options)
        assert [f.status for f in second.files] == ["new"]
        assert [(p.text, p.ocr, p.ocr_confidence) for p in store.passages()] == texts
        badge = ocr_note(store.passages()[0])  # the explorer's card, the Excel column and the QDPX note
        assert badge.startswith("OCR-läst, säkerhet ") and badge.endswith(" %")
    assert main(["export", "passages", "--db", str(tmp_path / "ocr.db"), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and all(r["ocr"] == "True" and float(r["ocr_confidence"]) > 50 for r in rows)


def run_build(scan: Path, db: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "systemfel.cli", "build", str(scan), "--db", str(db), "--no-analysis",
         "--workers", "1", *extra],
        capture_output=True, text=True, timeout=600, env=env, cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip


def test_no_ocr_reports_the_scan_as_without_text_layer(one_page_scan, tmp_path):
    result = run_build(one_page_scan, tmp_path / "a.db", "--no-ocr")
    assert result.returncode == 1
    assert "saknar textlager" in result.stdout and "--no-ocr" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_tesseract_is_explained_in_swedish(one_page_scan, tmp_path):
    no_tools = tmp_path / "bin"
    no_tools.mkdir()
    env = {**os.environ, "PATH": str(no_tools)}
    assert shutil.which("tesseract", path=env["PATH"]) is None
    result = run_build(one_page_scan, tmp_path / "b.db", env=env)
    assert result.returncode == 1
    assert "Tesseract (OCR) är inte installerat" in result.stdout and "saknar textlager" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
