"""A small Swedish spaCy pipeline: tokens, lower-cased lookup lemmas, sentences, stop words.

No statistical model is used (nothing to download): `spacy.blank("sv")` gives the
tokenizer and stop words, spacy-lookups-data gives a lemma table. The stock lookup
lemmatizer looks up the token as written, so "Försäkringskassans" at the start of a
sentence would miss the table; ours looks up the lower-cased form.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

import numpy
import spacy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.pipeline import Lemmatizer
from spacy.tokens import Doc, Token

from systemfel.base.sentences import sentence_spans
from systemfel.base.textnorm import encodable

log = logging.getLogger(__name__)


class LowerCaseLookupLemmatizer(Lemmatizer):
    """Lookup lemmatizer that lower-cases before looking up, so case never hides a lemma."""

    def lookup_lemmatize(self, token: Token) -> list[str]:
        table = self.lookups.get_table("lemma_lookup", {})
        lower = token.lower_
        return [table.get(lower, lower)]


@Language.component("sv_sentences")
def mark_sentence_starts(doc: Doc) -> Doc:
    """Sentence starts from the project's one sentence rule (systemfel.base.sentences), so a
    figure's sentence is the same unit as a statement's or a sentence vector's."""
    if not len(doc):
        return doc
    starts = {start for start, _ in sentence_spans(doc.text)}
    # One array write instead of a token-by-token `is_sent_start`, which re-checks the
    # sentence structure each time and is quadratic on a long text (a 1 MB line took minutes).
    flags = numpy.array([[1 if token.i == 0 or token.idx in starts else -1] for token in doc], dtype="int64").view("uint64")
    doc.from_array([SENT_START], flags)
    return doc


@Language.factory(
    "sv_lower_lemmatizer",
    default_config={"model": None, "mode": "lookup", "overwrite": True, "scorer": None},
)
def _make_lower_lemmatizer(nlp: Language, model, name: str, mode: str, overwrite: bool, scorer):
    return LowerCaseLookupLemmatizer(nlp.vocab, model, name, mode=mode, overwrite=overwrite, scorer=scorer)


class SwedishNLP:
    """One blank Swedish pipeline with lemmas and sentences; build it once and keep it.

    Every other reader in `nlp/` takes a SwedishNLP so the tables load once per process.
    """

    def __init__(self, max_length: int = 2_000_000):
        nlp = spacy.blank("sv")
        nlp.max_length = max_length
        nlp.add_pipe("sv_lower_lemmatizer", name="lemmatizer")
        nlp.add_pipe("sv_sentences")
        nlp.initialize()
        self.nlp = nlp
        self.stop_words: frozenset[str] = frozenset(nlp.Defaults.stop_words)

    @property
    def vocab(self):
        return self.nlp.vocab

    def __call__(self, text: str) -> Doc:
        return self.nlp(encodable(text))

    def make_doc(self, text: str) -> Doc:
        """Tokens only, no lemmas or sentences: for matchers on the words' own forms."""
        return self.nlp.make_doc(encodable(text))

    def pipe(self, texts: Iterable[str], batch_size: int = 64) -> Iterator[Doc]:
        return self.nlp.pipe((encodable(text) for text in texts), batch_size=batch_size)

    def lemmas(self, text: str) -> list[str]:
        """Lemma of every word token (punctuation and spaces left out)."""
        return [t.lemma_ for t in self.nlp(text) if not (t.is_punct or t.is_space)]

    def sentences(self, text: str) -> list[str]:
        return [s.text.strip() for s in self.nlp(text).sents if s.text.strip()]

    def is_stop(self, word: str) -> bool:
        return word.lower() in self.stop_words

    def content_lemmas(self, text: str) -> list[str]:
        """Lemmas of the words that carry meaning: no stop words, numbers or punctuation."""
        return [
            t.lemma_
            for t in self.nlp(text)
            if t.is_alpha and len(t) > 1 and t.lower_ not in self.stop_words and t.lemma_ not in self.stop_words
        ]
