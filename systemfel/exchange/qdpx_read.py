"""Bring a researcher's coding back from a REFI-QDA project (.qdpx).

Sources are matched to stored reports by their text (the text our export wrote), selections
to passages by character position, and codes to ours by GUID or else by name, so nothing
depends on the other tool keeping our ids. A theme, kind, level, actor or recurring issue that
a passage does not have in the store becomes a correction by the project's user who coded it,
kept across rebuilds like one made in the explorer; a code that matches nothing of ours is
kept as a labelled example for the next build. Everything is checked first and written in one
transaction (inside the caller's, when there is one), or not at all.
"""
from __future__ import annotations

import bisect
import hashlib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from systemfel.exchange.codebook import Code, RecurringIssue, slugify
from systemfel.exchange.corpus import ExchangeCorpus, correction_field
from systemfel.exchange.qdpx_write import CORRECTION_USER, MACHINE_USER
from systemfel.exchange.schema import q, safe_parser, schema_errors
from systemfel.exchange.sourcetext import fold_whitespace, locate_in_span
from systemfel.recurring import reassemble
from systemfel.store import APPLIES, Store

FIELD_NAMES = {"kind": "typ", "theme": "tema", "level": "nivå", "actor": "aktör", "recurring": "återkommande systemfel"}
MAX_MEMBER_BYTES = 2 << 30  # a project.qde or source text larger than this is refused, not read


class QdpxReadError(Exception):
    """A project file that cannot be read at all, explained in Swedish."""


@dataclass(frozen=True)
class ForeignCode:
    guid: str
    name: str
    path: str  # "Teman > Väntetider > ..." as the project nests it


@dataclass
class ImportPlan:
    """What an import would change; nothing is written until `apply_import`."""

    corrections: list[tuple[str, str, str, str]] = field(default_factory=list)  # (text_hash, field, value, author)
    changes: list[str] = field(default_factory=list)  # Swedish, one line per correction
    examples: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # (text, theme, code, doc, source)
    new_codes: dict[str, int] = field(default_factory=dict)  # code path -> number of selections
    skipped: list[str] = field(default_factory=list)  # Swedish: codings that were not taken, and why
    notes: list[str] = field(default_factory=list)  # Swedish: worth knowing, nothing lost
    sources_matched: int = 0
    selections: int = 0
    codings: int = 0


# ------------------------------------------------------------------ reading
def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES:
        raise QdpxReadError(f"{name} i projektfilen är för stor ({info.file_size} byte).")
    return archive.read(info)


def read_project(path: str | Path) -> tuple[etree._Element, dict[str, bytes]]:
    """project.qde (validated against the REFI-QDA schema) and the text files in sources/."""
    path = Path(path)
    if not path.is_file():
        raise QdpxReadError(f"filen {path} finns inte.")
    if not zipfile.is_zipfile(path):
        raise QdpxReadError(f"{path} är ingen .qdpx-fil: det är inte en zip-fil.")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            qde = next((n for n in names if n.lower() == "project.qde"), None)
            if qde is None:
                raise QdpxReadError(f"{path} saknar project.qde: det är ingen REFI-QDA-projektfil.")
            xml = _read_member(archive, qde)
            texts = {
                n.split("/", 1)[1]: _read_member(archive, n)
                for n in names
                if n.lower().startswith("sources/") and n.lower().endswith(".txt")
            }
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        raise QdpxReadError(f"kan inte läsa zip-filen {path}: {exc}") from exc
    try:
        root = etree.fromstring(xml, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise QdpxReadError(f"project.qde i {path} är inte giltig XML: {exc}") from exc
    errors = schema_errors(root)
    if errors:
        raise QdpxReadError(
            f"project.qde i {path} följer inte REFI-QDA-schemat (Project-mrt2019.xsd):\n  " + "\n  ".join(errors)
        )
    return root, texts


def _foreign_codes(root: etree._Element) -> dict[str, ForeignCode]:
    out: dict[str, ForeignCode] = {}

    def walk(element: etree._Element, trail: tuple[str, ...]) -> None:
        for code in element.findall(q("Code")):
            name = code.get("name", "")
            code_guid = code.get("guid", "")
            out[code_guid.strip("{}").lower()] = ForeignCode(code_guid, name, " > ".join((*trail, name)))
            walk(code, (*trail, name))

    codes = root.find(f"{q('CodeBook')}/{q('Codes')}")
    if codes is not None:
        walk(codes, ())
    return out


def _people(root: etree._Element) -> dict[str, str]:
    """The project's users by GUID; our own two users (by name, GUIDs may be new) count as nobody."""
    ours = {MACHINE_USER[1], CORRECTION_USER[1]}
    return {
        (user.get("guid") or "").strip("{}").lower(): "" if user.get("name") in ours else (user.get("name") or "")
        for user in root.iterfind(f"{q('Users')}/{q('User')}")
    }


def _source_text(source: etree._Element, texts: dict[str, bytes]) -> str | None:
    content = source.find(q("PlainTextContent"))
    if content is not None:
        return content.text or ""
    path = source.get("plainTextPath") or ""
    if path.startswith("internal://"):
        data = texts.get(path[len("internal://") :])
        if data is not None:
            return data.decode("utf-8-sig", errors="replace")
    return None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ planning
class _Planner:
    def __init__(self, corpus: ExchangeCorpus, foreign: dict[str, ForeignCode], users: dict[str, str], origin: str):
        self.corpus = corpus
        self.users = users  # GUID (folded) -> the name a person has in the project; ours map to ""
        self.foreign = foreign
        self.origin = origin
        self.plan = ImportPlan()
        self.by_text = {_digest(corpus.source(d).text): d for d in corpus.documents}
        self.by_name = {d.file: d for d in corpus.documents}
        self.recurring = {
            (span.passage_id, issue.id) for issue in corpus.recurring for span in issue.statements
        }

    def our_code(self, code_guid: str) -> tuple[Code | None, ForeignCode | None]:
        foreign = self.foreign.get(code_guid.strip("{}").lower())
        if foreign is None:
            return None, None
        group = foreign.path.split(" > ", 1)[0]
        return self.corpus.codebook.find(foreign.guid.strip("{}").lower(), foreign.name, group), foreign

    def source(self, source: etree._Element, texts: dict[str, bytes]) -> None:
        name = source.get("name") or source.get("guid", "?")
        text = _source_text(source, texts)
        selections = source.findall(q("PlainTextSelection"))
        if text is None:
            self.plan.skipped.append(
                f"Källan {name!r}: texten finns inte i projektfilen; {len(selections)} markeringar hoppades över."
            )
            return
        doc = self.by_text.get(_digest(text))
        line_ends: list[int] = []  # where a tool's Windows line ends stand, to map its positions to ours
        if doc is None and "\r\n" in text:
            doc = self.by_text.get(_digest(text.replace("\r\n", "\n")))
            line_ends = [i for i, char in enumerate(text) if char == "\r" and text.startswith("\n", i + 1)]
        if doc is None:
            if name in self.by_name:
                why = (
                    f"har en annan text än rapporten {name} i databasen (ändrad i verktyget, "
                    "eller rapporten är inläst på nytt)"
                )
            else:
                why = "matchar ingen rapport i databasen"
            if selections:
                self.plan.skipped.append(f"Källan {name!r} {why}; {len(selections)} markeringar hoppades över.")
            else:
                self.plan.notes.append(f"Källan {name!r} {why}; den har inga markeringar.")
            return
        self.plan.sources_matched += 1
        if source.findall(q("Coding")):
            self.plan.skipped.append(
                f"Källan {name!r}: {len(source.findall(q('Coding')))} kodningar av hela källan hoppades över "
                "(bara markerade textavsnitt kan bli rättelser)."
            )
        passages = self.corpus.passages_by_doc[doc.id]
        ours = self.corpus.source(doc)
        spans = ours.spans
        found: dict[int, dict[tuple[str, str], str]] = {}  # passage index -> code -> user name
        statement_of: dict[tuple[int, str], str] = {}  # (passage index, issue) -> statement hash or APPLIES
        for selection in selections:
            self.plan.selections += 1
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            codings = selection.findall(q("Coding"))
            where = f"Källan {name!r}, markeringen {start}–{end}"
            if not (0 <= start < end <= len(text)):
                self.plan.skipped.append(
                    f"{where} ligger utanför texten (0–{len(text)} tecken); {len(codings)} kodningar hoppades över."
                )
                continue
            if line_ends:
                start -= bisect.bisect_right(line_ends, start - 1)
                end -= bisect.bisect_right(line_ends, end - 1)
            targets = _passages_under(spans, start, end)
            if not targets:
                self.plan.skipped.append(f"{where} täcker inget stycke; {len(codings)} kodningar hoppades över.")
                continue
            for coding in codings:
                self.plan.codings += 1
                ref = coding.find(q("CodeRef"))
                code, foreign = self.our_code(ref.get("targetGUID", "") if ref is not None else "")
                if foreign is None:
                    self.plan.skipped.append(f"{where}: en kodning pekar på en kod som inte finns i kodboken.")
                    continue
                if code is None:
                    self.new_code(foreign, fold_whitespace(ours.text[start:end]), doc.file)
                    continue
                for index in targets:
                    user = self.users.get(coding.get("creatingUser", "").strip("{}").lower(), "")
                    found.setdefault(index, {})[(code.category, code.value)] = user
                    if code.category == "recurring" and (passages[index].id, code.value) not in self.recurring:
                        statement_of[(index, code.value)] = self.statement(ours.text, spans[index], passages[index], start, end)
        for index, codes in sorted(found.items()):
            statements = {issue: h for (i, issue), h in statement_of.items() if i == index}
            self.compare(doc.file, passages[index], codes, statements)

    def statement(self, text: str, span: tuple[int, int], passage, start: int, end: int) -> str:
        """Which stored statement of the passage a selection marks (its text hash), or APPLIES
        when it marks the whole passage or no one statement."""
        if (end - start) * 2 >= span[1] - span[0]:
            return APPLIES
        best, most = APPLIES, 0
        for row in self.corpus.statements_of(passage.id):
            place = locate_in_span(text, span[0], span[1], passage.text[row["start"] : row["end"]])
            if place is None:
                continue
            overlap = min(end, place[1]) - max(start, place[0])
            if overlap * 2 >= min(end - start, place[1] - place[0]) and overlap > most:
                best, most = row["text_hash"], overlap
        return best

    def new_code(self, foreign: ForeignCode, text: str, file: str) -> None:
        self.plan.new_codes[foreign.path] = self.plan.new_codes.get(foreign.path, 0) + 1
        example = (text, slugify(foreign.name), foreign.name, Path(file).stem, self.origin)
        if example not in self.plan.examples:
            self.plan.examples.append(example)

    def compare(
        self, file: str, passage, codes: dict[tuple[str, str], str], statements: dict[str, str]
    ) -> None:
        """Turn what the project codes on a passage, beside what the store has, into changes."""
        where = f"{file} s. {passage.page}"
        new_themes = [v for (c, v) in codes if c == "theme" and v not in passage.themes]
        if new_themes:
            self.correct(passage, "theme", new_themes[0], where, codes[("theme", new_themes[0])])
            for extra in new_themes[1:]:
                self.plan.skipped.append(
                    f"{where}: temat {self.name('theme', extra)} sparades inte; ett stycke kan få ett rättat tema "
                    f"åt gången ({self.name('theme', new_themes[0])} sparades)."
                )
        for category, current in (("kind", passage.kind), ("level", passage.level)):
            values = sorted({v for (c, v) in codes if c == category} - {current})
            if len(values) == 1:
                self.correct(passage, category, values[0], where, codes[(category, values[0])])
            elif len(values) > 1:
                names = ", ".join(self.name(category, v) for v in values)
                what = "typer" if category == "kind" else "nivåer"
                self.plan.skipped.append(f"{where}: flera nya {what} ({names}); ingen av dem sparades.")
        for category, value in codes:
            if category == "actor" and value not in passage.actors:
                self.correct(passage, "actor", value, where, codes[(category, value)])
            elif category == "recurring" and (passage.id, value) not in self.recurring:
                self.correct(passage, "recurring", value, where, codes[(category, value)], statements.get(value, APPLIES))

    def correct(
        self, passage, category: str, value: str, where: str, author: str, stored: str = APPLIES
    ) -> None:
        """A correction of the passage: kind, theme and level hold `value`; an actor or recurring
        issue is a field of its own holding `stored` (APPLIES, or for an issue the statement)."""
        field_name, wanted = correction_field(category, value)
        correction = (passage.text_hash, field_name, stored if wanted is None else wanted, author)
        if correction in self.plan.corrections:
            return
        self.plan.corrections.append(correction)
        by = f" (av {author})" if author else ""
        self.plan.changes.append(f"{where}: {FIELD_NAMES[category]} {self.name(category, value)}{by}")

    def name(self, category: str, value: str) -> str:
        return self.corpus.codebook.code(category, value).name

    def finish(self) -> ImportPlan:
        for path, n in sorted(self.plan.new_codes.items()):
            self.plan.notes.append(
                f"Ny kod {path!r} matchar inget tema: {count(n, 'markering', 'markeringar')} blir märkta exempel med "
                f"tema-id {slugify(path.rsplit(' > ', 1)[-1])!r}. Lägg temat i en egen kodbok (build --codebook) "
                "så lär sig nästa bygge av dem."
            )
        return self.plan


def count(n: int, one: str, many: str) -> str:
    """'1 markering', '3 markeringar'."""
    return f"{n} {one if n == 1 else many}"


def _passages_under(spans: Sequence[tuple[int, int]], start: int, end: int) -> list[int]:
    """The passages a selection codes: those it covers at least half of, or else the one
    holding most of the selection."""
    overlaps = [(max(0, min(end, e) - max(start, s)), i, e - s) for i, (s, e) in enumerate(spans)]
    covered = [i for overlap, i, length in overlaps if length and overlap * 2 >= length]
    if covered:
        return covered
    best = max(overlaps, default=(0, -1, 0))
    return [best[1]] if best[0] * 2 >= end - start else []


def plan_import(
    store: Store,
    path: str | Path,
    *,
    codebook_path: str | Path | None = None,
    actor_files: Sequence[Path] = (),
    recurring: Sequence[RecurringIssue] | None = None,
) -> ImportPlan:
    """Read and check a .qdpx and work out what it would change; writes nothing."""
    root, texts = read_project(path)
    corpus = ExchangeCorpus.load(store, codebook_path=codebook_path, actor_files=actor_files, recurring=recurring)
    planner = _Planner(corpus, _foreign_codes(root), _people(root), f"qdpx:{Path(path).name}")
    sources = root.find(q("Sources"))
    for source in sources if sources is not None else []:
        if source.tag == q("TextSource"):
            planner.source(source, texts)
        elif source.tag is not etree.Comment:
            kind = etree.QName(source).localname
            planner.plan.skipped.append(
                f"Källan {source.get('name', '?')!r} är en {kind}; bara textkällor (TextSource) kan läsas tillbaka."
            )
    return planner.finish()


def apply_import(store: Store, plan: ImportPlan) -> None:
    """Write the plan's corrections and labelled examples, and regroup the recurring issues
    they change, in one transaction: all of it lands, or none of it."""
    with store.transaction():
        store.save_imported(plan.corrections, plan.examples)
        if any(field.startswith("recurring:") for _, field, _, _ in plan.corrections):
            reassemble(store)
