"""The level a deficiency is reported on: handläggare, lokal or central.

Structure first, the nearest that names a level: the level column of a table row
("Område | Beskrivning av bristen | Nivå" ... "Lokal"), the lead-in lines above a list item
(its context: "Brister på central nivå:"), a heading ("Brister på lokal nivå"); a level
heading also holds for the sections after it until another one comes. Without any, the
passage's own words decide: legislation, rules and national agencies point to central, routines of
one municipality or clinic to lokal, the meeting with one caseworker to handläggare.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spacy.tokens import Doc

from systemfel.nlp.cues import DEFAULT_CUES, CueMatcher, load_cue_file
from systemfel.nlp.kind import context_lines, passage_field
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
        self._cells = CueMatcher(self.nlp, cues.get("cells", {level: [] for level in LEVELS}))
        self._heading_cache: dict[str, str | None] = {}

    def heading_level(self, heading: str) -> str | None:
        if heading not in self._heading_cache:
            counts = self._headings.counts(self.nlp(heading.lower()))
            named = [level for level in LEVELS if counts.get(level)]
            self._heading_cache[heading] = named[0] if len(named) == 1 else None
        return self._heading_cache[heading]

    def context_level(self, context: str) -> str | None:
        """The level the lead-in lines above an item name (the nearest that names one)."""
        for line in reversed(context_lines(context)):
            level = self.heading_level(line)
            if level:
                return level
        return None

    def column_level(self, text: str, context: str) -> str | None:
        """The level in a table row's level column, when the column names (in the context) have one."""
        header = next((line for line in reversed(context_lines(context)) if " | " in line), "")
        if not header or " | " not in text:
            return None
        names = [name.strip().lower() for name in header.split(" | ")]
        cells = text.split(" | ")
        column = next((i for i, name in enumerate(names) if "nivå" in name), None)
        if column is None or len(cells) != len(names):
            return None
        counts = self._cells.counts(self.nlp(cells[column].strip().lower()))
        named = [level for level in LEVELS if counts.get(level)]
        return named[0] if len(named) == 1 else None

    def text_level(self, text: str, doc: Doc | None = None) -> str | None:
        counts = self._text.counts(doc if doc is not None else self.nlp(text))
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

    def predict(
        self, passages: Sequence, kinds: Sequence[str] | None = None, docs: Sequence[Doc] | None = None
    ) -> list[str | None]:
        """Levels for one document; only deficiencies get one when `kinds` is given. `docs`: the
        passages' texts already parsed."""
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
            context = passage_field(passage, "context", "") or ""
            # the nearest structure that names a level: the row's level column, the lead-in
            # lines above the item, then the headings (deepest first)
            structural = (self.column_level(text, context) or self.context_level(context)) if context else None
            structural = structural or next((self.heading_level(h) for h in reversed(path) if self.heading_level(h)), None)
            out.append(structural or self.text_level(text, docs[i] if docs is not None else None) or carried)
        return out
