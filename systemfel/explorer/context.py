"""What every explorer page reads: one snapshot of the database, cached per file state.

Pages never open the store themselves for reading; they get a `Context`. Tables are cached
per database file and its modification marker, so a rebuild or a correction is seen at once.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from systemfel.base.records import Document, StoredPassage
from systemfel.explorer.labels import ThemeNamer, load_theme_descriptions, load_theme_names
from systemfel.models.embed import load_query_embedder
from systemfel.models.trends import recurrence, report_theme_shares
from systemfel.searchcache import load_engine
from systemfel.store import Store

log = logging.getLogger(__name__)

HOW_TO_START = "Starta utforskaren med `systemfel app --db FIL` eller `streamlit run app.py -- --db FIL`."


@dataclass
class Snapshot:
    """Everything the views read from one database at one moment."""

    documents: list[Document]
    passages: list[StoredPassage]
    clusters: list[dict]
    figures: list[dict]
    corrections: dict[tuple[str, str], str] = field(default_factory=dict)
    embedding_model: str | None = None
    codebook: list[dict] = field(default_factory=list)
    snapshot_only: bool = False  # the database's folder is read-only: read as it is


@dataclass
class Context:
    """The one argument of every page's `render`: the snapshot, names and the database."""

    snap: Snapshot
    namer: ThemeNamer
    db: Path
    marker: tuple

    @property
    def db_key(self) -> str:
        return str(self.db)


def resolve_db_path(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> Path | None:
    """`--db FILE` after `--` on the streamlit line wins over SYSTEMFEL_DB."""
    argv = sys.argv[1:] if argv is None else argv
    environ = dict(os.environ) if environ is None else environ
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--db")
    args, _ = parser.parse_known_args(argv)
    value = args.db or environ.get("SYSTEMFEL_DB")
    return Path(value).expanduser() if value else None


def db_marker(path: Path) -> tuple:
    """Changes whenever the database changes: size and mtime of the file and its WAL.

    An empty WAL is the same as none (merely opening the store can create one): otherwise the
    first page after start would load the snapshot and the search engine a second time."""
    marker = []
    for candidate in (path, Path(f"{path}-wal")):
        try:
            stat = candidate.stat()
            marker.append((stat.st_size, stat.st_mtime_ns) if stat.st_size else None)
        except OSError:
            marker.append(None)
    return tuple(marker)


@st.cache_data(max_entries=4, show_spinner="Läser databasen …")
def load_snapshot(db: str, marker: tuple) -> Snapshot:
    with Store(db, readonly=True) as store:
        return Snapshot(
            documents=store.documents(),
            passages=store.passages(),
            clusters=store.clusters(),
            figures=store.figures(),
            corrections=store.corrections(),
            embedding_model=store.get_meta("embedding_model"),
            codebook=store.codebook(),
            snapshot_only=store.snapshot_only,
        )


def theme_namer(snap: Snapshot) -> ThemeNamer:
    """Names from the codebook the store was built with; the default codebook for older stores."""
    names = {t["slug"]: t["name"] for t in snap.codebook} or cached_theme_names()
    return ThemeNamer(names, snap.clusters)


def theme_descriptions(snap: Snapshot) -> dict[str, str]:
    return {t["slug"]: t.get("description", "") for t in snap.codebook} or cached_theme_descriptions()


@st.cache_data(show_spinner=False)
def cached_theme_names() -> dict[str, str]:
    return load_theme_names()


@st.cache_data(show_spinner=False)
def cached_theme_descriptions() -> dict[str, str]:
    return load_theme_descriptions()


@st.cache_resource(show_spinner="Laddar språkmodellen …")
def cached_embedder(spec: str | None):
    return load_query_embedder(spec)


@st.cache_resource(max_entries=2, show_spinner="Förbereder sökningen …")
def cached_search_engine(db: str, marker: tuple, embedding_model: str | None):
    with Store(db, readonly=True) as store:
        return load_engine(store, embedder=cached_embedder(embedding_model))


def _warm(db: str, marker: tuple, embedding_model: str | None) -> None:
    try:
        cached_search_engine(db, marker, embedding_model)
    except Exception:  # noqa: BLE001 - the search page loads it again and shows the error in Swedish
        log.warning("search engine not prepared at start", exc_info=True)


@st.cache_resource(max_entries=2, show_spinner=False)
def warm_search_engine(db: str, marker: tuple, embedding_model: str | None) -> threading.Thread:
    """Load the model and the search engine in the background when the explorer opens a store,
    so the first search does not wait for them (once per store state and server process; a
    query asked before it is done waits for the same load, it never loads twice)."""
    thread = threading.Thread(
        target=_warm, args=(db, marker, embedding_model), name="systemfel-search-warm-up", daemon=True
    )
    thread.start()
    return thread


@st.cache_data(max_entries=8, show_spinner=False)
def cached_recurrence(db: str, marker: tuple, by: str) -> pd.DataFrame:
    return recurrence(load_snapshot(db, marker).passages, by=by)


def national_documents(documents: list[Document]) -> set[int]:
    """Reports that cover the whole country (Socialstyrelsen's Lägesrapport), not one organisation's clients."""
    return {d.id for d in documents
            if d.meta.region.strip().lower() == "riket" or d.meta.report_kind.strip().lower() == "lägesrapport"}  # fmt: skip


@st.cache_data(max_entries=8, show_spinner=False)
def cached_report_shares(db: str, marker: tuple) -> pd.DataFrame:
    snap = load_snapshot(db, marker)
    return report_theme_shares(snap.passages, national_documents(snap.documents))
