"""Problem statements: the one-problem units a deficiency passage is made of.

A passage often lists several problems in a row (the Lägesrapport's county paragraphs:
"Västerbotten Det saknas individuella bedömningar ... Brist när FK tar utredningssamtal över
telefon ..."), so grouping whole passages cannot put each problem where it belongs. A
statement is one sentence, or a few when the later ones only carry the first on ("Detta då
...", "Här är köerna långa"), and keeps its passage id and character span so every quote
stays citable. A passage that states one problem stays one statement.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from systemfel.base.sentences import sentence_spans

# Words that open a sentence which carries the previous one on: a consequence, a reason,
# a place or time already named ("Här är köerna långa", "Detta leder till ...").
CONTINUATION_WORDS = frozenset(
    {
        "detta", "det", "dessa", "denna", "därför", "då", "där", "här", "konsekvensen", "vilket",
        "som", "dessutom", "även", "också", "men", "och", "eller", "så", "sedan", "därmed",
        "följden", "resultatet", "samtidigt", "trots", "dock", "ofta", "oftast", "sen",
    }
)  # fmt: skip

_FIRST_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Statement:
    """One problem statement: its passage and the character span of its text in it."""

    passage_id: int
    start: int
    end: int
    text: str


class StatementSplitter:
    """Splits passage texts into statements.

    A sentence joins the one before it when it opens with a continuation word, or when
    either is a scrap shorter than `min_chars` (a county name, "Bostadsbrist."); a passage
    shorter than `whole_below` characters, or a case vignette (`block_kind` quote) shorter
    than `vignette_below`, stays whole: a short story of one client is one problem.
    """

    def __init__(self, min_chars: int = 25, whole_below: int = 0, vignette_below: int = 0):
        self.min_chars = min_chars
        self.whole_below = whole_below
        self.vignette_below = vignette_below

    def split(self, passage_id: int, text: str, block_kind: str = "paragraph") -> list[Statement]:
        if len(text) < self.whole_below or (block_kind == "quote" and len(text) < self.vignette_below):
            spans = [(0, len(text.rstrip()))] if text.strip() else []
        else:
            spans = self._merge(text, sentence_spans(text))
        return [Statement(passage_id, s, e, text[s:e]) for s, e in spans if e > s]

    def _merge(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and (self._carries_on(text[start:end]) or merged[-1][1] - merged[-1][0] < self.min_chars):
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        # a short scrap at the end joins the statement before it
        if len(merged) > 1 and merged[-1][1] - merged[-1][0] < self.min_chars:
            last = merged.pop()
            merged[-1] = (merged[-1][0], last[1])
        return merged

    def _carries_on(self, sentence: str) -> bool:
        match = _FIRST_WORD.search(sentence)
        return bool(match) and match.group().lower() in CONTINUATION_WORDS

    def split_passages(self, passages) -> list[Statement]:
        """Statements of passages given as (id, text, block_kind) triples, in order."""
        out: list[Statement] = []
        for passage_id, text, block_kind in passages:
            out.extend(self.split(passage_id, text, block_kind))
        return out
