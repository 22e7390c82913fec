"""What an export holds and an import is compared with: the store's reports as source texts,
their passages' places in them, the code book and each passage's codes.

Export and import both start here, so an import of an unchanged export finds nothing new.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from systemfel.base.records import Document, StoredPassage
from systemfel.exchange.codebook import (
    CodeBook,
    RecurringIssue,
    StatementSpan,
    make_code_book,
    recurring_issues_from_records,
)
from systemfel.exchange.sourcetext import SourceText, compose_source_text
from systemfel.nlp.actors import DEFAULT_ACTORS, load_actor_entries
from systemfel.pipeline import build_codebook
from systemfel.recurring import issue_records
from systemfel.store import CORRECTION_FIELDS, Store


def _theme_rows(store: Store, store_slugs: set[str], codebook_path: str | Path | None) -> list[tuple[str, ...]]:
    """(slug, name, description) of every theme of the codebook the user names, else the one the
    store was built with, then of stored slugs it lacks."""
    codebook = build_codebook(store, Path(codebook_path) if codebook_path is not None else None)
    rows = [(t.slug, t.name, t.description) for t in codebook.themes]
    known = {slug for slug, _, _ in rows}
    rows += [(s, s, "Tema från ett bygge med en annan kodbok.") for s in sorted(store_slugs - known)]
    return rows


def _actor_rows(store_actors: set[str], actor_files: Sequence[Path]) -> list[tuple[str, str]]:
    """(name, description) of every actor in the actor lists, then of stored actors they lack."""
    entries = load_actor_entries([DEFAULT_ACTORS, *actor_files])
    rows = []
    for name, entry in entries.items():
        variants = [v for v in dict.fromkeys(entry.variants) if v != name][:8]
        rows.append((name, "Skrivs bland annat: " + ", ".join(variants) + "." if variants else ""))
    rows += [(a, "") for a in sorted(store_actors - set(entries))]
    return rows


def stored_recurring_issues(store: Store) -> list[RecurringIssue]:
    """The store's recurring issues as codes to nest under their themes (none in a store built
    before they existed)."""
    return recurring_issues_from_records(issue_records(store), {p.id: p.text for p in store.passages()})


@dataclass
class ExchangeCorpus:
    store: Store
    codebook: CodeBook
    documents: list[Document]
    passages_by_doc: dict[int, list[StoredPassage]]
    recurring: Sequence[RecurringIssue] = ()
    corrections: dict[tuple[str, str], str] = field(default_factory=dict)
    authors: dict[tuple[str, str], str] = field(default_factory=dict)  # who made a correction, when known
    _sources: dict[int, SourceText] = field(default_factory=dict)
    _statements: dict[int, list[dict]] | None = None

    @classmethod
    def load(
        cls,
        store: Store,
        *,
        codebook_path: str | Path | None = None,
        actor_files: Sequence[Path] = (),
        recurring: Sequence[RecurringIssue] | None = None,
    ) -> "ExchangeCorpus":
        """The store's reports and codes; `recurring` None takes the store's own recurring issues."""
        if recurring is None:
            recurring = stored_recurring_issues(store)
        documents = [d for d in store.documents() if d.status == "ok"]
        by_doc: dict[int, list[StoredPassage]] = {d.id: [] for d in documents}
        slugs: set[str] = set()
        actors: set[str] = set()
        for p in store.passages():
            by_doc.setdefault(p.doc_id, []).append(p)
            slugs.update(p.themes)
            actors.update(p.actors)
        for rows in by_doc.values():
            rows.sort(key=lambda p: p.seq)
        codebook = make_code_book(
            _theme_rows(store, slugs, codebook_path), _actor_rows(actors, actor_files), recurring
        )
        return cls(
            store, codebook, documents, by_doc, tuple(recurring), store.corrections(), store.correction_authors()
        )

    def source(self, doc: Document) -> SourceText:
        """The report's plain text and each passage's span in it (computed once)."""
        if doc.id not in self._sources:
            blocks = self.store.blocks(doc.id)
            self._sources[doc.id] = compose_source_text(
                [b.text for b in blocks], [p.text for p in self.passages_by_doc[doc.id]]
            )
        return self._sources[doc.id]

    def recurring_by_passage(self) -> dict[int, list[tuple[RecurringIssue, StatementSpan]]]:
        out: dict[int, list[tuple[RecurringIssue, StatementSpan]]] = {}
        for issue in self.recurring:
            for span in issue.statements:
                out.setdefault(span.passage_id, []).append((issue, span))
        return out

    def passage_codes(self, passage: StoredPassage) -> list[tuple[str, str]]:
        """(category, value) of every code the passage's own selection carries."""
        codes: list[tuple[str, str]] = []
        if passage.kind:
            codes.append(("kind", passage.kind))
        if passage.level:
            codes.append(("level", passage.level))
        codes += [("theme", slug) for slug in passage.themes]
        codes += [("actor", actor) for actor in passage.actors]
        return codes

    def decided_by(self, passage: StoredPassage, category: str, value: str) -> str | None:
        """Who decided this code: None when the machine assigned it, "" for a correction made in
        the explorer (it has no login), a name for one brought back from a QDA tool."""
        field_name, wanted = correction_field(category, value)
        if field_name is None:
            return None
        stored = self.corrections.get((passage.text_hash, field_name))
        if stored is None or (wanted is not None and stored != wanted):
            return None
        return self.authors.get((passage.text_hash, field_name), "")

    def statements_of(self, passage_id: int) -> list[dict]:
        """The stored statements (start, end in the passage text, text_hash) of a passage."""
        if self._statements is None:
            self._statements = {}
            for row in self.store.statements():
                self._statements.setdefault(row["passage_id"], []).append(row)
        return self._statements.get(passage_id, [])


def correction_field(category: str, value: str) -> tuple[str | None, str | None]:
    """The store's correction field for a code, and the value that field must hold for the
    code to be a correction (None: any value; an actor or recurring issue is its own field)."""
    if category in CORRECTION_FIELDS:
        return category, value
    if category in ("actor", "recurring"):
        return f"{category}:{value}", None
    return None, None
