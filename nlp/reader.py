"""PassageReader: everything the Swedish reading adds to the passages of one document.

One object holds the spaCy pipeline and every matcher, so a build (or a worker process)
loads them once. `label` needs all passages of a document in reading order because a
passage is read in the context of its section and its neighbours.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from systemfel.nlp.actors import ActorMatcher
from systemfel.nlp.figures import FigureExtractor
from systemfel.nlp.kind import KindClassifier, passage_field
from systemfel.nlp.level import LevelClassifier
from systemfel.nlp.swedish import SwedishNLP
from systemfel.base.records import LEAD_IN, Figure, Passage, PassageLabels

log = logging.getLogger(__name__)


class PassageReader:
    """Kind, actors and level for each passage; reported figures for a document."""

    def __init__(
        self,
        actor_paths: Sequence[str | Path] = (),
        cue_paths: Sequence[str | Path] = (),
        *,
        nlp: SwedishNLP | None = None,
        kind_classifier: KindClassifier | None = None,
    ):
        self.nlp = nlp or SwedishNLP()
        self.actors = ActorMatcher(actor_paths, nlp=self.nlp)
        self.kinds = kind_classifier or KindClassifier(self.nlp, cue_paths)
        self.levels = LevelClassifier(self.nlp, cue_paths)
        self.figure_extractor = FigureExtractor(self.nlp)

    def read(self, passages: Sequence, year: int | None = None) -> tuple[list[PassageLabels], list[Figure]]:
        """Labels of every passage and the document's reported figures, each passage parsed once."""
        docs = self._parse(passages)
        return self._label(passages, docs), self.figure_extractor.extract(passages, year=year, docs=docs)

    def label(self, passages: Sequence) -> list[PassageLabels]:
        """One PassageLabels per passage (Passage records or dicts with text/heading_path/block_kind)."""
        return self._label(passages, self._parse(passages))

    def _parse(self, passages: Sequence) -> list:
        return list(self.nlp.pipe(passage_field(p, "text", "") or "" for p in passages))

    def _label(self, passages: Sequence, docs: Sequence) -> list[PassageLabels]:
        if not passages:
            return []
        kinds = self.kinds.predict(passages, docs)
        levels = self.levels.predict(passages, [k for k, _ in kinds], docs)
        labels = []
        for passage, doc, (kind, score), level in zip(passages, docs, kinds, levels):
            # an item under "Psykiatrin:" is about psykiatrin though its own words do not say so
            context = passage_field(passage, "context", "") or ""
            context_actors = self.actors.find(context) if context else []
            actors = list(dict.fromkeys([*self.actors.find_in_doc(doc), *context_actors]))
            labels.append(PassageLabels(kind=kind, kind_score=round(float(score), 4), actors=actors, level=level))
        return labels

    def keep_passages(self, passages: Sequence[Passage]) -> list[Passage]:
        """The passages to store: lead-in lines only when they state a problem themselves (the
        others live on as their items' context), numbered again in reading order."""
        kept = [p for p in passages if p.block_kind != LEAD_IN or self.kinds.states_problem(p.text)]
        return [replace(p, seq=seq) for seq, p in enumerate(kept)]

    def figures(self, passages: Sequence, year: int | None = None) -> list[Figure]:
        """Numbers the report states about itself ('147 systemfel', '218 klienter')."""
        return self.figure_extractor.extract(passages, year=year)
