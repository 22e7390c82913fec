"""Discovery: groups of similar deficiency passages, named by their words, linked to the codebook.

The codebook names the systemfel we already know; clustering shows recurring groups it
does not name. Each cluster is named by class-based TF-IDF over Swedish stems (the words
that are frequent in this cluster and rare in the others, shown in their most common
surface form), linked to its nearest codebook theme, or marked new when no theme is near.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score

from systemfel.models.embed.base import Embedder, l2_normalise
from systemfel.models.text import SwedishAnalyzer
from systemfel.models.themes import ThemeAssigner

log = logging.getLogger(__name__)


@dataclass
class Cluster:
    id: int
    label: str
    keywords: list[str]
    theme_slug: str | None
    theme_similarity: float | None
    is_new: bool
    size: int

    def as_row(self) -> dict:
        return dict(self.__dict__)


class PassageClusterer:
    """K-means on L2-normalised vectors, k chosen by cosine silhouette in [min_k, max_k].

    Silhouette on text embeddings tends to favour two or three broad groups, which say
    nothing new; so the smallest k tried grows with the corpus (sqrt(n / 2), at least
    `min_k`). Silhouette costs n² distances, so beyond `silhouette_sample` passages it is
    computed on a fixed random sample. Deterministic: fixed `random_state`, clusters
    numbered by size (largest = 1).
    """

    def __init__(
        self,
        min_k: int = 2,
        max_k: int = 20,
        min_cluster_size: int = 3,
        silhouette_sample: int = 3000,
        random_state: int = 0,
    ):
        self.silhouette_sample = silhouette_sample
        self.min_k = min_k
        self.max_k = max_k
        self.min_cluster_size = min_cluster_size
        self.random_state = random_state

    def fit_predict(self, vectors: np.ndarray) -> np.ndarray:
        """Cluster number (1..k) for each row."""
        vectors = l2_normalise(vectors)
        n = len(vectors)
        # at least `min_cluster_size` passages per cluster on average, and k < n for silhouette
        upper = min(self.max_k, max(n // self.min_cluster_size, 1), n - 1)
        lower = min(max(self.min_k, 2, int(np.sqrt(n / 2))), upper)
        if upper < 2:
            return np.ones(n, dtype=int)
        best_labels, best_score = None, -np.inf
        for k in range(lower, upper + 1):
            labels = KMeans(n_clusters=k, n_init=10, random_state=self.random_state).fit_predict(vectors)
            if len(set(labels)) < 2:
                continue
            score = silhouette_score(
                vectors,
                labels,
                metric="cosine",
                sample_size=self.silhouette_sample if n > self.silhouette_sample else None,
                random_state=self.random_state,
            )
            log.debug("k=%d silhouette=%.4f", k, score)
            if score > best_score:
                best_labels, best_score = labels, score
        if best_labels is None:
            return np.ones(n, dtype=int)
        self.silhouette_ = float(best_score)
        return _number_by_size(best_labels)


def _number_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 1..k, largest first (ties by first occurrence), so ids are stable."""
    values, first_seen, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(values)), key=lambda i: (-counts[i], first_seen[i]))
    mapping = {values[i]: rank for rank, i in enumerate(order, 1)}
    return np.asarray([mapping[v] for v in labels], dtype=int)


class ClusterNamer:
    """Names clusters by class-based TF-IDF (BERTopic's c-TF-IDF) over Swedish stems."""

    def __init__(self, n_keywords: int = 6, n_label_words: int = 3, analyzer: SwedishAnalyzer | None = None):
        self.n_keywords = n_keywords
        self.n_label_words = n_label_words
        self.analyzer = analyzer or SwedishAnalyzer(min_length=3)

    def keywords(self, texts: list[str], labels: np.ndarray) -> dict[int, list[str]]:
        """The most distinctive words of each cluster, as readable surface forms."""
        clusters = sorted(set(int(c) for c in labels))
        documents = [" ".join(t for t, c in zip(texts, labels) if c == cluster) for cluster in clusters]
        vectorizer = CountVectorizer(analyzer=lambda text: [s for s in self.analyzer.stems(text) if not s.isdigit()])
        counts = vectorizer.fit_transform(documents).toarray().astype(float)
        if counts.size == 0:
            return {c: [] for c in clusters}
        stems = vectorizer.get_feature_names_out()
        term_frequency = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
        average_words = counts.sum() / len(clusters)
        idf = np.log(1.0 + average_words / np.maximum(counts.sum(axis=0), 1.0))
        ctfidf = term_frequency * idf
        out: dict[int, list[str]] = {}
        for row, cluster in enumerate(clusters):
            surface = self.analyzer.surface_forms([t for t, c in zip(texts, labels) if c == cluster])
            top = [i for i in np.argsort(-ctfidf[row], kind="stable") if counts[row, i] > 0][: self.n_keywords]
            out[cluster] = [surface.get(stems[i], stems[i]) for i in top]
        return out

    def label(self, keywords: list[str]) -> str:
        words = keywords[: self.n_label_words]
        return ", ".join(words).capitalize() if words else "Okänd grupp"


def layout_2d(vectors: np.ndarray, method: str = "auto", random_state: int = 0) -> np.ndarray:
    """(n, 2) coordinates for the map: t-SNE up to 3000 passages (clearer groups), PCA beyond (fast)."""
    n = len(vectors)
    if n == 0:
        return np.zeros((0, 2))
    if n < 3:
        return np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
    if method == "auto":
        method = "tsne" if n <= 3000 else "pca"
    if method == "tsne" and n > 5:
        perplexity = float(min(30.0, (n - 1) / 3))
        coords = TSNE(n_components=2, perplexity=perplexity, metric="cosine", init="pca", random_state=random_state)
        return coords.fit_transform(np.asarray(vectors, dtype=np.float32)).astype(float)
    return PCA(n_components=2, random_state=random_state).fit_transform(vectors).astype(float)


def theme_vectors_from_passages(passages: list[dict], vectors: np.ndarray, slugs: list[str]) -> np.ndarray:
    """Centroid of the passages whose main theme is each slug (zero row for unused themes)."""
    out = np.zeros((len(slugs), vectors.shape[1]), dtype=np.float32)
    for i, slug in enumerate(slugs):
        members = [j for j, p in enumerate(passages) if (p.themes or [None])[0] == slug]
        if members:
            out[i] = vectors[members].mean(axis=0)
    return l2_normalise(out)


def discover_clusters(
    passages: list[dict],
    vectors: np.ndarray,
    codebook=None,
    *,
    embedder: Embedder | None = None,
    assigner=None,
    theme_vectors: np.ndarray | None = None,
    min_theme_share: float = 1 / 3,
    clusterer: PassageClusterer | None = None,
    namer: ClusterNamer | None = None,
    layout: str = "auto",
    random_state: int = 0,
) -> tuple[list[dict], dict[int, tuple[int, float, float]]]:
    """Clusters of passages and each passage's (cluster id, x, y), in `Store.save_clusters` form.

    A cluster is linked to the codebook theme whose vector is nearest its centroid
    (`theme_similarity` is that cosine). Theme vectors come from `theme_vectors`, else from
    the centroids of passages by main theme when most passages have themes, else from a
    fitted ThemeAssigner (`assigner`, or one fitted here with `embedder`). Raw cosines are not comparable across models, so
    `is_new` is decided by agreement instead: a cluster is new when fewer than
    `min_theme_share` of its passages have the linked theme as their own main theme (the
    assigned one, else the theme nearest their vector): no codebook theme describes the
    group as a whole. That flags groups the codebook splits up or does not cover; a group of
    a new kind whose passages were all forced into one old theme is not flagged.
    """
    if len(passages) != len(vectors):
        raise ValueError(f"{len(passages)} passages but {len(vectors)} vectors")
    if not passages:
        return [], {}
    vectors = l2_normalise(vectors)
    labels = (clusterer or PassageClusterer(random_state=random_state)).fit_predict(vectors)
    namer = namer or ClusterNamer()
    keywords = namer.keywords([p.text for p in passages], labels)
    coords = layout_2d(vectors, method=layout, random_state=random_state)

    slugs: list[str] = codebook.slugs if codebook is not None else []
    themed = sum(bool(p.themes) for p in passages)
    if slugs and theme_vectors is None:
        if themed * 2 >= len(passages):
            # centroids of the passages users see under each theme: measured closer to the
            # clusters than the codebook's own texts, which pull every centroid to one theme
            theme_vectors = theme_vectors_from_passages(passages, vectors, slugs)
        else:
            if assigner is None and embedder is not None:
                assigner = ThemeAssigner(codebook, embedder).fit()
            if assigner is not None:
                theme_vectors = assigner.theme_vectors_

    # each passage's own main theme (what users see), else the theme nearest its vector
    member_themes: list[str | None] = [None] * len(passages)
    if slugs and theme_vectors is not None:
        nearest = np.argmax(vectors @ theme_vectors.T, axis=1)
        member_themes = [
            (p.themes or [None])[0] or slugs[int(n)] for p, n in zip(passages, nearest)
        ]
    clusters: list[dict] = []
    for cluster in sorted(set(int(c) for c in labels)):
        members = labels == cluster
        centroid = l2_normalise(vectors[members].mean(axis=0))[0]
        theme_slug, similarity, share = None, None, 0.0
        if slugs and theme_vectors is not None:
            sims = theme_vectors @ centroid
            best = int(np.argmax(sims))
            theme_slug, similarity = slugs[best], round(float(sims[best]), 4)
            share = float(np.mean([slug == theme_slug for slug, m in zip(member_themes, members) if m]))
        clusters.append(
            Cluster(
                id=cluster,
                label=namer.label(keywords[cluster]),
                keywords=keywords[cluster],
                theme_slug=theme_slug,
                theme_similarity=similarity,
                is_new=share < min_theme_share,
                size=int(members.sum()),
            ).as_row()
        )
    assignments = {
        int(p.id): (int(c), float(x), float(y)) for p, c, (x, y) in zip(passages, labels, coords)
    }
    return clusters, assignments
