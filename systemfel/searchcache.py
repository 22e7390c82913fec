"""Search without the wait: the engine built from a store, kept between calls.

Building the search engine (BM25 over Swedish stems, the vector matrices) takes seconds on a
large store, and `systemfel search` is a new process every time. The built engine is kept in
the user's cache folder (private to the user: a pickle is code to whoever can write it), keyed
by the store's path, its generation (moved by every committed change), the embedding model and
the source of the search code. A changed store, model or search code means a rebuild; a cache
file that cannot be read is rebuilt, never trusted. Only the query itself is embedded.

This module imports neither spaCy nor torch: a cold search process stays short.
"""
from __future__ import annotations

import hashlib
import inspect
import logging
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np

from systemfel.models import search as search_module
from systemfel.models import text as text_module
from systemfel.models.embed import load_query_embedder
from systemfel.models.embed.base import Embedder
from systemfel.models.search import SearchEngine, load_calibration
from systemfel.models.vectors import MODEL_META_KEY, embed_passages_cached, sentence_vectors_cached
from systemfel.store import Store

log = logging.getLogger(__name__)

FORMAT = 1


def cache_folder() -> Path:
    base = os.environ.get("SYSTEMFEL_CACHE") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "systemfel" / "search"


def engine_key(store: Store, model: str) -> str:
    code = [inspect.getsource(search_module), inspect.getsource(text_module)]
    payload = repr((FORMAT, str(Path(store.path).resolve()), store.generation(), model, code))
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def build_engine(store: Store, embedder: Embedder | None = None, progress=None) -> SearchEngine:
    """The engine over the store's passages and cached passage and sentence vectors.

    `embedder` defaults to the model the store was built with.

    Vectors a build has not cached yet are embedded now, and cached when the store is writable
    (the explorer and `systemfel search` open it read-only: then they are kept in memory only).
    """
    embedder = embedder or load_query_embedder(store.get_meta(MODEL_META_KEY))
    passages = store.passages()
    save = store.writable()
    if not save:
        log.info("read-only database: vectors not cached yet are embedded and kept in memory only")
    items = list({p.text_hash: p.text for p in passages}.items())
    cached = embed_passages_cached(store, embedder, items, progress=progress, save=save)
    sentences, owner = sentence_vectors_cached(store, embedder, [p.text for p in passages], progress=progress, save=save)
    matrix = np.vstack([cached[p.text_hash] for p in passages]) if passages else np.zeros((0, embedder.dim), np.float32)
    return SearchEngine(
        passages, matrix, embedder, sentence_vectors=sentences, sentence_owner=owner,
        calibration=load_calibration(embedder.name),
    )  # fmt: skip


def load_engine(store: Store, embedder: Embedder | None = None, progress=None, *, use_cache: bool = True) -> SearchEngine:
    """The search engine for `store`: from the cache when the store has not changed, else built and kept."""
    embedder = embedder or load_query_embedder(store.get_meta(MODEL_META_KEY))
    path = cache_folder() / f"{engine_key(store, embedder.name)}.pickle"
    if use_cache and path.is_file():
        try:
            with open(path, "rb") as handle:
                engine = pickle.load(handle)
            if isinstance(engine, SearchEngine):
                engine.embedder = embedder
                engine.calibration = load_calibration(embedder.name)  # thresholds may be relearned
                return engine
            log.warning("search cache %s holds something else; rebuilding", path)
        except Exception as exc:  # noqa: BLE001 - a broken cache file is rebuilt, never trusted
            log.warning("search cache %s unreadable (%s); rebuilding", path, exc)
    engine = build_engine(store, embedder, progress)
    if use_cache:
        _save(engine, path)
    return engine


def _save(engine: SearchEngine, path: Path) -> None:
    """Write atomically into a folder only the user can read; failure only costs speed next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path.parent, 0o700)  # also when the folder was made by someone or something else
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as handle:
            pickle.dump(engine, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, path)
        for old in path.parent.glob("*.pickle"):
            if old != path and old.stat().st_mtime < path.stat().st_mtime - 7 * 24 * 3600:
                old.unlink(missing_ok=True)  # a week unused: a store long gone or rebuilt
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
        log.warning("search cache not written to %s: %s", path, exc)
