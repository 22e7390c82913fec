"""The store: atomic replacement, corrections that survive rebuilds, read-only access."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from systemfel.base.records import Block, DocumentMeta, Figure, Passage, PassageLabels, ThemeScore
from systemfel.base.hashing import text_hash
from systemfel.store import Store, StoreError


def _passages(texts):
    return [Passage(text=t, page=i + 1, heading_path=["Brister"], block_kind="paragraph") for i, t in enumerate(texts)]


def _store_doc(store, path="a.pdf", sha="s1", texts=("Klienten fick vänta.", "Ingen återkoppling.")):
    passages = _passages(texts)
    return store.replace_document(
        path=path,
        sha256=sha,
        meta=DocumentMeta(org="PO Test", year=2024, title="Rapport"),
        pages=2,
        blocks=[Block("paragraph", t, 1) for t in texts],
        passages=passages,
        labels=[PassageLabels(kind="deficiency", kind_score=0.9, actors=["Försäkringskassan"]) for _ in passages],
        figures=[Figure(subject="systemfel", value=12, page=1, sentence="12 systemfel")],
    )


def test_replace_document_replaces_old_passages_and_cascades(tmp_path):
    with Store(tmp_path / "x.db") as store:
        _store_doc(store)
        _store_doc(store, sha="s2", texts=("Ny text om väntetider.",))
        passages = store.passages()
        assert [p.text for p in passages] == ["Ny text om väntetider."]
        assert passages[0].kind == "deficiency" and passages[0].actors == ("Försäkringskassan",)
        assert len(store.documents()) == 1
        assert store.conn.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 1
        assert store.conn.execute("SELECT COUNT(*) FROM blocks").fetchone()[0] == 1
        assert len(store.figures()) == 1


def test_failed_write_leaves_previous_version(tmp_path):
    with Store(tmp_path / "x.db") as store:
        _store_doc(store)
        with pytest.raises(ValueError):
            with store.transaction() as conn:
                conn.execute("DELETE FROM documents WHERE path = 'a.pdf'")
                raise ValueError("interrupted")
        assert [p.text for p in store.passages()] == ["Klienten fick vänta.", "Ingen återkoppling."]


def test_corrections_survive_rebuild(tmp_path):
    with Store(tmp_path / "x.db") as store:
        _store_doc(store)
        target = store.passages()[1]
        store.save_themes({p.id: [ThemeScore("vantetider", 0.7)] for p in store.passages()})
        store.set_correction(target.text_hash, "kind", "background")
        store.set_correction(target.text_hash, "theme", "information")
        corrected = {p.text: p for p in store.passages()}["Ingen återkoppling."]
        assert corrected.kind == "background" and corrected.theme == "information"
        # the file changes elsewhere, the corrected passage text stays: the correction holds
        _store_doc(store, sha="s3", texts=("Helt ny första text.", "Ingen återkoppling."))
        store.save_themes({p.id: [ThemeScore("vantetider", 0.7)] for p in store.passages()})
        rebuilt = {p.text: p for p in store.passages()}
        assert rebuilt["Ingen återkoppling."].kind == "background"
        assert rebuilt["Ingen återkoppling."].themes[0] == "information"
        assert rebuilt["Helt ny första text."].kind == "deficiency"


def test_unknown_correction_field_is_refused(tmp_path):
    with Store(tmp_path / "x.db") as store:
        with pytest.raises(StoreError):
            store.set_correction(text_hash("x"), "year", "2020")


def test_record_failure_keeps_good_version(tmp_path):
    with Store(tmp_path / "x.db") as store:
        _store_doc(store)
        store.record_failure(path="a.pdf", sha256="s9", message="trasig")
        assert store.documents()[0].status == "ok"
        store.record_failure(path="b.pdf", sha256="s8", message="Filen är tom.")
        statuses = {d.file: (d.status, d.message) for d in store.documents()}
        assert statuses["b.pdf"] == ("failed", "Filen är tom.")


def test_vectors_cached_per_model(tmp_path):
    with Store(tmp_path / "x.db") as store:
        vec = np.arange(4, dtype=np.float32)
        store.save_vectors("m1", {"h1": vec})
        assert np.array_equal(store.cached_vectors("m1", ["h1", "h2"])["h1"], vec)
        assert store.cached_vectors("m2", ["h1"]) == {}
        store.save_vectors("m2", {"h1": vec})
        store.drop_vectors_except("m2")
        assert store.cached_vectors("m1", ["h1"]) == {}


def test_readonly_refuses_missing_and_foreign_files(tmp_path):
    with pytest.raises(StoreError, match="finns inte"):
        Store(tmp_path / "missing.db", readonly=True)
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(StoreError, match="ingen systemfel-databas"):
        Store(foreign, readonly=True)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError):
        Store(garbage)
