"""Cue lexicons (nlp/data/cues.yaml) compiled into spaCy PhraseMatchers over lemmas and words."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import snowballstemmer
import yaml
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from systemfel.nlp.swedish import SwedishNLP

DEFAULT_CUES = Path(__file__).resolve().parent / "data" / "cues.yaml"


def _merge(into: dict, data: dict) -> None:
    for key, value in (data or {}).items():
        if isinstance(value, dict):
            _merge(into.setdefault(key, {}), value)
        else:
            into.setdefault(key, []).extend(str(v) for v in value or [])


def load_cue_file(paths: Iterable[str | Path]) -> dict:
    """Merge cue files in order: lists under the same keys are concatenated (users add words)."""
    merged: dict = {}
    for path in paths:
        _merge(merged, yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    return merged


class CueMatcher:
    """Counts cue phrases of named groups in a Doc, each stretch of text counted once per group.

    Three PhraseMatchers: word form, lemma (inflections the lemma table knows) and a
    Snowball stem (compounds the table lacks: handläggningstider -> handläggningstid).
    Patterns made only of stop words (hen, en) are matched on the word form alone, since
    their lemmas collide with common words.
    """

    def __init__(self, nlp: SwedishNLP, groups: dict[str, list[str]]):
        self.nlp = nlp
        self.groups = list(groups)
        self._stemmer = snowballstemmer.stemmer("swedish")
        self._by_lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._by_word = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._by_stem = PhraseMatcher(nlp.vocab, attr="ORTH")
        for name, phrases in groups.items():
            docs = list(nlp.pipe(dict.fromkeys(p.lower() for p in phrases)))
            self._by_word.add(name, docs)
            content = [d for d in docs if not all(t.lower_ in nlp.stop_words or t.lemma_ in nlp.stop_words for t in d)]
            if content:
                self._by_lemma.add(name, content)
                self._by_stem.add(name, [self.stem_doc(d) for d in content])

    def stem_doc(self, doc: Doc) -> Doc:
        return Doc(self.nlp.vocab, words=self._stemmer.stemWords([t.lower_ for t in doc]))

    def spans(self, doc: Doc) -> dict[str, list[Span]]:
        found: dict[str, list[Span]] = {name: [] for name in self.groups}
        for matcher in (self._by_lemma, self._by_word):
            for match_id, start, end in matcher(doc):
                found[self.nlp.vocab.strings[match_id]].append(doc[start:end])
        for match_id, start, end in self._by_stem(self.stem_doc(doc)):
            found[self.nlp.vocab.strings[match_id]].append(doc[start:end])
        return {name: filter_spans(spans) for name, spans in found.items()}

    def counts(self, doc: Doc) -> dict[str, int]:
        return {name: len(spans) for name, spans in self.spans(doc).items()}
