"""Passage vectors cached in the store by text hash, so a rebuild never embeds a text twice.

The store keeps vectors of one model only: when the user switches model, the old vectors
are dropped and everything is embedded again, so two vector spaces are never mixed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from models.embed.base import Embedder

log = logging.getLogger(__name__)

MODEL_META_KEY = "embedding_model"


def embed_passages_cached(
    store,
    embedder: Embedder,
    items: list[tuple[str, str]],
    progress: Callable[[int, int], None] | None = None,
    save_every: int = 256,
) -> dict[str, np.ndarray]:
    """Vectors for (text_hash, text) items: cached ones from the store, the rest embedded and saved.

    New vectors are saved in chunks of `save_every`, so an interrupted build keeps what it embedded.
    """
    if store.get_meta(MODEL_META_KEY) != embedder.name:
        previous = store.get_meta(MODEL_META_KEY)
        if previous:
            log.info("embedding model changed from %s to %s; dropping old vectors", previous, embedder.name)
        store.drop_vectors_except(embedder.name)
        store.set_meta(MODEL_META_KEY, embedder.name)
    unique = dict(items)
    vectors = store.cached_vectors(embedder.name, list(unique))
    todo = [(h, t) for h, t in unique.items() if h not in vectors]
    log.info("%d vectors cached, %d to embed with %s", len(vectors), len(todo), embedder.name)
    total = len(todo)
    if progress is not None:
        progress(0, total)
    for start in range(0, total, save_every):
        chunk = todo[start : start + save_every]
        fresh = embedder.embed_passages([t for _, t in chunk])
        new = {h: v for (h, _), v in zip(chunk, fresh)}
        store.save_vectors(embedder.name, new)
        vectors.update(new)
        if progress is not None:
            progress(start + len(chunk), total)
    return vectors
