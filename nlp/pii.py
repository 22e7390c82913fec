"""Personal data in report text: personnummer, samordningsnummer, phone numbers, e-mail.

These are formats, not vocabularies, so regular expressions find candidates and each
candidate is validated (date and Luhn check digit for personnummer, number length for
phones) so that years, dates, law references and amounts are left alone.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MASKS = {"personnummer": "[personnummer]", "telefon": "[telefon]", "e-post": "[e-post]"}

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}(?![\w-])")
# 6 or 8 date digits, optional - or + (+ marks age 100+), 4 digits; never inside a longer number
_PERSONNUMMER = re.compile(r"(?<![\d\-+:/.,])(\d{6}|\d{8})([-+]?)(\d{4})(?![\d])(?![-.,:/]\d)")
# national (0...) or international (+46 / 0046) numbers written with spaces or dashes
_PHONE = re.compile(
    r"(?<![\w+\-/.,:])"
    r"(?:(?:\+|00)46[\s-]?(?:\(0\)[\s-]?)?|0)"
    r"[1-9]\d{0,3}"
    r"(?:[\s-]?\d){5,8}"
    r"(?![\w\-/]|[.,:]\d)"
)

# "1 020 194": a phone number never continues a number written in groups of digits
_GROUPED_NUMBER_BEFORE = re.compile(r"\d[ \u00a0]$")


def _national_digits(written: str) -> str:
    """+46 70 123 45 67 and 0046 70 ... -> 0701234567: the length rules apply to the national form."""
    digits = re.sub(r"\D", "", written.replace("(0)", ""))
    if written.startswith("+46"):
        return "0" + digits[2:]
    if digits.startswith("0046"):
        return "0" + digits[4:]
    return digits


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


def valid_personnummer(date_digits: str, last_four: str) -> bool:
    """A real date (day + 60 for samordningsnummer) and a correct Luhn check digit."""
    if len(date_digits) == 8:
        if date_digits[:2] not in ("18", "19", "20"):
            return False
        year = int(date_digits[:4])
        short = date_digits[2:]
    else:
        short = date_digits
        year = 2000 + int(short[:2])  # the century is unknown; 2000+yy keeps leap years right
    month, day = int(short[2:4]), int(short[4:6])
    if day > 60:  # samordningsnummer: day + 60
        day -= 60
    return _valid_date(year, month, day) and luhn_ok(short + last_four)


@dataclass
class PiiMatch:
    kind: str  # personnummer, telefon, e-post
    start: int
    end: int
    text: str


class PiiDetector:
    """Finds and masks personal data before anything is stored or shown."""

    def __init__(self, kinds: tuple[str, ...] = ("personnummer", "telefon", "e-post")):
        self.kinds = kinds

    def find(self, text: str) -> list[PiiMatch]:
        found: list[PiiMatch] = []
        taken: list[tuple[int, int]] = []

        def free(start: int, end: int) -> bool:
            return all(end <= a or start >= b for a, b in taken)

        def add(kind: str, m: re.Match) -> None:
            found.append(PiiMatch(kind, m.start(), m.end(), m.group(0)))
            taken.append((m.start(), m.end()))

        if "e-post" in self.kinds:
            for m in _EMAIL.finditer(text):
                add("e-post", m)
        if "personnummer" in self.kinds:
            for m in _PERSONNUMMER.finditer(text):
                date_digits, sep, last = m.groups()
                bare_ten = not sep and len(date_digits) == 6
                if bare_ten and date_digits.startswith("0") and "telefon" in self.kinds and date_digits[1] in "1-9":
                    # 0701234567 is far more likely a phone number than a 2007 birth
                    continue
                if free(m.start(), m.end()) and valid_personnummer(date_digits, last):
                    add("personnummer", m)
        if "telefon" in self.kinds:
            for m in _PHONE.finditer(text):
                if not free(m.start(), m.end()) or _GROUPED_NUMBER_BEFORE.search(text, 0, m.start()):
                    continue
                if 8 <= len(_national_digits(m.group(0))) <= 10:
                    add("telefon", m)
        return sorted(found, key=lambda p: p.start)

    def mask(self, text: str) -> tuple[str, dict[str, int]]:
        """Text with personal data replaced by "[personnummer]", "[telefon]", "[e-post]"; counts by kind."""
        counts: dict[str, int] = {}
        parts: list[str] = []
        last = 0
        for match in self.find(text):
            parts += [text[last : match.start], MASKS[match.kind]]
            last = match.end
            counts[match.kind] = counts.get(match.kind, 0) + 1
        parts.append(text[last:])
        return "".join(parts), counts
