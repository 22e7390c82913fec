"""Analysis stages of a build: each owns its cache key.

A stage's `signature()` hashes everything its result depends on: its settings, the codebook,
the labelled examples, the embedding model and the source of the code that computes it. The
store keeps the signature of the last run (and a hash of the stage's input); `run(store)` does
the work again exactly when either changed. Nothing has to be bumped by hand.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from systemfel.base.records import StoredPassage, ThemeScore
from systemfel.models import clusters as clusters_module
from systemfel.models import labelled as labelled_module
from systemfel.models import themes as themes_module
from systemfel.models import vectors as vectors_module
from systemfel.models.clusters import discover_clusters
from systemfel.models.embed.base import Embedder
from systemfel.models.labelled import LabelledExample
from systemfel.models.themes import Codebook, ThemeAssigner
from systemfel.models.vectors import embed_passages_cached, sentence_vectors_cached
from systemfel.store import Store

log = logging.getLogger(__name__)

StageProgress = Callable[[str, int, int], None]

# Kinds of passage that get themes: a background passage has no theme to count.
THEMED_KINDS = ("deficiency", "good_example")


def fingerprint(*parts: object) -> str:
    """A stable hash of JSON-able parts (dicts are sorted by key)."""
    payload = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def code_fingerprint(*modules: ModuleType) -> str:
    """The source of the modules that compute a result: editing them invalidates the result."""
    return fingerprint([inspect.getsource(m) for m in modules])


def effective_params(cls: type, overrides: dict) -> dict:
    """The keyword defaults of `cls.__init__` with the overrides applied: a changed default counts too."""
    defaults = {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.kind is p.KEYWORD_ONLY and p.default is not p.empty and isinstance(p.default, (int, float, str, bool))
    }
    return defaults | dict(overrides)


def input_fingerprint(passages: Sequence[StoredPassage]) -> str:
    return fingerprint([(p.id, p.text_hash, p.kind) for p in passages])


@dataclass
class AnalysisInput:
    """What the stages of one build share: the passages, the model and their vectors."""

    store: Store
    embedder: Embedder
    passages: list[StoredPassage]
    progress: StageProgress
    vectors: dict[str, np.ndarray] = field(default_factory=dict)

    def refresh(self) -> None:
        """Read the passages again after a stage changed what the store says about them."""
        self.passages = self.store.passages()


class EmbeddingStage:
    """Passage and sentence vectors, cached in the store by text hash (each text embedded once)."""

    name = "vektorer"

    def signature(self, embedder: Embedder) -> str:
        return fingerprint(embedder.name, code_fingerprint(vectors_module))

    def run(self, data: AnalysisInput) -> bool:
        """Load every vector (embedding only what is not cached); True when the input was new."""
        signature = fingerprint(self.signature(data.embedder), input_fingerprint(data.passages))
        items = list({p.text_hash: p.text for p in data.passages}.items())
        data.vectors = embed_passages_cached(
            data.store, data.embedder, items, progress=lambda done, total: data.progress("Bäddar in", done, total)
        )
        # sentence vectors let search match one sentence of a long passage; cached for the explorer
        sentence_vectors_cached(
            data.store,
            data.embedder,
            [p.text for p in data.passages],
            progress=lambda done, total: data.progress("Bäddar in meningar", done, total),
        )
        if data.store.stage_signature(self.name) == signature:
            return False
        data.store.set_stage_signature(self.name, signature)
        return True


class ThemeStage:
    """Codebook themes of every deficiency and good example."""

    name = "teman"

    def __init__(self, codebook: Codebook, labelled: Sequence[LabelledExample] = (), params: dict | None = None):
        self.codebook = codebook
        self.labelled = list(labelled)
        self.params = dict(params or {})
        self._fitted: ThemeAssigner | None = None

    def signature(self, embedder: Embedder) -> str:
        return fingerprint(
            embedder.name,
            self.codebook.fingerprint(),
            [(e.text, list(e.themes), e.doc) for e in self.labelled],
            effective_params(ThemeAssigner, self.params),
            code_fingerprint(themes_module, labelled_module),
        )

    def assigner(self, embedder: Embedder) -> ThemeAssigner:
        """The fitted assigner of this stage's codebook, examples and settings. Fitted once
        per stage and model (fitting embeds the codebook and the labelled examples, seconds):
        the recurring stage themes statements with the same one."""
        if self._fitted is None or self._fitted.embedder is not embedder:
            self._fitted = ThemeAssigner(self.codebook, embedder, labelled=self.labelled, **self.params).fit()
        return self._fitted

    def run(self, data: AnalysisInput) -> bool:
        store, passages = data.store, data.passages
        signature = self.signature(data.embedder)
        redo_all = store.stage_signature(self.name) != signature
        todo = [p for p in passages if p.kind in THEMED_KINDS and (redo_all or not p.themes)]
        stale = [p for p in passages if p.kind not in THEMED_KINDS and p.themes]
        if not todo and not stale and not redo_all:
            return False
        data.progress("Tilldelar teman", 0, max(len(todo), 1))
        predicted: dict[int, list[ThemeScore]] = {p.id: [] for p in stale}
        if todo:
            assigner = self.assigner(data.embedder)
            matrix = np.vstack([data.vectors[p.text_hash] for p in todo])
            sentences = sentence_vectors_cached(store, data.embedder, [p.text for p in todo])
            scores = assigner.predict([p.text for p in todo], matrix, headings=[p.filed_under for p in todo], sentences=sentences)
            predicted.update({p.id: s for p, s in zip(todo, scores)})
        store.save_themes(predicted, replace_all=redo_all)
        store.set_stage_signature(self.name, signature)
        data.progress("Tilldelar teman", len(todo), max(len(todo), 1))
        data.refresh()
        return True


class ClusterStage:
    """Discovered groups of deficiencies, named by their distinctive words."""

    name = "kluster"

    def __init__(self, codebook: Codebook, min_passages: int = 3):
        self.codebook = codebook
        self.min_passages = min_passages

    def signature(self, embedder: Embedder) -> str:
        return fingerprint(embedder.name, self.codebook.fingerprint(), self.min_passages, code_fingerprint(clusters_module))

    def run(self, data: AnalysisInput) -> bool:
        deficiencies = [p for p in data.passages if p.kind == "deficiency"]
        signature = fingerprint(self.signature(data.embedder), input_fingerprint(deficiencies), [p.themes for p in deficiencies])
        if data.store.stage_signature(self.name) == signature:
            return False
        if len(deficiencies) < self.min_passages:
            data.store.save_clusters([], {})
        else:
            data.progress("Grupperar", 0, 1)
            matrix = np.vstack([data.vectors[p.text_hash] for p in deficiencies])
            clusters, assignments = discover_clusters(deficiencies, matrix, codebook=self.codebook)
            data.store.save_clusters(clusters, assignments)
            data.progress("Grupperar", 1, 1)
        data.store.set_stage_signature(self.name, signature)
        data.refresh()
        return True
