"""Export the coded reports as a REFI-QDA project (.qdpx) for NVivo, ATLAS.ti, MAXQDA, QualCoder.

A .qdpx is a zip with `project.qde` (XML in urn:QDA-XML:project:1.0) and the sources in
`sources/`. Each report is a TextSource whose plain text (`sources/<guid>.txt`) is the text as
the tool read it; every passage is one PlainTextSelection coded with its kind, level, themes,
actors and recurring issues, with a note giving page and scores. Codes a person decided are
codings by that person where a QDA tool named them (an import), by "Rättelse i systemfel" for
corrections made in the explorer, the rest by "systemfel (automatisk)", so the QDA tool shows
who decided what.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from systemfel.base.hashing import file_sha256
from systemfel.base.names import kind_sv, level_sv, ocr_note
from systemfel.base.records import Document
from systemfel.base.spreadsheet import ILLEGAL_XML
from systemfel.exchange.codebook import Code, RecurringIssue, guid
from systemfel.exchange.corpus import ExchangeCorpus
from systemfel.exchange.schema import NS, q
from systemfel.exchange.sourcetext import locate_in_span
from systemfel.store import Store

MACHINE_USER = ("user:machine", "systemfel (automatisk)")
CORRECTION_USER = ("user:correction", "Rättelse i systemfel")
VARIABLES = (  # (key, name, REFI type)
    ("org", "Organisation", "Text"),
    ("region", "Region", "Text"),
    ("year", "År", "Integer"),
    ("report_kind", "Typ av rapport", "Text"),
)

Progress = Callable[[str, int, int], None]


class ExportError(Exception):
    """An export that cannot be written, explained in Swedish."""


@dataclass
class ExportSummary:
    path: Path
    sources: int = 0
    selections: int = 0
    codings: int = 0
    inserted: int = 0  # passages written into their source text beside the block text
    pdfs: int = 0
    pdfs_left_out: list[str] = field(default_factory=list)  # Swedish, one line per report
    seconds: float = 0.0
    bytes: int = 0


def source_guid(doc: Document) -> str:
    return guid("source:" + doc.sha256)


def author_guid(name: str) -> str:
    """The user who made corrections in a QDA tool, by the name that tool gave."""
    return guid("user:author:" + name)


def selection_key(doc: Document, passage) -> str:
    return f"passage:{doc.sha256}:{passage.seq}:{passage.text_hash}"


def _xml_safe(value) -> str:
    """Text XML can hold: control characters a PDF may carry are dropped (the source text
    files keep every character, so positions are not affected)."""
    return ILLEGAL_XML.sub("", str(value))


def _attributes(attrs: dict) -> dict[str, str]:
    return {k: _xml_safe(v) for k, v in attrs.items() if v is not None}


def _sub(parent: etree._Element, tag: str, **attrs) -> etree._Element:
    return etree.SubElement(parent, q(tag), _attributes(attrs))


def _text_el(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = _sub(parent, tag)
    element.text = _xml_safe(text)
    return element


def _code_element(parent: etree._Element, code: Code) -> None:
    element = _sub(parent, "Code", guid=code.guid, name=code.name, isCodable="true" if code.codable else "false")
    if code.description:
        _text_el(element, "Description", code.description)
    for child in code.children:
        _code_element(element, child)


def _note_text(doc: Document, passage) -> str:
    pages = f"{passage.page}–{passage.page_end}" if passage.page_end else str(passage.page)
    lines = [f"{doc.file}, sida {pages}."]
    if passage.heading:
        lines.append(f"Rubrik: {passage.heading}")
    if passage.kind:
        lines.append(f"Typ: {kind_sv(passage.kind)} (säkerhet {passage.kind_score:.2f}).")
    if passage.level:
        lines.append(f"Nivå: {level_sv(passage.level)}.")
    if passage.themes:
        scores = ", ".join(f"{slug} {score:.2f}" for slug, score in zip(passage.themes, passage.theme_scores))
        lines.append(f"Temapoäng: {scores}.")
    if passage.actors:
        lines.append("Aktörer: " + ", ".join(passage.actors) + ".")
    if passage.ocr:
        lines.append(ocr_note(passage) + ".")
    return "\n".join(lines)


def _top(tag: str, **attrs) -> etree._Element:
    """An element written on its own into the streamed project document."""
    return etree.Element(q(tag), _attributes(attrs), nsmap={None: NS})


class _ProjectWriter:
    """Streams project.qde: the heading parts at once, then one TextSource per report (so the
    whole project is never held in memory), then the notes the selections refer to."""

    def __init__(self, corpus: ExchangeCorpus, xf: etree.xmlfile):
        self.corpus = corpus
        self.xf = xf
        self.machine = guid(MACHINE_USER[0])
        self.correction = guid(CORRECTION_USER[0])
        self.notes: list[tuple[str, str]] = []  # (guid, text)
        self.selections = 0
        self.codings = 0
        self.by_passage = corpus.recurring_by_passage()

    def project_attributes(self, name: str) -> dict[str, str]:
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        return {"name": name, "origin": "systemfel", "creatingUserGUID": self.machine, "creationDateTime": now}

    def write_heading(self) -> None:
        users = _top("Users")
        _sub(users, "User", guid=self.machine, name=MACHINE_USER[1])
        _sub(users, "User", guid=self.correction, name=CORRECTION_USER[1])
        for author in sorted(set(self.corpus.authors.values())):
            _sub(users, "User", guid=author_guid(author), name=author)
        codebook = _top("CodeBook")
        codes = _sub(codebook, "Codes")
        for code in self.corpus.codebook.roots:
            _code_element(codes, code)
        variables = _top("Variables")
        for key, name_sv, kind in VARIABLES:
            _sub(variables, "Variable", guid=guid("variable:" + key), name=name_sv, typeOfVariable=kind)
        for element in (users, codebook, variables):
            self.xf.write(element, pretty_print=True)

    def _coding(self, selection: etree._Element, key: str, code: Code, decided_by: str | None) -> None:
        user = self.machine if decided_by is None else author_guid(decided_by) if decided_by else self.correction
        coding = _sub(selection, "Coding", guid=guid(f"coding:{key}:{code.key}"), creatingUser=user)
        _sub(coding, "CodeRef", targetGUID=code.guid)
        self.codings += 1

    def write_source(self, doc: Document, description: str) -> None:
        """The report's TextSource with its selections, codings and variable values."""
        corpus = self.corpus
        source = corpus.source(doc)
        source_id = source_guid(doc)
        element = _top(
            "TextSource", guid=source_id, name=doc.file, plainTextPath=f"internal://{source_id}.txt",
            creatingUser=self.machine,
        )  # fmt: skip
        _text_el(element, "Description", description)
        book = corpus.codebook
        for passage, (start, end) in zip(corpus.passages_by_doc[doc.id], source.spans):
            key = selection_key(doc, passage)
            selection = _sub(
                element, "PlainTextSelection", guid=guid(key), name=f"{doc.file} s. {passage.page}",
                startPosition=start, endPosition=end, creatingUser=self.machine,
            )  # fmt: skip
            self.selections += 1
            for category, value in corpus.passage_codes(passage):
                self._coding(selection, key, book.code(category, value), corpus.decided_by(passage, category, value))
            statements: list[tuple[RecurringIssue, int, int, str | None]] = []
            for issue, span in self.by_passage.get(passage.id, []):
                place = None
                if span.start is not None:
                    place = locate_in_span(source.text, start, end, passage.text[span.start : span.end])
                decided_by = corpus.decided_by(passage, "recurring", issue.id)
                if place is None:
                    self._coding(selection, key, book.code("recurring", issue.id), decided_by)
                else:
                    statements.append((issue, *place, decided_by))
            note_id = guid("note:" + key)
            self.notes.append((note_id, _note_text(doc, passage)))
            _sub(selection, "NoteRef", targetGUID=note_id)
            for issue, s_start, s_end, decided_by in statements:
                s_key = f"statement:{issue.id}:{key}:{s_start}:{s_end}"
                statement = _sub(
                    element, "PlainTextSelection", guid=guid(s_key), name=f"Påstående: {issue.label}",
                    startPosition=s_start, endPosition=s_end, creatingUser=self.machine,
                )  # fmt: skip
                self.selections += 1
                self._coding(statement, s_key, book.code("recurring", issue.id), decided_by)
        for key, _, kind in VARIABLES:
            value = getattr(doc.meta, key)
            if value in (None, ""):
                continue
            variable_value = _sub(element, "VariableValue")
            _sub(variable_value, "VariableRef", targetGUID=guid("variable:" + key))
            _text_el(variable_value, "IntegerValue" if kind == "Integer" else "TextValue", str(value))
        self.xf.write(element, pretty_print=True)

    def write_notes(self) -> None:
        if not self.notes:
            return
        with self.xf.element(q("Notes")):
            for note_id, text in self.notes:
                note = _top("Note", guid=note_id, name="Sida och poäng", creatingUser=self.machine)
                _text_el(note, "PlainTextContent", text)
                self.xf.write(note, pretty_print=True)


def _pdf_for(doc: Document, pii: dict[str, int], include_pdfs: bool) -> tuple[Path | None, str]:
    """The report's PDF to put beside its text, or None and why not (Swedish)."""
    if not include_pdfs:
        return None, ""
    if pii:
        return None, f"{doc.file}: PDF:en ingår inte, eftersom personuppgifter maskerades i texten."
    path = Path(doc.path)
    if not path.is_file():
        return None, f"{doc.file}: PDF:en ingår inte, filen finns inte längre på {path}."
    if file_sha256(path) != doc.sha256:
        return None, f"{doc.file}: PDF:en ingår inte, filen på {path} har ändrats sedan den lästes in."
    return path, ""


def _source_description(doc: Document, pdf_name: str | None, inserted: int) -> str:
    meta = doc.meta
    who = ", ".join(str(v) for v in (meta.org, meta.region, meta.year) if v)
    parts = [f"{meta.title or doc.file}" + (f" ({who})." if who else ".")]
    parts.append(f"{doc.pages} sidor, {doc.n_passages} stycken.")
    parts.append("Texten som systemfel läste den (personuppgifter maskerade).")
    if pdf_name:
        parts.append(f"Original-PDF i projektfilen: sources/{pdf_name}.")
    if inserted:
        parts.append(f"{inserted} stycken fanns inte ordagrant i blocktexten och står på egna rader.")
    return " ".join(parts)


def _export_source(
    writer: _ProjectWriter, archive: zipfile.ZipFile, doc: Document, pii: dict[str, int], include_pdfs: bool,
    summary: ExportSummary,
) -> None:
    """One report: its TextSource into project.qde, its text (and PDF) into sources/."""
    pdf, why_not = _pdf_for(doc, pii, include_pdfs)
    if why_not:
        summary.pdfs_left_out.append(why_not)
    pdf_name = f"{source_guid(doc)}.pdf" if pdf else None
    source = writer.corpus.source(doc)
    writer.write_source(doc, _source_description(doc, pdf_name, source.inserted))
    archive.writestr(f"sources/{source_guid(doc)}.txt", source.text.encode("utf-8"))
    if pdf:
        archive.write(pdf, f"sources/{pdf_name}")
        summary.pdfs += 1
    summary.inserted += source.inserted
    summary.sources += 1


def export_qdpx(
    store: Store,
    output: str | Path,
    *,
    codebook_path: str | Path | None = None,
    actor_files: Sequence[Path] = (),
    recurring: Sequence[RecurringIssue] | None = None,
    include_pdfs: bool = True,
    progress: Progress | None = None,
) -> ExportSummary:
    """Write the store's reports, code book and codings as a .qdpx project at `output`.
    `recurring` None (the default) nests the store's own recurring issues under their themes.

    The file is written beside its target and moved into place at the end, so an interrupted
    export never leaves half a project behind.
    """
    started = time.perf_counter()
    output = Path(output)
    corpus = ExchangeCorpus.load(store, codebook_path=codebook_path, actor_files=actor_files, recurring=recurring)
    summary = ExportSummary(output)
    pii = store.pii_counts()
    try:
        handle = tempfile.NamedTemporaryFile(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp", delete=False)
    except OSError as exc:
        raise ExportError(f"kan inte skriva i mappen {output.parent}: {exc.strerror or exc}") from exc
    tmp = Path(handle.name)
    try:
        with handle, zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive, \
                tempfile.TemporaryFile(dir=output.parent) as qde:  # fmt: skip
            with etree.xmlfile(qde, encoding="utf-8") as xf:
                xf.write_declaration()
                writer = _ProjectWriter(corpus, xf)
                attributes = writer.project_attributes(f"systemfel: {Path(store.path).stem}")
                with xf.element(q("Project"), attributes, nsmap={None: NS}):
                    writer.write_heading()
                    if corpus.documents:
                        with xf.element(q("Sources")):
                            for done, doc in enumerate(corpus.documents):
                                _export_source(writer, archive, doc, pii.get(doc.id, {}), include_pdfs, summary)
                                if progress:
                                    progress("Exporterar", done + 1, len(corpus.documents))
                    writer.write_notes()
            qde.seek(0)
            with archive.open("project.qde", "w") as member:
                shutil.copyfileobj(qde, member, 1 << 20)
        os.replace(tmp, output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"kan inte skriva {output}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    summary.selections = writer.selections
    summary.codings = writer.codings
    summary.seconds = time.perf_counter() - started
    summary.bytes = output.stat().st_size
    return summary


def qdpx_bytes(store: Store, **options) -> bytes:
    """The project as bytes, for a download button; `options` as for `export_qdpx`."""
    with tempfile.TemporaryDirectory(prefix="systemfel-qdpx-") as folder:
        path = Path(folder) / "projekt.qdpx"
        export_qdpx(store, path, **options)
        return path.read_bytes()
