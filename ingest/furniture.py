"""Running headers, footers and page numbers: the lines that repeat on page after page."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from difflib import SequenceMatcher

from systemfel.ingest.layout import Line

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
PAGE_NUMBER = re.compile(
    r"^\W*(?:(?:sida|sid|s\.|page|p\.)\s*)?(?:\d{1,4}|[ivxlcdm]{1,6}|xx)"
    r"(?:\s*(?:av|of|/|\()\s*(?:\d{1,4}|xx)\)?)?\W*$",
    re.IGNORECASE,
)
# what is left of "Sida 5 av 12" when the layout cuts it in two: "av 12", "av XX", "/ 12"
PAGE_COUNT_TAIL = re.compile(r"^\W*(?:av|of|/)\s*(?:\d{1,4}|xx)\W*$", re.IGNORECASE)


def furniture_key(text: str) -> str:
    """Compare header/footer lines without their digits, case or spacing."""
    return _SPACE.sub(" ", _DIGITS.sub("#", text.lower())).strip()


class FurnitureDetector:
    """Finds page furniture: lines near the top or bottom that repeat on many pages, and page numbers.

    fit() looks at the first and last few lines of every page; predict() marks the lines to drop.
    """

    def __init__(
        self, edge_lines: int = 3, min_share: float = 0.4, similarity: float = 0.85, zone: float = 0.12, big_type: float = 1.1
    ):
        self.edge_lines = edge_lines
        self.min_share = min_share
        self.similarity = similarity
        self.zone = zone
        self.big_type = big_type
        self.running_keys_: list[str] = []
        self.body_size_: float = 0.0

    def _key(self, line: Line) -> str:
        """Small type is compared without digits ("Sida 3 av 12"); headings in big type only verbatim,
        so chapter headings such as "Kapitel 3" at the top of pages are not taken for headers."""
        if self.body_size_ and line.size >= self.big_type * self.body_size_:
            return "\x00" + _SPACE.sub(" ", line.text.lower()).strip()
        return furniture_key(line.text)

    def _candidates(self, page_lines: list[Line]) -> list[Line]:
        if not page_lines:
            return []
        by_top = sorted(page_lines, key=lambda line: line.top)
        edge = by_top[: self.edge_lines] + by_top[-self.edge_lines :]
        height = page_lines[0].page_height or 1.0
        return [
            line for line in dict.fromkeys(edge)
            if line.top < self.zone * height or line.bottom > (1 - self.zone) * height
        ]  # fmt: skip

    def fit(self, pages: list[list[Line]]) -> FurnitureDetector:
        sizes: Counter[float] = Counter()
        for page_lines in pages:
            for line in page_lines:
                sizes[line.size] += len(line.text)
        self.body_size_ = sizes.most_common(1)[0][0] if sizes else 0.0
        pages_with_key: dict[str, set[int]] = defaultdict(set)
        for index, page_lines in enumerate(pages):
            for line in self._candidates(page_lines):
                pages_with_key[self._key(line)].add(index)
        n_pages = sum(1 for p in pages if p)
        needed = max(2, int(self.min_share * n_pages + 0.999))
        keys = sorted(pages_with_key, key=lambda k: -len(pages_with_key[k]))
        groups: list[tuple[str, set[int]]] = []
        for key in keys:
            for rep, members in groups:
                if rep.startswith("\x00") or key.startswith("\x00"):
                    if rep == key:
                        members |= pages_with_key[key]
                        break
                    continue
                matcher = SequenceMatcher(None, rep, key, autojunk=False)
                if matcher.real_quick_ratio() >= self.similarity and matcher.ratio() >= self.similarity:
                    members |= pages_with_key[key]
                    break
            else:
                if len(groups) < 200:  # pages with unique edges must not make this quadratic
                    groups.append((key, set(pages_with_key[key])))
        self.running_keys_ = [rep for rep, members in groups if len(members) >= needed and n_pages >= 2 and rep]
        return self

    def is_furniture(self, line: Line, candidates: set[int]) -> bool:
        if id(line) not in candidates:
            return False
        text = line.text.strip()
        if PAGE_NUMBER.match(text) or PAGE_COUNT_TAIL.match(text):
            return True
        key = self._key(line)
        for rep in self.running_keys_:
            if rep.startswith("\x00") or key.startswith("\x00"):
                if rep == key:
                    return True
                continue
            if len(key) >= 4 and key in rep and len(key) >= 0.25 * len(rep):
                return True  # part of a running header or footer that the layout cut off the rest of
            matcher = SequenceMatcher(None, rep, key, autojunk=False)
            if matcher.real_quick_ratio() >= self.similarity and matcher.ratio() >= self.similarity:
                return True
        return False

    def transform(self, pages: list[list[Line]]) -> list[list[Line]]:
        """The pages without their furniture lines."""
        kept = []
        for page_lines in pages:
            candidates = {id(line) for line in self._candidates(page_lines)}
            kept.append([line for line in page_lines if not self.is_furniture(line, candidates)])
        return kept
