"""Passage vectors cached in the store by text hash, so a rebuild never embeds a text twice.

The store keeps vectors of one model only: when the user switches model, the old vectors
are dropped and everything is embedded again, so two vector spaces are never mixed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import numpy as np

from systemfel.base.hashing import text_hash
from systemfel.base.sentences import split_sentences
from systemfel.models.embed.base import Embedder

log = logging.getLogger(__name__)

MODEL_META_KEY = "embedding_model"


class VectorCache(Protocol):
    """What the vector functions need of a store: models/ never sees the database itself."""

    def get_meta(self, key: str, default: str | None = None) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def cached_vectors(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]: ...
    def save_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None: ...
    def drop_vectors_except(self, model: str) -> None: ...


def embed_passages_cached(
    store: VectorCache,
    embedder: Embedder,
    items: list[tuple[str, str]],
    progress: Callable[[int, int], None] | None = None,
    save_every: int = 256,
    save: bool = True,
) -> dict[str, np.ndarray]:
    """Vectors for (text_hash, text) items: cached ones from the store, the rest embedded and saved.

    New vectors are saved in chunks of `save_every`, so an interrupted build keeps what it embedded.
    With `save=False` (a read-only store) nothing is written: missing vectors are only returned.
    """
    if save and store.get_meta(MODEL_META_KEY) != embedder.name:
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
        if save:
            store.save_vectors(embedder.name, new)
        vectors.update(new)
        if progress is not None:
            progress(start + len(chunk), total)
    return vectors


def sentence_rows(texts: list[str], min_chars: int = 30) -> tuple[list[str], np.ndarray]:
    """Sentences of every passage that has more than one, and the passage index of each.

    A one-sentence passage gets no rows: its passage vector already is its sentence vector.
    """
    sentences: list[str] = []
    owner: list[int] = []
    for index, text in enumerate(texts):
        parts = split_sentences(text, min_chars=min_chars)
        if len(parts) > 1:
            sentences.extend(parts)
            owner.extend([index] * len(parts))
    return sentences, np.asarray(owner, dtype=np.int64)


def embed_sentences(embedder: Embedder, texts: list[str], progress=None) -> tuple[np.ndarray, np.ndarray]:
    """(sentence vectors, owner passage index) for passages, without a store (tests, notebooks)."""
    sentences, owner = sentence_rows(texts)
    return embedder.embed_passages(sentences, progress=progress), owner


def sentence_vectors_cached(
    store: VectorCache,
    embedder: Embedder,
    texts: list[str],
    progress: Callable[[int, int], None] | None = None,
    save: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Like `embed_sentences`, but cached in the store by sentence text hash (same table and
    model rules as passage vectors), so search can start without embedding anything."""
    sentences, owner = sentence_rows(texts)
    items = [(text_hash(s), s) for s in sentences]
    vectors = embed_passages_cached(store, embedder, items, progress=progress, save=save)
    if not sentences:
        return np.zeros((0, embedder.dim), dtype=np.float32), owner
    return np.vstack([vectors[h] for h, _ in items]), owner


QUERY_MODEL_SUFFIX = "|query"


def query_vectors_cached(
    store,
    embedder: Embedder,
    items: list[tuple[str, str]],
    progress: Callable[[int, int], None] | None = None,
    save_every: int = 256,
) -> dict[str, np.ndarray]:
    """Vectors of (text_hash, text) items embedded as e5 *queries*, cached in the store under
    the model's name plus "|query". e5 asks for the query prefix on both sides of a symmetric
    comparison; recurring issues compare statements with statements that way."""
    model = embedder.name + QUERY_MODEL_SUFFIX
    unique = dict(items)
    vectors = store.cached_vectors(model, list(unique))
    todo = [(h, t) for h, t in unique.items() if h not in vectors]
    log.info("%d query vectors cached, %d to embed", len(vectors), len(todo))
    if progress is not None:
        progress(0, len(todo))
    for start in range(0, len(todo), save_every):
        chunk = todo[start : start + save_every]
        new = dict(zip([h for h, _ in chunk], embedder.embed_queries([t for _, t in chunk])))
        store.save_vectors(model, new)
        vectors.update(new)
        if progress is not None:
            progress(start + len(chunk), len(todo))
    return vectors
