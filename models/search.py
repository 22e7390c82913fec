"""Hybrid search over passages: BM25 on Swedish stems fused with dense cosine, plus filters.

Lexical search finds the exact words a researcher types ("bank-id", "SIP"); dense search
finds the same problem told in other words ("kunde inte legitimera sig"). Reports often pack
several problems into one paragraph, so when sentence vectors are given a passage's dense
score is the mean of its best-matching sentence's cosine and the whole passage's (the best
sentence alone lets one sentence of a long background paragraph outrank a case that is about
the query throughout; README, "Search"). Reciprocal rank fusion combines the lexical and
dense rankings without calibrating their scores against each other; it measured better
than min-max score fusion on the dev queries (benchmarks/embed_search.py prints both).
"""
from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import bm25s
import numpy as np
from threadpoolctl import ThreadpoolController

from systemfel.base.records import StoredPassage
from systemfel.models.embed.base import Embedder, l2_normalise
from systemfel.models.text import DOMAIN_STOP_WORDS, TERM_VARIANTS, SwedishAnalyzer

log = logging.getLogger(__name__)
# bm25s pins its logger to DEBUG on import; hand the level back to the application's config
logging.getLogger("bm25s").setLevel(logging.NOTSET)

MODES = ("hybrid", "lexical", "dense")

# Everyday filler that a typed case description is full of and that no passage is about
# ("Min klient har ... hos Försäkringskassan"); search only, themes keep their own list.
SEARCH_STOP_WORDS = DOMAIN_STOP_WORDS | frozenset(
    {"hos", "sa", "hen", "hens", "sen", "fått", "typ", "ju", "väl", "liksom", "också", "fast", "ändå", "lite"}
    # everyday verbs that carry a spoken case description ("vi hittar ingen ...", "det tar
    # månader", "hon säger att ...") and no problem of their own
    | {"hittar", "hitta", "hittade", "tar", "ta", "tog", "tagit", "säger", "säga", "sade", "sagt", "satt", "ihop"}
)

# Relevance bands shown to users (Swedish, as in the explorer and the CLI).
STRONG, POSSIBLE = "stark", "möjlig"


@dataclass(frozen=True)
class Calibration:
    """Relevance thresholds for one embedding model, learned on queries with judged answers.

    `possible`: the lowest relevance still shown (below it a search has "no hits");
    `strong`: from here a hit is shown as a strong match. See `calibrate`.
    """

    possible: float
    strong: float

    def band(self, relevance: float) -> str | None:
        if relevance >= self.strong:
            return STRONG
        if relevance >= self.possible:
            return POSSIBLE
        return None


CALIBRATION_FILE = Path(__file__).resolve().parent / "data" / "search_calibration.json"


def load_calibration(model_name: str, path: Path = CALIBRATION_FILE) -> Calibration | None:
    """The thresholds learned for an embedding model (benchmarks/search_quality.py --write);
    None for a model nobody calibrated: then every hit is shown, without a band."""
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("no search calibration readable at %s", path)
        return None
    entry = table.get(model_name)
    return Calibration(possible=entry["possible"], strong=entry["strong"]) if entry else None


def save_calibration(model_name: str, calibration: Calibration, path: Path = CALIBRATION_FILE) -> None:
    table = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    table[model_name] = {"possible": calibration.possible, "strong": calibration.strong}
    path.write_text(json.dumps(table, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


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
    relevance: float = 0.0
    band: str | None = None
    same_report: bool = False


# A query is a description of a case, not a report: longer ones cost seconds per thousand
# characters (tokenising, BM25 over every stem, embedding) and say no more.
MAX_QUERY_CHARS = 1000


class QueryTooLongError(ValueError):
    """A query over MAX_QUERY_CHARS, explained in Swedish."""


def check_query_length(query: str) -> None:
    if len(query) > MAX_QUERY_CHARS:
        raise QueryTooLongError(
            f"Sökfrågan är för lång ({len(query)} tecken); högst {MAX_QUERY_CHARS} tecken. "
            "Beskriv fallet kortare, eller använd --like ID för att hitta fall som liknar ett stycke."
        )


class SearchEngine:
    """Holds the passages, their vectors and a BM25 index built once at construction.

    `vectors` row i belongs to `passages[i]` and must come from `embedder` (L2-normalised).
    Optional `sentence_vectors` with `sentence_owner` (passage index of each row, see
    models.vectors.sentence_rows) make a multi-sentence passage score as `sentence_share` of
    its best sentence plus the rest of the whole passage's cosine.
    Fusion is "rrf" (reciprocal rank fusion, default) or "score" (min-max normalised scores),
    both weighting the dense side by `dense_weight`.

    Ranking and showing are separate questions. The fused rank orders the hits; whether a hit
    is shown at all is its *relevance*: its dense score (as above) plus `lexical_relevance`
    times the share of the query's rarity (IDF) the passage contains. Unlike rank fusion, the
    cosine is absolute for one model: on the demo reports every judged query has answers above
    the threshold learned on the dev queries (0.848), no nonsense query does (at most 0.84). (A z-score against the
    collection did not separate them: the best of 346 passages stands out for any query.)
    With a `calibration` (thresholds learned by `calibrate`) hits below its `possible` level
    are dropped and the others get a band, *stark* or *möjlig*.

    `rarity_power` weighs each query word's BM25 score by (its IDF / the query's highest IDF)
    to that power, so the rare words of a long everyday query count more than the common
    ones. `kind_weights` multiplies the fused score of passages of a kind (deficiencies first).
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
        dense_weight: float = 0.5,
        k1: float = 1.2,
        b: float = 0.75,
        analyzer: SwedishAnalyzer | None = None,
        rarity_power: float = 2.0,
        kind_weights: dict[str, float] | None = None,
        lexical_relevance: float = 0.1,
        calibration: Calibration | None = None,
        fold_definite: bool = True,
        sentence_share: float = 0.5,
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
        self.sentence_share = sentence_share
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self.rarity_power = rarity_power
        self.kind_weights = DEFAULT_KIND_WEIGHTS if kind_weights is None else dict(kind_weights)
        self.lexical_relevance = lexical_relevance
        self.calibration = calibration
        self.analyzer = analyzer or SwedishAnalyzer(extra_stop_words=SEARCH_STOP_WORDS, variants=TERM_VARIANTS)
        self._index_position = {p.id: i for i, p in enumerate(passages)}
        self._stems = [self.analyzer.stems(p.text + " " + (p.heading or "")) for p in passages]
        self.fold_definite = fold_definite
        self._definite: dict[str, str] = {}
        if fold_definite:
            self._definite = self._definite_forms({s for stems in self._stems for s in stems})
            self._stems = [[self._definite.get(s, s) for s in stems] for stems in self._stems]
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        self._document_frequency: Counter = Counter()
        if passages:
            # an empty document still needs one token for bm25s; "" never matches a query stem
            self._bm25.index([s or [""] for s in self._stems], show_progress=False)
            for stems in self._stems:
                self._document_frequency.update(set(stems))
        self._vocabulary = set(self._document_frequency)
        self._columns = self._filter_columns(passages)
        self._kind_factor = np.asarray([self.kind_weights.get(p.kind, 1.0) for p in passages], dtype=np.float64)
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

    def browse(self, filters: SearchFilters | None = None) -> list[StoredPassage]:
        """Every passage that passes the filters, newest report first, in reading order within it."""
        mask = self.filter_mask(filters)
        chosen = [p for p, keep in zip(self.passages, mask) if keep]
        return sorted(chosen, key=lambda p: (-(p.year or 0), p.org or "", p.doc_id, p.seq))

    # --------------------------------------------------------------- words
    def idf(self, stem: str) -> float:
        """BM25's inverse document frequency; a word no passage has gets the highest value."""
        n, df = len(self.passages), self._document_frequency.get(stem, 0)
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    def query_stems(self, query: str) -> list[str]:
        """The query's stems, with an unknown compound split into two known words
        ("telefonkön" -> "telefon", "kön") so that it can still match."""
        out: list[str] = []
        for stem in (self._known_form(s) for s in self.analyzer.stems(query)):
            out.extend([stem] if stem in self._vocabulary else self._split_compound(stem))
        return list(dict.fromkeys(out))

    def _known_form(self, stem: str) -> str:
        """A query word in the form the index has: folded like the passages' words, or, when
        the collection has only the other form, with or without the definite "-n"."""
        if self.fold_definite:
            stem = self._definite.get(stem, stem)
            if stem not in self._vocabulary:
                if stem[-1:] in VOWELS and stem + "n" in self._vocabulary:
                    return stem + "n"
                if stem.endswith("n") and stem[-2:-1] in VOWELS and stem[:-1] in self._vocabulary:
                    return stem[:-1]
        return stem

    def _definite_forms(self, words: set[str]) -> dict[str, str]:
        """Definite forms the Swedish snowball stemmer keeps, mapped to the bare word when the
        collection has it: a noun ending in a vowel takes "-n" ("kön" -> "kö", "psykiatrin" ->
        "psykiatri"). The domain's canonical terms keep their form (the bare word is mapped to
        the term instead: "psykiatri" -> "psykiatrin")."""
        terms = set(self.analyzer.variants.values())
        out: dict[str, str] = {}
        for word in words:
            bare = word[:-1]
            if (word.endswith("n") and len(bare) >= 2 and bare[-1] in VOWELS and bare in words
                    and bare not in self.analyzer.stop_words and word not in self.analyzer.stop_words):
                if word in terms:
                    out[bare] = word
                elif bare not in terms:
                    out[word] = bare
        return out

    def _split_compound(self, stem: str, min_part: int = 3) -> list[str]:
        best: list[str] = [stem]
        best_df = 0
        for cut in range(min_part, len(stem) - min_part + 1):
            head, tail = stem[:cut], stem[cut:]
            for head_form in (head, head[:-1] if head.endswith("s") else None):  # fog-s: "arbetsförmåga"
                if not head_form or head_form not in self._vocabulary:
                    continue
                tail_form = self.analyzer.stem(tail)
                if tail_form in self._vocabulary:
                    df = min(self._document_frequency[head_form], self._document_frequency[tail_form])
                    if df > best_df:
                        best, best_df = [head_form, tail_form], df
        return best

    # --------------------------------------------------------------- scores
    def lexical_scores(self, stems: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query stems (0 where no stem occurs), each stem
        weighted by its rarity relative to the query's rarest stem (`rarity_power`)."""
        known = [s for s in dict.fromkeys(stems) if s in self._vocabulary]
        if not known:
            return np.zeros(len(self.passages), dtype=np.float32)
        if not self.rarity_power:
            return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
        idfs = np.asarray([self.idf(s) for s in known])
        weights = (idfs / idfs.max()) ** self.rarity_power
        scores = np.zeros(len(self.passages), dtype=np.float64)
        for stem, weight in zip(known, weights):
            scores += weight * np.asarray(self._bm25.get_scores([stem]), dtype=np.float64)
        return scores.astype(np.float32)

    def coverage(self, stems: list[str], positions: np.ndarray) -> np.ndarray:
        """Share of the query's IDF mass (unknown words included) each passage contains."""
        unique = list(dict.fromkeys(stems))
        if not unique:
            return np.zeros(len(positions))
        idfs = np.asarray([self.idf(s) for s in unique])
        out = np.zeros(len(positions))
        for j, i in enumerate(positions):
            own = set(self._stems[i])
            out[j] = sum(w for s, w in zip(unique, idfs) if s in own) / idfs.sum()
        return out

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
        own = self._sentence_passages
        scores[own] = self.sentence_share * best + (1.0 - self.sentence_share) * scores[own]
        return scores

    def _rank(self, lexical: np.ndarray | None, dense: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
        """Scores where higher is better, -inf outside the mask (and for lexical-only non-matches)."""
        if dense is None:
            assert lexical is not None
            return np.where(mask & (lexical > 0), lexical * self._kind_factor, -np.inf)
        if lexical is None or not np.any(lexical[mask] > 0):
            fused = dense.astype(np.float64)
        elif self.fusion == "rrf":
            fused = self._rrf(lexical, dense, mask)
        else:
            fused = self._score_fusion(lexical, dense, mask)
        return np.where(mask, fused * self._kind_factor, -np.inf)

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

    def relevance(self, stems: list[str], dense: np.ndarray | None, positions: np.ndarray) -> np.ndarray:
        """How clearly each passage at `positions` answers the query (see the class docstring)."""
        out = self.lexical_relevance * self.coverage(stems, positions)
        return out + dense[positions] if dense is not None else out

    # ---------------------------------------------------------------- query
    def search(
        self,
        query: str,
        k: int = 10,
        filters: SearchFilters | None = None,
        mode: str = "hybrid",
        *,
        threshold: bool = True,
    ) -> list[SearchHit]:
        """The k passages that best answer a free-text query, best first.

        With a calibration (and `threshold`), passages below its relevance level are left
        out, so a query the collection has no answer to returns nothing.
        """
        if mode not in MODES:
            raise ValueError(f"Okänt sökläge '{mode}'. Välj ett av: {', '.join(MODES)}.")
        check_query_length(query)
        if not query.strip() or not self.passages:
            return []
        stems = self.query_stems(query)
        lexical = self.lexical_scores(stems) if mode in ("hybrid", "lexical") else None
        dense = None
        if mode in ("hybrid", "dense"):
            dense = self.dense_scores(self.embedder.embed_queries([reading_form(query)])[0])
        scores = self._rank(lexical, dense, self.filter_mask(filters))
        return self._hits(scores, k, stems, dense, threshold=threshold)

    def more_like_this(
        self,
        passage_id: int,
        k: int = 10,
        filters: SearchFilters | None = None,
        *,
        same_report_at_most: int = 2,
    ) -> list[SearchHit]:
        """Passages most like a given one (its vector and its words), never the passage itself.

        Other reports come first: a similar case told by another organisation or year is what
        a user asks for, and the neighbours in the same report are similar because they
        stand together. At most `same_report_at_most` hits from the passage's own report
        follow them (marked `same_report`).
        """
        if passage_id not in self._index_position:
            raise KeyError(f"Inget stycke med id {passage_id}.")
        position = self._index_position[passage_id]
        own_doc = self.passages[position].doc_id
        stems = self._stems[position]
        mask = self.filter_mask(filters)
        mask[position] = False
        scores = self._rank(self.lexical_scores(stems), self.dense_scores(self.vectors[position]), mask)
        ranked = self._hits(scores, len(self.passages), stems, None, threshold=False)
        doc_of = {p.id: p.doc_id for p in self.passages}
        other = [h for h in ranked if doc_of[h.passage_id] != own_doc]
        same = [replace(h, same_report=True) for h in ranked if doc_of[h.passage_id] == own_doc][:same_report_at_most]
        chosen = other[: max(k - len(same), 0)] + same
        return [replace(h, rank=r) for r, h in enumerate(chosen[:k], 1)]

    def _hits(
        self, scores: np.ndarray, k: int, stems: list[str], dense: np.ndarray | None, *, threshold: bool
    ) -> list[SearchHit]:
        finite = np.flatnonzero(np.isfinite(scores))
        if not len(finite) or k <= 0:
            return []
        order = finite[np.argsort(-scores[finite], kind="stable")]
        stem_set = set(stems)
        # the passages' own forms of folded words, so "kön" is marked for the query "kö"
        stem_set |= {word for word, folded in self._definite.items() if folded in stem_set}
        hits: list[SearchHit] = []
        calibration = self.calibration if threshold and dense is not None else None
        # relevance of the candidates in rank order; with a threshold some fall out, so look deeper
        window = order[: max(k * 5, 50)] if calibration else order[:k]
        relevance = self.relevance(stems, dense, window) if dense is not None else np.zeros(len(window))
        for i, rel in zip(window, relevance):
            band = calibration.band(float(rel)) if calibration else None
            if calibration and band is None:
                continue
            p = self.passages[i]
            hits.append(
                SearchHit(
                    passage_id=p.id,
                    score=float(scores[i]),
                    rank=len(hits) + 1,
                    text=p.text,
                    file=p.file,
                    page=p.page,
                    org=p.org,
                    year=p.year,
                    heading=p.heading,
                    kind=p.kind,
                    themes=list(p.themes or []),
                    matched_terms=self.analyzer.matched_words(p.text, stem_set),
                    relevance=float(rel),
                    band=band,
                )
            )
            if len(hits) == k:
                break
        return hits


VOWELS = frozenset("aeiouyåäö")

DEFAULT_KIND_WEIGHTS = {"good_example": 0.8, "background": 0.8}


def reading_form(query: str) -> str:
    """The query as the embedding model reads it best: abbreviations written out ("FK" ->
    "Försäkringskassan"), since a small model may not know what "KFM" or "LOH" stand for."""
    return _ABBREVIATION.sub(lambda m: READABLE_ABBREVIATIONS[m.group(1).lower()] + ("s" if m.group(2) else ""), query)


READABLE_ABBREVIATIONS = {
    "fk": "Försäkringskassan", "af": "Arbetsförmedlingen", "kfm": "Kronofogden", "soc": "socialtjänsten",
    "psyk": "psykiatrin", "vc": "vårdcentralen", "loh": "läkarutlåtande om hälsotillstånd",
    "luh": "läkarutlåtande", "sgi": "sjukpenninggrundande inkomst", "sip": "samordnad individuell plan (SIP)",
    "ssc": "Statens servicecenter",
}  # fmt: skip
_ABBREVIATION = re.compile(r"(?<![\w-])(" + "|".join(READABLE_ABBREVIATIONS) + r")(:s)?(?![\w-])", re.IGNORECASE)
