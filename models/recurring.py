"""Recurring systemfel: statements grouped into the specific problems that come back.

Grouping (measured on ../shared/gold/dev-recurrence.jsonl, see README): each statement is
an e5 vector with the "query: " prefix (e5's advice for symmetric similarity), centred on
the corpus mean, mixed with its passage's centred vector (a vignette's "Stått på väntelista
drygt två år" only says *what* it waits for in its passage), plus a TF-IDF vector over
Swedish stems and stem pairs ("lokal kontor", "god man"). The actors a statement itself
names (through the actor gazetteer) move its edges: up when both statements name the same
ones, down when they name none in common: "Lång väntetid på god man" and "Långa
handläggningstider hos FK" both wait, for different actors. The codebook themes the
statements were given can move them the same way (`theme_weight`, `theme_penalty`); that
prior is off by default: it found more gold groups on the dev reports but cost F1 on a
report written for the tests (README). A k-nearest-neighbour graph over those (approximate above `exact_below`
statements, so nothing grows with the square of the corpus), in which at most
`own_report_neighbors` of a statement's neighbours come from its own report (a report's
style and subject pull its statements together; a recurring problem is one other reports
state: this took found from 0.75 to 0.81 held out, README), is split into communities by
the consensus of several Louvain runs (one run depends too much on its seed). A statement with no neighbour above `min_similarity`, or alone in
its community, stays ungrouped: it is counted, never forced into an issue.
"""
from __future__ import annotations

# Imports inside functions: faiss takes 0.4 s to import and is only needed beyond
# `exact_below` statements.
import hashlib
import logging
import random
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import igraph
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from systemfel.models.embed.base import l2_normalise
from systemfel.models.text import SwedishAnalyzer

log = logging.getLogger(__name__)


def exact_neighbours(
    dense: np.ndarray, k: int, chunk: int = 1024, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k most similar other rows by dot product, in chunks (memory stays chunk × n).

    With `rows`, only those rows' neighbours (among all rows), in that order."""
    n = len(dense)
    queries = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
    indices = np.zeros((len(queries), k), dtype=np.int64)
    sims = np.zeros((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), chunk):
        own = queries[start : start + chunk]
        block = dense[own] @ dense.T
        block[np.arange(len(own)), own] = -np.inf
        top = np.argpartition(-block, k - 1, axis=1)[:, :k] if k < n - 1 else np.argsort(-block, axis=1)[:, :k]
        # best first, ties by row number, so the order never depends on the partition
        order = np.lexsort((top, -np.take_along_axis(block, top, axis=1)), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        indices[start : start + len(own)] = top
        sims[start : start + len(own)] = np.take_along_axis(block, top, axis=1)
    return indices, sims


def approximate_neighbours(dense: np.ndarray, k: int, links: int = 32, search_depth: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k most similar other rows from a faiss HNSW graph (inner product).

    HNSW rather than an inverted file: faiss scans IVF lists one query at a time, which at
    50,000 statements was slower than exact BLAS. The graph is built on one thread, so the
    same corpus always gives the same graph and the same groups (a parallel build depends on
    thread timing); searching is parallel and deterministic. A row's own entry is dropped
    wherever it ranks (duplicates may tie with it); a missing neighbour comes back as the row
    itself with similarity -inf, which the graph's `min_similarity` removes."""
    import faiss  # C++ library; only needed for large corpora

    dense = np.ascontiguousarray(dense, dtype=np.float32)
    index = faiss.IndexHNSWFlat(dense.shape[1], links, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 64
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        index.add(dense)
    finally:
        faiss.omp_set_num_threads(threads)
    index.hnsw.efSearch = max(search_depth, 2 * (k + 1))
    n = len(dense)
    found_sims, found = index.search(dense, k + 1)
    own = found == np.arange(n)[:, None]
    # drop the row itself, or the last hit when the row was not among them
    drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
    keep = np.ones_like(own)
    keep[np.arange(n), drop] = False
    indices = found[keep].reshape(n, k).astype(np.int64)
    sims = found_sims[keep].reshape(n, k).astype(np.float32)
    missing = indices < 0
    indices[missing] = np.nonzero(missing)[0]
    sims[missing] = -np.inf
    return indices, sims


def set_agreement(
    sets: Sequence[Collection[str]], starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each edge (start, end): the Jaccard overlap of the two rows' sets (the actors they
    name, their codebook themes), and 1.0 where both have some but none in common. A row
    with an empty set says nothing either way (0, 0)."""
    shared = np.zeros(len(starts), dtype=np.float32)
    disjoint = np.zeros(len(starts), dtype=np.float32)
    for i, (start, end) in enumerate(zip(starts.tolist(), ends.tolist())):
        a, b = sets[start], sets[end]
        if a and b:
            common = len(set(a) & set(b))
            shared[i] = common / len(set(a) | set(b))
            disjoint[i] = float(common == 0)
    return shared, disjoint


def pair_similarities(matrix: sparse.csr_matrix, starts: np.ndarray, ends: np.ndarray, chunk: int = 250_000) -> np.ndarray:
    """Dot products of the rows `starts[i]` and `ends[i]`, a chunk of pairs at a time: 100,000
    statements × 60 candidates would otherwise copy two six-million-row sparse matrices."""
    out = np.empty(len(starts), dtype=np.float64)
    for first in range(0, len(starts), chunk):
        a, b = starts[first : first + chunk], ends[first : first + chunk]
        out[first : first + chunk] = np.asarray(matrix[a].multiply(matrix[b]).sum(axis=1)).ravel()
    return out


def centre(vectors: np.ndarray) -> np.ndarray:
    """Rows minus their mean, unit length: removes the direction every report shares."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) == 0:
        return vectors
    return l2_normalise(vectors - vectors.mean(axis=0, keepdims=True))


class StatementGrouper:
    """Groups statements into recurring issues; `fit_predict` returns a group number or -1."""

    def __init__(
        self,
        n_neighbors: int = 15,
        resolution: float = 3.0,
        context_weight: float = 0.2,
        lexical_weight: float = 0.2,
        min_similarity: float = 0.15,
        candidates: int = 4,
        lexical_ngrams: int = 2,
        actor_weight: float = 0.1,
        actor_penalty: float = 0.05,
        theme_weight: float = 0.0,
        theme_penalty: float = 0.0,
        report_centring: float = 0.0,
        own_report_neighbors: int | None = 6,
        lexical_kind: str = "stems",
        lexical_max_df: float = 1.0,
        context_chars: int = 0,
        exact_below: int = 20000,
        consensus_runs: int = 20,
        consensus_threshold: float = 0.5,
        random_state: int = 0,
    ):
        self.consensus_runs = consensus_runs
        self.consensus_threshold = consensus_threshold
        self.report_centring = report_centring
        self.own_report_neighbors = own_report_neighbors
        self.lexical_kind = lexical_kind
        self.lexical_max_df = lexical_max_df
        self.context_chars = context_chars
        self.candidates = candidates
        self.lexical_ngrams = lexical_ngrams
        self.actor_weight = actor_weight
        self.actor_penalty = actor_penalty
        self.theme_weight = theme_weight
        self.theme_penalty = theme_penalty
        self.n_neighbors = n_neighbors
        self.resolution = resolution
        self.context_weight = context_weight
        self.lexical_weight = lexical_weight
        self.min_similarity = min_similarity
        self.exact_below = exact_below
        self.random_state = random_state

    def features(
        self, vectors: np.ndarray, context: np.ndarray | None = None, reports=None, texts: Sequence[str] | None = None
    ) -> np.ndarray:
        """The dense part: centred statement vectors mixed with their centred context vectors.

        With `reports` (a report key per row) and `report_centring`, each report's mean is
        taken out as well, in part: what a report says everywhere (its style, its one
        subject) should not pull its own statements together."""
        dense = centre(vectors)
        if context is not None and self.context_weight:
            weight = np.full((len(dense), 1), self.context_weight, dtype=np.float32)
            if self.context_chars and texts is not None:
                # a short statement says less by itself: it leans on its passage more
                lengths = np.asarray([max(len(t), 1) for t in texts], dtype=np.float32)[:, None]
                weight *= np.minimum(1.0, self.context_chars / lengths)
            dense = l2_normalise(dense + weight * centre(context))
        if reports is not None and self.report_centring:
            keys = np.asarray([str(r) for r in reports])
            for key in np.unique(keys):
                rows = keys == key
                dense[rows] -= self.report_centring * dense[rows].mean(axis=0, keepdims=True)
            dense = l2_normalise(dense)
        return dense

    def _terms(self):
        analyzer = SwedishAnalyzer(min_length=2)
        ngrams = self.lexical_ngrams

        def terms(text: str) -> list[str]:
            stems = analyzer.stems(text)
            return [" ".join(stems[i : i + n]) for n in range(1, ngrams + 1) for i in range(len(stems) - n + 1)]

        return analyzer, terms

    def document_frequencies(self, texts: Sequence[str]) -> Counter:
        """In how many of `texts` each lexical term occurs (what TF-IDF's idf is made of)."""
        _, terms = self._terms()
        return Counter(term for text in texts for term in set(terms(text)))

    def lexical(
        self, texts: Sequence[str], rows: np.ndarray | None = None, frequencies: dict | None = None
    ) -> sparse.csr_matrix:
        """TF-IDF rows of the texts (sublinear tf, smooth idf, unit length). With `rows` and
        `frequencies` ({"n": number of texts, "df": term -> document frequency, both over all
        `texts`}) only those rows are computed, from the given frequencies instead of reading
        every text again: the same vectors, other rows zero. Fitting sets `frequencies_`."""
        analyzer, terms = self._terms()
        if frequencies is not None and rows is not None and self.incremental_lexical:
            rows = np.unique(np.asarray(rows, dtype=np.int64))
            counts = [Counter(terms(texts[row])) for row in rows.tolist()]
            vocabulary = {term: i for i, term in enumerate(sorted({t for c in counts for t in c}))}
            n, df = frequencies["n"], frequencies["df"]
            idf = np.log((1 + n) / (1 + np.asarray([df.get(t, 0) for t in vocabulary], dtype=np.float64))) + 1
            data, columns, lengths = [], [], []
            for counter in counts:
                for term, count in sorted(counter.items()):
                    columns.append(vocabulary[term])
                    data.append((1 + np.log(count)) * idf[vocabulary[term]])
                lengths.append(len(counter))
            local = normalize(sparse.csr_matrix(
                (data, columns, np.concatenate([[0], np.cumsum(lengths)])), shape=(len(rows), len(vocabulary))
            ))  # fmt: skip
            placed = sparse.csr_matrix(
                (np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(len(texts), len(rows))
            )  # fmt: skip
            return (placed @ local).tocsr()
        if self.lexical_kind == "chars":
            # character 4-5-grams of the content words: Swedish compounds share their parts
            # ("telefontider" / "telefon", "väntelista" / "väntetid", "vårdköer" / "kön")
            vectorizer = TfidfVectorizer(
                analyzer="char_wb", ngram_range=(4, 5), sublinear_tf=True,
                preprocessor=lambda text: " ".join(analyzer.words(text)),
            )  # fmt: skip
        else:
            vectorizer = TfidfVectorizer(analyzer=terms, sublinear_tf=True, max_df=self.lexical_max_df)
        matrix = vectorizer.fit_transform(list(texts)).tocsr()
        if self.incremental_lexical:
            counts = np.bincount(matrix.indices, minlength=matrix.shape[1])
            self.frequencies_ = {"n": len(texts), "df": {t: int(counts[i]) for t, i in vectorizer.vocabulary_.items()}}
        return matrix

    @property
    def incremental_lexical(self) -> bool:
        """Whether TF-IDF rows can be computed from stored frequencies (stems, no term cut)."""
        return self.lexical_kind != "chars" and self.lexical_max_df >= 1.0

    def neighbours(self, dense: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(indices, cosines) of each row's k nearest other rows (of `rows` only, if given):
        exact up to `exact_below` rows (or while rows × all stays under its square), a faiss
        HNSW graph beyond, so nothing grows with the square."""
        n = len(dense)
        k = min(k, n - 1)
        queries = n if rows is None else len(rows)
        if n <= self.exact_below or queries * n <= self.exact_below**2:
            return exact_neighbours(dense, k, rows=rows)
        indices, sims = approximate_neighbours(dense, k)
        return (indices, sims) if rows is None else (indices[rows], sims[rows])

    def edges(
        self, dense: np.ndarray, texts: Sequence[str], rows: np.ndarray | None = None, frequencies: dict | None = None,
        actors: Sequence[Collection[str]] | None = None, themes: Sequence[Collection[str]] | None = None,
        reports=None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, neighbour, similarity) of the graph's edges from each row (of `rows` only, if
        given): the `n_neighbors` × `candidates` nearest dense neighbours rescored with TF-IDF,
        the `n_neighbors` best kept, of which at most `own_report_neighbors` from the row's own
        report (`reports`: a report key per row), their similarity moved by the actors both
        name and the codebook themes both were given (`set_agreement`), kept if at least
        `min_similarity`. This is the one similarity grouping and assignment share. `actors`
        holds each row's actor names, `themes` its theme slugs (the stage keeps both with the
        statements)."""
        queries = np.arange(len(dense)) if rows is None else np.asarray(rows, dtype=np.int64)
        capped = self.own_report_neighbors is not None and reports is not None
        pool = self.n_neighbors * (self.candidates if self.lexical_weight or capped else 1)
        indices, sims = self.neighbours(dense, pool, rows)
        if self.lexical_weight:
            starts = np.repeat(queries, indices.shape[1])
            needed = np.concatenate([queries, indices.ravel()]) if rows is not None else None
            lexical = self.lexical(texts, needed, frequencies)
            lexical_sims = pair_similarities(lexical, starts, indices.ravel())
            sims = (1 - self.lexical_weight) * sims + self.lexical_weight * lexical_sims.reshape(sims.shape)
        order = np.argsort(-sims, axis=1, kind="stable")
        allowed = np.ones(order.shape, dtype=bool)
        if capped:
            # a report's own style and subject make its statements each other's neighbours;
            # past the cap, the candidates from other reports come first
            keys = np.unique([str(r) for r in reports], return_inverse=True)[1]  # small integers, not strings
            own = np.take_along_axis(keys[indices] == keys[queries][:, None], order, axis=1)
            over = own & (np.cumsum(own, axis=1) > self.own_report_neighbors)
            order = np.take_along_axis(order, np.argsort(over, axis=1, kind="stable"), axis=1)
            allowed = ~np.sort(over, axis=1)
        order, allowed = order[:, : self.n_neighbors], allowed[:, : self.n_neighbors]
        indices = np.take_along_axis(indices, order, axis=1)
        sims = np.take_along_axis(sims, order, axis=1)
        starts, ends, sims = np.repeat(queries, indices.shape[1]), indices.ravel(), sims.ravel()
        for sets, weight, penalty in ((actors, self.actor_weight, self.actor_penalty), (themes, self.theme_weight, self.theme_penalty)):
            if sets is not None and (weight or penalty):
                shared, disjoint = set_agreement(sets, starts, ends)
                sims = sims + weight * shared - penalty * disjoint
        keep = allowed.ravel() & (sims >= self.min_similarity)
        return starts[keep], ends[keep], sims[keep]

    def graph(self, vectors, texts, context=None, reports=None, actors=None, themes=None) -> sparse.csr_matrix:
        """The weighted, symmetric kNN graph the communities are found in."""
        dense = self.features(vectors, context, reports, texts)
        n = len(dense)
        starts, ends, sims = self.edges(dense, texts, actors=actors, themes=themes, reports=reports)
        matrix = sparse.csr_matrix((sims, (starts, ends)), shape=(n, n))
        return matrix.maximum(matrix.T).tocsr()

    def communities(self, matrix: sparse.coo_matrix, n: int) -> np.ndarray:
        """Community number of each node: consensus of `consensus_runs` Louvain runs.

        One Louvain run (igraph's multilevel, in C) depends on its seed: on the dev gold the
        B-cubed F1 of single runs spread from 0.63 to 0.75. Two statements count as together
        when at least `consensus_threshold` of the runs put them in one community; a last run
        over those edges, weighted by how often they held, gives the groups (consensus
        clustering, Lancichinetti & Fortunato 2012)."""
        upper = matrix.row < matrix.col
        rows, cols, weights = matrix.row[upper], matrix.col[upper], matrix.data[upper]
        graph = igraph.Graph(n=n, edges=np.column_stack([rows, cols]).tolist())  # built once for every run
        if self.consensus_runs <= 1:
            return self._louvain(graph, weights, self.random_state)
        together = np.zeros(len(rows))
        for run in range(self.consensus_runs):
            membership = self._louvain(graph, weights, self.random_state * 1000 + run)
            together += membership[rows] == membership[cols]
        share = together / self.consensus_runs
        keep = share >= self.consensus_threshold
        agreed = igraph.Graph(n=n, edges=np.column_stack([rows[keep], cols[keep]]).tolist())
        return self._louvain(agreed, weights[keep] * share[keep], self.random_state)

    def _global_modularity_communities(
        self, matrix: sparse.coo_matrix, n: int, degrees: np.ndarray, twice_weight: float
    ) -> np.ndarray:
        """Leiden communities of a subgraph under the modularity of the graph it is part of
        (`degrees` of its nodes and `twice_weight`, the sum of all degrees, in that graph)."""
        upper = matrix.row < matrix.col
        graph = igraph.Graph(n=n, edges=np.column_stack([matrix.row[upper], matrix.col[upper]]).tolist())
        igraph.set_random_number_generator(random.Random(self.random_state))
        parts = graph.community_leiden(
            objective_function="CPM", weights=matrix.data[upper].tolist(), node_weights=degrees.tolist(),
            resolution=self.resolution / max(twice_weight, 1e-9), n_iterations=-1,
        )  # fmt: skip
        return np.asarray(parts.membership, dtype=np.int64)

    def _louvain(self, graph: igraph.Graph, weights: np.ndarray, seed: int) -> np.ndarray:
        igraph.set_random_number_generator(random.Random(seed))
        parts = graph.community_multilevel(weights=weights.tolist(), resolution=self.resolution)
        return np.asarray(parts.membership, dtype=np.int64)

    def fit_predict(
        self, vectors: np.ndarray, texts: Sequence[str], context: np.ndarray | None = None, reports=None,
        actors: Sequence[Collection[str]] | None = None, themes: Sequence[Collection[str]] | None = None,
    ) -> np.ndarray:
        n = len(vectors)
        labels = np.full(n, -1, dtype=np.int64)
        if n < 2:
            return labels
        membership = self.communities(self.graph(vectors, texts, context, reports, actors, themes).tocoo(), n)
        sizes = np.bincount(membership)
        # numbered by their smallest member, so the numbering depends only on the input order
        first: dict[int, int] = {}
        for index, community in enumerate(membership.tolist()):
            if sizes[community] > 1:
                first.setdefault(community, len(first))
        for index, community in enumerate(membership.tolist()):
            if community in first:
                labels[index] = first[community]
        return labels


    def assign(
        self, vectors: np.ndarray, texts: Sequence[str], previous: np.ndarray, context: np.ndarray | None = None,
        reports=None, frequencies: dict | None = None, actors: Sequence[Collection[str]] | None = None,
        themes: Sequence[Collection[str]] | None = None,
    ) -> np.ndarray:
        """Labels when statements are added to a grouping: `previous` holds each row's group
        from the last grouping, -1 for an ungrouped statement and NEW (-2) for an added one.

        Old rows keep their group. An added statement joins the existing group that holds most
        of its edge weight in the grouping's own graph (`edges`: the same similarity and the
        same `min_similarity`), when that group holds at least as much as the statements in no
        group (ungrouped and added ones) together; added statements that joined count for
        their group when the others are weighed again (`_join_groups`). The others, with the ungrouped statements
        they reach, are split into communities under the whole graph's modularity
        (`_new_groups`); a community of two or more
        holding an added statement is a new group (numbered after the old ones), the rest stay
        ungrouped. Only the added rows' neighbours are searched: the cost grows with the
        added statements times the corpus, not with its square. A group left with one
        statement (its report removed) is ungrouped. `frequencies` (see `lexical`) spare
        reading every text for the TF-IDF weights."""
        previous = np.asarray(previous, dtype=np.int64)
        labels = previous.copy()
        labels[labels == NEW] = -1
        added = np.flatnonzero(previous == NEW)
        n = len(previous)
        if len(added) and n >= 2:
            dense = self.features(vectors, context, reports, texts)
            starts, ends, sims = self.edges(dense, texts, added, frequencies, actors, themes, reports)
            left = self._join_groups(labels, added, starts, ends, sims)
            first = max(int(previous.max()), -1) + 1
            labels = self._new_groups(labels, np.asarray(left, dtype=np.int64), starts, ends, sims, first)
        sizes = Counter(labels[labels >= 0].tolist())
        labels[[i for i, g in enumerate(labels.tolist()) if g >= 0 and sizes[g] < 2]] = -1
        return labels

    @staticmethod
    def _join_groups(labels: np.ndarray, added: np.ndarray, starts, ends, sims) -> list[int]:
        """Sets `labels` of the added rows that join an existing group; returns the others.

        In rounds: a row joins the group holding most of its edge weight when that group
        holds at least as much as its neighbours in no group. Rows that joined count as
        their group's in the next round, so a new report's many statements on an old
        problem join it together rather than outweigh it by their links to each other
        (label propagation, stopped when a round changes nothing)."""
        left = sorted(added.tolist())
        while left:
            weights: dict[int, dict[int, float]] = {row: {} for row in left}
            for row, group, sim in zip(starts.tolist(), labels[ends].tolist(), sims.tolist()):
                if row in weights:
                    weights[row][group] = weights[row].get(group, 0.0) + sim
            joined = {}
            for row, weight in weights.items():
                free = weight.pop(-1, 0.0)
                best = min(weight, key=lambda g: (-weight[g], g)) if weight else None
                if best is not None and weight[best] >= free:
                    joined[row] = best
            if not joined:
                break
            for row, group in joined.items():
                labels[row] = group
            left = [row for row in left if row not in joined]
        return left

    def _new_groups(self, labels, left, starts, ends, sims, number: int) -> np.ndarray:
        """Communities among the added statements no group took and the ungrouped ones they reach.

        Found with the whole graph's modularity, not the small subgraph's: Louvain on a
        subgraph of a few statements at the grouping's resolution (3) shatters it into single
        statements, so an added report's new problem never became an issue. Modularity is the
        Constant Potts Model with each node weighted by its degree and the resolution divided
        by twice the graph's weight (Traag et al. 2011), so Leiden on the subgraph scores a
        community as the whole graph would: the degrees are the rows' edge weights in the
        graph (an added row's own edges; an old ungrouped row counts the added rows' mean),
        the graph's weight estimated as all rows times that mean, halved."""
        if not len(left):
            return labels
        n = len(labels)
        out_weight = np.bincount(starts, weights=sims, minlength=n)
        mean_degree = float(out_weight[np.unique(starts)].mean()) if len(starts) else 1.0
        pool = set(left.tolist())
        keep = np.isin(starts, left) & (labels[ends] < 0)
        nodes = sorted(pool | set(ends[keep].tolist()))
        local = {node: i for i, node in enumerate(nodes)}
        a = np.asarray([local[x] for x in starts[keep].tolist()], dtype=np.int64)
        b = np.asarray([local[x] for x in ends[keep].tolist()], dtype=np.int64)
        matrix = sparse.csr_matrix((sims[keep], (a, b)), shape=(len(nodes), len(nodes)))
        matrix = matrix.maximum(matrix.T).tocoo()
        degrees = np.asarray([out_weight[node] if node in pool else mean_degree for node in nodes])
        membership = (
            self._global_modularity_communities(matrix, len(nodes), degrees, n * mean_degree)
            if matrix.nnz else np.arange(len(nodes))
        )  # fmt: skip
        members: dict[int, list[int]] = {}
        for node, community in zip(nodes, membership.tolist()):
            members.setdefault(community, []).append(node)
        for community in sorted(members, key=lambda c: members[c][0]):
            rows = members[community]
            if len(rows) > 1 and pool & set(rows):
                labels[rows] = number
                number += 1
        return labels


# Marks an added statement in `StatementGrouper.assign`'s `previous`.
NEW = -2


# ------------------------------------------------------------------------------- labels
_WORD = re.compile(r"[^\W_]+(?:[-:][^\W_]+)*", re.UNICODE)
# A name is a noun phrase: it neither starts nor ends with a common verb, and it does not end
# in an adjective ("personer med psykisk"). Without a tagger these are word lists and endings.
_EDGE_WORDS = frozenset(
    {"är", "var", "blir", "blev", "har", "hade", "får", "fick", "kan", "ska", "skulle", "måste", "finns", "fanns",
     "gör", "görs", "ta", "tar", "sig", "se", "ser", "vill", "bör", "både", "även", "samt", "exempel", "exempelvis", "därmed", "initialt"}
)  # fmt: skip
# Words after which a verb's infinitive follows ("att ringa", "kan meddela"), and subjects
# a finite verb follows ("vi ringer", "man saknar", "som väntar", "det dröjer"; not "det
# sämre"): the verbs a corpus uses are learned from the words after them, so that a name
# holds a verb only where a noun phrase can.
_BEFORE_INFINITIVE = frozenset({"att", "kan", "ska", "måste", "vill", "bör", "skulle", "kunde", "brukar", "behöver"})
_SUBJECTS = frozenset({"jag", "du", "han", "hon", "hen", "vi", "ni", "man", "som", "det"})
_AFTER_CUE = re.compile(
    r"\b(" + "|".join(sorted(_BEFORE_INFINITIVE | _SUBJECTS)) + r")\s+(?=([^\W\d_]{3,})\b)", re.IGNORECASE | re.UNICODE
)
# How a verb's present, past and passive forms end after its stem ("meddel|ar", "ring|er", "ring|de").
_VERB_ENDINGS = frozenset({"a", "ar", "er", "r", "as", "es", "s", "ade", "de", "te", "at", "t", "ats", "ts"})
# Prepositions the stop list lacks: inside a name ("bedömning avseende aktivitetsrapport"),
# never at its edge.
_PREPOSITIONS = frozenset({"angående", "avseende", "gällande", "beträffande", "rörande", "via", "hos", "kring", "per"})
# Clause boundaries for label phrases: punctuation, and words that open a new clause.
_CLAUSE_BREAK = re.compile(r"[,.;:!?()\[\]\"”“'–—]")
_CLAUSE_WORDS = frozenset({"men", "utan", "trots", "eftersom", "vilket", "dock", "denna", "detta", "dessa", "när", "då"})
_ADJECTIVE_ENDINGS = (
    "isk", "iska", "iskt", "ig", "iga", "igt", "lig", "liga", "ligt", "ande", "ende", "iell", "iella", "uell", "uella",
    "ala", "iva", "ivt", "ella", "ellt",
)  # fmt: skip
# Words no name holds anywhere: who does something (pronouns) or that it is not done belong
# to a clause ("Målgrupp och de känner", "Microsoft teams inte anses"), not to a noun phrase.
_NOT_IN_NAME = frozenset(
    {"jag", "du", "han", "hon", "hen", "vi", "ni", "de", "dem", "man", "sin", "sitt", "sina", "deras", "hans", "hennes",
     "vår", "våra", "vårt", "varandra", "inte", "ej", "ingen", "inget", "inga"}
)  # fmt: skip


class IssueNamer:
    """Names an issue by a phrase its own statements use, plus its distinctive terms.

    A word's weight for an issue is its class-based TF-IDF against all statements, times how
    few issues use it at all (log(1 + issues / issues using it), to the power
    `spread_power`): "tid", "personer", "målgrupp" turn up in half the issues and name none
    of them, "vårdcentral" or "samtycke" in one or two. Candidate phrases are runs of one to
    four words inside a statement that start and end with a content word; a phrase scores by
    how many of the issue's statements hold all of its word stems (to the power
    `support_power`, so a phrase of two distinctive words can beat the one common word they
    share) times the summed weights of its words, so "väntetid på god man" beats "god man";
    one-word and very long phrases are discounted. A name is a noun phrase, checked without a
    tagger: it stays inside one clause (no punctuation, no "men", "utan", "då" ... in it),
    holds no auxiliary verb, pronoun or negation, does not end in an adjective, and holds a
    verb only as its first word or after "att" (the verbs are those the statements use after
    "att", a modal verb or a subject, `fit`). A phrase of actor names only (`actor_words`) is
    discounted: it names who, not what went wrong; one with a place (`place_words`) more so:
    it names where. Terms are the issue's best-weighted words that at least `term_support`
    of its statements use, then the others; no places.
    """

    def __init__(
        self, max_words: int = 4, n_terms: int = 6, analyzer: SwedishAnalyzer | None = None,
        actor_words: Sequence[str] = (), one_word: float = 0.6, actor_only: float = 0.3, whole_clauses: bool = True,
        support_power: float = 0.7, spread_power: float = 1.0, place_words: Sequence[str] = (), place: float = 0.1,
        term_support: int = 2,
    ):  # fmt: skip
        self.spread_power = spread_power
        self.place = place
        self.term_support = term_support
        self.whole_clauses = whole_clauses
        self.support_power = support_power
        self.max_words = max_words
        self.n_terms = n_terms
        self.analyzer = analyzer or SwedishAnalyzer(min_length=2)
        self.one_word = one_word
        self.actor_only = actor_only
        # stems of actor names: a phrase of nothing else names who, not what went wrong
        self.actor_stems = frozenset(s for name in actor_words for s in self.analyzer.stems(name))
        # stems of places (counties): where a problem was seen does not name it
        self.place_stems = frozenset(s for name in place_words for s in self.analyzer.stems(name))

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> "IssueNamer":
        """Learns the stem weights of each group (c-TF-IDF, see the class) and the verbs the statements use."""
        self.groups_ = sorted({int(label) for label in labels if label >= 0})
        counts: dict[int, Counter] = {g: Counter() for g in self.groups_}
        total: Counter = Counter()
        read: dict[str, Counter] = {}  # a text repeated in many reports is read once
        verbs: set[str] = set()
        for text, label in zip(texts, labels):
            stems = read.get(text)
            if stems is None:
                stems = read[text] = Counter(s for s in self.analyzer.stems(text) if not s.isdigit())
                for before, word in _AFTER_CUE.findall(text):
                    before, word = before.lower(), word.lower()
                    if word not in self.analyzer.stop_words and (
                        (before in _BEFORE_INFINITIVE and word[-1:] in "aåeoöiuy")
                        or (before in _SUBJECTS and word[-1:] == "r" and word[-2:] != "re")
                    ):
                        verbs.add(self.analyzer.stem(word))
            total.update(stems)
            if label >= 0:
                counts[int(label)].update(stems)
        self.verb_stems_ = frozenset(verbs)
        average = sum(total.values()) / max(len(self.groups_), 1)
        spread = Counter(s for counter in counts.values() for s in counter)
        n_groups = max(len(self.groups_), 1)
        self.weights_: dict[int, dict[str, float]] = {}
        for group, counter in counts.items():
            size = max(sum(counter.values()), 1)
            self.weights_[group] = {
                s: (c / size) * np.log(1 + average / total[s]) * (np.log(1 + n_groups / spread[s]) ** self.spread_power)
                for s, c in counter.items()
            }
        return self

    def terms(self, group: int, texts: Sequence[str]) -> list[str]:
        weights = self.weights_.get(group, {})
        surface = self.analyzer.surface_forms(list(texts))
        # a term is a content word: no connective ("därmed", "trots") and no scrap ("år", "hen")
        noise = _EDGE_WORDS | _CLAUSE_WORDS | _NOT_IN_NAME | _PREPOSITIONS
        # a word of one statement says little about an issue of many: words that at least
        # `term_support` statements use come first
        support = Counter(s for text in texts for s in set(self.analyzer.stems(text)))
        wanted = min(self.term_support, len(texts))
        ranked = sorted(weights, key=lambda s: (support[s] < wanted, -weights[s], s))
        terms = [s for s in ranked if len(surface.get(s, s)) > 3 and s not in self.place_stems]
        return [surface.get(s, s) for s in terms if surface.get(s, s).lower() not in noise][: self.n_terms]

    def _clauses(self, text: str) -> list[list[str]]:
        """The words of each clause: a phrase does not run over punctuation or a word that
        starts a new clause ("men", "utan", "trots" ...)."""
        if not self.whole_clauses:
            return [[m.group() for m in _WORD.finditer(text)]]
        out: list[list[str]] = []
        for part in _CLAUSE_BREAK.split(text):
            words: list[str] = []
            for word in (m.group() for m in _WORD.finditer(part)):
                if word.lower() in _CLAUSE_WORDS:
                    out.append(words)
                    words = []
                else:
                    words.append(word)
            out.append(words)
        return [words for words in out if words]

    def _verb(self, word: str) -> bool:
        """Whether a word is a form of a verb the statements use (after "att", a modal verb or
        a subject, `fit`): "ringer", "saknas", not the bare stem a noun may share ("svar")."""
        word = word.lower()
        stem = self.analyzer.stem(word)
        return stem in self.verb_stems_ and word.startswith(stem) and word[len(stem) :] in _VERB_ENDINGS

    def label(self, group: int, texts: Sequence[str]) -> str:
        weights = self.weights_.get(group, {})
        stop = self.analyzer.stop_words
        phrases: dict[tuple[str, ...], dict] = {}
        for index, text in enumerate(texts):
            for words in self._clauses(text):
              for start in range(len(words)):
                for length in range(1, self.max_words + 1):
                    window = words[start : start + length]
                    if len(window) < length:
                        break
                    first, last = window[0].lower(), window[-1].lower()
                    if self.whole_clauses and any(w.lower() in _EDGE_WORDS or w.lower() in _NOT_IN_NAME for w in window):
                        continue
                    if (
                        first in stop or last in stop or first in _EDGE_WORDS or first in _PREPOSITIONS
                        or last in _PREPOSITIONS or last in _EDGE_WORDS
                        or first.isdigit() or last.isdigit() or len(last) < 3 or last.endswith(_ADJECTIVE_ENDINGS)
                    ):
                        continue
                    # a verb opens a name ("ringer till vårdcentralen") or follows "att" ("svårt att
                    # ringa"); anywhere else it makes a clause of it
                    if any(self._verb(w) and window[i - 1].lower() != "att" for i, w in enumerate(window) if i):
                        continue
                    content = [w for w in window if w.lower() not in stop]
                    key = tuple(self.analyzer.stem(w) for w in content)
                    entry = phrases.setdefault(key, {"docs": set(), "forms": Counter(), "content": len(content)})
                    entry["docs"].add(index)
                    entry["forms"][" ".join(window)] += 1
        if not phrases:
            return "Namnlöst systemfel"
        statement_stems = [set(self.analyzer.stems(text)) for text in texts]

        def score(item):
            key, entry = item
            support = sum(1 for stems in statement_stems if set(key) <= stems)
            distinct = sum(weights.get(s, 0.0) for s in set(key))
            words = len(set(key))
            factor = (1.0 if words <= 3 else 0.6) * (self.one_word if words == 1 else 1.0)
            if key and set(key) <= self.actor_stems:
                factor *= self.actor_only
            if set(key) & self.place_stems:
                factor *= self.place
            return (support**self.support_power * distinct * factor, -len(" ".join(key)))

        _, best = max(sorted(phrases.items()), key=score)
        phrase = best["forms"].most_common(1)[0][0]
        return phrase[:1].upper() + phrase[1:]


# -------------------------------------------------------------------------- identities
def issue_id(member_hashes: Sequence[str]) -> str:
    """A deterministic id from the issue's statements: the smallest statement hash, shortened."""
    return "sf-" + hashlib.sha1(min(member_hashes).encode()).hexdigest()[:8]


def stable_ids(groups: dict[int, list[str]], previous: dict[str, set[str]]) -> dict[int, str]:
    """An id for each group (number -> member statement hashes).

    A group keeps a previous issue's id when it holds most of that issue's statements and
    those are most of its own; pairs are matched greedily by overlap, largest first. Other
    groups get `issue_id`; a clash gets a numbered suffix.
    """
    candidates = []
    for number, members in groups.items():
        member_set = set(members)
        for old_id, old_members in previous.items():
            overlap = len(member_set & old_members)
            if overlap * 2 > len(old_members) and overlap * 2 > len(member_set):
                candidates.append((-overlap, old_id, number))
    ids: dict[int, str] = {}
    used: set[str] = set()
    for _, old_id, number in sorted(candidates):
        if number not in ids and old_id not in used:
            ids[number] = old_id
            used.add(old_id)
    return ids | new_issue_ids({g: m for g, m in groups.items() if g not in ids}, used)


def new_issue_ids(groups: dict[int, list[str]], used: set[str]) -> dict[int, str]:
    """`issue_id` of each group, with a numbered suffix where it clashes with `used` or another."""
    used = set(used)
    ids: dict[int, str] = {}
    for number in sorted(groups, key=lambda g: min(groups[g])):
        base = issue_id(groups[number])
        candidate, suffix = base, 2
        while candidate in used:
            candidate, suffix = f"{base}-{suffix}", suffix + 1
        ids[number] = candidate
        used.add(candidate)
    return ids


def issue_status(orgs: set, years: set, reports: set, latest_year: int | None) -> str:
    """återkommande: several organisations or years; ny: only in the corpus's latest year;
    enstaka: one report."""
    if len(orgs) > 1 or len(years) > 1:
        return "återkommande"
    if latest_year is not None and years == {latest_year}:
        return "ny"
    if len(reports) <= 1:
        return "enstaka"
    return "återkommande"


@dataclass
class Issue:
    """One recurring issue with everything a reader needs to judge and cite it."""

    id: str
    label: str
    terms: list[str]
    status: str
    themes: list[str]
    actors: list[str]
    reports: list[str]
    orgs: list[str]
    regions: list[str]
    years: list[int]
    first_year: int | None
    last_year: int | None
    statement_hashes: list[str] = field(default_factory=list)
    size: int = 0
