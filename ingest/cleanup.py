"""Text repairs that good extractors make: ligatures, Unicode form, line-end hyphens, bullet glyphs."""
from __future__ import annotations

import re
import unicodedata

LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
    "\u0132": "IJ",
    "\u0133": "ij",
}
_LIGATURE_TABLE = str.maketrans(LIGATURES)

# Glyphs that start a list item. "(cid:127)" is how pdfminer shows an unmapped bullet glyph.
BULLET_GLYPHS = (
    "•", "●", "▪", "■", "◦", "○", "‣", "∙", "·", "\uf0b7", "\uf0a7", "➢", "►", "–", "(cid:127)", "\x7f",
)  # fmt: skip
_BULLET_INLINE = re.compile(r"\(cid:127\)|\x7f")
_CID = re.compile(r"\(cid:\d+\)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# A hyphen at a line end before these words is a Swedish compound hyphen ("Arbetsmarknads- och ...").
COMPOUND_CONTINUATIONS = frozenset({"och", "eller", "samt", "resp", "resp.", "respektive", "som", "till", "men", "&"})
LINE_END_HYPHENS = ("-", "\u00ad", "\u2010", "\u2011")
SENTENCE_END = tuple('.!?:;…"”’»)')


def clean_text(text: str) -> str:
    """Repair ligatures, show bullet glyphs as '•', drop control characters and normalise to NFC."""
    text = text.translate(_LIGATURE_TABLE)
    text = _BULLET_INLINE.sub("•", text)
    text = _CID.sub("", text)
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


def strip_bullet(text: str) -> tuple[str, bool]:
    """Split a leading bullet glyph from a line: (text without it, whether there was one)."""
    stripped = text.lstrip()
    for glyph in BULLET_GLYPHS:
        if stripped.startswith(glyph) and (len(stripped) == len(glyph) or not stripped[len(glyph)].isalnum()):
            if glyph == "–" and not stripped[len(glyph) :].startswith(" "):
                continue
            return stripped[len(glyph) :].lstrip(), True
    return text, False


# Abbreviations after which a sentence goes on: "vad gäller t.ex." + "aktivitetsrapportering".
NON_FINAL_ABBREVIATIONS = frozenset(
    {"t.ex.", "bl.a.", "s.k.", "d.v.s.", "dvs.", "resp.", "jfr.", "ang.", "enl.", "p.g.a.", "pga.", "t.o.m.",
     "fr.o.m.", "kl.", "nr.", "s.", "ca.", "e.d.", "o.d.", "f.d.", "inkl.", "exkl.", "st."}
)  # fmt: skip


def ends_sentence(text: str) -> bool:
    """Whether a block of text ends where a sentence ends (so a following block is not its continuation)."""
    stripped = text.rstrip()
    if not stripped.endswith(SENTENCE_END):
        return False
    last_word = stripped.rsplit(None, 1)[-1].lower()
    return last_word not in NON_FINAL_ABBREVIATIONS


def starts_lower(text: str) -> bool:
    stripped = text.lstrip()
    return bool(stripped) and stripped[0].islower()


class HyphenJoiner:
    """Joins lines, undoing line-end hyphenation but keeping hyphens that belong to the words.

    ``fit`` learns from the document itself which hyphenated words occur inside lines
    ("SIP-möte", "a-kassan"): those keep their hyphen when split at a line end too.
    """

    def __init__(self, compound_continuations: frozenset[str] = COMPOUND_CONTINUATIONS):
        self.compound_continuations = compound_continuations
        self.hyphenated_words_: set[str] = set()

    _INLINE_HYPHENATED = re.compile(r"\b(\w+)-(\w+)\b")

    def fit(self, lines: list[str]) -> HyphenJoiner:
        self.hyphenated_words_ = set()
        for line in lines:
            for match in self._INLINE_HYPHENATED.finditer(line):
                self.hyphenated_words_.add(match.group(0).lower())
        return self

    def join(self, left: str, right: str) -> str:
        """Join two consecutive lines of one block."""
        left = left.rstrip()
        right = right.lstrip()
        if not left:
            return right
        if not right:
            return left
        if left.endswith(LINE_END_HYPHENS) and len(left) >= 2 and left[-2].isalpha():
            stem = left[:-1]
            next_word = right.split(" ", 1)[0]
            next_bare = next_word.rstrip(",.;:")
            if next_word.lower() in self.compound_continuations or next_word[0] in ",;":
                return f"{stem}- {right}" if left[-1] != "\u00ad" else f"{stem} {right}"
            if left[-1] == "\u00ad":  # a soft hyphen only ever marks a break
                return stem + right
            prefix = re.split(r"\W", stem)[-1]
            keep = (
                not next_word[:1].islower()  # "PO-\nSkåne", "9-\n12"
                or len(prefix) <= 2  # "e-\ntjänster", "a-\nkassan"
                or prefix[-1:].isupper()  # "SIP-\nmöte"
                or f"{prefix}-{next_bare}".lower() in self.hyphenated_words_
            )
            return f"{stem}-{right}" if keep else stem + right
        return f"{left} {right}"

    def join_all(self, lines: list[str]) -> str:
        text = ""
        for line in lines:
            text = self.join(text, line) if text else line.strip()
        return text
