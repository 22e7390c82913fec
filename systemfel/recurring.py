"""The recurring-issues stage: deficiency passages -> statements -> issues, in the store.

A thin composition of models/statements.py (splitting), models/recurring.py (grouping,
names, ids) and the store. Researchers' corrections (rename, merge, move a statement out,
and from a QDA tool: put a passage or statement into an issue) are kept by issue id and text
hash and applied after every grouping, so they survive rebuilds; `reassemble` applies them again without regrouping (the explorer).
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import numpy as np

from systemfel.base.hashing import text_hash
from systemfel.ingest.metadata import COUNTIES
from systemfel.models import recurring as recurring_module
from systemfel.models import statements as statements_module
from systemfel.models.embed.base import Embedder
from systemfel.models.recurring import NEW, IssueNamer, StatementGrouper, issue_status, new_issue_ids, stable_ids
from systemfel.models.statements import StatementSplitter
from systemfel.models.themes import statement_units
from systemfel.models.vectors import embed_passages_cached, query_vectors_cached, sentence_vectors_cached
from systemfel.nlp.actors import DEFAULT_ACTORS, ActorMatcher, load_actor_entries
from systemfel.stages import AnalysisInput, ThemeStage, code_fingerprint, fingerprint, input_fingerprint
from systemfel.store import APPLIES, Store

log = logging.getLogger(__name__)

STAGE_NAME = "återkommande systemfel"
# The TF-IDF document frequencies of the grouped statements, kept for the next assignment.
FREQUENCIES_KEY = "recurring:document-frequencies"
# The theme settings the stored statement themes were given with.
STATEMENT_THEMES_KEY = "recurring:statement-themes"
# The actor lists (shipped and the user's) the stored statement actors were found with.
STATEMENT_ACTORS_KEY = "recurring:statement-actors"
# The actor names of those lists, for naming issues again without them (`reassemble`).
ACTOR_WORDS_KEY = "recurring:actor-words"


class RecurringError(Exception):
    """A store that has no recurring issues to show, explained in Swedish."""


def check_recurring(store: Store, db: str | Path) -> None:
    """Raise RecurringError (Swedish) for an empty store, one without deficiencies, or one
    built before recurring issues existed."""
    if not store.documents():
        raise RecurringError(f"Databasen {db} har inga dokument. Kör först: systemfel build --db {db}")
    if not store.has_recurring_tables() or store.stage_signature(STAGE_NAME) is None:
        raise RecurringError(
            f"Databasen {db} byggdes innan återkommande systemfel fanns. Kör: systemfel build --db {db}"
        )
    if not any(p.kind == "deficiency" for p in store.passages()):
        raise RecurringError(f"Databasen {db} har inga stycken som beskriver brister, så inga systemfel att gruppera.")


class RecurringStage:
    """Groups the deficiency statements into recurring issues; runs again when its settings,
    its code, the model or the deficiency passages (or their themes) change.

    When only statements were added (or removed) and the grouping settings are those of the
    last grouping, the added statements are assigned to the existing issues
    (`StatementGrouper.assign`: seconds where a full regrouping of a large corpus takes
    minutes), and every existing issue keeps its id. `regroup` (`systemfel build --regroup`)
    or changed settings group everything again.

    With `themes` (the build's theme stage) every statement is themed as well, blended with
    its passage (`ThemeAssigner.mix_parts`): a county paragraph's five problems get a theme
    each, an issue's themes are its statements' main themes, and the grouper's codebook prior
    (`StatementGrouper.theme_weight`, off by default) can use them."""

    name = STAGE_NAME
    settings_key = STAGE_NAME + " (gruppering)"

    def __init__(
        self, splitter: StatementSplitter | None = None, grouper: StatementGrouper | None = None, regroup: bool = False,
        themes: ThemeStage | None = None, actor_files: tuple[Path, ...] = (),
    ):  # fmt: skip
        self.splitter = splitter or StatementSplitter()
        self.grouper = grouper or StatementGrouper()
        self.regroup = regroup
        self.themes = themes
        self.actor_files = tuple(actor_files)

    def signature(self, embedder: Embedder) -> str:
        return fingerprint(
            embedder.name, vars(self.splitter), vars(self.grouper),
            code_fingerprint(recurring_module, statements_module), _actor_lists(self._actor_entries()),
        )  # fmt: skip

    def _actor_entries(self) -> dict:
        return load_actor_entries([DEFAULT_ACTORS, *self.actor_files])

    def _find_actors(self, store: Store, rows: list[dict]) -> None:
        """Sets each row's "actors": the actors the statement itself names (its passage's may
        be another statement's: a county paragraph names five). A statement stored with the
        same actor lists keeps its actors, so adding a report reads only its own statements;
        the gazetteer (a spaCy pipeline) is built only when some statement is new."""
        entries = self._actor_entries()
        lists = fingerprint(_actor_lists(entries))
        known: dict[str, list[str]] = {}
        if store.get_meta(STATEMENT_ACTORS_KEY) == lists:
            known = {s["text_hash"]: s["actors"] for s in store.statements() if s["actors"] is not None}
        found: dict[str, list[str]] = {}
        todo = [row for row in rows if row["text_hash"] not in known]
        if todo:
            matcher = ActorMatcher(self.actor_files)
            for row in todo:
                if row["text_hash"] not in found:
                    found[row["text_hash"]] = matcher.find(row["text"])
        for row in rows:
            row["actors"] = list(known[row["text_hash"]] if row["text_hash"] in known else found[row["text_hash"]])
        store.set_meta(STATEMENT_ACTORS_KEY, lists)
        store.set_meta(ACTOR_WORDS_KEY, json.dumps(actor_names(entries), ensure_ascii=False))

    def _grouper_actors(self, distinct: list[dict]) -> list[frozenset[str]] | None:
        """The statements' actors for the grouper's edges; None when it does not weigh them."""
        if not (self.grouper.actor_weight or self.grouper.actor_penalty):
            return None
        return [frozenset(row["actors"]) for row in distinct]

    def run(self, data: AnalysisInput) -> bool:
        store = data.store
        passages = [p for p in data.passages if p.kind == "deficiency"]
        settings = self.signature(data.embedder)
        theming = self.themes.signature(data.embedder) if self.themes else None
        signature = fingerprint(settings, input_fingerprint(passages), [(p.themes, p.actors) for p in passages], theming)
        if store.stage_signature(self.name) == signature and not self.regroup:
            return False
        statements = self.splitter.split_passages([(p.id, p.text, p.block_kind) for p in passages])
        rows = [
            {"passage_id": s.passage_id, "start": s.start, "end": s.end, "text": s.text, "text_hash": text_hash(s.text),
             "machine_issue_id": None}
            for s in statements
        ]  # fmt: skip
        assigned = False
        if rows:
            self._find_actors(store, rows)
        if rows and self.themes:
            # themes first: the grouper may use them as a prior (`StatementGrouper.theme_weight`)
            self._theme_statements(data, rows, passages, theming)
        if rows:
            items = [(r["text_hash"], r["text"]) for r in rows] + [(p.text_hash, p.text) for p in passages]
            vectors = query_vectors_cached(
                store, data.embedder, items, progress=lambda done, total: data.progress("Bäddar in påståenden", done, total)
            )
            by_passage = {p.id: p.text_hash for p in passages}
            # one row per distinct statement text: a sentence repeated word for word in several
            # reports is one statement said again, and copies would only crowd each other's
            # neighbour lists; its first passage gives the context
            first_seen: dict[str, dict] = {}
            for row in rows:
                first_seen.setdefault(row["text_hash"], row)
            distinct = list(first_seen.values())
            data.progress("Grupperar återkommande systemfel", 0, 1)
            matrix = np.vstack([vectors[r["text_hash"]] for r in distinct])
            texts = [r["text"] for r in distinct]
            context = np.vstack([vectors[by_passage[r["passage_id"]]] for r in distinct])
            report_of = {p.id: p.doc_id for p in passages}
            reports = [report_of[r["passage_id"]] for r in distinct]
            themes = [r.get("themes") or () for r in distinct] if self.themes else None
            known = store.previous_statement_issues() if not self.regroup else None
            assigned = bool(known) and store.get_meta(self.settings_key) == settings
            if assigned:
                issue_of = self._assign(store, distinct, known, matrix, texts, context, themes, reports)
            else:
                labels = self.grouper.fit_predict(
                    matrix, texts, context, reports=reports, actors=self._grouper_actors(distinct), themes=themes
                )
                _save_frequencies(store, self.grouper.__dict__.pop("frequencies_", None))
                groups: dict[int, list[str]] = {}
                for row, label in zip(distinct, labels):
                    if label >= 0:
                        groups.setdefault(int(label), []).append(row["text_hash"])
                ids = stable_ids(groups, store.previous_issue_members())
                issue_of = {row["text_hash"]: ids[int(label)] for row, label in zip(distinct, labels) if label >= 0}
            for row in rows:
                row["machine_issue_id"] = issue_of.get(row["text_hash"])
        save_issues(store, rows, keep_names=assigned)
        store.set_meta(self.settings_key, settings)
        store.set_meta(STATEMENT_THEMES_KEY, theming or "")
        store.set_stage_signature(self.name, signature)
        data.progress("Grupperar återkommande systemfel", 1, 1)
        return True

    def _theme_statements(self, data: AnalysisInput, rows: list[dict], passages, theming: str) -> None:
        """Sets each row's "themes" (slugs, main first). A statement of an unchanged passage
        keeps the themes of the last build when the theme settings are the same, so adding a
        report themes only its statements."""
        store = data.store
        kept = {}
        if store.get_meta(STATEMENT_THEMES_KEY) == theming:
            kept = {(s["text_hash"], s["passage_id"]): s["themes"] for s in store.statements() if s["themes"]}
        todo = []
        for row in rows:
            row["themes"] = kept.get((row["text_hash"], row["passage_id"]), [])
            if not row["themes"]:
                todo.append(row)
        if not todo:
            return
        data.progress("Tilldelar påståenden teman", 0, 1)
        by_id = {p.id: p for p in passages}
        owners = [by_id[i] for i in sorted({row["passage_id"] for row in todo})]
        units, owner_rows = statement_units(owners, [row | {"id": n + 1} for n, row in enumerate(todo)])
        texts = [u.text for u in units]
        vectors = embed_passages_cached(store, data.embedder, [(u.text_hash, u.text) for u in units])
        ranked = self.themes.assigner(data.embedder).predict(
            texts, np.vstack([vectors[u.text_hash] for u in units]), headings=[u.filed_under for u in units],
            sentences=sentence_vectors_cached(store, data.embedder, texts), owners=owner_rows,
        )  # fmt: skip
        for row, themes in zip(todo, ranked):
            row["themes"] = [t.slug for t in themes]
        data.progress("Tilldelar påståenden teman", 1, 1)

    def _assign(
        self, store: Store, distinct: list[dict], known: dict[str, str | None], matrix, texts, context, themes, reports
    ) -> dict[str, str]:
        """Statement hash -> issue id with the added statements assigned to the last grouping's
        issues (or to new issues among themselves); old issues keep their ids."""
        old_ids = sorted({issue for issue in known.values() if issue})
        number = {issue: n for n, issue in enumerate(old_ids)}
        previous = np.asarray(
            [number[known[r["text_hash"]]] if known.get(r["text_hash"]) else (-1 if r["text_hash"] in known else NEW)
             for r in distinct]
        )  # fmt: skip
        log.info("assigning %d added statements to %d existing issues", int(np.sum(previous == NEW)), len(old_ids))
        frequencies = self._frequencies(store, distinct, known, previous)
        labels = self.grouper.assign(
            matrix, texts, previous, context, reports=reports, frequencies=frequencies,
            actors=self._grouper_actors(distinct), themes=themes,
        )
        _save_frequencies(store, frequencies or self.grouper.__dict__.pop("frequencies_", None))
        new_groups: dict[int, list[str]] = {}
        for row, label in zip(distinct, labels.tolist()):
            if label >= len(old_ids):
                new_groups.setdefault(label, []).append(row["text_hash"])
        ids = {n: issue for issue, n in number.items()} | new_issue_ids(new_groups, set(old_ids))
        return {row["text_hash"]: ids[label] for row, label in zip(distinct, labels.tolist()) if label >= 0}

    def _frequencies(self, store: Store, distinct: list[dict], known: dict, previous: np.ndarray) -> dict | None:
        """The TF-IDF document frequencies of the last grouping's statements, brought up to
        date with the added and removed ones; None when there are none or they do not add up
        (then the assignment reads every text)."""
        stored = store.get_meta(FREQUENCIES_KEY) if self.grouper.incremental_lexical else None
        if not stored:
            return None
        old = json.loads(stored)
        present = {r["text_hash"] for r in distinct}
        removed = set(known) - present
        added = [r["text"] for r, p in zip(distinct, previous.tolist()) if p == NEW]
        if old.get("n", -1) + len(added) - len(removed) != len(distinct):
            return None
        df = Counter(old["df"])
        df.update(self.grouper.document_frequencies(added))
        if removed:
            texts = {s["text_hash"]: s["text"] for s in store.statements() if s["text_hash"] in removed}
            df.subtract(self.grouper.document_frequencies(list(texts.values())))
        return {"n": len(distinct), "df": {term: count for term, count in df.items() if count > 0}}


def _save_frequencies(store: Store, frequencies: dict | None) -> None:
    text = "" if frequencies is None else json.dumps(frequencies, ensure_ascii=False, sort_keys=True)
    store.set_meta(FREQUENCIES_KEY, text)


def reassemble(store: Store) -> None:
    """Apply the corrections again to the stored grouping (after a correction in the explorer)."""
    save_issues(store, [dict(r) for r in store.statements()])


def apply_corrections(
    rows: list[dict],
    corrections: list[tuple[str, str, str]],
    assignments: list[tuple[str, str, str]] = (),
    passages: list | tuple = (),
) -> dict[str, str]:
    """Set each row's `issue_id` from its `machine_issue_id` and the corrections; returns the renames.

    `assignments` (passage text hash, issue id, APPLIES or a statement's text hash) come last:
    a researcher put that statement, or the passage's ungrouped statements, into the issue; a
    passage with no statement left to put there becomes a statement of its own (appended to
    `rows`; `passages` gives their ids and texts)."""
    merged: dict[str, str] = {}
    moved: set[tuple[str, str]] = set()
    renames: dict[str, str] = {}
    for action, issue, target in corrections:
        if action == "merge" and issue != target:
            merged[issue] = target
        elif action == "move_out":
            moved.add((issue, target))
        elif action == "rename":
            renames[issue] = target

    def resolve(issue: str | None) -> str | None:
        seen = set()
        while issue in merged and issue not in seen:
            seen.add(issue)
            issue = merged[issue]
        return issue

    for row in rows:
        issue = resolve(row.get("machine_issue_id"))
        if issue is not None and any((i, row["text_hash"]) in moved for i in (issue, row.get("machine_issue_id"))):
            issue = None
        row["issue_id"] = issue
    _apply_assignments(rows, assignments, passages)
    return renames


def _apply_assignments(rows: list[dict], assignments: list[tuple[str, str, str]], passages) -> None:
    if not assignments:
        return
    by_hash: dict[str, list] = {}
    for p in passages:
        by_hash.setdefault(p.text_hash, []).append(p)
    by_passage: dict[int, list[dict]] = {}
    for row in rows:
        by_passage.setdefault(row["passage_id"], []).append(row)
    for passage_hash, issue, statement in assignments:
        for p in by_hash.get(passage_hash, []):
            own = by_passage.setdefault(p.id, [])
            if statement == APPLIES:
                targets = [r for r in own if not r.get("issue_id")]
            else:
                targets = [r for r in own if r["text_hash"] == statement]
            for row in targets:
                row["issue_id"] = issue
            if not any(r.get("issue_id") == issue for r in own):
                row = {"passage_id": p.id, "start": 0, "end": len(p.text), "text": p.text,
                       "text_hash": text_hash(p.text), "machine_issue_id": None, "issue_id": issue}  # fmt: skip
                own.append(row)
                rows.append(row)


def save_issues(store: Store, rows: list[dict], keep_names: bool = False) -> None:
    """Issue records (label, status, spans) from statement rows, corrections applied, saved.

    With `keep_names` (after an assignment) an issue whose statements are the same as
    before keeps its label and terms: naming reads every statement of an issue, which at
    100,000 statements takes longer than the assignment itself."""
    before: dict[str, tuple[frozenset, dict]] = {}
    if keep_names:
        held: dict[str, set] = {}
        for s in store.statements():
            if s["issue_id"]:
                held.setdefault(s["issue_id"], set()).add(s["text_hash"])
        before = {i["id"]: (frozenset(held.get(i["id"], ())), i) for i in store.issues()}
    passages = store.passages()
    renames = apply_corrections(rows, store.issue_corrections(), store.recurring_assignments(), passages)
    by_id = {p.id: p for p in passages}
    latest = max((p.year for p in passages if p.year is not None), default=None)
    numbers = {issue: n for n, issue in enumerate(sorted({r["issue_id"] for r in rows if r["issue_id"]}))}
    texts = [r["text"] for r in rows]
    stored_words = store.get_meta(ACTOR_WORDS_KEY)
    words = json.loads(stored_words) if stored_words else actor_names(load_actor_entries([DEFAULT_ACTORS]))
    added_actors = store.actor_additions()
    namer = IssueNamer(actor_words=words, place_words=place_names()).fit(texts, [numbers.get(r["issue_id"], -1) if r["issue_id"] else -1 for r in rows])
    by_issue: dict[str, list[dict]] = {}
    for r in rows:
        if r["issue_id"]:
            by_issue.setdefault(r["issue_id"], []).append(r)
    issues = []
    for issue, number in numbers.items():
        members = by_issue[issue]
        member_passages = [by_id[r["passage_id"]] for r in members if r["passage_id"] in by_id]
        # a statement's own main theme; its passage's where it has none (themes not assigned)
        themes = Counter(
            (r.get("themes") or by_id[r["passage_id"]].themes or [None])[0] for r in members if r["passage_id"] in by_id
        )
        themes.pop(None, None)
        actors = issue_actors(members, by_id, added_actors)
        years = sorted({p.year for p in member_passages if p.year is not None})
        orgs = sorted({p.org for p in member_passages if p.org})
        reports = sorted({Path(p.file).stem for p in member_passages})
        member_texts = [r["text"] for r in members]
        same = before.get(issue)
        if same and same[0] == frozenset(r["text_hash"] for r in members):
            label, terms = same[1]["label"], same[1]["terms"]
        else:
            label, terms = namer.label(number, member_texts), namer.terms(number, member_texts)
        issues.append(
            {
                "id": issue,
                "label": renames.get(issue) or label,
                "terms": terms,
                "status": issue_status(set(orgs), set(years), set(reports), latest),
                "themes": [slug for slug, _ in themes.most_common()],
                "actors": actors,
                "reports": reports,
                "orgs": orgs,
                "regions": sorted({p.region for p in member_passages if p.region}),
                "years": years,
                "first_year": years[0] if years else None,
                "last_year": years[-1] if years else None,
                "size": len(members),
            }
        )
    store.save_recurring(rows, issues)


def issue_actors(members: list[dict], passages: dict, added: dict[str, list[str]]) -> list[str]:
    """Who an issue is about, most often named first: the actors its statements name
    themselves, and those a researcher added to their passages (`added`, by passage text
    hash, `Store.actor_additions`). A statement whose own actors are not known (None: stored before statements kept
    them, or a passage a researcher put into the issue) counts its passage's; an issue none of
    whose statements names an actor takes its passages' actors, so it is not left without."""
    counts: Counter = Counter()
    for row in members:
        passage = passages.get(row["passage_id"])
        own = row.get("actors")
        if own is None:
            own = passage.actors if passage else ()
        extra = added.get(passage.text_hash, []) if passage else []
        counts.update(dict.fromkeys([*own, *extra], 1))
    if not counts:
        counts.update(a for row in members if row["passage_id"] in passages for a in passages[row["passage_id"]].actors)
    return [actor for actor, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def actor_names(entries: dict) -> list[str]:
    """The actors' names and compound heads (`load_actor_entries`): a label of these alone says
    who, not what."""
    return [name for entry in entries.values() for name in (entry.canonical, *entry.compounds)]


def _actor_lists(entries: dict) -> list:
    """The actor entries as plain sorted data, for fingerprints."""
    return sorted((name, sorted(entry.variants), sorted(entry.compounds)) for name, entry in entries.items())


def place_names() -> list[str]:
    """The counties' names as the reports write them: where a problem was seen does not name it."""
    return [name for names in COUNTIES.values() for name in names]


def issue_records(store: Store, min_reports: int = 1) -> list[dict]:
    """Issues as export rows: the issue fields plus passage ids and quotes {passage_id, text, file, page,
    themes, actors} (the statement's own themes, main first, and the actors it names; null
    where not known yet: a store grouped before statements kept them)."""
    statements: dict[str, list[dict]] = {}
    for s in store.statements():
        if s["issue_id"]:
            statements.setdefault(s["issue_id"], []).append(s)
    out = []
    for issue in store.issues():
        if len(issue["reports"]) < min_reports:
            continue
        members = statements.get(issue["id"], [])
        out.append(
            {
                "id": issue["id"],
                "label": issue["label"],
                "terms": issue["terms"],
                "status": issue["status"],
                "themes": issue["themes"],
                "actors": issue["actors"],
                "reports": issue["reports"],
                "orgs": issue["orgs"],
                "regions": issue["regions"],
                "years": issue["years"],
                "first_year": issue["first_year"],
                "last_year": issue["last_year"],
                "n_statements": issue["size"],
                "passage_ids": sorted({s["passage_id"] for s in members}),
                "quotes": [
                    {"passage_id": s["passage_id"], "text": s["text"], "file": s["file"], "page": s["page"],
                     "themes": s["themes"], "actors": s["actors"]}
                    for s in members
                ],
            }
        )
    return out


def ungrouped_count(store: Store) -> int:
    return sum(1 for s in store.statements() if not s["issue_id"])
