"""Embedding throughput with 1 and N worker processes, resumed work after a kill, and cold search.

    .venv/bin/python benchmarks/embed_throughput.py [--texts 192] [--workers 2] [--db data/demo.db]

Everything is measured side by side in one run on the same texts, so the ratios hold on a
shared, noisy machine even when the absolute rates do not:
- texts/s of one process against N processes (ParallelEmbedder), and the smallest cosine between
  their vectors (the same vectors, computed elsewhere);
- peak memory (max RSS) of the parent and of the busiest worker;
- an embedding run killed halfway and run again: texts embedded in all, against an uninterrupted run;
- with --db: wall time of a whole `systemfel search` process, cold (no kept engine) and warm.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from systemfel.base.hashing import text_hash  # noqa: E402
from systemfel.models.embed import load_embedder  # noqa: E402
from systemfel.models.embed.base import EmbedderError  # noqa: E402
from systemfel.models.embed.pool import ParallelEmbedder  # noqa: E402
from systemfel.models.evaluate import passages_from_pdfs  # noqa: E402
from systemfel.models.vectors import embed_passages_cached  # noqa: E402
from systemfel.store import Store  # noqa: E402


def demo_texts(n: int) -> list[str]:
    """The demo corpus's longest passages, the worst case for a build."""
    texts = sorted({p.text for p in passages_from_pdfs(ROOT / "corpus")}, key=len, reverse=True)
    return texts[:n]


def rate(embedder, texts: list[str]) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    vectors = embedder.embed_passages(texts)
    return len(texts) / (time.perf_counter() - start), vectors


class Counting:
    """Counts the texts that really reach the model (the cache answers the rest)."""

    def __init__(self, inner):
        self.inner, self.name, self.embedded = inner, inner.name, 0

    @property
    def dim(self):
        return self.inner.dim

    def embed_passages(self, texts, progress=None):
        self.embedded += len(texts)
        return self.inner.embed_passages(texts, progress)


def resumed_work(local, texts: list[str], workers: int) -> tuple[int, int]:
    """(texts embedded by an uninterrupted run, texts embedded by a run killed halfway plus its rerun)."""
    items = [(text_hash(t), t) for t in texts]
    with tempfile.TemporaryDirectory() as folder:
        whole = Counting(local)
        with Store(Path(folder) / "whole.db") as store:
            embed_passages_cached(store, whole, items, save_every=32)
        with ParallelEmbedder(local, workers) as parallel, Store(Path(folder) / "killed.db") as store:
            counting = Counting(parallel)
            embed_passages_cached(store, counting, items[: len(items) // 2], save_every=32)
            for process in parallel._executor()._processes.values():
                process.kill()  # the build is killed: whatever was in flight is lost
            try:
                embed_passages_cached(store, counting, items, save_every=32)
            except EmbedderError:
                pass
            embed_passages_cached(store, counting, items, save_every=32)  # the rerun
        return whole.embedded, counting.embedded


def search_wall(db: Path, query: str, cache: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "systemfel.cli", "search", query, "--db", str(db), "--k", "10"],
        check=True, capture_output=True, env=os.environ | {"SYSTEMFEL_CACHE": str(cache), "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=192)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", type=Path, help="a built store, for the cold/warm search timing")
    args = parser.parse_args()

    texts = demo_texts(args.texts)
    words = np.mean([len(t.split()) for t in texts])
    local = load_embedder(None)
    local.embed_passages(texts[:4])  # the model's one-time start-up is not throughput
    print(f"{len(texts)} texts, mean {words:.0f} words, model {local.name}, {os.cpu_count()} cores")
    one, single = rate(local, texts)
    parent_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with ParallelEmbedder(local, args.workers) as parallel:
        parallel.embed_passages(texts[: parallel.chunk_size * args.workers + 1])  # start the workers
        many, pooled = rate(parallel, texts)
    worker_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    cosine = float(np.min(np.sum(single * pooled, axis=1)))
    print(f"{'processes':>10} {'texts/s':>9} {'ratio':>7}")
    print(f"{1:>10} {one:>9.2f} {1.0:>7.2f}")
    print(f"{args.workers:>10} {many:>9.2f} {many / one:>7.2f}   smallest cosine to 1 process: {cosine:.6f}")
    print(f"peak memory: parent {parent_rss:.0f} MiB, busiest worker {worker_rss:.0f} MiB; "
          f"{args.workers} workers + parent vs one process: {(parent_rss + args.workers * worker_rss) / parent_rss:.2f}x")  # fmt: skip
    whole, resumed = resumed_work(local, texts, args.workers)
    print(f"killed halfway and rerun: {resumed} texts embedded vs {whole} uninterrupted ({resumed / whole:.2f}x)")
    if args.db:
        with tempfile.TemporaryDirectory() as cache:
            query = "Min klient har inget BankID och kan inte logga in hos Försäkringskassan"
            cold = search_wall(args.db, query, Path(cache))
            warm = search_wall(args.db, query, Path(cache))
        print(f"systemfel search, whole process: cold {cold:.2f} s (engine built and kept), warm {warm:.2f} s")


if __name__ == "__main__":
    main()
