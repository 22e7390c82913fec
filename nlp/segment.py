"""Split passages that are far too long to read, cite or label as one unit.

Some layouts put a whole chapter in one box (a 20 000-character "quote" that holds
deficiencies, good examples and closing words alike). One label for all of it is
wrong whatever it is, and a search hit on it points nowhere. Such passages are cut
into groups of whole sentences, and a new group starts where a known section name
runs into the text ("... Goda exempel Trots att ..."). Passages of normal length are
returned untouched.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from systemfel.nlp.cues import DEFAULT_CUES, load_cue_file
from systemfel.nlp.swedish import SwedishNLP
from systemfel.base.records import Passage


class PassageSplitter:
    """Cuts passages longer than `max_chars` into sentence groups of about `target_chars`."""

    def __init__(self, nlp: SwedishNLP | None = None, *, max_chars: int = 2500, target_chars: int = 900,
                 cue_paths: Sequence[str | Path] = ()):
        self.nlp = nlp or SwedishNLP()
        self.max_chars = max_chars
        self.target_chars = target_chars
        names = [n for group in load_cue_file([DEFAULT_CUES, *cue_paths]).get("inline_sections", {}).values()
                 for n in group]
        self._section_start = re.compile(r"^\W*(?:\d+\s+)?(?:" + "|".join(map(re.escape, names)) + r")\s+[A-ZÅÄÖ]")

    def split_text(self, text: str) -> list[str]:
        if len(text) <= self.max_chars:
            return [text]
        chunks: list[list[str]] = [[]]
        size = 0
        for sentence in self.nlp.sentences(text):
            starts_section = bool(self._section_start.match(sentence))
            if chunks[-1] and (size + len(sentence) > self.target_chars or starts_section):
                chunks.append([])
                size = 0
            chunks[-1].append(sentence)
            size += len(sentence) + 1
        return [" ".join(chunk) for chunk in chunks if chunk]

    def split(self, passages: Sequence[Passage]) -> list[Passage]:
        """Passages in the same order; long ones replaced by their parts (a long box is no case quote)."""
        out: list[Passage] = []
        for passage in passages:
            parts = self.split_text(passage.text)
            if len(parts) == 1:
                out.append(replace(passage, seq=len(out)))
                continue
            kind = "paragraph" if passage.block_kind == "quote" else passage.block_kind
            for part in parts:
                out.append(replace(passage, text=part, block_kind=kind, seq=len(out)))
        return out
