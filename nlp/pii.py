"""Personal data in report text: personnummer, samordningsnummer, phone numbers, e-mail, names.

Numbers and addresses are formats, not vocabularies, so regular expressions find candidates
and each candidate is checked (a real date for a personnummer, number length for a phone
number) so that years, dates, case numbers, law references and amounts are left alone. A
personnummer with a wrong check digit is still masked: a report does not hold a
date-shaped ten-digit number with a dash by accident.

Names are a vocabulary: spaCy Matchers over a gazetteer of the most common Swedish first
names and surnames (nlp/data/names-*.txt, see names-source.md for source and licence)
and context cues ("klienten", "hen heter", "vi kallar henne"). This module is the one
home of personal-data detection: the pipeline masks every stored text field through it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from spacy.matcher import Matcher
from spacy.tokens import Doc

from systemfel.nlp.swedish import SwedishNLP

T = TypeVar("T")
MASKS = {"personnummer": "[personnummer]", "telefon": "[telefon]", "e-post": "[e-post]", "namn": "[namn]"}
KINDS = tuple(MASKS)
DATA = Path(__file__).resolve().parent / "data"
FIRST_NAMES = DATA / "names-first.txt"
SURNAMES = DATA / "names-last.txt"

_SPACE = r"[ \u00a0]"
_DASH = r"[-\u2010-\u2015\u2212]"  # hyphen, figure dash, en dash, em dash, minus

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}(?![\w-])")
# spelled out to dodge harvesters: "anna at kommun punkt se", "anna(at)kommun.se", "anna [at] kommun [dot] se"
_SPELLED_AT = r"(?:\s*[(\[]\s*(?:at|a|snabel-a)\s*[)\]]\s*|\s+(?:at|snabel-a)\s+)"
_SPELLED_DOT = r"(?:\.|\s*[(\[]\s*(?:punkt|dot)\s*[)\]]\s*|\s+(?:punkt|dot)\s+)"
_EMAIL_SPELLED = re.compile(
    rf"(?<![\w.+-])[\w.+-]+{_SPELLED_AT}[\w-]+(?:{_SPELLED_DOT}[\w-]+)*?{_SPELLED_DOT}[a-zA-Z]{{2,}}(?![\w-])",
    re.IGNORECASE,
)
# 6 or 8 date digits ("19 850709" too), a dash, plus, space or nothing, 4 digits; or the date
# written in pairs ("85 07 09-9805"), which needs the dash. Never inside a longer number.
_PERSONNUMMER = re.compile(
    r"(?<![\w+/])(?<!\d[-.,:])"
    rf"(?:(?P<date>(?:(?:18|19|20){_SPACE}?)?\d{{6}})(?P<sep>[+]|{_DASH}|{_SPACE}?)"
    rf"|(?P<pairs>\d\d{_SPACE}\d\d{_SPACE}\d\d)(?:[+]|{_DASH}))"
    r"(?P<last>\d{4})(?!\d)(?![-.,:/]\d)"
)
# national (0...), bracketed area code ((08) ...) or international (+46 / 0046) numbers, the
# digits grouped by spaces, dashes, dots or a slash
_PHONE_SEP = rf"(?:{_SPACE}?(?:{_DASH}|[./]){_SPACE}?|{_SPACE})"
_PHONE = re.compile(
    r"(?<![\w+/])(?<!\d[-.,:])"
    rf"(?:\(0[1-9]\d{{0,2}}\){_SPACE}?"
    rf"|(?:(?:\+|00)46{_SPACE}?-?(?:\(0\){_SPACE}?-?)?|0)[1-9]\d{{0,3}})"
    rf"(?:{_PHONE_SEP}?\d){{5,8}}"
    r"(?![\w\-/]|[.,:]\d)"
)
# digit runs that the phone shape accepts but that are dates or opening hours
_NOT_A_PHONE = re.compile(
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"  # 01.02.2021, 01/02/2021
    rf"|\d\d[.:]\d\d{_SPACE}?{_DASH}{_SPACE}?\d\d[.:]\d\d"  # 08.00–16.30
)
# "1 020 194": a phone number never continues a number written in groups of digits
_GROUPED_NUMBER_BEFORE = re.compile(r"\d[ \u00a0]$")

# ------------------------------------------------------------------ names
# A name token: capital letter, then lower case; a double name joined by a hyphen.
_NAME_SHAPE = r"^[A-ZÅÄÖÉÜØÆ][a-zåäöéèüøæáíóúñç]+(?:-[A-ZÅÄÖÉÜØÆ][a-zåäöéèüøæáíóúñç]+)?$"
# Surnames outside the top 500 that still look like Swedish surnames (Lindqvist, Iversen).
_SURNAME_SHAPE = (
    r"^[A-ZÅÄÖÉ][a-zåäöéü]+(?:sson|son|sen|berg|ström|gren|lund|qvist|kvist|quist|dahl|holm|strand|blad|"
    r"bäck|lind|löf|stedt|ander|ius|gård|hed|fors|sjö|mark|vall|ling)(?:-[A-ZÅÄÖÉ][a-zåäöéü]+)?$"
)
# First names that are everyday words the lemma table holds only as base forms ("Per månad").
EVERYDAY_WORDS = frozenset(
    "axel bo bror dag iris juni junior lo lova love lucia mark max my per rosa saga tom tor urban viking".split()
)
# Words before a name that need no gazetteer: "hen heter Zoran", "vi kallar henne Lisa".
NAMING_VERBS = ("heter", "hette", "kallas", "kallad", "kallade", "kallar", "kalla", "benämns", "namnet")
NAMING_FILLERS = ("hon", "han", "hen", "henne", "honom", "här", "nedan", "vi", "för", "är")
# Words before a name that say a person follows, when the next word is a known name.
PERSON_CUES = (
    "klient", "klienten", "klientens", "kvinnan", "mannen", "pojken", "flickan", "sonen", "dottern", "mamman",
    "pappan", "modern", "fadern", "brodern", "systern", "maken", "makan", "sambon", "brukaren", "patienten",
    "personen", "ungdomen", "herr", "fru", "familjen", "handläggaren", "ombudet", "barnet", "hustrun",
)  # fmt: skip


def _read_names(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]  # fmt: skip


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def looks_like_personnummer(date_digits: str) -> bool:
    """A real date (day + 60 for samordningsnummer). The check digit is not required."""
    date_digits = re.sub(r"\D", "", date_digits)
    if len(date_digits) == 8:
        if date_digits[:2] not in ("18", "19", "20"):
            return False
        year, short = int(date_digits[:4]), date_digits[2:]
    else:
        short = date_digits
        year = 2000 + int(short[:2])  # the century is unknown; 2000+yy keeps leap years right
    month, day = int(short[2:4]), int(short[4:6])
    if day > 60:  # samordningsnummer: day + 60
        day -= 60
    return _valid_date(year, month, day)


def valid_personnummer(date_digits: str, last_four: str) -> bool:
    """A real date and a correct Luhn check digit (what Skatteverket would issue)."""
    short = re.sub(r"\D", "", date_digits)[-6:]
    return looks_like_personnummer(date_digits) and luhn_ok(short + last_four)


def _national_digits(written: str) -> str:
    """+46 70 123 45 67 and 0046 70 ... -> 0701234567: the length rules apply to the national form."""
    digits = re.sub(r"\D", "", written.replace("(0)", ""))
    if written.startswith("+46"):
        return "0" + digits[2:]
    if digits.startswith("0046"):
        return "0" + digits[4:]
    return digits


@dataclass
class PiiMatch:
    kind: str  # personnummer, telefon, e-post, namn
    start: int
    end: int
    text: str


class NameFinder:
    """Person names: gazetteer first name + surname, a lone unambiguous first name, or a
    capitalised word after a naming cue. First names that are also Swedish words (Inga, Per,
    Björn, Bo) count only beside a surname or after a cue."""

    def __init__(self, nlp: SwedishNLP | None = None, first_names: list[str] | None = None,
                 surnames: list[str] | None = None):  # fmt: skip
        self.nlp = nlp or SwedishNLP()
        self.first_names = first_names if first_names is not None else _read_names(FIRST_NAMES)
        self.surnames = surnames if surnames is not None else _read_names(SURNAMES)
        self._table = self.nlp.nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup", {})
        unambiguous = [n for n in self.first_names if not self._is_word(n)]
        genitives = [n + "s" for n in unambiguous if not n.endswith(("s", "x", "z")) and not self._is_word(n + "s")]
        first = {"ORTH": {"IN": self.first_names + genitives}}
        alone = {"ORTH": {"IN": unambiguous + genitives}}
        surname_options = [{"ORTH": {"IN": self.surnames}}, {"TEXT": {"REGEX": _SURNAME_SHAPE}}]
        shape = {"TEXT": {"REGEX": _NAME_SHAPE}}
        self.matcher = Matcher(self.nlp.vocab)
        full = [[first, s] for s in surname_options]
        full += [[first, first, s] for s in surname_options]
        full += [[first, s1, s2] for s1, s2 in itertools.product(surname_options, repeat=2)]
        full += [[first, {"TEXT": {"REGEX": r"^[A-ZÅÄÖ]\.$"}}]]  # Anna S.
        self.matcher.add("full", full)
        self.matcher.add("alone", [[alone]])
        cue = {"LOWER": {"IN": list(PERSON_CUES)}}
        self.matcher.add("cue", [[cue, first]] + [[cue, s] for s in surname_options])
        naming = {"LOWER": {"IN": list(NAMING_VERBS)}}
        filler = {"LOWER": {"IN": list(NAMING_FILLERS)}, "OP": "*"}
        self.matcher.add("naming", [[naming, filler, shape]])

    def spans(self, text: str, known: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
        """Character spans of the names in `text`, longest first where they overlap. A name found
        once (or given in `known`, names found elsewhere in the same report) is a name wherever
        it recurs: "Vi kallar henne Lisa. ... Lisa ringde."."""
        doc = self.nlp.make_doc(text)
        found: list[tuple[int, int]] = []
        for match_id, start, end in self.matcher(doc):
            label = self.nlp.vocab.strings[match_id]
            if label in ("cue", "naming"):
                start = end - 1  # the name is the last token; the cue stays
            end = self._extend(doc, end)
            found.append((start, end))
        words = known | {t.text for s, e in found for t in doc[s:e]}
        found += [(t.i, t.i + 1) for t in doc if t.text in words and re.match(_NAME_SHAPE, t.text)]
        spans = _longest_first(found)
        return [(doc[s].idx, doc[e - 1].idx + len(doc[e - 1])) for s, e in spans]

    def words(self, texts: list[str]) -> frozenset[str]:
        """The words of every name found in `texts` (to pass as `known` for the same report)."""
        out: set[str] = set()
        for text in texts:
            out.update(word for start, end in self.spans(text) for word in text[start:end].split())
        return frozenset(out)

    def _extend(self, doc: Doc, end: int) -> int:
        """Take in a following capitalised word that is no Swedish word (Lindh after Anna)."""
        while end < len(doc) and doc[end - 1].whitespace_ and self._unknown_name_word(doc[end].text):
            end += 1
        return end

    def _is_word(self, word: str) -> bool:
        """Also an everyday Swedish word (an inflected form the lemma table knows, a stop word)."""
        lower = word.lower()
        return lower in self._table or lower in self.nlp.stop_words or lower in EVERYDAY_WORDS

    def _unknown_name_word(self, word: str) -> bool:
        return bool(re.match(_NAME_SHAPE, word)) and not self._is_word(word) and word not in self.first_names


@functools.cache
def default_name_finder() -> NameFinder:
    """The gazetteers and their matcher are read-only: one per process is enough."""
    return NameFinder()


def _longest_first(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    taken: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(end <= a or start >= b for a, b in taken):
            taken.append((start, end))
    return sorted(taken)


class PiiDetector:
    """Finds and masks personal data before anything is stored or shown."""

    def __init__(self, kinds: tuple[str, ...] = KINDS, nlp: SwedishNLP | None = None):
        self.kinds = kinds
        self._nlp = nlp

    @cached_property
    def names(self) -> NameFinder:
        return NameFinder(self._nlp) if self._nlp is not None else default_name_finder()

    def find(self, text: str, known_names: frozenset[str] = frozenset()) -> list[PiiMatch]:
        """Personal data in `text`; `known_names` are name words found elsewhere in the same
        report (NameFinder.words), masked here too."""
        found: list[PiiMatch] = []
        taken: list[tuple[int, int]] = []

        def free(start: int, end: int) -> bool:
            return all(end <= a or start >= b for a, b in taken)

        def add(kind: str, start: int, end: int) -> None:
            found.append(PiiMatch(kind, start, end, text[start:end]))
            taken.append((start, end))

        if "e-post" in self.kinds:
            for pattern in (_EMAIL, _EMAIL_SPELLED):
                for m in pattern.finditer(text):
                    if free(m.start(), m.end()):
                        add("e-post", m.start(), m.end())
        if "personnummer" in self.kinds:
            for m in _PERSONNUMMER.finditer(text):
                date_digits = m.group("date") or m.group("pairs")
                bare_ten = m.group("date") is not None and not m.group("sep") and len(date_digits) == 6
                if bare_ten and date_digits.startswith("0") and "telefon" in self.kinds and date_digits[1] in "123456789":
                    continue  # 0701234567 is far more likely a phone number than a 2007 birth
                if free(m.start(), m.end()) and looks_like_personnummer(date_digits):
                    add("personnummer", m.start(), m.end())
        if "telefon" in self.kinds:
            for m in _PHONE.finditer(text):
                if not free(m.start(), m.end()) or _GROUPED_NUMBER_BEFORE.search(text, 0, m.start()):
                    continue
                if _NOT_A_PHONE.fullmatch(m.group(0)):
                    continue
                if 8 <= len(_national_digits(m.group(0))) <= 10:
                    add("telefon", m.start(), m.end())
        if "namn" in self.kinds and any(ch.isupper() for ch in text):
            for start, end in self.names.spans(text, known_names):
                if free(start, end):
                    add("namn", start, end)
        return sorted(found, key=lambda p: p.start)

    def known_names(self, texts: list[str]) -> frozenset[str]:
        return self.names.words(texts) if "namn" in self.kinds else frozenset()

    def mask(self, text: str, known_names: frozenset[str] = frozenset()) -> tuple[str, dict[str, int]]:
        """Text with personal data replaced by "[personnummer]", "[telefon]", "[e-post]", "[namn]";
        counts by kind."""
        counts: dict[str, int] = {}
        parts: list[str] = []
        last = 0
        for match in self.find(text, known_names):
            parts += [text[last : match.start], MASKS[match.kind]]
            last = match.end
            counts[match.kind] = counts.get(match.kind, 0) + 1
        parts.append(text[last:])
        return "".join(parts), counts

    def masked(self, text: str, known_names: frozenset[str] = frozenset()) -> str:
        """Only the masked text (for short fields: titles, headings, file names, messages)."""
        return self.mask(text, known_names)[0] if text else text

    def mask_fields(self, record: T, names: tuple[str, ...], known_names: frozenset[str] = frozenset()) -> T:
        """A copy of a dataclass record with the named text fields masked (a str, or a list of
        str such as a heading path)."""
        changes = {}
        for name in names:
            value = getattr(record, name)
            if isinstance(value, list):
                changes[name] = [self.masked(v, known_names) for v in value]
            else:
                changes[name] = self.masked(value, known_names)
        return dataclasses.replace(record, **changes)
