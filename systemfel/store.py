"""The one module that owns the SQLite database.

Every write goes through a transaction here, so an interrupted build leaves the
database as it was before the document being written. WAL mode lets the explorer
read while a build writes.
"""
from __future__ import annotations

import contextlib

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

from systemfel.base.hashing import text_hash
from systemfel.base.records import Block, Document, DocumentMeta, Figure, Passage, PassageLabels, StoredPassage, ThemeScore

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    org TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    year INTEGER,
    title TEXT NOT NULL DEFAULT '',
    report_kind TEXT NOT NULL DEFAULT '',
    pages INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    pii_counts TEXT NOT NULL DEFAULT '{}',
    ingested_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_sha ON documents(sha256);
CREATE TABLE IF NOT EXISTS blocks (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    page INTEGER NOT NULL,
    page_end INTEGER,
    heading_path TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS blocks_doc ON blocks(doc_id, seq);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    page INTEGER NOT NULL,
    page_end INTEGER,
    heading_path TEXT NOT NULL,
    block_kind TEXT NOT NULL,
    text TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    pii TEXT NOT NULL DEFAULT '{}',
    context TEXT NOT NULL DEFAULT '',
    ocr INTEGER NOT NULL DEFAULT 0,
    ocr_confidence REAL
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id, seq);
CREATE INDEX IF NOT EXISTS passages_hash ON passages(text_hash);
CREATE TABLE IF NOT EXISTS labels (
    passage_id INTEGER PRIMARY KEY REFERENCES passages(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    kind_score REAL NOT NULL,
    level TEXT,
    actors TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS figures (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page INTEGER NOT NULL,
    subject TEXT NOT NULL,
    qualifier TEXT NOT NULL DEFAULT '',
    value REAL NOT NULL,
    year INTEGER,
    sentence TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS embeddings (
    model TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, text_hash)
);
CREATE TABLE IF NOT EXISTS passage_themes (
    passage_id INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    score REAL NOT NULL,
    rank INTEGER NOT NULL,
    PRIMARY KEY (passage_id, slug)
);
CREATE TABLE IF NOT EXISTS clusters (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    keywords TEXT NOT NULL,
    theme_slug TEXT,
    theme_similarity REAL,
    is_new INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS passage_clusters (
    passage_id INTEGER PRIMARY KEY REFERENCES passages(id) ON DELETE CASCADE,
    cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    x REAL,
    y REAL
);
CREATE TABLE IF NOT EXISTS corrections (
    text_hash TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (text_hash, field)
);
CREATE TABLE IF NOT EXISTS correction_authors (
    text_hash TEXT NOT NULL,
    field TEXT NOT NULL,
    author TEXT NOT NULL,
    PRIMARY KEY (text_hash, field)
);
CREATE TABLE IF NOT EXISTS ocr_pages (
    sha256 TEXT NOT NULL,
    lang TEXT NOT NULL,
    page INTEGER NOT NULL,
    data TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (sha256, lang, page)
);
CREATE TABLE IF NOT EXISTS imported_examples (
    text TEXT NOT NULL,
    theme TEXT NOT NULL,
    code TEXT NOT NULL,
    doc TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    PRIMARY KEY (text, theme)
);
"""

# Recurring issues (issue 12): problem statements of deficiency passages, the issues that
# group them, and researchers' corrections of issues (kept across rebuilds by issue id and
# statement text hash).
RECURRING_SCHEMA = """
CREATE TABLE IF NOT EXISTS statements (
    id INTEGER PRIMARY KEY,
    passage_id INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    machine_issue_id TEXT,
    issue_id TEXT,
    themes TEXT NOT NULL DEFAULT '[]',
    actors TEXT
);
CREATE INDEX IF NOT EXISTS statements_issue ON statements(issue_id);
CREATE TABLE IF NOT EXISTS issues (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    terms TEXT NOT NULL,
    status TEXT NOT NULL,
    themes TEXT NOT NULL,
    actors TEXT NOT NULL,
    reports TEXT NOT NULL,
    orgs TEXT NOT NULL,
    regions TEXT NOT NULL,
    years TEXT NOT NULL,
    first_year INTEGER,
    last_year INTEGER,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS issue_corrections (
    action TEXT NOT NULL,
    issue_id TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    PRIMARY KEY (action, issue_id, target)
);
"""

# corrections of a passage (see Store.correction_field_ok)
CORRECTION_FIELDS = ("kind", "theme", "level")
CORRECTION_PREFIXES = ("actor:", "recurring:")
APPLIES = "applies"
# how long an opener waits for another connection's lock (SQLite's busy timeout, and our WAL switch)
BUSY_TIMEOUT_SECONDS = 30.0

ISSUE_JSON_FIELDS = ("terms", "themes", "actors", "reports", "orgs", "regions", "years")
ISSUE_ACTIONS = ("rename", "merge", "move_out")


class StoreError(Exception):
    """A database problem explained in Swedish for the user."""


def sqlite_uri(path: Path, **params: str) -> str:
    """A file: URI for SQLite with the path percent-quoted, so '#', '?' and '%' in a folder or
    file name stay part of the name instead of starting a query or fragment."""
    return Path(path).resolve().as_uri() + ("?" + urlencode(params) if params else "")


def folder_is_writable(path: Path) -> bool:
    """Can SQLite create its side files (-wal, -shm) beside the database?"""
    return os.access(Path(path).resolve().parent, os.W_OK)


class Store:
    """Access to one systemfel database file.

    Read-only access to a database in a folder that cannot be written (a read-only file
    system, a CD, a shared folder without write rights) opens it as immutable: SQLite then
    needs no side files, and `snapshot_only` tells callers to say that changes made
    elsewhere meanwhile are not seen.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        self.snapshot_only = False
        if readonly and not self.path.exists():
            raise StoreError(f"Databasen {self.path} finns inte. Kör först: systemfel build --db {self.path}")
        if not readonly and self.path.parent.exists() and not folder_is_writable(self.path):
            raise StoreError(
                f"Mappen {self.path.resolve().parent} är skrivskyddad, så databasen {self.path.name} kan inte "
                "byggas eller ändras där. Välj en annan plats med --db, eller läs den med documents, search, "
                "export eller app."
            )
        try:
            if readonly:
                self.snapshot_only = not folder_is_writable(self.path)
                uri = sqlite_uri(self.path, **({"immutable": "1"} if self.snapshot_only else {"mode": "ro"}))
                self.conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                self._use_wal()
                self.conn.execute("PRAGMA synchronous = NORMAL")
                # one transaction: a build killed while it makes a new database leaves no half schema;
                # IMMEDIATE takes the write lock before reading the schema, so an opener whose
                # snapshot another opener's schema made stale waits instead of being refused at once
                self.conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\n{RECURRING_SCHEMA}\nCOMMIT;")
                self.conn.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
                self.conn.commit()
                self._add_missing_columns()
            else:
                self._check_schema()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"Kan inte öppna databasen {self.path}: {exc}. Är det en systemfel-databas?") from exc

    def _use_wal(self) -> None:
        """Switch the file to write-ahead logging, waiting for another opener doing the same.

        SQLite answers a journal-mode change that meets another connection's lock with "database
        is locked" at once, without its busy handler (two builds starting on a new file did so
        about one time in ten), so the wait is ours.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        pause = 0.01
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                busy = (exc.sqlite_errorcode & 0xFF) == sqlite3.SQLITE_BUSY  # any of SQLite's BUSY codes
                if not busy or time.monotonic() >= deadline:
                    raise
                log.debug("journal mode switch waits for another connection: %s", exc)
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def _check_schema(self) -> None:
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "documents" not in tables or "passages" not in tables:
            raise StoreError(f"{self.path} är ingen systemfel-databas (tabeller saknas).")

    # Columns added to passages since a database was first made, with their definition.
    ADDED_COLUMNS = {"context": "TEXT NOT NULL DEFAULT ''", "ocr": "INTEGER NOT NULL DEFAULT 0", "ocr_confidence": "REAL"}
    _ADDED_EMPTY = {"context": "''", "ocr": "0", "ocr_confidence": "NULL"}

    def _add_missing_columns(self) -> None:
        """Columns added since a database was made (passages.context, ocr): added empty, so an
        older database keeps working; a rebuild of a changed file fills them."""
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(passages)")}
        for name, definition in self.ADDED_COLUMNS.items():
            if name not in columns:
                self.conn.execute(f"ALTER TABLE passages ADD COLUMN {name} {definition}")
        statement_columns = self._statement_columns()
        if "themes" not in statement_columns:
            # statements themed on their own since: empty until the next build themes them
            self.conn.execute("ALTER TABLE statements ADD COLUMN themes TEXT NOT NULL DEFAULT '[]'")
        if "actors" not in statement_columns:
            # the actors a statement names, found since: NULL (not known) until the next build
            self.conn.execute("ALTER TABLE statements ADD COLUMN actors TEXT")
        self.conn.commit()

    def _statement_columns(self) -> set[str]:
        return {r[1] for r in self.conn.execute("PRAGMA table_info(statements)")}

    @property
    def _context_column(self) -> str:
        """p.context, p.ocr, p.ocr_confidence, or empty ones in a read-only database made before
        the columns existed."""
        if not hasattr(self, "_passage_columns"):
            self._passage_columns = {r[1] for r in self.conn.execute("PRAGMA table_info(passages)")}
        return ", ".join(
            f"p.{name}" if name in self._passage_columns else f"{self._ADDED_EMPTY[name]} AS {name}"
            for name in self.ADDED_COLUMNS
        )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: all of it lands, or none of it. A transaction opened inside
        another is a savepoint of it: undone on its own when it fails, and written only when the
        outermost one commits (so a caller can make several store writes one unit)."""
        depth = getattr(self, "_depth", 0)
        if depth:
            name = f"nested_{depth}"
            self.conn.execute(f"SAVEPOINT {name}")
            self._depth = depth + 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                raise
            else:
                self.conn.execute(f"RELEASE {name}")
            finally:
                self._depth = depth
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
            # every committed change moves the generation: caches built from the store compare it
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES ('generation', '1') "
                "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()
        finally:
            self._depth = 0

    # ----------------------------------------------------------------- meta
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def generation(self) -> int:
        """How many changes have been committed: equal generations mean equal contents."""
        return int(self.get_meta("generation") or 0)

    def stage_signature(self, stage: str) -> str | None:
        """The signature of the last completed run of an analysis stage (see systemfel.stages)."""
        return self.get_meta(f"stage:{stage}")

    def set_stage_signature(self, stage: str, signature: str) -> None:
        self.set_meta(f"stage:{stage}", signature)

    def save_codebook(self, themes: list[dict]) -> None:
        """The codebook the last build used (slug, name, description, examples of each theme), so the
        explorer, `eval` and exports name and score themes as that build did."""
        self.set_meta("codebook", json.dumps(themes, ensure_ascii=False))

    def codebook(self) -> list[dict]:
        """The codebook of the last build; empty for a store built before it was kept."""
        return json.loads(self.get_meta("codebook") or "[]")

    def writable(self) -> bool:
        """Whether this connection may write (the explorer and `search` open the store read-only)."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            # a write that changes nothing: a read-only connection refuses it, a writable one does nothing
            self.conn.execute("UPDATE meta SET value = value WHERE key = 'schema_version'")
        except sqlite3.OperationalError:
            return False
        finally:
            if self.conn.in_transaction:
                self.conn.rollback()
        return True

    # ------------------------------------------------------------ documents
    def document_state(self, path: str) -> tuple[str, str] | None:
        """(sha256, status) of the document stored for a path, if any."""
        row = self.conn.execute("SELECT sha256, status FROM documents WHERE path = ?", (path,)).fetchone()
        return (row["sha256"], row["status"]) if row else None

    def path_with_sha(self, sha256: str, exclude_path: str) -> str | None:
        row = self.conn.execute(
            "SELECT path FROM documents WHERE sha256 = ? AND path != ? AND status = 'ok'", (sha256, exclude_path)
        ).fetchone()
        return row["path"] if row else None

    def replace_document(
        self,
        *,
        path: str,
        sha256: str,
        meta: DocumentMeta,
        pages: int,
        blocks: list[Block],
        passages: list[Passage],
        status: str = "ok",
        message: str = "",
        passage_pii: list[dict[str, int]] | None = None,
        labels: list[PassageLabels] | None = None,
        figures: list[Figure] | None = None,
        file: str | None = None,
    ) -> int:
        """Store a document with its blocks and passages, replacing any old version atomically.

        Texts must already be masked for personal data; `passage_pii` gives per-passage counts.
        `file` is the name users see (masked; default: the path's file name).
        Labels (one per passage) and figures are written in the same transaction, so a
        document is never stored half-read.
        """
        passage_pii = passage_pii or [{} for _ in passages]
        doc_pii: dict[str, int] = {}
        for counts in passage_pii:
            for key, n in counts.items():
                doc_pii[key] = doc_pii.get(key, 0) + n
        with self.transaction() as conn:
            conn.execute("DELETE FROM documents WHERE path = ?", (path,))
            cur = conn.execute(
                "INSERT INTO documents(path, file, sha256, org, region, year, title, report_kind, pages, status,"
                " message, pii_counts, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    path,
                    file or Path(path).name,
                    sha256,
                    meta.org,
                    meta.region,
                    meta.year,
                    meta.title,
                    meta.report_kind,
                    pages,
                    status,
                    message,
                    json.dumps(doc_pii),
                    time.time(),
                ),
            )
            doc_id = int(cur.lastrowid)
            conn.executemany(
                "INSERT INTO blocks(doc_id, seq, kind, page, page_end, heading_path, text) VALUES (?,?,?,?,?,?,?)",
                [
                    (doc_id, i, b.kind, b.page, b.page_end, json.dumps(b.heading_path, ensure_ascii=False), b.text)
                    for i, b in enumerate(blocks)
                ],
            )
            conn.executemany(
                "INSERT INTO passages(doc_id, seq, page, page_end, heading_path, block_kind, text, text_hash, pii, context,"
                " ocr, ocr_confidence) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        doc_id,
                        i,
                        p.page,
                        p.page_end,
                        json.dumps(p.heading_path, ensure_ascii=False),
                        p.block_kind,
                        p.text,
                        text_hash(p.text),
                        json.dumps(counts),
                        p.context,
                        int(p.ocr),
                        p.ocr_confidence,
                    )
                    for i, (p, counts) in enumerate(zip(passages, passage_pii))
                ],
            )
            if labels is not None:
                ids = [r[0] for r in conn.execute("SELECT id FROM passages WHERE doc_id = ? ORDER BY seq", (doc_id,))]
                self._insert_labels(conn, zip(ids, labels))
            if figures:
                self._insert_figures(conn, doc_id, figures)
            self._apply_corrections(conn)
        return doc_id

    def record_failure(
        self, *, path: str, sha256: str, message: str, status: str = "failed", file: str | None = None
    ) -> None:
        """Remember that a file could not be ingested; an older good version is kept."""
        with self.transaction() as conn:
            row = conn.execute("SELECT status FROM documents WHERE path = ?", (path,)).fetchone()
            if row and row["status"] == "ok":
                return
            conn.execute("DELETE FROM documents WHERE path = ?", (path,))
            conn.execute(
                "INSERT INTO documents(path, file, sha256, pages, status, message, ingested_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (path, file or Path(path).name, sha256, 0, status, message, time.time()),
            )

    def update_document_meta(self, doc_id: int, meta: DocumentMeta) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE documents SET org=?, region=?, year=?, title=?, report_kind=? WHERE id=?",
                (meta.org, meta.region, meta.year, meta.title, meta.report_kind, doc_id),
            )

    def documents(self) -> list[Document]:
        rows = self.conn.execute(
            "SELECT d.*, (SELECT COUNT(*) FROM passages p WHERE p.doc_id = d.id) AS n_passages"
            " FROM documents d ORDER BY d.org, d.year, d.file"
        ).fetchall()
        return [
            Document(
                id=r["id"],
                sha256=r["sha256"],
                file=r["file"],
                path=r["path"],
                meta=DocumentMeta(r["org"], r["region"], r["year"], r["title"], r["report_kind"]),
                pages=r["pages"],
                status=r["status"],
                message=r["message"],
                n_passages=r["n_passages"],
            )
            for r in rows
        ]

    def blocks(self, doc_id: int) -> list[Block]:
        """A document's blocks in reading order (masked text, as stored)."""
        return [
            Block(r["kind"], r["text"], r["page"], json.loads(r["heading_path"]), r["page_end"])
            for r in self.conn.execute(
                "SELECT kind, text, page, page_end, heading_path FROM blocks WHERE doc_id = ? ORDER BY seq", (doc_id,)
            )
        ]

    # ------------------------------------------------------------ OCR cache
    def ocr_pages(self, sha256: str, lang: str) -> dict[int, str]:
        """Pages of a file (by content hash) that OCR has read before in these languages: page -> JSON."""
        rows = self.conn.execute("SELECT page, data FROM ocr_pages WHERE sha256 = ? AND lang = ?", (sha256, lang))
        return {r["page"]: r["data"] for r in rows}

    def save_ocr_pages(self, sha256: str, lang: str, pages: Iterable[tuple[int, str]]) -> None:
        """Keep what OCR read (page, JSON), so a rebuild of the same file never reads it again."""
        rows = [(sha256, lang, page, data, time.time()) for page, data in pages]
        if not rows:
            return
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO ocr_pages(sha256, lang, page, data, created_at) VALUES (?,?,?,?,?)", rows)

    def delete_document(self, doc_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    # ------------------------------------------------------------- passages
    def passages(self, doc_id: int | None = None) -> list[StoredPassage]:
        """Passages joined with their document, labels, themes and cluster, in reading order."""
        where = "WHERE d.status = 'ok'" + (" AND p.doc_id = ?" if doc_id is not None else "")
        params: tuple = (doc_id,) if doc_id is not None else ()
        rows = self.conn.execute(
            f"""SELECT p.id, p.doc_id, d.file, d.org, d.region, d.year, d.title, p.page, p.page_end,
                   p.heading_path, p.block_kind, p.text, p.text_hash, p.seq, {self._context_column},
                   l.kind, l.kind_score, l.level, l.actors, p.pii, pc.cluster_id, pc.x, pc.y
              FROM passages p JOIN documents d ON d.id = p.doc_id
              LEFT JOIN labels l ON l.passage_id = p.id
              LEFT JOIN passage_clusters pc ON pc.passage_id = p.id
              {where} ORDER BY d.org, d.year, d.file, p.seq""",
            params,
        ).fetchall()
        themes = self._themes_by_passage()
        out = []
        for r in rows:
            scored = themes.get(r["id"], [])
            out.append(
                StoredPassage(
                    id=r["id"], doc_id=r["doc_id"], file=r["file"], org=r["org"], region=r["region"],
                    year=r["year"], title=r["title"], page=r["page"], page_end=r["page_end"],
                    heading_path=tuple(json.loads(r["heading_path"])), block_kind=r["block_kind"],
                    seq=r["seq"], context=r["context"], ocr=bool(r["ocr"]), ocr_confidence=r["ocr_confidence"],
                    text=r["text"], text_hash=r["text_hash"], kind=r["kind"],
                    kind_score=r["kind_score"], level=r["level"],
                    actors=tuple(json.loads(r["actors"])) if r["actors"] else (),
                    pii=json.loads(r["pii"]) if r["pii"] else {},
                    themes=tuple(t.slug for t in scored), theme_scores=tuple(round(t.score, 4) for t in scored),
                    cluster=r["cluster_id"], x=r["x"], y=r["y"],
                )  # fmt: skip
            )
        return out

    def passage_texts(self) -> list[tuple[int, str, str]]:
        """(id, text, text_hash) of every passage of every good document, in a stable order."""
        return [
            (r[0], r[1], r[2])
            for r in self.conn.execute(
                "SELECT p.id, p.text, p.text_hash FROM passages p JOIN documents d ON d.id = p.doc_id"
                " WHERE d.status = 'ok' ORDER BY p.id"
            )
        ]

    def passages_for_labelling(self, only_missing: bool = True) -> list[dict]:
        """Passages (with heading path and block kind) that the Swedish reading has not seen yet."""
        where = "AND l.passage_id IS NULL" if only_missing else ""
        rows = self.conn.execute(
            f"""SELECT p.id, p.doc_id, p.text, p.page, p.heading_path, p.block_kind, p.seq, {self._context_column}
                FROM passages p JOIN documents d ON d.id = p.doc_id
                LEFT JOIN labels l ON l.passage_id = p.id
                WHERE d.status = 'ok' {where} ORDER BY p.doc_id, p.seq"""
        ).fetchall()
        return [dict(r) | {"heading_path": json.loads(r["heading_path"])} for r in rows]

    # --------------------------------------------------------------- labels
    def save_labels(self, labels: Iterable[tuple[int, PassageLabels]]) -> None:
        with self.transaction() as conn:
            self._insert_labels(conn, labels)
            self._apply_corrections(conn)

    @staticmethod
    def _insert_labels(conn: sqlite3.Connection, labels: Iterable[tuple[int, PassageLabels]]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO labels(passage_id, kind, kind_score, level, actors) VALUES (?,?,?,?,?)",
            [
                (pid, lab.kind, float(lab.kind_score), lab.level, json.dumps(lab.actors, ensure_ascii=False))
                for pid, lab in labels
            ],
        )

    def clear_labels(self) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM labels")

    def pii_counts(self) -> dict[int, dict[str, int]]:
        return {r["id"]: json.loads(r["pii_counts"]) for r in self.conn.execute("SELECT id, pii_counts FROM documents")}

    # -------------------------------------------------------------- figures
    def replace_figures(self, doc_id: int, figures: list[Figure]) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM figures WHERE doc_id = ?", (doc_id,))
            self._insert_figures(conn, doc_id, figures)

    @staticmethod
    def _insert_figures(conn: sqlite3.Connection, doc_id: int, figures: list[Figure]) -> None:
        conn.executemany(
            "INSERT INTO figures(doc_id, page, subject, qualifier, value, year, sentence) VALUES (?,?,?,?,?,?,?)",
            [(doc_id, f.page, f.subject, f.qualifier, f.value, f.year, f.sentence) for f in figures],
        )

    def figures(self) -> list[dict]:
        rows = self.conn.execute(
            "SELECT f.*, d.org, d.file, d.title, d.year AS doc_year FROM figures f"
            " JOIN documents d ON d.id = f.doc_id ORDER BY d.org, d.year, f.page, f.id"
        ).fetchall()
        return [
            {
                "id": r["id"],
                "doc_id": r["doc_id"],
                "file": r["file"],
                "org": r["org"],
                "title": r["title"],
                "year": r["year"] if r["year"] is not None else r["doc_year"],
                "page": r["page"],
                "subject": r["subject"],
                "qualifier": r["qualifier"],
                "value": r["value"],
                "sentence": r["sentence"],
            }
            for r in rows
        ]

    # ----------------------------------------------------------- embeddings
    def cached_vectors(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(
                f"SELECT text_hash, vector FROM embeddings WHERE model = ? AND text_hash IN ({marks})",
                (model, *chunk),
            ):
                found[r[0]] = np.frombuffer(r[1], dtype=np.float32)
        return found

    def save_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO embeddings(model, text_hash, dim, vector) VALUES (?,?,?,?)",
                [(model, h, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes()) for h, v in vectors.items()],
            )

    def drop_vectors_except(self, model: str) -> None:
        """Keep one model's vectors so two models are never mixed."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM embeddings WHERE model != ?", (model,))

    # --------------------------------------------------------------- themes
    def save_themes(self, themes: dict[int, list[ThemeScore]], *, replace_all: bool = False) -> None:
        with self.transaction() as conn:
            if replace_all:
                conn.execute("DELETE FROM passage_themes")
            for passage_id, scores in themes.items():
                conn.execute("DELETE FROM passage_themes WHERE passage_id = ?", (passage_id,))
                conn.executemany(
                    "INSERT INTO passage_themes(passage_id, slug, score, rank) VALUES (?,?,?,?)",
                    [(passage_id, t.slug, float(t.score), rank) for rank, t in enumerate(scores)],
                )
            self._apply_corrections(conn)

    def _themes_by_passage(self) -> dict[int, list[ThemeScore]]:
        out: dict[int, list[ThemeScore]] = {}
        for r in self.conn.execute("SELECT passage_id, slug, score FROM passage_themes ORDER BY passage_id, rank"):
            out.setdefault(r[0], []).append(ThemeScore(r[1], r[2]))
        return out

    def save_clusters(self, clusters: list[dict], assignments: dict[int, tuple[int, float, float]]) -> None:
        """Replace all clusters: `clusters` rows with id/label/keywords/theme_slug/...; assignments id->(cluster,x,y)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM passage_clusters")
            conn.execute("DELETE FROM clusters")
            conn.executemany(
                "INSERT INTO clusters(id, label, keywords, theme_slug, theme_similarity, is_new, size)"
                " VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        c["id"],
                        c["label"],
                        json.dumps(c["keywords"], ensure_ascii=False),
                        c.get("theme_slug"),
                        c.get("theme_similarity"),
                        int(bool(c.get("is_new"))),
                        c["size"],
                    )
                    for c in clusters
                ],
            )
            conn.executemany(
                "INSERT INTO passage_clusters(passage_id, cluster_id, x, y) VALUES (?,?,?,?)",
                [(pid, cid, x, y) for pid, (cid, x, y) in assignments.items()],
            )

    def clusters(self) -> list[dict]:
        return [
            dict(r) | {"keywords": json.loads(r["keywords"]), "is_new": bool(r["is_new"])}
            for r in self.conn.execute("SELECT * FROM clusters ORDER BY size DESC, id")
        ]

    # ---------------------------------------------------------- corrections
    def set_correction(self, text_hash_: str, field: str, value: str, author: str = "") -> None:
        """A researcher's correction (see `correction_field_ok`); keyed by text so it survives
        rebuilds. `author` names who decided it when known (a QDA tool's user); the explorer has
        no login."""
        self.save_imported([(text_hash_, field, value, author)], [])

    @staticmethod
    def correction_field_ok(field: str) -> bool:
        """kind, theme and level take a value; `actor:<name>` (value APPLIES) says the actor
        is concerned; `recurring:<issue id>` says the passage states that recurring issue (value
        APPLIES, or the text hash of the one statement of the passage that states it)."""
        return field in CORRECTION_FIELDS or field.startswith(CORRECTION_PREFIXES) and len(field.split(":", 1)[1]) > 0

    def save_imported(
        self, corrections: list[tuple[str, str, str, str]], examples: list[tuple[str, str, str, str, str]]
    ) -> None:
        """Corrections (text_hash, field, value, author) and labelled examples (text, theme, code
        name, doc, source) brought back from another tool, all in one transaction."""
        for _, field, _, _ in corrections:
            if not self.correction_field_ok(field):
                raise StoreError(f"Okänt fält för rättelse: {field}")
        now = time.time()
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO corrections(text_hash, field, value, created_at) VALUES (?,?,?,?)",
                [(h, field, value, now) for h, field, value, _ in corrections],
            )
            conn.executemany(
                "DELETE FROM correction_authors WHERE text_hash = ? AND field = ?",
                [(h, field) for h, field, _, author in corrections if not author],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO correction_authors(text_hash, field, author) VALUES (?,?,?)",
                [(h, field, author) for h, field, _, author in corrections if author],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO imported_examples(text, theme, code, doc, source, created_at)"
                " VALUES (?,?,?,?,?,?)",
                [(*example, now) for example in examples],
            )
            self._apply_corrections(conn)

    def imported_examples(self) -> list[dict]:
        """Texts a researcher coded in a QDA tool with a code that is no theme (yet): labelled
        examples for a build whose codebook has that theme."""
        try:
            rows = self.conn.execute("SELECT text, theme, code, doc, source FROM imported_examples ORDER BY rowid")
            return [dict(r) for r in rows]
        except sqlite3.OperationalError:  # a database made before imports existed, opened read-only
            return []

    def correction_authors(self) -> dict[tuple[str, str], str]:
        """(text_hash, field) -> who made the correction, where a QDA tool said so."""
        try:
            rows = self.conn.execute("SELECT text_hash, field, author FROM correction_authors")
            return {(r[0], r[1]): r[2] for r in rows}
        except sqlite3.OperationalError:  # a database made before authors were kept, opened read-only
            return {}

    def corrections(self) -> dict[tuple[str, str], str]:
        return {(r[0], r[1]): r[2] for r in self.conn.execute("SELECT text_hash, field, value FROM corrections")}

    def actor_additions(self) -> dict[str, list[str]]:
        """Passage text hash -> the actors a researcher said it concerns (`actor:<name>`
        corrections), in the order they were made."""
        rows = self.conn.execute(
            "SELECT text_hash, substr(field, 7) FROM corrections WHERE field LIKE 'actor:%' AND value = ?"
            " ORDER BY created_at, rowid",
            (APPLIES,),
        )
        added: dict[str, list[str]] = {}
        for hash_, name in rows:
            added.setdefault(hash_, []).append(name)
        return added

    def recurring_assignments(self) -> list[tuple[str, str, str]]:
        """(passage text hash, issue id, APPLIES or a statement's text hash) of every correction
        that puts a passage or statement into a recurring issue, in the order they were made."""
        rows = self.conn.execute(
            "SELECT text_hash, field, value FROM corrections WHERE field LIKE 'recurring:%' ORDER BY created_at, rowid"
        )
        return [(r[0], r[1].split(":", 1)[1], r[2]) for r in rows]

    def theme_corrections(self) -> list[dict]:
        """Each theme correction with the text and file of a passage it applies to (for
        learning from it); corrections of texts no longer in any report are left out."""
        rows = self.conn.execute(
            """SELECT c.value AS slug, MIN(p.text) AS text, MIN(d.file) AS file
                 FROM corrections c JOIN passages p ON p.text_hash = c.text_hash
                 JOIN documents d ON d.id = p.doc_id
                WHERE c.field = 'theme' AND d.status = 'ok'
                GROUP BY c.text_hash, c.value ORDER BY c.text_hash, c.value"""
        ).fetchall()
        return [dict(r) for r in rows]

    @staticmethod
    def _apply_corrections(conn: sqlite3.Connection) -> None:
        """Make researchers' corrections win over the machine's labels, now and after rebuilds."""
        conn.execute(
            """UPDATE labels SET kind = c.value, kind_score = 1.0
               FROM corrections c JOIN passages p ON p.text_hash = c.text_hash
               WHERE c.field = 'kind' AND labels.passage_id = p.id"""
        )
        conn.execute(
            """UPDATE labels SET level = c.value
               FROM corrections c JOIN passages p ON p.text_hash = c.text_hash
               WHERE c.field = 'level' AND labels.passage_id = p.id"""
        )
        added = conn.execute(
            """SELECT l.passage_id, l.actors, substr(c.field, 7) FROM corrections c
                 JOIN passages p ON p.text_hash = c.text_hash JOIN labels l ON l.passage_id = p.id
                WHERE c.field LIKE 'actor:%' AND c.value = ?""",
            (APPLIES,),
        ).fetchall()
        actors: dict[int, list[str]] = {}
        for passage_id, stored, name in added:
            names = actors.setdefault(passage_id, json.loads(stored))
            if name not in names:
                names.append(name)
        conn.executemany(
            "UPDATE labels SET actors = ? WHERE passage_id = ?",
            [(json.dumps(names, ensure_ascii=False), pid) for pid, names in actors.items()],
        )
        rows = conn.execute(
            "SELECT p.id, c.value FROM corrections c JOIN passages p ON p.text_hash = c.text_hash"
            " WHERE c.field = 'theme'"
        ).fetchall()
        for passage_id, slug in rows:
            conn.execute("DELETE FROM passage_themes WHERE passage_id = ? AND slug = ?", (passage_id, slug))
            conn.execute(
                "INSERT INTO passage_themes(passage_id, slug, score, rank) VALUES (?, ?, 1.0, -1)", (passage_id, slug)
            )

    # ------------------------------------------------------- recurring issues
    def has_recurring_tables(self) -> bool:
        """False for a store built before recurring issues existed (it needs a rebuild)."""
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {"statements", "issues", "issue_corrections"} <= tables

    def save_recurring(self, statements: list[dict], issues: list[dict]) -> None:
        """Replace all statements and issues; `statements` rows carry their `issue_id` or None."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM statements")
            conn.execute("DELETE FROM issues")
            conn.executemany(
                "INSERT INTO issues(id, label, terms, status, themes, actors, reports, orgs, regions, years,"
                " first_year, last_year, size) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        i["id"], i["label"], *(json.dumps(i[k], ensure_ascii=False) for k in ISSUE_JSON_FIELDS[:1]),
                        i["status"], *(json.dumps(i[k], ensure_ascii=False) for k in ISSUE_JSON_FIELDS[1:]),
                        i["first_year"], i["last_year"], i["size"],
                    )
                    for i in issues
                ],
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO statements(passage_id, start, end, text, text_hash, machine_issue_id, issue_id, themes, actors)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (s["passage_id"], s["start"], s["end"], s["text"], s["text_hash"], s["machine_issue_id"], s["issue_id"],
                     json.dumps(s.get("themes", []), ensure_ascii=False),
                     None if s.get("actors") is None else json.dumps(list(s["actors"]), ensure_ascii=False))
                    for s in statements
                ],
            )

    def issues(self) -> list[dict]:
        """Issues, most organisations and years first; [] in a store without the tables."""
        if not self.has_recurring_tables():
            return []
        out = []
        for r in self.conn.execute("SELECT * FROM issues"):
            out.append(dict(r) | {k: json.loads(r[k]) for k in ISSUE_JSON_FIELDS})
        out.sort(key=lambda i: (-len(i["orgs"]), -len(i["years"]), -len(i["reports"]), -i["size"], i["id"]))
        return out

    def statements(self, issue_id: str | None = None) -> list[dict]:
        """Statements with their passage's report, page and organisation, in reading order.
        `actors` is the list of actors the statement itself names, None where not known yet
        (a store grouped before statements kept them)."""
        if not self.has_recurring_tables():
            return []
        where, params = ("WHERE s.issue_id = ?", (issue_id,)) if issue_id is not None else ("", ())
        # a read-only database made before statements had themes or actors: none yet
        columns = self._statement_columns()
        themes = "s.themes" if "themes" in columns else "'[]'"
        actors = "s.actors" if "actors" in columns else "NULL"
        rows = self.conn.execute(
            f"""SELECT s.id, s.passage_id, s.start, s.end, s.text, s.text_hash, s.machine_issue_id, s.issue_id,
                       {themes} AS themes, {actors} AS actors, d.file, d.org, d.region, d.year, p.page
                  FROM statements s JOIN passages p ON p.id = s.passage_id JOIN documents d ON d.id = p.doc_id
                  {where} ORDER BY d.org, d.year, d.file, p.seq, s.start""",
            params,
        ).fetchall()
        return [
            dict(r) | {"themes": json.loads(r["themes"]), "actors": None if r["actors"] is None else json.loads(r["actors"])}
            for r in rows
        ]

    def previous_issue_members(self) -> dict[str, set[str]]:
        """Machine issue id -> statement text hashes of the last grouping (for keeping ids stable)."""
        if not self.has_recurring_tables():
            return {}
        out: dict[str, set[str]] = {}
        for issue_id, hash_ in self.conn.execute(
            "SELECT machine_issue_id, text_hash FROM statements WHERE machine_issue_id IS NOT NULL"
        ):
            out.setdefault(issue_id, set()).add(hash_)
        return out

    def previous_statement_issues(self) -> dict[str, str | None]:
        """Statement text hash -> machine issue id (None: ungrouped) of the last grouping."""
        if not self.has_recurring_tables():
            return {}
        out: dict[str, str | None] = {}
        for hash_, issue in self.conn.execute("SELECT text_hash, machine_issue_id FROM statements ORDER BY id"):
            out[hash_] = out.get(hash_) or issue
        return out

    def add_issue_correction(self, action: str, issue_id: str, target: str = "") -> None:
        """rename (target: new label), merge (target: the issue it goes into) or move_out
        (target: a statement's text hash); kept by id and hash so rebuilds apply it again."""
        if action not in ISSUE_ACTIONS:
            raise StoreError(f"Okänd rättelse av systemfel: {action}")
        with self.transaction() as conn:
            if action == "rename":
                conn.execute("DELETE FROM issue_corrections WHERE action = 'rename' AND issue_id = ?", (issue_id,))
                conn.execute("UPDATE issues SET label = ? WHERE id = ?", (target, issue_id))
            conn.execute(
                "INSERT OR REPLACE INTO issue_corrections(action, issue_id, target, created_at) VALUES (?,?,?,?)",
                (action, issue_id, target, time.time()),
            )

    def issue_corrections(self) -> list[tuple[str, str, str]]:
        """(action, issue id, target) in the order they were made."""
        if not self.has_recurring_tables():
            return []
        return [tuple(r) for r in self.conn.execute(
            "SELECT action, issue_id, target FROM issue_corrections ORDER BY created_at, rowid"
        )]  # fmt: skip
