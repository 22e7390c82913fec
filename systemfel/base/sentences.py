"""Where a Swedish sentence ends: one rule for cutting long blocks, problem statements,
sentence vectors and the spaCy pipeline, so a sentence is the same unit everywhere.

A sentence ends at . ! ? or … (maybe followed by a closing quote or bracket) before white
space and an upper-case letter, a digit or an opening quote. Not after every full stop, as
spaCy's sentencizer does: "bl. a.", "t. ex." and "s. k.", common in these reports, stay
inside their sentence whatever follows them ("bl. a. Försäkringskassan").
"""
from __future__ import annotations

import re

_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])(?P<close>[\"”’»)]?)\s+(?=[\"”“„«'(]?[A-ZÅÄÖÉÜ0-9•▪●◦■–])")

# Abbreviations a sentence does not end with, written without spaces ("bl. a." is "bl.a.").
# Not "m.m." or "etc.": those often do end a sentence.
ABBREVIATIONS = frozenset(
    {
        "bl.a.", "t.ex.", "s.k.", "d.v.s.", "dvs.", "ca.", "jfr.", "enl.", "nr.", "kap.", "p.g.a.",
        "pga.", "m.fl.", "f.d.", "fr.o.m.", "t.o.m.", "resp.", "tel.", "o.d.",
    }
)  # fmt: skip


def _ends_with_abbreviation(head: str) -> bool:
    words = head.split()[-3:]
    return any("".join(words[i:]).lower() in ABBREVIATIONS for i in range(len(words)))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of each sentence, white space trimmed."""
    spans: list[tuple[int, int]] = []
    position = 0
    for match in _SENTENCE_BREAK.finditer(text):
        if not match.group("close") and _ends_with_abbreviation(text[position : match.start()]):
            continue
        spans.append((position, match.end("close")))
        position = match.end()
    spans.append((position, len(text)))
    out = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append((start, end))
    return out


def split_sentences(text: str, min_chars: int = 0) -> list[str]:
    """The sentences of a text; with `min_chars`, a fragment shorter than that joins a
    neighbour, so a heading-like scrap ("Kalmar.") never stands alone."""
    sentences: list[str] = []
    for start, end in sentence_spans(text):
        part = text[start:end]
        if sentences and (len(sentences[-1]) < min_chars or len(part) < min_chars):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return sentences
