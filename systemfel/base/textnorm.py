"""Text normalisation used wherever texts are compared (gold keys, dedup, evaluation)."""
from __future__ import annotations

import re
import unicodedata

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")
_QUOTES = {ord(c): '"' for c in "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033"} | {
    ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u2032"
}
_SPACE = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def normalize_for_match(text: str) -> str:
    """NFC, lower case, one space, plain dashes and quotes, no soft hyphens (the gold's rule)."""
    text = unicodedata.normalize("NFC", text).replace("\u00ad", "")
    text = text.translate(_DASHES).translate(_QUOTES).lower()
    return _SPACE.sub(" ", text).strip()


def encodable(text: str) -> str:
    """The text with lone surrogates (which no UTF-8 can hold, and spaCy's tokenizer refuses
    since 3.8) replaced by U+FFFD one for one, so character offsets stay the same. (For text
    to store or print, `base.filenames.printable` shows them instead.)"""
    return _SURROGATE.sub("\ufffd", text) if text else text
