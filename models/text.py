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

# Spellings a reader takes for one thing, each written as the words a tokeniser sees (a
# hyphen splits a word: "bank-ID" is "bank id"), mapped to one canonical word. Used by
# search (`SwedishAnalyzer(variants=TERM_VARIANTS)`) on passages and queries alike, so
# "BankID", "bank-id", "Bank ID" and "e-legitimation" meet, and so do "SIP" and "samordnad
# individuell plan", "FK", "F-kassan" and "Försäkringskassan" (../shared/DOMAIN.md).
TERM_VARIANTS = {
    "bankid": "bankid", "bank id": "bankid", "e legitimation": "bankid", "elegitimation": "bankid",
    "e legitimera": "bankid", "mobilt bankid": "bankid", "mobilt bank id": "bankid",
    "sip": "sip", "samordnad individuell plan": "sip", "samordnade individuella planer": "sip",
    "fk": "försäkringskassan", "f kassan": "försäkringskassan", "försäkringskassan": "försäkringskassan",
    "af": "arbetsförmedlingen", "arbetsförmedlingen": "arbetsförmedlingen",
    "kfm": "kronofogden", "kronofogden": "kronofogden",
    "a kassan": "akassan", "akassan": "akassan",
    "loh": "läkarutlåtande", "luh": "läkarutlåtande", "läkarutlåtande": "läkarutlåtande",
    "sgi": "sjukpenninggrundande", "sjukpenninggrundande": "sjukpenninggrundande",
    "ekonomiskt bistånd": "försörjningsstöd", "försörjningsstöd": "försörjningsstöd",
    "soc": "socialtjänsten", "socialtjänsten": "socialtjänsten", "socialförvaltningen": "socialtjänsten",
    "psyk": "psykiatrin", "psykiatrin": "psykiatrin",
    "vc": "vårdcentralen", "vårdcentralen": "vårdcentralen",
    "ssc": "servicecenter", "statens servicecenter": "servicecenter",
    # terms whose words are stop words on their own ("god", "man"): without an entry a query
    # about a guardian keeps neither word
    "god man": "godman", "gode män": "godman", "goda män": "godman", "god mans": "godman",
    "godman": "godman", "gode man": "godman",
}  # fmt: skip

class SwedishAnalyzer:
    """Lower-cased word tokens without stop words, reduced to Swedish snowball stems.

    With `variants` (see TERM_VARIANTS) the spellings of one term, several words long or
    not, become one canonical stem before stop words are dropped (so "e" of "e-legitimation"
    survives as part of the term). Holds its own stemmer (snowball stemmers keep a cache and
    are not shared between callers).
    """

    def __init__(
        self,
        extra_stop_words: frozenset[str] | set[str] = DOMAIN_STOP_WORDS,
        min_length: int = 1,
        abbreviations: dict[str, str] | None = None,
        variants: dict[str, str] | None = None,
    ):
        self.stop_words = frozenset(w.lower() for w in STOP_WORDS) | frozenset(extra_stop_words)
        self.min_length = min_length
        self.abbreviations = abbreviations or {}
        self._stemmer = snowballstemmer.stemmer("swedish")
        self._stem_cache: dict[str, str] = {}
        self.variants = {
            tuple(self.stem(w) for w in phrase.split()): self.stem(canonical)
            for phrase, canonical in (variants or {}).items()
        }
        self._longest_variant = max((len(k) for k in self.variants), default=0)

    def words(self, text: str) -> list[str]:
        """The content words of a text, lower-cased, in order (surface forms)."""
        return [
            w for w in (m.group().lower() for m in _TOKEN.finditer(text))
            if w not in self.stop_words and len(w) >= self.min_length
        ]  # fmt: skip

    def stem(self, word: str) -> str:
        word = word.lower()
        cache = self._stem_cache
        return cache[word] if word in cache else cache.setdefault(word, self._stemmer.stemWord(word))

    def spans(self, text: str) -> list[tuple[str, int, int]]:
        """(stem, start, end) of each content word or known multi-word term, in order."""
        tokens = [(m.group().lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
        out: list[tuple[str, int, int]] = []
        i = 0
        while i < len(tokens):
            if self.variants:
                matched = self._variant_at(tokens, i)
                if matched:
                    stem, length = matched
                    out.append((stem, tokens[i][1], tokens[i + length - 1][2]))
                    i += length
                    continue
            word, start, end = tokens[i]
            i += 1
            if word in self.stop_words or len(word) < self.min_length:
                continue
            out.append((self.stem(self.abbreviations.get(word, word)), start, end))
        return out

    def _variant_at(self, tokens: list[tuple[str, int, int]], i: int) -> tuple[str, int] | None:
        for length in range(min(self._longest_variant, len(tokens) - i), 0, -1):
            key = tuple(self.stem(w) for w, _, _ in tokens[i : i + length])
            if key in self.variants:
                return self.variants[key], length
        return None

    def stems(self, text: str) -> list[str]:
        """The stems of the content words of a text (abbreviations expanded), in order, with repeats."""
        if self.variants:
            return [stem for stem, _, _ in self.spans(text)]
        # each word is stemmed once per analyser: pure-Python snowball is the slow part when
        # 100,000 statements are read
        return [self.stem(self.abbreviations.get(w, w)) for w in self.words(text)]

    def __call__(self, text: str) -> list[str]:
        return self.stems(text)

    def matched_words(self, text: str, stems: set[str]) -> list[str]:
        """Surface words (or terms) of `text` whose stem is one of `stems`, first seen first."""
        seen: dict[str, None] = {}
        for stem, start, end in self.spans(text):
            if stem in stems:
                seen.setdefault(text[start:end], None)
        return list(seen)

    def surface_forms(self, texts: list[str]) -> dict[str, str]:
        """The most frequent surface word for each stem in the texts (readable names for stems)."""
        counts: dict[str, Counter] = {}
        for text in texts:
            for word in self.words(text):
                counts.setdefault(self.stem(word), Counter())[word] += 1
        return {stem: c.most_common(1)[0][0] for stem, c in counts.items()}
