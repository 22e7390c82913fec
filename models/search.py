"""Hybrid search over passages: BM25 on Swedish stems fused with dense cosine, plus filters.

Lexical search finds the exact words a researcher types ("bank-id", "SIP"); dense search
finds the same problem told in other words ("kunde inte legitimera sig"). Reports often pack
several problems into one paragraph, so when sentence vectors are given a passage's dense
score is that of its best-matching sentence. Reciprocal rank fusion combines the lexical
and dense rankings without calibrating their scores against each other; it measured better
than min-max score fusion on the dev queries (benchmarks/embed_search.py prints both).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import bm25s
import numpy as np
from threadpoolctl import ThreadpoolController

from systemfel.base.records import StoredPassage
from systemfel.models.embed.base import Embedder, l2_normalise
from systemfel.models.text import SwedishAnalyzer

log = logging.getLogger(__name__)
# bm25s pins its logger to DEBUG on import; hand the level back to the application's config
logging.getLogger("bm25s").setLevel(logging.NOTSET)

MODES = ("hybrid", "lexical", "dense")


@dataclass
class SearchFilters:
    """Restrict a search; each field is a list of accepted values, or None for no restriction."""

    themes: list[str] | None = None
    actors: list[str] | None = None
    orgs: list[str] | None = None
    years: list[int] | None = None
    levels: list[str] | None = None
    kinds: list[str] | None = None

    def is_empty(self) -> bool:
        return not any((self.themes, self.actors, self.orgs, self.years, self.levels, self.kinds))


@dataclass
class SearchHit:
    """One passage found, with what a researcher needs to cite it (report, page, quote)."""

    passage_id: int
    score: float
    rank: int
    text: str
    file: str
    page: int | None
    org: str
    year: int | None
    heading: str
    kind: str | None
    themes: list[str] = field(default_factory=list)
    matched_terms: list[str] = field(default_factory=list)


class SearchEngine:
    """Holds the passages, their vectors and a BM25 index built once at construction.

    `vectors` row i belongs to `passages[i]` and must come from `embedder` (L2-normalised).
    Optional `sentence_vectors` with `sentence_owner` (passage index of each row, see
    models.vectors.sentence_rows) make a multi-sentence passage score as its best sentence.
    Fusion is "rrf" (reciprocal rank fusion, default) or "score" (min-max normalised scores),
    both weighting the dense side by `dense_weight`.
    """

    def __init__(
        self,
        passages: list[StoredPassage],
        vectors: np.ndarray,
        embedder: Embedder,
        *,
        sentence_vectors: np.ndarray | None = None,
        sentence_owner: np.ndarray | None = None,
        fusion: str = "rrf",
        rrf_k: int = 60,
        dense_weight: float = 0.6,
        k1: float = 1.2,
        b: float = 0.75,
        analyzer: SwedishAnalyzer | None = None,
    ):
        if len(passages) != len(vectors):
            raise ValueError(f"{len(passages)} passages but {len(vectors)} vectors")
        if fusion not in ("rrf", "score"):
            raise ValueError(f"unknown fusion {fusion!r}")
        self.passages = passages
        self.vectors = l2_normalise(vectors) if len(vectors) else np.zeros((0, embedder.dim), np.float32)
        self.embedder = embedder
        if (sentence_vectors is None) != (sentence_owner is None):
            raise ValueError("sentence_vectors and sentence_owner go together")
        if sentence_vectors is not None and len(sentence_vectors) != len(sentence_owner):
            raise ValueError(f"{len(sentence_vectors)} sentence vectors but {len(sentence_owner)} owners")
        has_sentences = sentence_vectors is not None and len(sentence_vectors) > 0
        self.sentence_vectors = l2_normalise(sentence_vectors) if has_sentences else None
        self.sentence_owner = np.asarray(sentence_owner, dtype=np.int64) if self.sentence_vectors is not None else None
        if self.sentence_vectors is not None:
            # rows grouped by passage, so each passage's best sentence is one reduceat per query
            order = np.argsort(self.sentence_owner, kind="stable")
            self.sentence_vectors, self.sentence_owner = self.sentence_vectors[order], self.sentence_owner[order]
            self._sentence_passages, self._sentence_starts = np.unique(self.sentence_owner, return_index=True)
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self.analyzer = analyzer or SwedishAnalyzer()
        self._index_position = {p.id: i for i, p in enumerate(passages)}
        self._stems = [self.analyzer.stems(p.text + " " + (p.heading or "")) for p in passages]
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        self._vocabulary: set[str] = set()
        if passages:
            # an empty document still needs one token for bm25s; "" never matches a query stem
            self._bm25.index([s or [""] for s in self._stems], show_progress=False)
            self._vocabulary = {t for s in self._stems for t in s}
        self._columns = self._filter_columns(passages)
        self._threads = ThreadpoolController()

    def __getstate__(self) -> dict:
        """What is kept between processes: indexes and vectors, not the model or thread handles."""
        state = dict(self.__dict__)
        state["embedder"] = None  # the loader gives the engine its model again
        state.pop("_threads", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._threads = ThreadpoolController()

    # ------------------------------------------------------------ filtering
    @staticmethod
    def _filter_columns(passages: list[StoredPassage]) -> dict[str, list]:
        return {
            "orgs": [p.org for p in passages],
            "years": [p.year for p in passages],
            "levels": [p.level for p in passages],
            "kinds": [p.kind for p in passages],
            "themes": [set(p.themes or ()) for p in passages],
            "actors": [set(p.actors or ()) for p in passages],
        }

    def filter_mask(self, filters: SearchFilters | None) -> np.ndarray:
        """Boolean mask of the passages that pass every given filter."""
        mask = np.ones(len(self.passages), dtype=bool)
        if filters is None or filters.is_empty():
            return mask
        for name in ("orgs", "years", "levels", "kinds"):
            accepted = getattr(filters, name)
            if accepted:
                accepted = set(accepted)
                mask &= np.fromiter((v in accepted for v in self._columns[name]), bool, len(mask))
        for name in ("themes", "actors"):
            accepted = getattr(filters, name)
            if accepted:
                accepted = set(accepted)
                mask &= np.fromiter((bool(v & accepted) for v in self._columns[name]), bool, len(mask))
        return mask

    # --------------------------------------------------------------- scores
    def lexical_scores(self, stems: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query stems (0 where no stem occurs)."""
        known = [s for s in dict.fromkeys(stems) if s in self._vocabulary]
        if not known:
            return np.zeros(len(self.passages), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine of every passage to the query: its best sentence's where sentence vectors exist."""
        query_vector = np.asarray(query_vector, dtype=np.float32).ravel()
        # One BLAS thread: a matrix-vector product is memory-bound, and OpenBLAS threads left
        # spinning after it starve the embedder's own threads on the next query (p95 x5).
        with self._threads.limit(limits=1, user_api="blas"):
            scores = self.vectors @ query_vector
            if self.sentence_vectors is None:
                return scores
            sentence_scores = self.sentence_vectors @ query_vector
        best = np.maximum.reduceat(sentence_scores, self._sentence_starts)
        scores = scores.copy()
        scores[self._sentence_passages] = best
        return scores

    def _rank(self, lexical: np.ndarray | None, dense: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
        """Scores where higher is better, -inf outside the mask (and for lexical-only non-matches)."""
        if dense is None:
            assert lexical is not None
            return np.where(mask & (lexical > 0), lexical, -np.inf)
        if lexical is None or not np.any(lexical[mask] > 0):
            return np.where(mask, dense, -np.inf)
        if self.fusion == "rrf":
            fused = self._rrf(lexical, dense, mask)
        else:
            fused = self._score_fusion(lexical, dense, mask)
        return np.where(mask, fused, -np.inf)

    def _rrf(self, lexical: np.ndarray, dense: np.ndarray, mask: np.ndarray) -> np.ndarray:
        fused = np.zeros(len(lexical), dtype=np.float64)
        for scores, weight, only_positive in ((lexical, 1.0 - self.dense_weight, True), (dense, self.dense_weight, False)):
            candidates = np.flatnonzero(mask & (scores > 0)) if only_positive else np.flatnonzero(mask)
            order = candidates[np.argsort(-scores[candidates], kind="stable")]
            fused[order] += 2 * weight / (self.rrf_k + np.arange(1, len(order) + 1))
        return fused

    def _score_fusion(self, lexical: np.ndarray, dense: np.ndarray, mask: np.ndarray) -> np.ndarray:
        def minmax(scores: np.ndarray) -> np.ndarray:
            inside = scores[mask]
            low, high = float(inside.min()), float(inside.max())
            return (scores - low) / (high - low) if high > low else np.zeros_like(scores)

        return (1.0 - self.dense_weight) * minmax(lexical) + self.dense_weight * minmax(dense)

    # ---------------------------------------------------------------- query
    def search(
        self, query: str, k: int = 10, filters: SearchFilters | None = None, mode: str = "hybrid"
    ) -> list[SearchHit]:
        """The k passages that best answer a free-text query, best first."""
        if mode not in MODES:
            raise ValueError(f"Okänt sökläge '{mode}'. Välj ett av: {', '.join(MODES)}.")
        if not query.strip() or not self.passages:
            return []
        stems = self.analyzer.stems(query)
        lexical = self.lexical_scores(stems) if mode in ("hybrid", "lexical") else None
        dense = None
        if mode in ("hybrid", "dense"):
            dense = self.dense_scores(self.embedder.embed_queries([query])[0])
        scores = self._rank(lexical, dense, self.filter_mask(filters))
        return self._hits(scores, k, set(stems))

    def more_like_this(self, passage_id: int, k: int = 10, filters: SearchFilters | None = None) -> list[SearchHit]:
        """Passages most like a given one (its vector and its words), never the passage itself."""
        if passage_id not in self._index_position:
            raise KeyError(f"Inget stycke med id {passage_id}.")
        position = self._index_position[passage_id]
        stems = self._stems[position]
        mask = self.filter_mask(filters)
        mask[position] = False
        scores = self._rank(self.lexical_scores(stems), self.dense_scores(self.vectors[position]), mask)
        return self._hits(scores, k, set(stems))

    def _hits(self, scores: np.ndarray, k: int, stems: set[str]) -> list[SearchHit]:
        finite = np.flatnonzero(np.isfinite(scores))
        if not len(finite) or k <= 0:
            return []
        top = finite[np.argsort(-scores[finite], kind="stable")[:k]]
        hits = []
        for rank, i in enumerate(top, 1):
            p = self.passages[i]
            hits.append(
                SearchHit(
                    passage_id=p.id,
                    score=float(scores[i]),
                    rank=rank,
                    text=p.text,
                    file=p.file,
                    page=p.page,
                    org=p.org,
                    year=p.year,
                    heading=p.heading,
                    kind=p.kind,
                    themes=list(p.themes or []),
                    matched_terms=self.analyzer.matched_words(p.text, stems),
                )
            )
        return hits
