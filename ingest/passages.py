"""Blocks -> passages: the unit users read, search and cite (one paragraph, bullet or quote box)."""
from __future__ import annotations

import re
from collections.abc import Sequence

from systemfel.ingest.blocks import LaidBlock
from systemfel.base.records import Passage

# A sentence ends with . ! ? or … (maybe followed by a closing quote) before an upper-case start.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"”’»)]?\s+(?=[\"”“„«(]?[A-ZÅÄÖÉÜ0-9])")


def split_sentences(text: str) -> list[str]:
    """Rough sentence split for Swedish prose; keeps "t.ex. något" together (lower case after)."""
    parts = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        parts.append(text[start : match.start()] + text[match.start() : match.end()].rstrip())
        start = match.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


class PassageSplitter:
    """Makes one passage per paragraph, bullet, quote box (and footnote); long ones are cut at sentences.

    ``target_words``: a long block is cut into pieces of about this size;
    ``max_words``: no passage is longer (a sentence longer than that is cut at word boundaries);
    ``min_words``: fragments this short join a neighbour under the same heading.
    """

    def __init__(
        self,
        target_words: int = 120,
        max_words: int = 250,
        min_words: int = 3,
        kinds: Sequence[str] = ("paragraph", "bullet", "quote", "footnote", "table"),
    ):
        self.target_words = target_words
        self.max_words = max_words
        self.min_words = min_words
        self.kinds = tuple(kinds)

    def _pieces(self, text: str) -> list[tuple[int, str]]:
        """(char offset, text) pieces of one block."""
        if len(text.split()) <= self.target_words * 1.5 and len(text.split()) <= self.max_words:
            return [(0, text)]
        sentences: list[str] = []
        for sentence in split_sentences(text):
            words = sentence.split()
            if len(words) <= self.max_words:
                sentences.append(sentence)
            else:
                for i in range(0, len(words), self.target_words):
                    sentences.append(" ".join(words[i : i + self.target_words]))
        pieces: list[str] = []
        current: list[str] = []
        count = 0
        for sentence in sentences:
            n = len(sentence.split())
            if current and count + n > self.target_words:
                pieces.append(" ".join(current))
                current, count = [], 0
            current.append(sentence)
            count += n
        if current:
            # a short tail joins the piece before it when that stays under the limit
            if pieces and count < self.target_words / 4 and len(pieces[-1].split()) + count <= self.max_words:
                pieces[-1] = pieces[-1] + " " + " ".join(current)
            else:
                pieces.append(" ".join(current))
        located = []
        cursor = 0
        for piece in pieces:
            head = piece.split(" ", 1)[0]
            found = text.find(head, cursor)
            offset = found if found >= 0 else cursor
            located.append((offset, piece))
            cursor = offset + max(len(piece) - 1, 0)
        return located

    def split(self, blocks: Sequence[LaidBlock]) -> list[Passage]:
        passages: list[Passage] = []
        for block in blocks:
            if block.kind not in self.kinds or not block.text.strip():
                continue
            for offset, piece in self._pieces(block.text):
                start_page = block.page_at(offset)
                end_page = block.page_at(offset + len(piece) - 1)
                passages.append(
                    Passage(
                        text=piece,
                        page=start_page,
                        heading_path=list(block.heading_path),
                        block_kind=block.kind,
                        page_end=end_page if end_page != start_page else None,
                    )
                )
        passages = self._merge_fragments(passages)
        for seq, passage in enumerate(passages):
            passage.seq = seq
        return passages

    def _merge_fragments(self, passages: list[Passage]) -> list[Passage]:
        out: list[Passage] = []
        pending: Passage | None = None  # a fragment waiting for the passage after it
        for passage in passages:
            if pending is not None:
                if pending.heading_path == passage.heading_path:
                    passage.text = f"{pending.text} {passage.text}"
                    passage.page = min(passage.page, pending.page)
                else:
                    out.append(pending)
                pending = None
            if len(passage.text.split()) < self.min_words:
                prev = out[-1] if out else None
                if prev is not None and prev.heading_path == passage.heading_path and prev.block_kind == passage.block_kind:
                    if len(prev.text.split()) + len(passage.text.split()) <= self.max_words:
                        prev.text = f"{prev.text} {passage.text}"
                        continue
                pending = passage
                continue
            out.append(passage)
        if pending is not None:
            out.append(pending)
        return out
