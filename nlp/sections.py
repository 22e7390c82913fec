"""Section names run into the text: cut the passage before them, and make the name a heading.

Some layouts set a section name in the body's own font, inside a box or a paragraph, so the
block builder sees one block: "... Här är köerna långa. Icke-fungerande insatser Under året
har vi ...". A reader sees the section name because the phrase after a sentence end is
short, names what a section is about (the words report headings use, nlp/data/cues.yaml:
`headings`, the level headings and `inline_sections`) and is followed straight away by a
capitalised word that opens the next sentence, with no full stop between them.

Ordinary sentences are left whole: the phrase must start a sentence, end on a content word
(not "mellan" before "Region Skåne"), hold no sentence punctuation, be at most
`max_words` long, contain a heading word and no auxiliary ("har", "är"), and the word
after it must be an ordinary capitalised word: one the lemma table knows, not a name the
document writes capitalised inside its sentences, not an abbreviation, not the last word of
a sentence or the first of a list of names.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from systemfel.base.records import LEAD_IN, Passage
from systemfel.nlp.cues import DEFAULT_CUES, CueMatcher, load_cue_file
from systemfel.nlp.swedish import SwedishNLP

# where a sentence may start: the text's start, or after a sentence end (a footnote number may follow it)
_SENTENCE_START = re.compile(r"(?:^|(?<=[.!?…”\"])\s+(?:\d{1,3}\s+)?)(?=[A-ZÅÄÖ])")
_WORD = re.compile(r"\S+")
_OPENER = re.compile(r"[A-ZÅÄÖ][a-zåäöéü]")  # a capitalised ordinary word, not "FK" or "PO"
_STOP_PUNCT = re.compile(r"[.!?;…”\"(|]")
# a finite auxiliary or copula makes a phrase a sentence ("Året 2024 har präglats av ..."), not a name
_AUXILIARIES = frozenset("är var har hade blir blev kan kunde ska skulle måste bör".split())
_MID_SENTENCE = re.compile(r"(?<=[\w,)] )([A-ZÅÄÖ]?[a-zåäöéü]+)")  # a word inside a sentence: after a word, not a sentence end


def _last_page(first: Passage, second: Passage) -> int | None:
    """page_end of two passages joined (None when they start and end on one page)."""
    last = max(first.page_end or first.page, second.page_end or second.page)
    return last if last != first.page else None


class RunInSections:
    """Finds section names run into passage text and cuts passages at them."""

    def __init__(self, nlp: SwedishNLP | None = None, cue_paths: Sequence[str | Path] = (), *, max_words: int = 14,
                 short_tail: int = 30, max_passage_words: int = 250):
        """`max_words`: the longest section name; a part before a name shorter than `short_tail`
        words joins the passage before it when they share headings and stay within
        `max_passage_words` (ingest's longest passage)."""
        self.nlp = nlp or SwedishNLP()
        self.max_words = max_words
        self.short_tail = short_tail
        self.max_passage_words = max_passage_words
        cues = load_cue_file([DEFAULT_CUES, *cue_paths])
        names: list[str] = []
        for group in (cues.get("headings", {}), cues.get("levels", {}).get("headings", {}),
                      cues.get("inline_sections", {})):
            for phrases in group.values():
                names.extend(phrases)
        self._names = CueMatcher(self.nlp, {"section": names})

    def is_section_name(self, phrase: str) -> bool:
        """A phrase that reads as a section name: heading words, ending on a content word."""
        words = phrase.split()
        if not words or len(words) > self.max_words or _STOP_PUNCT.search(phrase):
            return False
        last = words[-1].strip(",:–-").lower()
        if not last or last in self.nlp.stop_words or phrase.rstrip()[-1] in ",:–-":
            return False
        if any(word.lower() in _AUXILIARIES for word in words):
            return False
        return bool(self._names.counts(self.nlp(phrase.lower())).get("section"))

    def proper_words(self, texts: Sequence[str]) -> frozenset[str]:
        """Words a document writes capitalised inside sentences twice or more, or at least as often
        as in lower case (Arbetsförmedlingen, Skåne, "verksamheten Personligt ombud"): names, which
        do not open a sentence. Function words never count (a run-in name puts "Under" there)."""
        upper: dict[str, int] = {}
        lower: dict[str, int] = {}
        for text in texts:
            for m in _MID_SENTENCE.finditer(text):
                word = m.group(1)
                counts = upper if word[0].isupper() else lower
                counts[word.lower()] = counts.get(word.lower(), 0) + 1
        return frozenset(w for w, n in upper.items() if n >= max(2, lower.get(w, 0)) and w not in self.nlp.stop_words)

    def find(self, text: str, proper: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
        """(start, end) character spans of the section names run into `text`, in order;
        `proper`: the document's names (`proper_words`), which do not open a sentence."""
        found: list[tuple[int, int]] = []
        for start in _SENTENCE_START.finditer(text):
            begin = start.end()
            if found and begin < found[-1][1]:
                continue
            words = [m for m in _WORD.finditer(text, begin)][: self.max_words + 1]
            for k in range(1, len(words)):
                opener = words[k].group()
                if _STOP_PUNCT.search(words[k - 1].group()):
                    break  # the sentence ended before any capitalised word: an ordinary sentence
                bare = opener.strip(",:")
                if not _OPENER.match(opener) or bare.lower() in proper or not self.nlp.is_common_word(bare):
                    continue  # a name ("Arbetsförmedlingen", "Solvik") goes on the phrase; it opens no sentence
                phrase = text[begin : words[k - 1].end()]
                # the name runs up to a word that opens a sentence; an actor's name inside it
                # ("... hos Arbetsförmedlingen Under året") is passed over because the phrase
                # before it would end on a function word
                if _STOP_PUNCT.search(opener) or opener.endswith(","):
                    continue  # "landstinget Kronoberg." ends a sentence, "Kriminalvården, Psykiatrin" lists names
                if self.is_section_name(phrase):
                    found.append((begin, words[k - 1].end()))
                    break
        return found

    def cut(self, passages: Sequence[Passage]) -> list[Passage]:
        """Each passage cut before the section names run into it; the part from a name on (and the
        passages after it under the same headings) get the name as their deepest heading."""
        out: list[Passage] = []
        current: tuple[tuple[str, ...], str] | None = None  # (headings it was found under, name)
        proper = self.proper_words([p.text for p in passages])
        for passage in passages:
            path = tuple(passage.heading_path)
            if current and current[0] != path:
                current = None
            if passage.block_kind in (LEAD_IN, "table"):
                out.append(passage)
                continue
            pieces: list[tuple[str | None, str]] = []
            cursor, name = 0, current[1] if current else None
            for begin, end in self.find(passage.text, proper):
                before = passage.text[cursor:begin].strip()
                if before:
                    pieces.append((name, before))
                # the name stays the first words of its part, as the report prints it (a quote,
                # a search for its words, the actors it names), and becomes its heading
                name, cursor = passage.text[begin:end].strip(), begin
            pieces.append((name, passage.text[cursor:].strip()))
            for i, (piece_name, text) in enumerate(pieces):
                heading = [*path, piece_name] if piece_name else list(path)
                prev = out[-1] if out else None
                if (i == 0 and len(pieces) > 1 and prev is not None and prev.heading_path == heading
                        and prev.block_kind == passage.block_kind and prev.context == passage.context
                        and len(text.split()) < self.short_tail
                        and len(prev.text.split()) + len(text.split()) <= self.max_passage_words):
                    # the short tail of a section that a long block's cut at sentences left
                    # before the next name goes back to the rest of its section
                    out[-1] = replace(prev, text=f"{prev.text} {text}", page_end=_last_page(prev, passage))
                    continue
                out.append(replace(passage, text=text, heading_path=heading))
            if name:
                current = (path, name)
        return [replace(p, seq=seq) for seq, p in enumerate(out)]
