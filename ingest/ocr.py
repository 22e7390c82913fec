"""Scanned pages: render with pdfium at the image's own resolution, read with Tesseract (Swedish).

Tesseract's hOCR gives word boxes, word confidences and, per line, the line box, the font
size estimate (``x_size``) and the baseline slope. Words are turned into the same ``Word``
objects pdfplumber gives, in PDF points, each carrying its line's box and size, so the
born-digital layout code (columns, headers, hyphenation, bullets) reads OCR pages unchanged.
Tesseract runs as its own process per page, so pages are read in parallel from threads.
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import statistics
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytesseract
from lxml import html
from PIL import Image, ImageFilter
from scipy import ndimage

from systemfel.ingest.layout import Word

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 20  # a page with an image and fewer letters and digits in its text layer is a scan
MIN_DPI = 200  # Tesseract reads 200 dpi scans almost without error, a quarter of that badly
MAX_DPI = 400  # more only costs time
MIN_PIXELS = 300  # an image smaller than this (either side) holds no readable page of text
MIN_PAGE_CONFIDENCE = 45.0  # a page whose words Tesseract trusts less is a photo or noise
MIN_WORD_CONFIDENCE = 20.0
SAME_SIZE = 0.12  # line sizes this close to the body size are the body size (OCR's estimate wavers)
_TITLE_FIELD = re.compile(r"(\w+) ([^;]+)")


class OcrUnavailable(Exception):
    """Tesseract or the language model is missing; the message is Swedish."""


@dataclass
class OcrSettings:
    """How a reader treats pages without a text layer."""

    enabled: bool = True
    lang: str | None = None  # Tesseract languages ("swe+eng"); None: swe, plus eng when installed
    workers: int = 1  # pages read at the same time
    cache: Mapping[int, "OcrPage"] = field(default_factory=dict)  # pages read before, by page number


@dataclass
class OcrPage:
    """One page as OCR read it: words in PDF points (with confidences), or why there are none."""

    number: int
    width: float
    height: float
    words: list[Word] = field(default_factory=list)
    boxes: list[list[float]] = field(default_factory=list)  # shaded boxes (quote boxes): x0, top, x1, bottom
    rotated: int = 0  # degrees the scan was turned to read it
    warning: str = ""  # Swedish, per page

    @property
    def confidence(self) -> float | None:
        scores = [w.conf for w in self.words if w.conf is not None]
        return statistics.fmean(scores) if scores else None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> OcrPage:
        data = json.loads(text)
        data["words"] = [Word(**w) for w in data["words"]]
        return cls(**data)


@lru_cache(maxsize=1)
def installed_languages() -> frozenset[str]:
    """Tesseract's language models; OcrUnavailable (Swedish) when Tesseract is not installed."""
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError) as exc:
        raise OcrUnavailable(
            "Tesseract (OCR) är inte installerat, så inskannade sidor kan inte läsas. "
            "Installera det med `make ocr-deps` (Debian: tesseract-ocr tesseract-ocr-swe)."
        ) from exc


def resolve_lang(lang: str | None) -> str:
    """The languages to read with: the user's, else Swedish plus English when that is installed."""
    if lang:
        return lang
    try:
        return "swe+eng" if "eng" in installed_languages() else "swe"
    except OcrUnavailable:
        return "swe+eng"


def check_languages(lang: str) -> None:
    installed = installed_languages()
    missing = [code for code in lang.split("+") if code not in installed]
    if missing:
        raise OcrUnavailable(
            f"Tesseract saknar språkmodellen {', '.join(missing)} (installerade: {', '.join(sorted(installed))}). "
            "Installera till exempel tesseract-ocr-swe, eller välj andra språk med --ocr-lang."
        )


def read_pages(path: Path, numbers: Iterable[int], settings: OcrSettings) -> dict[int, OcrPage]:
    """OCR of the given pages (1-based) of one PDF; pages in ``settings.cache`` are not read again.

    Raises OcrUnavailable when Tesseract or the languages are missing and a page needs reading.
    """
    numbers = list(numbers)
    out = {n: settings.cache[n] for n in numbers if n in settings.cache}
    todo = [n for n in numbers if n not in out]
    if not todo:
        return out
    lang = resolve_lang(settings.lang)
    check_languages(lang)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one thread per Tesseract: pages run side by side instead
    pdf = pdfium.PdfDocument(str(path))
    try:
        with ThreadPoolExecutor(max_workers=max(1, settings.workers)) as pool:
            chunk = max(1, settings.workers) * 2  # rendered images wait in memory only a few at a time
            for start in range(0, len(todo), chunk):
                jobs = [_render(pdf, n) for n in todo[start : start + chunk]]  # pdfium is not thread-safe
                for page in pool.map(lambda job: _read(job, lang), jobs):
                    out[page.number] = page
    finally:
        pdf.close()
    return out


def scanned_pages(path: Path) -> int:
    """How many pages of a PDF hold an image and (almost) no text: the pages OCR would read.
    Cheap (pdfium, no rendering); 0 for a file pdfium cannot open."""
    try:
        pdf = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError, ValueError):
        return 0
    try:
        count = 0
        for page in pdf:
            has_image = next(page.get_objects(filter=(pdfium.raw.FPDF_PAGEOBJ_IMAGE,)), None) is not None
            if has_image:
                text = page.get_textpage()
                count += sum(c.isalnum() for c in text.get_text_range()) < MIN_TEXT_CHARS
                text.close()
            page.close()
        return count
    finally:
        pdf.close()


@dataclass
class _Rendered:
    number: int
    width: float  # points
    height: float
    scale: float  # pixels per point
    image: Image.Image | None
    warning: str = ""


def _native_dpi(page) -> float:
    """The resolution of the largest image on the page, in dots per inch."""
    best = 0.0
    for obj in page.get_objects(filter=(pdfium.raw.FPDF_PAGEOBJ_IMAGE,)):
        left, bottom, right, top = obj.get_bounds()
        px_w, px_h = obj.get_px_size()
        if right - left > 1 and px_w * px_h > 0:
            best = max(best, px_w / ((right - left) / 72), px_h / max((top - bottom) / 72, 1e-6))
    return best


def _render(pdf, number: int) -> _Rendered:
    page = pdf[number - 1]
    try:
        width, height = page.get_size()
        images = list(page.get_objects(filter=(pdfium.raw.FPDF_PAGEOBJ_IMAGE,)))
        sizes = [obj.get_px_size() for obj in images]
        if not images:
            return _Rendered(number, width, height, 1.0, None, f"Sida {number} är tom (ingen text och ingen bild).")
        if max(min(w, h) for w, h in sizes) < MIN_PIXELS:
            w, h = max(sizes, key=lambda s: s[0] * s[1])
            return _Rendered(number, width, height, 1.0, None,
                             f"Sida {number}: bilden är för liten för OCR ({w}×{h} bildpunkter).")  # fmt: skip
        dpi = min(max(_native_dpi(page), MIN_DPI), MAX_DPI)
        scale = dpi / 72
        image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
        return _Rendered(number, width, height, scale, image.filter(ImageFilter.MedianFilter(3)))
    finally:
        page.close()


def _orientation(image: Image.Image) -> int:
    """Degrees (0, 90, 180, 270) to turn the image clockwise so its text stands upright."""
    try:
        osd = pytesseract.image_to_osd(image, config="--psm 0", output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractError:  # too little text to tell: read it as it is
        return 0
    if float(osd.get("orientation_conf", 0)) < 1.5:
        return 0
    return int(osd.get("rotate", 0)) % 360


def _read(job: _Rendered, lang: str) -> OcrPage:
    if job.image is None:
        return OcrPage(job.number, job.width, job.height, warning=job.warning)
    image, width, height = job.image, job.width, job.height
    rotate = _orientation(image)
    if rotate:
        image = image.rotate(-rotate, expand=True)  # PIL turns counter-clockwise
        if rotate in (90, 270):
            width, height = height, width
    hocr = pytesseract.image_to_pdf_or_hocr(image, lang=lang, extension="hocr")
    words, unskew = _words(hocr, job.scale, width, height)
    page = OcrPage(job.number, width, height, words, _shaded_boxes(image, job.scale, unskew), rotated=rotate)
    if rotate:
        log.info("page %d was turned %d degrees for OCR", job.number, rotate)
    confidence = page.confidence
    if not words or confidence is None or confidence < MIN_PAGE_CONFIDENCE:
        page.words = []
        page.warning = f"Sida {job.number}: ingen läsbar text hittades vid OCR (tom sida, bild eller foto)."
    return page


def even_sizes(words: list[Word]) -> None:
    """OCR estimates each line's size on its own, a little differently line by line: sizes
    close to the body size (the size most characters have) become the body size, so body
    lines read as one type and headings stand out as in a born-digital report."""
    weights: dict[float, int] = {}
    for w in words:
        key = round(w.size * 2) / 2
        weights[key] = weights.get(key, 0) + len(w.text)
    if not weights:
        return
    body = max(weights, key=weights.get)
    for w in words:
        w.size = body if abs(w.size - body) <= SAME_SIZE * body else round(w.size * 2) / 2


def _title(element) -> dict[str, str]:
    return dict(_TITLE_FIELD.findall(element.get("title", "")))


@dataclass
class _Unskew:
    """Turns image pixels back by the page's skew, about the page centre."""

    angle: float
    cx: float
    cy: float

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        return cos * (x - self.cx) + sin * (y - self.cy) + self.cx, -sin * (x - self.cx) + cos * (y - self.cy) + self.cy


def _shaded_boxes(image: Image.Image, scale: float, unskew: _Unskew, cell: int = 8) -> list[list[float]]:
    """Tinted rectangles behind text (quote and fact boxes), in points: cells of the page that are
    mostly a shade darker than the paper, joined across the text printed on them. Found on the
    page turned straight, so a box is as tall as printed and takes in no line below it."""
    paper = int(np.median(np.asarray(image)))
    if unskew.angle:
        image = image.rotate(math.degrees(unskew.angle), resample=Image.BILINEAR, center=(unskew.cx, unskew.cy),
                             fillcolor=paper)  # fmt: skip
    pixels = np.asarray(image, dtype=np.int16)
    tinted = (pixels < paper - 8) & (pixels > paper - 60)
    rows, cols = pixels.shape[0] // cell, pixels.shape[1] // cell
    share = tinted[: rows * cell, : cols * cell].reshape(rows, cell, cols, cell).mean(axis=(1, 3))
    mask = ndimage.binary_closing(share > 0.5, iterations=2) & ndimage.binary_opening(share > 0.25, iterations=2)
    labels, _ = ndimage.label(mask)
    boxes = []
    for found in ndimage.find_objects(labels):
        top, bottom = found[0].start * cell, found[0].stop * cell
        x0, x1 = found[1].start * cell, found[1].stop * cell
        if (x1 - x0) < 0.2 * pixels.shape[1] or (bottom - top) < 14 * scale:
            continue
        boxes.append([x0 / scale, top / scale, x1 / scale, bottom / scale])
    return boxes


def _words(hocr: bytes, scale: float, width: float, height: float) -> tuple[list[Word], _Unskew]:
    """hOCR -> Words in points. Each word gets its line's top, bottom and size, so the layout
    groups Tesseract's lines as it groups printed ones; coordinates are turned back by the
    page's skew (the median baseline slope), so lines start at the same x down the page."""
    tree = html.fromstring(hocr)
    lines = tree.xpath("//*[@class='ocr_line' or @class='ocr_header' or @class='ocr_caption' or @class='ocr_textfloat']")
    slopes = [float(_title(line).get("baseline", "0 0").split()[0]) for line in lines]
    unskew = _Unskew(math.atan(statistics.median(slopes)) if slopes else 0.0, width * scale / 2, height * scale / 2)
    words: list[Word] = []
    for line in lines:
        info = _title(line)
        x0, top, x1, bottom = (float(v) for v in info["bbox"].split())
        # x_size: the line's height (ascenders to descenders) in pixels, about its type size
        # in points at 72 dpi; the box of a skewed line is taller than that
        line_h = float(info.get("x_size", bottom - top))
        size = line_h / scale
        offset = float(info.get("baseline", "0 0").split()[1])
        # the line's top at its left end (baseline there, less the height above it),
        # turned back by the skew: one top (y) for all of its words
        line_y = unskew(x0, bottom + offset + float(info.get("x_descenders", 0)) - line_h)[1]
        for word in line.xpath(".//*[@class='ocrx_word']"):
            text = (word.text_content() or "").strip()
            winfo = _title(word)
            conf = float(winfo.get("x_wconf", 0))
            if not text or conf < MIN_WORD_CONFIDENCE:
                continue
            wx0, _, wx1, _ = (float(v) for v in winfo["bbox"].split())
            shift = unskew(wx0, top)[0] - wx0
            words.append(Word(
                text=text, x0=(wx0 + shift) / scale, x1=(wx1 + shift) / scale, top=line_y / scale,
                bottom=(line_y + line_h) / scale, size=size, conf=conf,
            ))  # fmt: skip
    return words, unskew
