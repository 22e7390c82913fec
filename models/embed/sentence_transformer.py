"""Any sentence-transformers model: a Hugging Face id or a local folder.

Used for models other than the bundled default. e5-family models were trained with
"query: "/"passage: " prefixes and lose much of their quality without them, so those are
added when the model's name says it is an e5 model.
"""
from __future__ import annotations

# Imports inside functions: each backend imports its engine when it is loaded, so choosing one
# model never costs the import of the other (sentence-transformers pulls in transformers: seconds).

import logging
from pathlib import Path

import numpy as np

from systemfel.models.embed.base import Embedder, EmbedderError

log = logging.getLogger(__name__)


def is_e5_model(model_name_or_path: str) -> bool:
    return "e5" in Path(str(model_name_or_path)).name.lower() or "e5" in str(model_name_or_path).lower()


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model loaded once and held by the caller."""

    def __init__(
        self,
        model_name_or_path: str,
        batch_size: int = 32,
        device: str = "cpu",
        name: str | None = None,
        use_e5_prefixes: bool | None = None,
        num_threads: int | None = None,
    ):
        """`num_threads` None: torch's own choice (one thread per core); n: n threads in this process."""
        super().__init__(batch_size)
        self.model_name_or_path = str(model_name_or_path)
        self.device = device
        self.name = name or self.model_name_or_path
        self.use_e5_prefixes = is_e5_model(self.model_name_or_path) if use_e5_prefixes is None else use_e5_prefixes
        try:
            from sentence_transformers import SentenceTransformer

            if num_threads:
                import torch

                torch.set_num_threads(int(num_threads))
            self._model = SentenceTransformer(self.model_name_or_path, device=device)
        except Exception as exc:  # noqa: BLE001 - the library raises many kinds (OSError, HF errors, ValueError)
            raise EmbedderError(
                f"Kunde inte läsa in modellen '{self.model_name_or_path}': {exc.__class__.__name__}. "
                "Ange en mapp som innehåller en sentence-transformers-modell, eller ett modellnamn från "
                "Hugging Face som redan finns nedladdat på datorn (programmet hämtar inget från internet)."
            ) from exc
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self._dim = int(dimension() or self._model.encode(["x"]).shape[1])

    @property
    def dim(self) -> int:
        return self._dim

    def engine_threads(self) -> int | None:
        import torch  # loaded with the model already

        return int(torch.get_num_threads())

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        if self.use_e5_prefixes:
            texts = [prefix + t for t in texts]
        return self._model.encode(
            texts, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )

    def _encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "passage: ")

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query: ")
