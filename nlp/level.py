"""The level a deficiency is reported on: handläggare, lokal or central.

A heading that names the level decides ("Brister på lokal nivå"), and it holds for the
sections after it until another level heading comes. Without one, the passage's own
words decide: legislation, rules and national agencies point to central, routines of
one municipality or clinic to lokal, the meeting with one caseworker to handläggare.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from systemfel.nlp.cues import DEFAULT_CUES, CueMatcher, load_cue_file
from systemfel.nlp.kind import passage_field
from systemfel.nlp.swedish import SwedishNLP

LEVELS = ("handlaggare", "lokal", "central")


class LevelClassifier:
    """Predicts a level (or None) for passages of one document, in reading order."""

    def __init__(self, nlp: SwedishNLP | None = None, cue_paths: Sequence[str | Path] = (), *, min_margin: int = 1):
        self.nlp = nlp or SwedishNLP()
        self.min_margin = min_margin
        cues = load_cue_file([DEFAULT_CUES, *cue_paths])["levels"]
        self._headings = CueMatcher(self.nlp, cues["headings"])
        self._text = CueMatcher(self.nlp, cues["text"])
        self._heading_cache: dict[str, str | None] = {}

    def heading_level(self, heading: str) -> str | None:
        if heading not in self._heading_cache:
            counts = self._headings.counts(self.nlp(heading.lower()))
            named = [level for level in LEVELS if counts.get(level)]
            self._heading_cache[heading] = named[0] if len(named) == 1 else None
        return self._heading_cache[heading]

    def text_level(self, text: str) -> str | None:
        counts = self._text.counts(self.nlp(text))
        ranked = sorted(LEVELS, key=lambda level: counts.get(level, 0), reverse=True)
        top, second = counts.get(ranked[0], 0), counts.get(ranked[1], 0)
        if top == 0 or top - second < self.min_margin:
            return None
        return ranked[0]

    def predict_one(self, text: str, heading_path: Sequence[str] = ()) -> str | None:
        for heading in reversed(list(heading_path)):
            level = self.heading_level(heading)
            if level:
                return level
        return self.text_level(text)

    def predict(self, passages: Sequence, kinds: Sequence[str] | None = None) -> list[str | None]:
        """Levels for one document; only deficiencies get one when `kinds` is given."""
        out: list[str | None] = []
        carried: str | None = None
        last_path: tuple = ()
        for i, passage in enumerate(passages):
            path = tuple(passage_field(passage, "heading_path", []) or [])
            if path != last_path:
                named = next((self.heading_level(h) for h in reversed(path) if self.heading_level(h)), None)
                if named:
                    carried = named
                last_path = path
            if kinds is not None and kinds[i] != "deficiency":
                out.append(None)
                continue
            text = passage_field(passage, "text", "") or ""
            own = self.predict_one(text, path)
            out.append(own or carried)
        return out
