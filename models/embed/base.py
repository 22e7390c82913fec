"""The small interface every embedding backend implements.

Callers (vectors cache, search, themes) only see `Embedder`; a backend only has to say how
to encode one batch of passages and one batch of queries. Batching, progress reporting and
normalisation live here once, so every backend returns the same kind of array.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np

log = logging.getLogger(__name__)

EmbedProgress = Callable[[int, int], None]


class EmbedderError(Exception):
    """A model that cannot be loaded or used, explained in Swedish for the user."""


class EmbedWorkerDied(EmbedderError):
    """A worker process ended mid-build (killed, out of memory): the model is fine, a rerun goes on."""


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """Unit-length rows as float32, so a dot product is a cosine similarity."""
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors of shape (n, dim).

    `name` is recorded in the store next to every vector, so vectors of two models are
    never mixed; it must also be a spec that `load_embedder` accepts.
    """

    name: str = ""

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size

    def engine_threads(self) -> int | None:
        """The number of threads the engine will compute with (None when the backend cannot say)."""
        return None

    @property
    @abstractmethod
    def dim(self) -> int:
        """Length of one vector."""

    @abstractmethod
    def _encode_passages(self, texts: list[str]) -> np.ndarray:
        """Encode one batch of passages (the backend adds any prefix it needs)."""

    @abstractmethod
    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        """Encode one batch of search queries (the backend adds any prefix it needs)."""

    def embed_passages(self, texts: list[str], progress: EmbedProgress | None = None) -> np.ndarray:
        return self._embed(list(texts), self._encode_passages, progress)

    def embed_queries(self, texts: list[str], progress: EmbedProgress | None = None) -> np.ndarray:
        return self._embed(list(texts), self._encode_queries, progress)

    def _embed(self, texts: list[str], encode, progress: EmbedProgress | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            parts.append(l2_normalise(encode(batch)))
            if progress is not None:
                progress(min(start + len(batch), len(texts)), len(texts))
        return np.vstack(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
