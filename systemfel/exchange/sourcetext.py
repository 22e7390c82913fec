"""One report's plain text as the tool read it, with each passage's place in it.

QDA tools code character ranges of a source text. The text handed to them is the report's
blocks in reading order (headings, paragraphs, bullets, tables), one blank line apart, and
each stored passage is found in it, so a selection cut out of the text is the passage (after
whitespace folding). A passage is cut from its block with its whitespace folded, and a short
fragment may be glued to the next block's text, so the search runs on folded text and maps
back. A passage that the block text does not hold (personal-data masking can differ between
a block and a passage cut from it) is written into the text where it belongs, so every
passage still has exactly one span; `SourceText.inserted` counts those.
"""
from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

BLOCK_SEPARATOR = "\n\n"
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\S+")


def fold_whitespace(text: str) -> str:
    """Every run of whitespace as one space, no space at the ends."""
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class SourceText:
    text: str
    spans: tuple[tuple[int, int], ...]  # (start, end) of each passage, in the order given
    inserted: int  # passages the block text did not hold, written in beside it


class _Folded:
    """A text with each whitespace run folded to one space (`text`), mapping positions back."""

    def __init__(self, original: str):
        self.tokens = [m.span() for m in _WORD.finditer(original)]
        self.text = " ".join(original.split())
        self.starts = list(itertools.accumulate((b - a + 1 for a, b in self.tokens[:-1]), initial=0))

    def position(self, folded: int) -> int:
        """Where the folded text's character `folded` stands in the original (a folded space:
        the first whitespace character of its run)."""
        i = bisect.bisect_right(self.starts, folded) - 1
        a, b = self.tokens[i]
        offset = folded - self.starts[i]
        return a + offset if offset < b - a else b

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of folded characters start..end (end exclusive, end > start)."""
        return self.position(start), self.position(end - 1) + 1


def compose_source_text(block_texts: Sequence[str], passage_texts: Sequence[str]) -> SourceText:
    """The report text from its blocks, and the span of each passage (in reading order) in it."""
    original = BLOCK_SEPARATOR.join(t.strip() for t in block_texts if t.strip())
    folding = _Folded(original)
    folded = folding.text
    pieces: list[str] = []
    length = 0  # characters written so far
    consumed = 0  # characters of `original` written so far
    cursor = 0  # search position in `folded`
    spans: list[tuple[int, int]] = []
    inserted = 0
    for passage in passage_texts:
        needle = fold_whitespace(passage)
        found = folded.find(needle, cursor) if needle else -1
        if found >= 0:
            start, end = folding.span(found, found + len(needle))
            pieces.append(original[consumed:end])
            spans.append((length + start - consumed, length + end - consumed))
            length += end - consumed
            consumed = end
            cursor = found + len(needle)
            continue
        # Not in the block text: write the passage in here, on its own lines.
        inserted += 1
        text = passage.strip()
        before = BLOCK_SEPARATOR if length else ""
        pieces.append(before + text + BLOCK_SEPARATOR)
        spans.append((length + len(before), length + len(before) + len(text)))
        length += len(before) + len(text) + len(BLOCK_SEPARATOR)
    pieces.append(original[consumed:])
    return SourceText("".join(pieces), tuple(spans), inserted)


def locate_in_span(text: str, start: int, end: int, needle: str) -> tuple[int, int] | None:
    """Where `needle` (whitespace folded) stands inside text[start:end], in positions of `text`."""
    folding = _Folded(text[start:end])
    wanted = fold_whitespace(needle)
    found = folding.text.find(wanted) if wanted else -1
    if found < 0:
        return None
    first, last = folding.span(found, found + len(wanted))
    return start + first, start + last
