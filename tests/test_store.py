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
        for field in ("year", "actor:", "recurring:", "actors"):
            with pytest.raises(StoreError):
                store.set_correction(text_hash("x"), field, "2020")
        assert store.corrections() == {}


def test_level_and_actor_corrections_survive_rebuild_with_their_author(tmp_path):
    with Store(tmp_path / "x.db") as store:
        _store_doc(store)
        target = store.passages()[1]
        store.set_correction(target.text_hash, "level", "central", author="Forskare")
        store.set_correction(target.text_hash, "actor:Kronofogden", "applies", author="Forskare")
        store.set_correction(target.text_hash, "actor:Försäkringskassan", "applies")  # already there: once
        corrected = {p.text: p for p in store.passages()}["Ingen återkoppling."]
        assert corrected.level == "central"
        assert corrected.actors == ("Försäkringskassan", "Kronofogden")
        # the file changes elsewhere and is read again (labels from scratch): the corrections hold
        _store_doc(store, sha="s3", texts=("Helt ny första text.", "Ingen återkoppling."))
        rebuilt = {p.text: p for p in store.passages()}
        assert rebuilt["Ingen återkoppling."].level == "central"
        assert rebuilt["Ingen återkoppling."].actors == ("Försäkringskassan", "Kronofogden")
        assert rebuilt["Helt ny första text."].level is None
        assert rebuilt["Helt ny första text."].actors == ("Försäkringskassan",)
        assert store.correction_authors() == {
            (target.text_hash, "level"): "Forskare", (target.text_hash, "actor:Kronofogden"): "Forskare"
        }


def _meta_rows(path) -> dict:
    with sqlite3.connect(path) as conn:  # another connection: sees only what was committed
        return dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 't%'").fetchall())


def test_a_transaction_inside_another_is_part_of_it(tmp_path):
    with Store(tmp_path / "x.db") as store:
        with store.transaction() as conn:
            conn.execute("INSERT INTO meta VALUES ('t1', 'outer')")
            store.set_meta("t2", "inner")  # a write that opens its own transaction
            assert _meta_rows(store.path) == {}, "nothing is committed before the outer transaction ends"
        assert _meta_rows(store.path) == {"t1": "outer", "t2": "inner"}
        # the inner part fails and is caught: only it is undone
        with store.transaction() as conn:
            conn.execute("INSERT INTO meta VALUES ('t3', 'kept')")
            with pytest.raises(ValueError):
                with store.transaction() as inner:
                    inner.execute("INSERT INTO meta VALUES ('t4', 'undone')")
                    raise ValueError("interrupted")
        assert _meta_rows(store.path) == {"t1": "outer", "t2": "inner", "t3": "kept"}
        # the outer one fails after an inner one succeeded: none of it lands
        with pytest.raises(ValueError):
            with store.transaction() as conn:
                store.set_meta("t5", "inner")
                raise ValueError("interrupted")
        assert "t5" not in _meta_rows(store.path)
        store.set_meta("t6", "alone")  # and the store is usable again, outside any transaction
        assert _meta_rows(store.path)["t6"] == "alone" and not store.conn.in_transaction


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
