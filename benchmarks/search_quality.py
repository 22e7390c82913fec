"""Search quality on the demo database: judged queries, nonsense queries and the calibration.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/search_quality.py --db data/demo.db [--write]

Prints, side by side in one run, recall@10 and MRR on the dev queries and on the ombud-style
queries (tests/data/ombud-queries.jsonl, relevant passages judged before any tuning) with and
without the relevance threshold, how many nonsense queries (tests/data/nonsense-queries.txt)
show any hit, and how many dev queries show none. The thresholds are learned on the dev
queries only (`models.evaluate.calibrate`); `--write` stores them for the database's model in
models/data/search_calibration.json, where `load_search_engine` finds them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from systemfel.base.jsonlines import read_jsonl  # noqa: E402
from systemfel.models.evaluate import calibrate, evaluate_queries  # noqa: E402
from systemfel.models.search import CALIBRATION_FILE, reading_form, save_calibration  # noqa: E402
from systemfel.pipeline import load_search_engine  # noqa: E402
from systemfel.store import Store  # noqa: E402

DATA = ROOT / "tests" / "data"


class BatchedQueries:
    """The engine's embedder with every query of this run embedded up front in one batch
    (one query at a time costs a model call each; the vectors are the same)."""

    def __init__(self, inner, queries: list[str]):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        texts = [reading_form(q) for q in queries]
        self.cache = dict(zip(texts, inner.embed_queries(texts)))

    def embed_queries(self, texts: list[str]):
        return np.stack([self.cache[t] if t in self.cache else self.inner.embed_queries([t])[0] for t in texts])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--write", action="store_true", help="store the learned thresholds")
    args = parser.parse_args()
    dev = read_jsonl(DATA / "dev-queries.jsonl")
    ombud = read_jsonl(DATA / "ombud-queries.jsonl")
    nonsense = [q for q in (DATA / "nonsense-queries.txt").read_text(encoding="utf-8").splitlines() if q.strip()]
    with Store(args.db, readonly=True) as store:
        engine = load_search_engine(store)
    engine.embedder = BatchedQueries(engine.embedder, [q["query"] for q in dev + ombud] + nonsense)
    learned = calibrate(engine, dev)
    print(f"model {engine.embedder.name}: learned on {len(dev)} dev queries: possible >= {learned.possible}, "
          f"strong >= {learned.strong} (in use: {engine.calibration})")
    engine.calibration = learned
    if args.write:
        save_calibration(engine.embedder.name, learned)
        print(f"written to {CALIBRATION_FILE}")
    for name, queries in (("dev", dev), ("ombud", ombud), ("dev+ombud", dev + ombud)):
        for threshold in (False, True):
            result = evaluate_queries(engine, queries, threshold=threshold)
            empty = sum(not engine.search(q["query"], threshold=True) for q in queries)
            print(f"{name:10s} threshold={'on ' if threshold else 'off'} n={result['n']:2d} "
                  f"recall@10={result['recall@10']:.3f} MRR={result['mrr']:.3f} queries without hits={empty}")
    shown = {q: len(engine.search(q)) for q in nonsense}
    print(f"nonsense queries with any hit: {sum(bool(n) for n in shown.values())} of {len(nonsense)}")
    for query, n in shown.items():
        best = engine.search(query, k=1, threshold=False)
        print(f"  {n:2d} hits, best relevance {best[0].relevance:+.2f}  {query}")
    if os.environ.get("VERBOSE"):
        for row in evaluate_queries(engine, dev + ombud)["per_query"]:
            print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
