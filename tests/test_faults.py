"""Faults: builds killed at random points, two builds at once, reading while a build writes."""
from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from systemfel.store import Store
from tests.conftest import CORPUS, ROOT, spawned_workers

pytestmark = pytest.mark.slow


def _build_cmd(db: Path, *paths: Path, extra=()):
    return [sys.executable, "-m", "systemfel.cli", "build", *map(str, paths), "--db", str(db), *extra]


def _env():
    return os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


def _assert_consistent(db: Path) -> None:
    """The database opens, passes SQLite's check, and no document is half-stored.

    A build killed before it made the database leaves none; one killed while making it leaves
    the whole schema or none of it."""
    if not db.exists():
        return
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        conn.close()
        return
    assert {"documents", "passages", "labels", "blocks", "meta"} <= tables
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    for doc_id, status in conn.execute("SELECT id, status FROM documents"):
        n_passages = conn.execute("SELECT COUNT(*) FROM passages WHERE doc_id = ?", (doc_id,)).fetchone()[0]
        n_labels = conn.execute(
            "SELECT COUNT(*) FROM labels l JOIN passages p ON p.id = l.passage_id WHERE p.doc_id = ?", (doc_id,)
        ).fetchone()[0]
        n_blocks = conn.execute("SELECT COUNT(*) FROM blocks WHERE doc_id = ?", (doc_id,)).fetchone()[0]
        if status == "ok":
            assert n_passages > 0 and n_labels == n_passages and n_blocks > 0, doc_id
        else:
            assert n_passages == 0
    conn.close()


def _stored_documents(db: Path) -> int:
    """Documents committed so far (0 while the database or its tables do not exist yet)."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT COUNT(*) FROM documents WHERE status = 'ok'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@pytest.fixture()
def corpus_copy(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    return folder


@pytest.fixture()
def two_report_copy(tmp_path) -> Path:
    """The two smallest corpus reports: enough for kills in every stage, half a full rerun."""
    folder = tmp_path / "two"
    folder.mkdir()
    for pdf in sorted(CORPUS.glob("*.pdf"), key=lambda p: p.stat().st_size)[:2]:
        for part in (pdf, pdf.with_suffix(".yaml")):
            if part.exists():
                shutil.copy2(part, folder / part.name)
    return folder


def test_killed_builds_leave_a_consistent_database_and_rerun_completes(tmp_path, two_report_copy):
    corpus_copy = two_report_copy
    db = tmp_path / "kill.db"
    rng = random.Random(20261122)
    for attempt in range(4):
        proc = subprocess.Popen(_build_cmd(db, corpus_copy), env=_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 8.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _assert_consistent(db)
    done = subprocess.run(_build_cmd(db, corpus_copy), env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    _assert_consistent(db)
    with Store(db, readonly=True) as store:
        docs = store.documents()
        assert sorted(d.file for d in docs) == sorted(p.name for p in corpus_copy.glob("*.pdf"))
        assert all(d.status == "ok" for d in docs)
        assert store.clusters(), "the rerun finished the analysis stages too"


def test_interrupt_with_ctrl_c_reports_in_swedish(tmp_path, corpus_copy):
    db = tmp_path / "int.db"
    proc = subprocess.Popen(_build_cmd(db, corpus_copy), env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    # interrupt once the first report is stored: three reports and the analysis are still to come
    deadline = time.monotonic() + 300
    while _stored_documents(db) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "Avbrutet" in err and "Traceback" not in err
    _assert_consistent(db)


def test_second_concurrent_build_refuses_clearly(tmp_path, corpus_copy):
    from filelock import FileLock

    db = tmp_path / "lock.db"
    Store(db).close()
    with FileLock(str(db) + ".lock"):  # as held by a running build
        second = subprocess.run(_build_cmd(db, corpus_copy, extra=["--no-analysis"]), env=_env(),
                                capture_output=True, text=True, timeout=300)
    assert second.returncode == 3
    assert "En annan körning bygger redan databasen" in second.stderr
    assert "Traceback" not in second.stderr
    with Store(db, readonly=True) as store:
        assert store.documents() == []


def test_two_real_builds_at_once_one_waits(tmp_path, corpus_copy):
    db = tmp_path / "both.db"
    cmd = _build_cmd(db, corpus_copy, extra=["--no-analysis", "--wait", "600"])
    first = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert first.wait(timeout=900) == 0, first.stderr.read()
    assert second.wait(timeout=900) == 0, second.stderr.read()
    _assert_consistent(db)
    with Store(db, readonly=True) as store:
        assert len(store.documents()) == len(list(corpus_copy.glob("*.pdf")))


def _open_new_stores(folder: str, rounds: int, barrier, failures) -> None:
    """One of two openers: each round both open the same new file at the same instant."""
    for round_number in range(rounds):
        barrier.wait(timeout=60)
        try:
            Store(Path(folder) / f"new-{round_number}.db").close()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            failures.put(f"round {round_number}: {exc}")


def test_two_openers_of_a_new_database_both_open_it(tmp_path):
    # the switch to write-ahead logging met the other opener's lock and failed at once about one
    # time in ten (SQLite skips its busy handler there); 40 rounds caught it nearly every run
    rounds = 40
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    failures = context.Queue()
    openers = [context.Process(target=_open_new_stores, args=(str(tmp_path), rounds, barrier, failures))
               for _ in range(2)]
    for opener in openers:
        opener.start()
    for opener in openers:
        opener.join(timeout=600)
    assert [opener.exitcode for opener in openers] == [0, 0]
    reported = []
    while not failures.empty():
        reported.append(failures.get())
    assert reported == []
    for round_number in range(rounds):
        with Store(tmp_path / f"new-{round_number}.db", readonly=True) as store:
            assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reader_keeps_reading_while_a_build_writes(tmp_path, corpus_copy):
    db = tmp_path / "read.db"
    Store(db).close()
    errors: list[BaseException] = []
    reads = 0
    stop = threading.Event()

    def read_loop():
        nonlocal reads
        while not stop.is_set():
            try:
                with Store(db, readonly=True) as store:
                    store.documents()
                    store.passages()
                reads += 1
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
            time.sleep(0.05)

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        result = subprocess.run(_build_cmd(db, corpus_copy, extra=["--no-analysis"]), env=_env(),
                                capture_output=True, text=True, timeout=900)
    finally:
        stop.set()
        reader.join()
    assert result.returncode == 0, result.stderr[-2000:]
    assert errors == []
    assert reads > 5


def test_a_killed_embedding_worker_stops_the_build_in_swedish_and_a_rerun_finishes(tmp_path):
    """A worker killed while the build embeds (as the kernel's OOM killer would) ends the build with
    exit 1 and a Swedish message that says to run again, not to choose another model; the rerun
    embeds only what is missing and finishes."""
    pdf = CORPUS / "po-varmland-2021.pdf"  # 126 passages: more than one chunk, so the workers embed
    db = tmp_path / "w.db"
    log = tmp_path / "stderr.txt"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(_build_cmd(db, pdf, extra=("--workers", "2")), env=_env(),
                                stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            deadline = time.monotonic() + 600
            killed: list[int] = []
            while not killed and proc.poll() is None and time.monotonic() < deadline:
                if "Bäddar in" in log.read_text(errors="replace"):  # ingest's pool has ended by now
                    killed = spawned_workers(proc.pid)
                    for pid in killed:
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.1)
            code = proc.wait(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
    said = log.read_text(errors="replace")
    assert killed, f"the build embedded with worker processes (exit {proc.returncode}): {said[-1500:]}"
    assert code == 1, said[-2000:]
    assert "avslutades oväntat" in said and "Kör samma kommando igen" in said
    assert "--embedder" not in said and "Traceback" not in said
    _assert_consistent(db)
    with Store(db, readonly=True) as store:
        assert [d.status for d in store.documents()] == ["ok"], "the read report is kept"
    rerun = subprocess.run(_build_cmd(db, pdf, extra=("--workers", "2")), env=_env(), capture_output=True,
                           text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    _assert_consistent(db)
