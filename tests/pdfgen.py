"""Build small report-like PDFs with reportlab, line by line, so tests control every break.

Only the standard Helvetica fonts are used (WinAnsi covers å ä ö).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

WIDTH, HEIGHT = A4
MARGIN = 56.0


@dataclass
class ReportPdf:
    """A report drawn line by line: running header, footer with page number, one or two columns."""

    path: Path
    header: str = ""
    footer: str = ""
    columns: int = 1
    body_size: float = 10.0
    leading: float = 13.0
    encrypt: str | None = None
    title: str = ""
    author: str = ""
    page_footer: str = ""  # centred, with {page} and {pages}: "Sida {page} av {pages}" ("|": split at the centre)
    total_pages: int = 0
    page_numbers: bool = True  # a bare centred page number under the footer
    _canvas: canvas.Canvas = field(init=False)
    _page: int = field(init=False, default=1)
    _column: int = field(init=False, default=0)
    _y: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._canvas = canvas.Canvas(str(self.path), pagesize=A4, encrypt=self.encrypt)
        if self.title:
            self._canvas.setTitle(self.title)
        if self.author:
            self._canvas.setAuthor(self.author)
        self._start_page()

    # ----------------------------------------------------------- geometry
    @property
    def column_width(self) -> float:
        gutter = 20.0
        usable = WIDTH - 2 * MARGIN
        return usable if self.columns == 1 else (usable - gutter) / 2

    @property
    def x(self) -> float:
        return MARGIN + self._column * (self.column_width + 20.0)

    def _start_page(self) -> None:
        c = self._canvas
        if self.header:
            c.setFont("Helvetica", 8)
            c.drawString(MARGIN, HEIGHT - 36, self.header)
        if self.footer:
            c.setFont("Helvetica", 8)
            c.drawString(MARGIN, 30, self.footer)
        if self.page_footer:
            # "Sida {page}|av {pages}": the two parts set either side of the page's centre line, as
            # a centred tab stop does, so on a two-column page they fall into different columns
            c.setFont("Helvetica", 8)
            text = self.page_footer.format(page=self._page, pages=self.total_pages or "XX")
            left, _, right = text.partition("|")
            if right:
                c.drawRightString(WIDTH / 2 - 12, 30, left)
                c.drawString(WIDTH / 2 + 12, 30, right)
            else:
                c.drawCentredString(WIDTH / 2, 30, text)
        if self.page_numbers:
            c.setFont("Helvetica", 8)
            c.drawCentredString(WIDTH / 2, 18, str(self._page))
        self._y = HEIGHT - 80
        self._column = 0

    def new_page(self, columns: int | None = None) -> ReportPdf:
        self._canvas.showPage()
        if columns:
            self.columns = columns
        self._page += 1
        self._start_page()
        return self

    def next_column(self) -> ReportPdf:
        self._column += 1
        self._y = HEIGHT - 80
        return self

    def gap(self, points: float = 8.0) -> ReportPdf:
        self._y -= points
        return self

    # ------------------------------------------------------------ content
    def line(self, text: str, *, size: float | None = None, font: str = "Helvetica", indent: float = 0.0) -> ReportPdf:
        size = size or self.body_size
        self._canvas.setFont(font, size)
        self._canvas.drawString(self.x + indent, self._y, text)
        self._y -= self.leading if size == self.body_size else size * 1.3
        return self

    def heading(self, text: str, size: float = 14.0) -> ReportPdf:
        self.gap(10)
        self.line(text, size=size, font="Helvetica-Bold")
        return self.gap(4)

    def paragraph(self, lines: list[str]) -> ReportPdf:
        for text in lines:
            self.line(text)
        return self.gap(6)

    def bullets(self, items: list[list[str]]) -> ReportPdf:
        for item in items:
            for i, text in enumerate(item):
                if i == 0:
                    self._canvas.setFont("Helvetica", self.body_size)
                    self._canvas.drawString(self.x + 3, self._y, "\u2022")
                self.line(text, indent=14)
            self.gap(3)
        return self.gap(4)

    def list_item(self, lines: list[str], marker: str = "\u2022", level: int = 0, bold: bool = False) -> ReportPdf:
        """One item of a bulleted or numbered list ("1.", "a)"); `level` indents nested lists."""
        indent = 16.0 * level
        self._canvas.setFont("Helvetica", self.body_size)
        self._canvas.drawString(self.x + indent + 3, self._y, marker)
        for text in lines:
            self.line(text, indent=indent + 16, font="Helvetica-Bold" if bold else "Helvetica")
        return self.gap(3)

    def quote_box(self, lines: list[str]) -> ReportPdf:
        """Italic lines on a grey rectangle, like the reports' case vignettes."""
        height = len(lines) * 12 + 14
        c = self._canvas
        c.saveState()
        c.setFillGray(0.9)
        c.rect(self.x, self._y - height + 14, self.column_width, height, fill=1, stroke=0)
        c.restoreState()
        self._y -= 4
        for text in lines:
            c.setFont("Helvetica-Oblique", 9.5)
            c.drawString(self.x + 8, self._y, text)
            self._y -= 12
        return self.gap(16)

    def table(self, rows: list[list[str | list[str]]], widths: list[float]) -> ReportPdf:
        """A ruled grid, the first row bold (a header); a cell given as a list of lines wraps."""
        c, line_height = self._canvas, 12.0
        top = self._y + 12
        xs = [self.x]
        for width in widths:
            xs.append(xs[-1] + width)
        edges = [top]
        for r, row in enumerate(rows):
            cells = [[cell] if isinstance(cell, str) else cell for cell in row]
            height = max(len(cell) for cell in cells) * line_height + 6
            for x, cell in zip(xs, cells):
                c.setFont("Helvetica-Bold" if r == 0 else "Helvetica", self.body_size)
                for n, text in enumerate(cell):
                    c.drawString(x + 4, edges[-1] - 12 - n * line_height, text)
            edges.append(edges[-1] - height)
        bottom = edges[-1]
        c.setLineWidth(0.5)
        for edge in edges:
            c.line(xs[0], edge, xs[-1], edge)
        for x in xs:
            c.line(x, top, x, bottom)
        self._y = bottom - 14
        return self.gap(6)

    def footnote(self, text: str) -> ReportPdf:
        """Small type at the foot of the current page (does not move the cursor)."""
        self._canvas.setFont("Helvetica", 7.5)
        self._canvas.drawString(MARGIN, 60, text)
        return self

    def save(self) -> Path:
        self._canvas.save()
        return self.path


def image_only_pdf(path: Path) -> Path:
    """A 'scanned' page: one picture, no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    picture = Image.new("L", (400, 200), 255)
    ImageDraw.Draw(picture).text((20, 80), "Inskannad text", fill=0)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    buffer.seek(0)
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(ImageReader(buffer), MARGIN, HEIGHT / 2, width=400, height=200)
    c.showPage()
    c.save()
    return path


def simple_pdf(path: Path, paragraphs: list[str], pages: int = 1, **kwargs) -> Path:
    """Plain one-column pages with the same paragraphs on each."""
    report = ReportPdf(path, **kwargs)
    for page in range(pages):
        if page:
            report.new_page()
        report.heading(f"Avsnitt {page + 1}")
        for text in paragraphs:
            words = text.split()
            half = max(1, len(words) // 2)
            report.paragraph([" ".join(words[:half]), " ".join(words[half:])] if len(words) > 6 else [text])
    return report.save()
