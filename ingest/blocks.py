"""Lines -> blocks: headings, paragraphs, bullets, quote boxes, footnotes and table rows in reading order.

A block that a page break, column break, quote box or footnote interrupts is put back
together when the text says it goes on (no sentence end before, lower case after).
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from systemfel.ingest.cleanup import HyphenJoiner, clean_text, ends_sentence, starts_lower, strip_bullet
from systemfel.ingest.layout import Line
from systemfel.base.records import Block

log = logging.getLogger(__name__)

_NUMBERED_ITEM = re.compile(r"^\(?\d{1,2}[.)]\s+\S|^[a-z][.)]\s+\S")
_FOOTNOTE_START = re.compile(r"^(\d{1,3}|\*+|[¹²³⁴⁵⁶⁷⁸⁹⁰]+)\s*\S")
_CAPTION = re.compile(r"^(?:Tabell|Tab\.|Figur|Diagram)\s*\d+[.:]?\s", re.IGNORECASE)
_QUOTE_START = tuple("\"”“„«»'’")
# Words a heading never ends with: prepositions, conjunctions, articles.
DANGLING_WORDS = frozenset(
    "av och eller att i på för till med vid om som hos från mot under över efter genom utan mellan "
    "en ett den det de samt men när där the of and for to in".split()
)


@dataclass
class LaidBlock:
    """A block while it is being built: its lines, and where each page's text starts in it."""

    kind: str
    lines: list[Line]
    text: str = ""
    page_marks: list[tuple[int, int]] = field(default_factory=list)  # (char offset, page)
    heading_path: list[str] = field(default_factory=list)
    level: int | None = None
    cover: bool = False

    @property
    def page(self) -> int:
        return self.lines[0].page

    @property
    def page_end(self) -> int:
        return self.lines[-1].page

    @property
    def first(self) -> Line:
        return self.lines[0]

    @property
    def last(self) -> Line:
        return self.lines[-1]

    def to_block(self) -> Block:
        end = self.page_end
        return Block(
            kind=self.kind,
            text=self.text,
            page=self.page,
            heading_path=list(self.heading_path),
            page_end=end if end != self.page else None,
        )

    def page_at(self, offset: int) -> int:
        """The page on which character ``offset`` of the text is printed."""
        page = self.page
        for start, mark_page in self.page_marks:
            if start <= offset:
                page = mark_page
        return page


def body_font_size(lines: list[Line]) -> float:
    """The size most characters are set in."""
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def line_pitch(lines: list[Line], size: float) -> float:
    """Usual distance between the tops of consecutive lines of this font size."""
    pitches: Counter[float] = Counter()
    for prev, line in zip(lines, lines[1:]):
        if prev.region == line.region and prev.page == line.page and prev.size == size == line.size:
            diff = line.top - prev.top
            if 0.9 * size <= diff <= 2.2 * size:
                pitches[round(diff)] += 1
    if not pitches:
        return 1.25 * size
    # The tightest pitch that is common: where paragraphs are single lines, the mode is the paragraph gap.
    top = pitches.most_common(1)[0][1]
    return float(min(p for p, n in pitches.items() if n >= 0.2 * top))


class BlockBuilder:
    """Groups lines into typed blocks and gives each its heading path.

    Parameters are ratios to the body font size, so they hold for any document.
    """

    def __init__(
        self,
        heading_size_ratio: float = 1.1,
        footnote_size_ratio: float = 0.9,
        gap_ratio: float = 1.35,
        max_heading_words: int = 25,
    ):
        self.heading_size_ratio = heading_size_ratio
        self.footnote_size_ratio = footnote_size_ratio
        self.gap_ratio = gap_ratio
        self.max_heading_words = max_heading_words

    # ------------------------------------------------------------------ roles
    def _roles(self, lines: list[Line], body: float) -> list[str]:
        """heading / footnote / body for each line, from size and position."""
        roles = []
        lowest_body: dict[tuple[int, int], float] = {}
        for line in lines:
            if line.size >= self.footnote_size_ratio * body:
                key = (line.page, line.region)
                lowest_body[key] = max(lowest_body.get(key, 0.0), line.bottom)
        for line in lines:
            words = len(line.text.split())
            if line.size >= self.heading_size_ratio * body and words <= self.max_heading_words and line.box is None:
                roles.append("heading")
            elif (
                line.size < self.footnote_size_ratio * body
                and line.box is None
                and line.top > 0.5 * line.page_height
                and line.top >= lowest_body.get((line.page, line.region), 0.0)
            ):
                roles.append("footnote")
            else:
                roles.append("body")
        return roles

    # ---------------------------------------------------------------- grouping
    def _group(self, lines: list[Line], roles: list[str], body: float, cover_page: int | None) -> list[LaidBlock]:
        pitches = {size: line_pitch(lines, size) for size in {line.size for line in lines}}
        blocks: list[LaidBlock] = []
        current: LaidBlock | None = None
        current_role = ""
        bullet_indent = 0.0
        for line, role in zip(lines, roles):
            text = line.text
            stripped, has_bullet = strip_bullet(text)
            numbered = role == "body" and bool(_NUMBERED_ITEM.match(text)) and line.box is None
            new = current is None
            if current is not None:
                prev = current.last
                pitch = pitches.get(line.size, 1.25 * line.size)
                new = (
                    role != current_role
                    or line.page != prev.page
                    or line.region != prev.region
                    or line.box != prev.box
                    or abs(line.size - prev.size) > 0.6
                    or line.top - prev.top > self.gap_ratio * max(pitch, line.size)
                    or line.top < prev.top - 1
                    or has_bullet
                    or (numbered and line.x0 <= current.first.x0 + 2)
                    or (numbered and current.kind != "bullet" and prev.text.rstrip().endswith((":", ".", "!", "?")))
                    or (numbered and current.kind == "bullet" and line.x0 >= bullet_indent - 3)  # a nested list
                    or (current.kind == "bullet" and line.x0 < bullet_indent - 3 and role == "body")
                    or "table_row" in line.extra
                    or "table_row" in prev.extra
                )
                if role == "heading" and current_role == "heading" and not new:
                    new = line.top - prev.bottom > 0.8 * line.size
            if new:
                kind = {"heading": "heading", "footnote": "footnote"}.get(role, "paragraph")
                if role == "body" and (has_bullet or numbered):
                    kind = "bullet"
                if "table_row" in line.extra:
                    kind = "table"  # one block per table row, whatever its type size
                current = LaidBlock(kind=kind, lines=[], cover=line.page == cover_page)
                current_role = role
                blocks.append(current)
                if has_bullet:
                    bullet_indent = _text_start_after_marker(line)
                elif numbered:
                    bullet_indent = line.x0 + 8
            current.lines.append(line)
        return blocks

    def _finish(self, blocks: list[LaidBlock], joiner: HyphenJoiner, body: float) -> None:
        for block in blocks:
            pieces = []
            for i, line in enumerate(block.lines):
                text = line.text
                if i == 0 and block.kind == "bullet":
                    text, _ = strip_bullet(text)
                pieces.append(clean_text(text))
            block.text = joiner.join_all(pieces)
            block.page_marks = [(0, block.page)]
            if block.lines and block.first.box is not None and block.kind == "paragraph":
                block.kind = "quote"
            elif block.kind == "paragraph" and block.text.startswith(_QUOTE_START) and all(l.italic for l in block.lines):
                block.kind = "quote"
            elif block.kind == "paragraph" and _looks_like_bold_heading(block, body):
                block.kind = "heading"
            if block.cover:
                block.kind = "heading"

    # ------------------------------------------------------------ continuation
    def _merge_continuations(self, blocks: list[LaidBlock], joiner: HyphenJoiner) -> list[LaidBlock]:
        out: list[LaidBlock] = []
        for block in blocks:
            target = self._continued_block(out, block)
            if target is not None:
                joined = joiner.join(target.text, block.text)
                offset = len(joined) - len(block.text)
                target.text = joined
                target.page_marks.append((max(offset, 0), block.page))
                # Blocks set aside (quote boxes, footnotes) now follow the rejoined block.
                target.lines.extend(block.lines)
                continue
            out.append(block)
        return out

    @staticmethod
    def _continued_block(out: list[LaidBlock], block: LaidBlock) -> LaidBlock | None:
        if not out or block.kind not in ("paragraph", "quote") or not block.text:
            return None
        # Look back past blocks that interrupt the flow without ending it.
        between: list[LaidBlock] = []
        for candidate in reversed(out):
            if candidate.kind == "heading":
                return None
            interrupts = candidate.kind == "footnote" or (candidate.kind == "quote" and block.kind != "quote")
            if interrupts and candidate is not out[0]:
                between.append(candidate)
                continue
            break
        else:
            return None
        if candidate.kind == "heading" or candidate.cover:
            return None
        same_kind = candidate.kind == block.kind or (candidate.kind == "bullet" and block.kind == "paragraph")
        if not same_kind or ends_sentence(candidate.text):
            return None
        broken = bool(between) or candidate.last.page != block.first.page or candidate.last.region != block.first.region
        if block.kind == "quote":
            # a quote box cut by a page or column break goes on in the next box
            return candidate if broken and not between and not block.text.startswith(_QUOTE_START) else None
        return candidate if starts_lower(block.text) or candidate.text.endswith(("-", "\u00ad", ",")) else None

    # -------------------------------------------------------------- headings
    @staticmethod
    def _demote_dangling_headings(blocks: list[LaidBlock]) -> list[LaidBlock]:
        """Large type ending in "vid", "och", "av" ... is the start of a sentence set in a bigger
        font (a table cell, a lead-in), not a heading: it joins the paragraph that follows."""
        out: list[LaidBlock] = []
        for block, following in zip(blocks, blocks[1:] + [None]):
            if (
                block.kind == "heading"
                and not block.cover
                and following is not None
                and following.kind == "paragraph"
                and block.text.rsplit(None, 1)[-1].lower() in DANGLING_WORDS
            ):
                following.text = f"{block.text} {following.text}"
                following.lines[:0] = block.lines
                continue
            out.append(block)
        return out

    @staticmethod
    def _heading_paths(blocks: list[LaidBlock], body: float) -> None:
        sizes = sorted({b.first.size for b in blocks if b.kind == "heading" and not b.cover}, reverse=True)
        level_of = {size: i for i, size in enumerate(sizes)}
        stack: list[tuple[float, str]] = []
        caption_size: float | None = None  # a table caption heading right before: its run of headings
        for block in blocks:
            if block.kind == "heading" and not block.cover:
                level = level_of[block.first.size] * 2 + (0 if block.first.size > body else 1)
                block.level = level
                if caption_size is not None and block.first.size == caption_size:
                    # "Tabell 4. Rapporterade systembrister på nationell nivå" then the table's
                    # bold column names: those belong under the caption, not beside it
                    level += 0.5
                elif _CAPTION.match(block.text):
                    caption_size = block.first.size
                else:
                    caption_size = None
                while stack and stack[-1][0] >= level:
                    stack.pop()
                block.heading_path = [t for _, t in stack]
                stack.append((level, block.text))
            elif block.cover:
                block.heading_path = []
            else:
                caption_size = None
                block.heading_path = [t for _, t in stack]

    # ------------------------------------------------------------------ API
    def build(self, lines: list[Line], cover_page: int | None = None) -> list[LaidBlock]:
        """Lines of the whole document, in reading order and without page furniture -> blocks."""
        if not lines:
            return []
        body = body_font_size([line for line in lines if line.page != cover_page] or lines)
        roles = self._roles(lines, body)
        blocks = self._group(lines, roles, body, cover_page)
        joiner = HyphenJoiner().fit([clean_text(line.text) for line in lines])
        self._finish(blocks, joiner, body)
        blocks = [b for b in blocks if b.text.strip()]
        blocks = self._demote_dangling_headings(blocks)
        blocks = self._merge_continuations(blocks, joiner)
        self._heading_paths(blocks, body)
        return blocks


def _text_start_after_marker(line: Line) -> float:
    """x where the text of a bullet item starts (continuation lines align there)."""
    if len(line.words) >= 2:
        first = line.words[0].text
        _, marker_only = strip_bullet(first)
        if marker_only and not strip_bullet(first)[0]:
            return line.words[1].x0
    return line.x0 + 8


def _looks_like_bold_heading(block: LaidBlock, body: float) -> bool:
    """A short, all-bold block at body size standing alone is a run-in heading."""
    words = len(block.text.split())
    return (
        all(line.bold for line in block.lines)
        and len(block.lines) <= 2
        and 0 < words <= 15
        and not block.text.rstrip().endswith((".", ",", ";"))
        and block.first.box is None
    )
