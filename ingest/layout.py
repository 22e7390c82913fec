"""Page geometry: words -> lines in reading order, with columns and shaded boxes.

Works on plain word dicts as pdfplumber's ``extract_words`` returns them, so the
geometry can be tested without a PDF.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from systemfel.ingest.cleanup import HyphenJoiner, clean_text

BOLD_MARKERS = ("bold", "black", "heavy", "semibold", "demi")
ITALIC_MARKERS = ("italic", "oblique")


@dataclass
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    fontname: str = ""
    conf: float | None = None  # OCR's confidence in the word (0-100); None for a text layer

    @classmethod
    def from_plumber(cls, raw: dict) -> Word:
        return cls(
            text=raw["text"],
            x0=float(raw["x0"]),
            x1=float(raw["x1"]),
            top=float(raw["top"]),
            bottom=float(raw["bottom"]),
            size=float(raw.get("size") or 0.0),
            fontname=str(raw.get("fontname") or ""),
        )


@dataclass(eq=False)
class Line:
    """One printed line of one column, words left to right."""

    words: list[Word]
    page: int  # 1-based
    region: int = 0  # reading-order index of the column segment on its page
    box: int | None = None  # index of the shaded box the line sits in, if any
    text: str = ""
    x0: float = 0.0
    x1: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    size: float = 0.0
    bold: bool = False
    italic: bool = False
    page_width: float = 0.0
    page_height: float = 0.0
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.words.sort(key=lambda w: w.x0)
        self.x0 = min(w.x0 for w in self.words)
        self.x1 = max(w.x1 for w in self.words)
        self.top = min(w.top for w in self.words)
        self.bottom = max(w.bottom for w in self.words)
        weights: Counter[float] = Counter()
        bold = italic = 0
        for w in self.words:
            weights[round(w.size * 2) / 2] += len(w.text)
            name = w.fontname.lower()
            bold += len(w.text) * any(m in name for m in BOLD_MARKERS)
            italic += len(w.text) * any(m in name for m in ITALIC_MARKERS)
        total = sum(weights.values()) or 1
        self.size = weights.most_common(1)[0][0]
        self.bold = bold / total > 0.6
        self.italic = italic / total > 0.6
        self.text = self._join_words()

    def _join_words(self) -> str:
        parts: list[str] = []
        previous: Word | None = None
        for w in self.words:
            # Words pdfplumber split only because the font changed (a superscript "1" after
            # "ombud.") sit flush against their neighbour and are joined without a space.
            if previous is not None and w.x0 - previous.x1 > 0.12 * max(previous.size, 1.0):
                parts.append(" ")
            parts.append(w.text)
            previous = w
        return "".join(parts)

    @property
    def center_y(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class Box:
    """A filled rectangle behind text: a quote box or fact box."""

    x0: float
    top: float
    x1: float
    bottom: float

    def holds(self, line_words: list[Word]) -> bool:
        cx = sum((w.x0 + w.x1) / 2 for w in line_words) / len(line_words)
        cy = sum((w.top + w.bottom) / 2 for w in line_words) / len(line_words)
        return self.x0 - 1 <= cx <= self.x1 + 1 and self.top - 1 <= cy <= self.bottom + 1


def shaded_boxes(rects: list[dict], page_width: float, page_height: float) -> list[Box]:
    """Filled, non-white rectangles big enough to hold text but smaller than the page."""
    boxes = []
    for r in rects:
        if not r.get("fill"):
            continue
        color = r.get("non_stroking_color")
        if _is_white(color):
            continue
        width, height = float(r["x1"]) - float(r["x0"]), float(r["bottom"]) - float(r["top"])
        if width < 0.2 * page_width or height < 14:
            continue
        if width * height > 0.85 * page_width * page_height:
            continue  # a page background, not a box
        boxes.append(Box(float(r["x0"]), float(r["top"]), float(r["x1"]), float(r["bottom"])))
    return boxes


def _is_white(color) -> bool:
    if color is None:
        return False
    values = color if isinstance(color, (list, tuple)) else (color,)
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        return False
    if len(numbers) == 4:  # CMYK: white is no ink
        return all(v <= 0.02 for v in numbers)
    return bool(numbers) and all(v >= 0.98 for v in numbers)


class PageLayout:
    """Orders the words of one page into lines: column segments top to bottom, left column first.

    A gutter is a vertical strip near the middle of the page that (almost) no word crosses.
    Lines that do cross it (full-width headings, running headers) cut the page into
    segments; within a segment the left column is read before the right one.
    """

    def __init__(self, min_gutter: float = 8.0, margin_share: float = 0.07, max_crossing_share: float = 0.12):
        self.min_gutter = min_gutter
        self.margin_share = margin_share
        self.max_crossing_share = max_crossing_share

    def find_gutter(self, words: list[Word], width: float, height: float) -> float | None:
        """The x of the column gutter, or None for a single-column page."""
        top_margin, bottom_margin = height * self.margin_share, height * (1 - self.margin_share)
        body = [w for w in words if top_margin < w.top and w.bottom < bottom_margin]
        if len(body) < 20 or width <= 0:
            return None
        n_lines = len({round(w.top) for w in body})
        coverage = np.zeros(int(width) + 2, dtype=np.int32)
        for w in body:
            coverage[max(int(w.x0), 0) : max(int(w.x1) + 1, 0)] += 1
        allowed = max(1, int(self.max_crossing_share * n_lines))
        lo, hi = int(width * 0.3), int(width * 0.7)
        best: tuple[int, int] | None = None
        run_start = None
        for x in range(lo, hi + 1):
            free = coverage[x] <= allowed
            if free and run_start is None:
                run_start = x
            if (not free or x == hi) and run_start is not None:
                end = x if not free else x + 1
                if best is None or end - run_start > best[1] - best[0]:
                    best = (run_start, end)
                run_start = None
        if best is None or best[1] - best[0] < self.min_gutter:
            return None
        gutter = (best[0] + best[1]) / 2
        left = [w for w in body if w.x1 < gutter]
        right = [w for w in body if w.x0 > gutter]
        left_lines = len({round(w.top) for w in left})
        right_lines = len({round(w.top) for w in right})
        if left_lines < 3 or right_lines < 3:
            return None
        # Real columns start near the same x line after line; scattered table cells do not.
        if not (_aligned_starts(left) and _aligned_starts(right)):
            return None
        return gutter

    def lines(self, words: list[Word], page: int, width: float, height: float, boxes: list[Box]) -> list[Line]:
        if not words:
            return []
        gutter = self.find_gutter(words, width, height)
        if gutter is None:
            segments = [[words]]
        else:
            segments = self._segments(words, gutter)
        lines: list[Line] = []
        region = 0
        for segment in segments:
            for column in segment:
                if not column:
                    continue
                for line_words in group_lines(column):
                    box = next((i for i, b in enumerate(boxes) if b.holds(line_words)), None)
                    lines.append(
                        Line(line_words, page=page, region=region, box=box, page_width=width, page_height=height)
                    )
                region += 1
        return lines

    @staticmethod
    def _segments(words: list[Word], gutter: float) -> list[list[list[Word]]]:
        crossing = [w for w in words if w.x0 < gutter < w.x1]
        bands = []  # vertical bands of full-width lines
        for group in group_lines(crossing):
            bands.append((min(w.top for w in group), max(w.bottom for w in group)))
        bands.sort()
        # Each band and each stretch between bands is a segment.
        edges: list[tuple[str, float, float]] = []
        cursor = -1e9
        for top, bottom in bands:
            edges.append(("cols", cursor, top))
            edges.append(("band", top, bottom))
            cursor = bottom
        edges.append(("cols", cursor, 1e9))
        segments: list[list[list[Word]]] = []
        for kind, top, bottom in edges:
            inside = [w for w in words if top <= (w.top + w.bottom) / 2 < bottom or (kind == "band" and _overlaps(w, top, bottom))]
            if kind == "band":
                segments.append([inside])
            else:
                inside = [w for w in inside if not _overlaps_any(w, bands)]
                segments.append([[w for w in inside if (w.x0 + w.x1) / 2 < gutter], [w for w in inside if (w.x0 + w.x1) / 2 >= gutter]])
        # A word belongs to exactly one segment: bands win over columns.
        seen: set[int] = set()
        for segment in segments:
            for column in segment:
                column[:] = [w for w in column if id(w) not in seen]
                seen.update(id(w) for w in column)
        return segments


def _overlaps(w: Word, top: float, bottom: float) -> bool:
    center = (w.top + w.bottom) / 2
    return top - 0.5 <= center <= bottom + 0.5


def _overlaps_any(w: Word, bands: list[tuple[float, float]]) -> bool:
    return any(_overlaps(w, top, bottom) for top, bottom in bands)


def _aligned_starts(words: list[Word]) -> bool:
    """Most lines of a column start at (nearly) the same x."""
    starts: dict[int, float] = {}
    for w in words:
        key = round(w.top)
        starts[key] = min(starts.get(key, w.x0), w.x0)
    if not starts:
        return False
    counts = Counter(round(x / 4) for x in starts.values())
    if counts.most_common(1)[0][1] >= 0.4 * len(starts):
        return True
    # A column of lists starts at two edges: the marker and the item text after it.
    near = {b: sum(counts.get(b + d, 0) for d in (-1, 0, 1)) for b in counts}
    first = max(near, key=near.get)
    rest = {b: sum(counts.get(b + d, 0) for d in (-1, 0, 1) if abs(b + d - first) > 1) for b in counts if abs(b - first) > 2}
    second = max(rest.values(), default=0)
    return near[first] + second >= 0.75 * len(starts)


def group_lines(words: list[Word]) -> list[list[Word]]:
    """Words -> lines: a word joins the line whose vertical band holds its centre."""
    lines: list[list[Word]] = []
    bands: list[tuple[float, float]] = []
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        center = (w.top + w.bottom) / 2
        if lines:
            top, bottom = bands[-1]
            if top - 0.5 <= center <= bottom + 0.5:
                lines[-1].append(w)
                # superscripts must not widen the band
                if w.size >= 0.8 * lines[-1][0].size:
                    bands[-1] = (min(top, w.top), max(bottom, w.bottom))
                continue
        lines.append([w])
        bands.append((w.top, w.bottom))
    return lines


# ------------------------------------------------------------------ ruled tables
@dataclass
class Table:
    """A ruled table as pdfplumber's find_tables sees it: each row a list of cell boxes
    (x0, top, x1, bottom), None where a merged cell leaves a gap."""

    bbox: tuple[float, float, float, float]
    rows: list[list[tuple[float, float, float, float] | None]]


def _centre_in(w: Word, box: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = box
    return x0 - 0.5 <= (w.x0 + w.x1) / 2 <= x1 + 0.5 and top - 0.5 <= (w.top + w.bottom) / 2 <= bottom + 0.5


def table_rows(words: list[Word], tables: list[Table], page: int, width: float, height: float) -> tuple[list[Word], list[Line]]:
    """Takes the words of ruled tables out of the text flow: (words left, one Line per table row).

    A row's text is its non-empty cells joined by " | ", so a row reads as one record and
    the cell borders survive; the row is marked in `extra["table_row"]` for the block builder.
    """
    if not tables:
        return words, []
    taken: set[int] = set()
    rows: list[Line] = []
    for t_index, table in enumerate(tables):
        in_table = [w for w in words if id(w) not in taken and _centre_in(w, table.bbox)]
        for r_index, cells in enumerate(table.rows):
            texts, row_words = [], []
            for cell in cells:
                if cell is None:
                    continue
                inside = [w for w in in_table if id(w) not in taken and _centre_in(w, cell)]
                taken.update(id(w) for w in inside)
                row_words += inside
                # a cell's lines are joined like body text: "e-" + "legitimation" is one word
                cell_text = HyphenJoiner().join_all(
                    [clean_text(" ".join(w.text for w in sorted(g, key=lambda w: w.x0))) for g in group_lines(inside)]
                )
                if cell_text:
                    texts.append(cell_text)
            if not row_words:
                continue
            line = Line(row_words, page=page, page_width=width, page_height=height)
            line.text = " | ".join(texts)
            line.extra["table_row"] = (t_index, r_index)
            if r_index == 0 and line.bold and len(texts) >= 2:
                line.extra["table_header"] = True  # column names for the rows below, not a row itself
            rows.append(line)
    return [w for w in words if id(w) not in taken], rows


def insert_rows(lines: list[Line], rows: list[Line]) -> list[Line]:
    """Table rows into the page's reading order: before the first line below the row that
    shares its horizontal extent (so a full-width table lands after the text above it)."""
    out = list(lines)
    for row in sorted(rows, key=lambda r: r.top):
        at = next(
            (i for i, line in enumerate(out) if line.top > row.top and line.x0 < row.x1 and line.x1 > row.x0
             and "table_row" not in line.extra),
            len(out),
        )  # fmt: skip
        neighbour = out[at] if at < len(out) else (out[-1] if out else None)
        row.region = neighbour.region if neighbour is not None else 0
        out.insert(at, row)
    return out
