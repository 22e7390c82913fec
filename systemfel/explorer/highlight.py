"""Marks the words of a search that occur in a snippet, safely (HTML escaped first)."""
from __future__ import annotations

import html
import re

import snowballstemmer
from spacy.lang.sv.stop_words import STOP_WORDS

WORD = re.compile(r"\w+(?:-\w+)*", re.UNICODE)
MIN_TERM_LENGTH = 2  # Swedish has short content words: kö, FK
# Markdown punctuation that Streamlit would otherwise render (emphasis, links, LaTeX, emoji codes).
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|$~:=^])")


def markdown_safe(text: str) -> str:
    """Text that st.markdown shows literally: markdown punctuation backslashed, HTML escaped."""
    return html.escape(MARKDOWN_SPECIAL.sub(r"\\\1", text))


class TermHighlighter:
    """Wraps words matching any term in <mark>; everything else is escaped (HTML and markdown).

    Terms may be whole words or Swedish stems (the lexical search matches stems), so a
    word is marked when its lower-case form or its stem equals a term or a term's stem.
    """

    def __init__(self, language: str = "swedish"):
        self.stemmer = snowballstemmer.stemmer(language)

    def _keys(self, word: str) -> set[str]:
        lower = word.lower()
        return {lower, self.stemmer.stemWord(lower)}

    def term_keys(self, terms: list[str]) -> set[str]:
        keys: set[str] = set()
        for term in terms:
            for word in WORD.findall(term):
                if len(word) >= MIN_TERM_LENGTH and word.lower() not in STOP_WORDS:
                    keys |= self._keys(word)
        return keys

    def highlight(self, text: str, terms: list[str]) -> str:
        keys = self.term_keys(terms)
        pieces: list[str] = []
        last = 0
        for match in WORD.finditer(text):
            word = match.group(0)
            if len(word) >= MIN_TERM_LENGTH and self._keys(word) & keys:
                pieces.append(markdown_safe(text[last : match.start()]))
                pieces.append(f"<mark>{markdown_safe(word)}</mark>")
                last = match.end()
        pieces.append(markdown_safe(text[last:]))
        return "".join(pieces)


def snippet(text: str, terms: list[str], width: int = 400) -> str:
    """A window of `text` around the first matched term, cut at word boundaries, so a long
    passage shows the part that matched and never half a word."""
    if len(text) <= width:
        return text
    positions = [m.start() for t in terms if len(t) >= MIN_TERM_LENGTH
                 for m in [re.search(r"(?<!\w)" + re.escape(t), text, re.IGNORECASE)] if m]  # fmt: skip
    first = min(positions) if positions else 0
    start = max(0, first - width // 4)
    if start:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 else 0
    end = start + width
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
        while end < len(text) and text[end - 1 : end].isalnum() and text[end : end + 1].isalnum():
            end += 1  # never split a word, even when no space is near
    window = text[start:end].strip()
    return ("… " if start else "") + window + (" …" if end < len(text) else "")
