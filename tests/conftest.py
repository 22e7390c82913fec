"""Shared fixtures: the demo corpus built once per test session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"



def spawned_workers(parent: int) -> list[int]:
    """Pids of the multiprocessing workers `parent` started (`spawn`; not its resource tracker).

    A process that ends while we look is skipped, not an error."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent and b"spawn_main" in (stat.parent / "cmdline").read_bytes():
                pids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return pids

@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A database built from corpus/ by the real pipeline (ingest, read, embed, themes, clusters)."""
    from systemfel.pipeline import build
    from systemfel.store import Store

    folder = tmp_path_factory.mktemp("demo")
    prebuilt = os.environ.get("SYSTEMFEL_TEST_DB")
    if prebuilt:  # a database built from corpus/ by this code (`systemfel build corpus --db FILE`), copied
        import sqlite3

        with sqlite3.connect(prebuilt) as source, sqlite3.connect(folder / "demo.db") as target:
            source.backup(target)
        return folder / "demo.db"
    corpus = folder / "corpus"
    shutil.copytree(CORPUS, corpus)
    db = folder / "demo.db"
    with Store(db) as store:
        summary = build(store, [corpus])
    assert not summary.failed, summary.failed
    return db


@pytest.fixture(scope="session")
def demo_corpus(demo_db) -> Path:
    """The folder the demo store's reports were read from, for a test that builds again: the
    copy of corpus/ beside a freshly built store, or the folder a prebuilt SYSTEMFEL_TEST_DB
    was built from (no corpus is copied then); corpus/ itself if that folder is gone."""
    import sqlite3

    with sqlite3.connect(demo_db) as conn:
        row = conn.execute("SELECT path FROM documents WHERE status = 'ok' LIMIT 1").fetchone()
    folder = Path(row[0]).parent if row else CORPUS
    return folder if folder.is_dir() else CORPUS


@pytest.fixture(scope="session")
def demo_store(demo_db):
    from systemfel.store import Store

    store = Store(demo_db, readonly=True)
    yield store
    store.close()
