"""Swedish words for the lexical side of the models: tokens, stop words, snowball stems.

Search (BM25), theme cues and cluster names all compare texts word by word; they share this
one analyser so "väntetiden", "väntetider" and "väntetid" count as the same word everywhere.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import snowballstemmer

STOP_WORDS_FILE = Path(__file__).resolve().parent / "data" / "stopwords-sv.txt"
# spaCy's Swedish stop list, kept as a data file: importing spaCy pulls in torch (seconds), and
# search must start at once.
STOP_WORDS = frozenset(
    line.strip() for line in STOP_WORDS_FILE.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")
)

# Words and numbers; a hyphen inside a word splits it ("bank-id" -> "bank", "id"), which is
# how both queries and passages write it either way.
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

# Words so common in these reports that they carry no meaning for search or naming; added
# to spaCy's general Swedish list. Kept short on purpose: actors and problems are not here.
DOMAIN_STOP_WORDS = frozenset(
    {
        "klient", "klienten", "klienter", "klienterna", "klientens", "klienternas",
        "ombud", "ombudet", "ombuden", "ombudets", "personligt", "personliga", "po",
        "brist", "brister", "bristen", "bristerna", "systemfel",
        "t", "ex", "bl", "a", "m", "fl", "s", "k", "e", "d", "st", "ca",
    }
)  # fmt: skip


# Abbreviations the reports use for the main actors. Passing these as `abbreviations` reads
# them as the full word; off by default because it measured worse on the dev queries
# (lexical recall@10 0.806 -> 0.764: "AF"/"FK" passages then crowd out the specific ones).
ABBREVIATIONS = {
    "fk": "försäkringskassan",
    "af": "arbetsförmedlingen",
    "kfm": "kronofogden",
    "vc": "vårdcentralen",
    "soc": "socialtjänsten",
    "ssc": "servicecenter",
}


# A sentence ends at . ! ? or … followed by space and a capital, digit or opening quote.
# Not spaCy's sentencizer: it splits after every full stop, so "bl. a." and "t. ex.", common
# in these reports, would end sentences.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"”“'(A-ZÅÄÖÉ0-9])")


def split_sentences(text: str, min_chars: int = 30) -> list[str]:
    """Sentences of a passage; fragments shorter than `min_chars` are joined to a neighbour
    so that a heading-like scrap ("Kalmar.") never stands alone."""
    sentences: list[str] = []
    for part in (p.strip() for p in _SENTENCE_END.split(text)):
        if not part:
            continue
        if sentences and (len(sentences[-1]) < min_chars or len(part) < min_chars):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return sentences


class SwedishAnalyzer:
    """Lower-cased word tokens without stop words, reduced to Swedish snowball stems.

    Holds its own stemmer (snowball stemmers keep a cache and are not shared between callers).
    """

    def __init__(
        self,
        extra_stop_words: frozenset[str] | set[str] = DOMAIN_STOP_WORDS,
        min_length: int = 1,
        abbreviations: dict[str, str] | None = None,
    ):
        self.stop_words = frozenset(w.lower() for w in STOP_WORDS) | frozenset(extra_stop_words)
        self.min_length = min_length
        self.abbreviations = abbreviations or {}
        self._stemmer = snowballstemmer.stemmer("swedish")
        self._stem_cache: dict[str, str] = {}

    def words(self, text: str) -> list[str]:
        """The content words of a text, lower-cased, in order (surface forms)."""
        return [
            w for w in (m.group().lower() for m in _TOKEN.finditer(text))
            if w not in self.stop_words and len(w) >= self.min_length
        ]  # fmt: skip

    def stem(self, word: str) -> str:
        return self._stemmer.stemWord(word.lower())

    def stems(self, text: str) -> list[str]:
        """The stems of the content words of a text (abbreviations expanded), in order, with repeats."""
        words = [self.abbreviations.get(w, w) for w in self.words(text)]
        # each word is stemmed once per analyser: pure-Python snowball is the slow part when
        # 100,000 statements are read
        cache = self._stem_cache
        return [cache[w] if w in cache else cache.setdefault(w, self._stemmer.stemWord(w)) for w in words]

    def __call__(self, text: str) -> list[str]:
        return self.stems(text)

    def matched_words(self, text: str, stems: set[str]) -> list[str]:
        """Surface words of `text` whose stem is one of `stems` (for highlighting), first seen first."""
        seen: dict[str, None] = {}
        for match in _TOKEN.finditer(text):
            word = match.group()
            lower = word.lower()
            if lower not in self.stop_words and self.stem(self.abbreviations.get(lower, lower)) in stems:
                seen.setdefault(word, None)
        return list(seen)

    def surface_forms(self, texts: list[str]) -> dict[str, str]:
        """The most frequent surface word for each stem in the texts (readable names for stems)."""
        counts: dict[str, Counter] = {}
        for text in texts:
            for word in self.words(text):
                counts.setdefault(self.stem(word), Counter())[word] += 1
        return {stem: c.most_common(1)[0][0] for stem, c in counts.items()}
