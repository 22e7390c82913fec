"""REFI-QDA exchange on the real demo corpus: the export validates against the published
schema, every passage is one selection whose text is the passage, a researcher's changes come
back as corrections, and bad files are refused in Swedish without touching the store."""
from __future__ import annotations

import hashlib
import io
import sqlite3
import uuid
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from systemfel.base.records import Block, DocumentMeta, Passage, PassageLabels, ThemeScore
from systemfel.cli import main
from systemfel.exchange.codebook import KIND_NAMES, guid, recurring_issues_from_records
from systemfel.exchange.qdpx_read import apply_import, plan_import
from systemfel.exchange.qdpx_write import export_qdpx
from systemfel.exchange.schema import NS, SCHEMA_PATH
from systemfel.exchange.sourcetext import compose_source_text, fold_whitespace
from systemfel.explorer.views.documents import qdpx_download
from systemfel.pipeline import BuildOptions, build, labelled_examples
from systemfel.store import Store
from tests.test_app import copy_db, start

# sha256 of Project-mrt2019.xsd as REFI published it (QDA-XML 1.0, 18 March 2019)
SCHEMA_SHA256 = "7841112e27897debf996f76209b9c5a5d074d66c1297a2f19f5ef250d29303bd"
X = {"q": NS}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


@pytest.fixture(scope="module")
def exported(demo_db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("qdpx") / "demo.qdpx"
    with Store(demo_db, readonly=True) as store:
        export_qdpx(store, out)
    return out


@pytest.fixture()
def writable_db(demo_db, tmp_path) -> Path:
    copy = copy_db(demo_db, tmp_path / "copy.db")
    Store(copy).close()  # a writable open brings the schema up to date, as any import does
    return copy


def read_zip(path: Path) -> tuple[etree._Element, dict[str, str]]:
    with zipfile.ZipFile(path) as archive:
        root = etree.fromstring(archive.read("project.qde"))
        texts = {n: archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".txt")}
    return root, texts


def write_zip(path: Path, root: etree._Element, texts: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", etree.tostring(root, xml_declaration=True, encoding="utf-8"))
        for name, text in texts.items():
            archive.writestr(name, text.encode("utf-8"))


def source_text(source: etree._Element, texts: dict[str, str]) -> str:
    return texts["sources/" + source.get("plainTextPath").removeprefix("internal://")]


def codes_by_guid(root) -> dict[str, etree._Element]:
    return {c.get("guid"): c for c in root.iterfind(".//q:CodeBook//q:Code", X)}


def codings(root) -> set[tuple]:
    """(source name, start, end, code name, user name) of every coded selection."""
    codes = codes_by_guid(root)
    users = {u.get("guid"): u.get("name") for u in root.iterfind(".//q:User", X)}
    out = set()
    for source in root.iterfind("q:Sources/q:TextSource", X):
        for selection in source.iterfind("q:PlainTextSelection", X):
            for coding in selection.iterfind("q:Coding", X):
                code = codes[coding.find("q:CodeRef", X).get("targetGUID")]
                out.add(
                    (source.get("name"), int(selection.get("startPosition")), int(selection.get("endPosition")),
                     code.get("name"), users[coding.get("creatingUser")])
                )  # fmt: skip
    return out


# ------------------------------------------------------------------ the schema
def test_schema_is_the_published_file_with_its_licence():
    assert hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest() == SCHEMA_SHA256
    licence = (SCHEMA_PATH.parent / "LICENSE-REFI.txt").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Copyright 2019 REFI" in licence
    assert 'targetNamespace="urn:QDA-XML:project:1.0"' in SCHEMA_PATH.read_text(encoding="utf-8")


def test_schema_rejects_what_the_standard_forbids(schema):
    """The schema is really checked: a selection without positions and a malformed GUID fail."""
    bad = etree.fromstring(
        f'<Project xmlns="{NS}" name="x"><Sources><TextSource guid="not-a-guid">'
        '<PlainTextSelection guid="0f6b7a52-3c1e-5d0a-9b7e-5e1f7c0d2a16"/></TextSource></Sources></Project>'
    )
    assert not schema.validate(etree.ElementTree(bad))
    messages = " ".join(str(e.message) for e in schema.error_log)
    assert "startPosition" in messages and "not-a-guid" in messages


# ------------------------------------------------------------------ export
def test_export_validates_against_the_refi_schema(exported, schema):
    root, texts = read_zip(exported)
    assert schema.validate(etree.ElementTree(root)), schema.error_log
    assert root.tag == f"{{{NS}}}Project"
    with zipfile.ZipFile(exported) as archive:
        assert all(n == "project.qde" or n.startswith("sources/") for n in archive.namelist())


def test_every_passage_is_exactly_one_selection_with_its_text(exported, demo_store):
    root, texts = read_zip(exported)
    passages = demo_store.passages()
    documents = {d.file: d for d in demo_store.documents() if d.status == "ok"}
    by_file: dict[str, list] = {}
    for p in passages:
        by_file.setdefault(p.file, []).append(p)
    matched = 0
    for source in root.iterfind("q:Sources/q:TextSource", X):
        text = source_text(source, texts)
        selections = [s for s in source.iterfind("q:PlainTextSelection", X) if not s.get("name").startswith("Påstående")]
        expected = sorted(by_file[source.get("name")], key=lambda p: p.seq)
        assert len(selections) == len(expected)
        cut = [fold_whitespace(text[int(s.get("startPosition")) : int(s.get("endPosition"))]) for s in selections]
        for piece, passage in zip(cut, expected):
            assert piece == fold_whitespace(passage.text)
            matched += 1
        assert len({s.get("guid") for s in selections}) == len(selections)
    assert matched == len(passages) > 300
    assert {s.get("name") for s in root.iterfind("q:Sources/q:TextSource", X)} == set(documents)


def test_passages_are_found_in_the_report_text_not_appended(demo_store):
    """The source text is the report's own blocks; passages are found there, not pasted in."""
    inserted = total = 0
    for doc in demo_store.documents():
        blocks = demo_store.blocks(doc.id)
        rows = sorted(demo_store.passages(doc.id), key=lambda p: p.seq)
        source = compose_source_text([b.text for b in blocks], [p.text for p in rows])
        inserted += source.inserted
        total += len(rows)
        assert len(source.text) >= sum(len(b.text) for b in blocks)
    assert total > 300 and inserted == 0


def test_code_book_and_codings_carry_what_the_store_says(exported, demo_store):
    root, _ = read_zip(exported)
    codes = codes_by_guid(root)
    groups = {c.get("name"): c for c in root.iterfind("q:CodeBook/q:Codes/q:Code", X)}
    assert set(groups) == {"Teman", "Typ av stycke", "Nivå", "Aktörer"}
    assert all(g.get("isCodable") == "false" for g in groups.values())
    theme_names = {c.get("name") for c in groups["Teman"].iterfind("q:Code", X)}
    assert {"Tillgänglighet", "Väntetider", "Samverkan och samordning"} <= theme_names
    assert {c.get("name") for c in groups["Typ av stycke"]} >= {"Brist", "Gott exempel", "Bakgrund"}
    assert all(c.find("q:Description", X) is not None for c in groups["Teman"].iterfind("q:Code", X))
    assert "Försäkringskassan" in {c.get("name") for c in groups["Aktörer"].iterfind("q:Code", X)}
    # each passage's selection codes its kind, level, themes and actors
    passage = next(p for p in demo_store.passages() if p.kind == "deficiency" and p.actors)
    names = {c.get("name") for c in codes.values()}
    selection_codes = Counter(name for (_, _, _, name, _) in codings(root))
    assert selection_codes[KIND_NAMES["deficiency"]] == sum(1 for p in demo_store.passages() if p.kind == "deficiency")
    assert set(passage.actors) <= names
    # notes give page and scores
    notes = [n.findtext("q:PlainTextContent", namespaces=X) for n in root.iterfind("q:Notes/q:Note", X)]
    assert len(notes) == len(demo_store.passages())
    assert any("sida" in n and "Temapoäng" in n for n in notes)
    # variables on each source
    variables = {v.get("name") for v in root.iterfind("q:Variables/q:Variable", X)}
    assert variables == {"Organisation", "Region", "År", "Typ av rapport"}
    years = {int(v.findtext("q:IntegerValue", namespaces=X)) for v in root.iterfind(".//q:TextSource/q:VariableValue", X)
             if v.find("q:IntegerValue", X) is not None}  # fmt: skip
    assert years == {2017, 2021, 2024, 2025}


def test_pdfs_travel_only_when_no_personal_data_was_masked(exported, demo_store, writable_db, tmp_path):
    pii = demo_store.pii_counts()
    with zipfile.ZipFile(exported) as archive:
        pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
        for name in pdfs:
            assert archive.read(name).startswith(b"%PDF")
    clean = [d for d in demo_store.documents() if d.status == "ok" and not pii.get(d.id)]
    assert len(pdfs) == len(clean) > 0
    # a report whose text had personal data masked keeps its PDF (which still holds it) at home
    with sqlite3.connect(writable_db) as conn:
        conn.execute("UPDATE documents SET pii_counts = ? WHERE id = ?", ('{"personnummer": 1}', clean[0].id))
    with Store(writable_db, readonly=True) as store:
        summary = export_qdpx(store, tmp_path / "pii.qdpx")
    assert summary.pdfs == len(clean) - 1
    assert any(clean[0].file in line and "personuppgifter" in line for line in summary.pdfs_left_out)


def test_a_handmade_report_with_odd_text_exports_valid_xml(tmp_path, schema):
    """Control characters, a passage its blocks do not hold, a PDF that is gone."""
    texts = ["Klienten fick vänta\x0c i  månader.", "Ingen   återkoppling\nfrån FK.", "Text som blocken saknar."]
    blocks = [Block("heading", "Brister\x01", 1), Block("paragraph", texts[0], 1), Block("paragraph", texts[1], 2)]
    passages = [Passage(text=t, page=1, heading_path=["Brister"], block_kind="paragraph") for t in texts]
    with Store(tmp_path / "hand.db") as store:
        store.replace_document(
            path=str(tmp_path / "borta.pdf"), sha256="abc", meta=DocumentMeta(org="PO Test\x02", year=2024),
            pages=2, blocks=blocks, passages=passages,
            labels=[PassageLabels(kind="deficiency", kind_score=0.9, actors=["Försäkringskassan"]) for _ in passages],
        )  # fmt: skip
        ids = [p.id for p in store.passages()]
        store.save_themes({ids[0]: [ThemeScore("vantetider", 0.8)]})
        summary = export_qdpx(store, tmp_path / "hand.qdpx")
    assert summary.inserted == 1 and summary.pdfs == 0
    assert "finns inte längre" in summary.pdfs_left_out[0]
    root, files = read_zip(tmp_path / "hand.qdpx")
    assert schema.validate(etree.ElementTree(root)), schema.error_log
    source = root.find("q:Sources/q:TextSource", X)
    text = source_text(source, files)
    assert "\x0c" in text  # the source text keeps every character, so positions hold
    cut = [text[int(s.get("startPosition")) : int(s.get("endPosition"))] for s in source.iterfind("q:PlainTextSelection", X)]
    assert [fold_whitespace(c) for c in cut] == [fold_whitespace(t) for t in texts]


# ------------------------------------------------------------------ round trip and import
def test_export_import_export_gives_the_same_codings(exported, writable_db, tmp_path):
    with Store(writable_db) as store:
        plan = plan_import(store, exported)
        assert plan.corrections == [] and plan.examples == [] and plan.skipped == []
        assert plan.sources_matched == len([d for d in store.documents() if d.status == "ok"])
        apply_import(store, plan)
        again = tmp_path / "again.qdpx"
        export_qdpx(store, again)
    first, _ = read_zip(exported)
    second, _ = read_zip(again)
    assert codings(first) == codings(second)
    assert len(codings(first)) > 1000


def test_a_tool_that_writes_windows_line_ends_is_understood(exported, writable_db, tmp_path):
    """A tool that saves the source text with CRLF counts positions in its own text."""
    root, texts = read_zip(exported)
    for source in root.iterfind("q:Sources/q:TextSource", X):
        name = "sources/" + source.get("plainTextPath").removeprefix("internal://")
        text = texts[name]
        for selection in source.iterfind("q:PlainTextSelection", X):
            for attr in ("startPosition", "endPosition"):
                position = int(selection.get(attr))
                selection.set(attr, str(position + text.count("\n", 0, position)))
        texts[name] = text.replace("\n", "\r\n")
    crlf = tmp_path / "crlf.qdpx"
    write_zip(crlf, root, texts)
    with Store(writable_db, readonly=True) as store:
        plan = plan_import(store, crlf)
        assert plan.skipped == [] and plan.corrections == []
        assert plan.sources_matched == 4 and plan.selections == len(list(root.iterfind(".//q:PlainTextSelection", X)))
        passage_selections = [s for s in root.iterfind(".//q:PlainTextSelection", X) if not s.get("name").startswith("Påstående")]
        assert len(passage_selections) == len(store.passages()) > 300


def _fresh_guids(root: etree._Element) -> None:
    """Replace every GUID as a tool that keeps none of ours would, keeping references intact."""
    mapping: dict[str, str] = {}
    for element in root.iter():
        for attr in ("guid", "targetGUID", "creatingUser", "creatingUserGUID"):
            value = element.get(attr)
            if value:
                element.set(attr, mapping.setdefault(value, str(uuid.uuid4()).upper()))


def test_researcher_changes_come_back_as_corrections(exported, writable_db, tmp_path, demo_store):
    root, texts = read_zip(exported)
    codes = {c.get("name"): c for c in root.iterfind(".//q:CodeBook//q:Code", X)}
    researcher = str(uuid.uuid4())
    etree.SubElement(root.find("q:Users", X), f"{{{NS}}}User", guid=researcher, name="Forskare")
    teman = root.find("q:CodeBook/q:Codes/q:Code[@name='Teman']", X)
    new_code = etree.SubElement(teman, f"{{{NS}}}Code", guid=str(uuid.uuid4()), name="Digitalt utanförskap", isCodable="true")
    passages = {p.text_hash: p for p in demo_store.passages()}
    source = root.find("q:Sources/q:TextSource", X)
    text = source_text(source, texts)
    selections = [s for s in source.iterfind("q:PlainTextSelection", X) if not s.get("name").startswith("Påstående")]

    def passage_of(selection):
        cut = fold_whitespace(text[int(selection.get("startPosition")) : int(selection.get("endPosition"))])
        return next(p for p in passages.values() if fold_whitespace(p.text) == cut)

    def code(selection, name):
        coding = etree.Element(f"{{{NS}}}Coding", guid=str(uuid.uuid4()), creatingUser=researcher)
        etree.SubElement(coding, f"{{{NS}}}CodeRef", targetGUID=codes[name].get("guid") if name in codes else new_code.get("guid"))
        selection.find("q:NoteRef", X).addprevious(coding)

    # 1. a theme the passage does not have
    themed = next(s for s in selections if "bemotande" not in passage_of(s).themes)
    code(themed, "Bemötande")
    # 2. a kind changed: ours removed, another one added
    recoded = next(s for s in selections if passage_of(s).kind == "background" and s is not themed)
    for coding in recoded.findall("q:Coding", X):
        if codes_by_guid(root)[coding.find("q:CodeRef", X).get("targetGUID")].get("name") == "Bakgrund":
            recoded.remove(coding)
    code(recoded, "Brist")
    # 3. a new code on a sentence of the researcher's own selection
    own = selections[len(selections) // 2]
    start = int(own.get("startPosition"))
    sentence_end = text.index(".", start) + 1
    mine = etree.Element(f"{{{NS}}}PlainTextSelection", guid=str(uuid.uuid4()), startPosition=str(start),
                         endPosition=str(sentence_end), creatingUser=researcher)  # fmt: skip
    etree.SubElement(mine, f"{{{NS}}}Coding", guid=str(uuid.uuid4()), creatingUser=researcher).append(
        etree.Element(f"{{{NS}}}CodeRef", targetGUID=new_code.get("guid"))
    )
    selections[-1].addnext(mine)
    _fresh_guids(root)  # the other tool keeps none of our ids
    changed = tmp_path / "changed.qdpx"
    write_zip(changed, root, texts)

    assert main(["import", "qdpx", str(changed), "--db", str(writable_db)]) == 0
    with Store(writable_db, readonly=True) as store:
        corrections = store.corrections()
        assert corrections[(passage_of(themed).text_hash, "theme")] == "bemotande"
        assert corrections[(passage_of(recoded).text_hash, "kind")] == "deficiency"
        assert store.correction_authors()[(passage_of(themed).text_hash, "theme")] == "Forskare"
        examples = store.imported_examples()
        assert [e["theme"] for e in examples] == ["digitalt_utanforskap"]
        assert examples[0]["text"] == fold_whitespace(text[start:sentence_end])
        stored = {p.text_hash: p for p in store.passages()}
        assert stored[passage_of(recoded).text_hash].kind == "deficiency"
    explorer_pick = next(s for s in selections if passage_of(s).kind == "deficiency" and s is not themed)
    with Store(writable_db) as store:  # and one made in the explorer, which has no login
        store.set_correction(passage_of(explorer_pick).text_hash, "kind", "good_example")
        again = tmp_path / "again.qdpx"
        export_qdpx(store, again)
    # each correction comes out as a coding by whoever decided it
    second, _ = read_zip(again)
    by_user = {(name, user) for (_, _, _, name, user) in codings(second)}
    assert ("Bemötande", "Forskare") in by_user and ("Brist", "Forskare") in by_user
    assert ("Gott exempel", "Rättelse i systemfel") in by_user
    # and the labelled example reaches the next build's theme learning
    with Store(writable_db, readonly=True) as store:
        assert any(e.themes == ("digitalt_utanforskap",) for e in labelled_examples(store, BuildOptions()))


def test_level_actor_and_recurring_issue_come_back_by_their_user_and_survive_a_rebuild(
    exported, writable_db, tmp_path, demo_store, demo_corpus
):
    """Export, recode in the 'tool' as Forskare (a level, an actor, a passage put into a recurring
    issue), import, rebuild from the reports, export: the codings are there, by Forskare."""
    root, texts = read_zip(exported)
    researcher = str(uuid.uuid4())
    etree.SubElement(root.find("q:Users", X), f"{{{NS}}}User", guid=researcher, name="Forskare")
    passages = {fold_whitespace(p.text): p for p in demo_store.passages()}
    issues = {i["id"]: i for i in demo_store.issues()}
    members = {(s["passage_id"], s["issue_id"]) for s in demo_store.statements() if s["issue_id"]}
    issue = max(issues.values(), key=lambda i: i["size"])
    wanted = {}  # what the researcher does -> (selection, passage)
    for source in root.iterfind("q:Sources/q:TextSource", X):
        text = source_text(source, texts)
        for selection in source.iterfind("q:PlainTextSelection", X):
            if selection.find("q:NoteRef", X) is None:
                continue  # a statement's own selection
            p = passages[fold_whitespace(text[int(selection.get("startPosition")) : int(selection.get("endPosition"))])]
            if p.kind != "deficiency" or p.id in {q.id for _, q in wanted.values()}:
                continue
            if "level" not in wanted and p.level not in (None, "central"):
                wanted["level"] = (selection, p)
            elif "actor" not in wanted and "Kronofogden" not in p.actors:
                wanted["actor"] = (selection, p)
            elif "recurring" not in wanted and (p.id, issue["id"]) not in members:
                wanted["recurring"] = (selection, p)
    assert set(wanted) == {"level", "actor", "recurring"}

    def code(selection, key):
        coding = etree.Element(f"{{{NS}}}Coding", guid=str(uuid.uuid4()), creatingUser=researcher)
        etree.SubElement(coding, f"{{{NS}}}CodeRef", targetGUID=guid("code:" + key))
        selection.find("q:NoteRef", X).addprevious(coding)

    level_selection, level_passage = wanted["level"]
    for coding in level_selection.findall("q:Coding", X):  # the researcher replaces our level
        if coding.find("q:CodeRef", X).get("targetGUID") == guid(f"code:level:{level_passage.level}"):
            level_selection.remove(coding)
    code(level_selection, "level:central")
    code(wanted["actor"][0], "actor:Kronofogden")
    code(wanted["recurring"][0], f"recurring:{issue['id']}")
    changed = tmp_path / "changed.qdpx"
    write_zip(changed, root, texts)

    assert main(["import", "qdpx", str(changed), "--db", str(writable_db)]) == 0
    hashes = {what: p.text_hash for what, (_, p) in wanted.items()}
    fields = {"level": "level", "actor": "actor:Kronofogden", "recurring": f"recurring:{issue['id']}"}
    with Store(writable_db) as store:
        corrections, authors = store.corrections(), store.correction_authors()
        assert corrections[(hashes["level"], "level")] == "central"
        assert corrections[(hashes["actor"], "actor:Kronofogden")] == "applies"
        assert (hashes["recurring"], fields["recurring"]) in corrections
        assert {authors[(hashes[w], f)] for w, f in fields.items()} == {"Forskare"}
        # rebuilt from the reports, every passage read again and the statements regrouped
        summary = build(store, [demo_corpus], options=BuildOptions(relabel=True, workers=0))
        assert not summary.failed and "återkommande systemfel" in summary.stages
        rebuilt = {p.text_hash: p for p in store.passages()}
        assert rebuilt[hashes["level"]].level == "central"
        assert "Kronofogden" in rebuilt[hashes["actor"]].actors
        assert issue["id"] in {s["issue_id"] for s in store.statements() if s["passage_id"] == wanted["recurring"][1].id}
        again = tmp_path / "again.qdpx"
        export_qdpx(store, again, include_pdfs=False)
        assert plan_import(store, again).corrections == []  # the changes are in the store: nothing new
    second, second_texts = read_zip(again)
    by_forskare = {(name, start, end) for (_, start, end, name, user) in codings(second) if user == "Forskare"}
    assert {name for name, _, _ in by_forskare} == {"Central nivå", "Kronofogden", issue["label"]}
    cut = {  # each of Forskare's codings sits on the passage it was made on (or a statement in it)
        name: fold_whitespace(text[start:end])
        for source in second.iterfind("q:Sources/q:TextSource", X)
        for text in [source_text(source, second_texts)]
        for (name, start, end) in by_forskare
        if fold_whitespace(text[start:end]) in passages
    }
    assert passages[cut["Central nivå"]].text_hash == hashes["level"]
    assert passages[cut["Kronofogden"]].text_hash == hashes["actor"]


def test_recurring_issues_nest_under_their_theme(demo_store, tmp_path, schema):
    """Issue 12's records (id, label, themes, quotes) become child codes of their theme; a quote
    inside a passage is coded as its own statement."""
    deficiency = [p for p in demo_store.passages() if p.kind == "deficiency" and p.themes][:3]
    first = deficiency[0]
    sentence = first.text.split(". ")[0] + "."
    records = [
        {"id": "r1", "label": "Testproblem", "themes": [first.themes[0]], "status": "återkommande",
         "passage_ids": [p.id for p in deficiency],
         "quotes": [{"passage_id": first.id, "text": sentence}]},
    ]  # fmt: skip
    texts = {p.id: p.text for p in demo_store.passages()}
    issues = recurring_issues_from_records(records, texts)
    out = tmp_path / "recurring.qdpx"
    export_qdpx(demo_store, out, recurring=issues, include_pdfs=False)
    root, files = read_zip(out)
    assert schema.validate(etree.ElementTree(root)), schema.error_log
    issue_code = root.find(".//q:Code[@name='Testproblem']", X)
    assert issue_code.getparent().get("name") != "Teman"  # under its theme, not at the top
    coded = [(s, n) for (s, a, b, n, _) in codings(root) if n == "Testproblem"]
    assert len(coded) == 3
    statement = next(s for s in root.iterfind(".//q:PlainTextSelection", X) if s.get("name") == "Påstående: Testproblem")
    source = statement.getparent()
    text = source_text(source, files)
    assert fold_whitespace(text[int(statement.get("startPosition")) : int(statement.get("endPosition"))]) == fold_whitespace(sentence)
    with zipfile.ZipFile(out) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".pdf")]


# ------------------------------------------------------------------ CLI and bad input
def test_cli_export_writes_a_project(demo_db, tmp_path, capsys):
    out = tmp_path / "cli.qdpx"
    assert main(["export", "qdpx", "--db", str(demo_db), "-o", str(out), "--no-pdf"]) == 0
    said = capsys.readouterr().out
    assert "rapporter" in said and "markeringar" in said
    assert zipfile.is_zipfile(out)
    assert main(["export", "qdpx", "--db", str(demo_db)]) == 2
    assert "-o" in capsys.readouterr().err
    assert main(["export", "qdpx", "--db", str(demo_db), "-o", str(tmp_path / "saknas" / "x.qdpx")]) == 2
    assert "kan inte skriva" in capsys.readouterr().err
    assert not list(tmp_path.glob(".*.tmp"))


def _import(path: Path, db: Path, capsys) -> tuple[int, str]:
    code = main(["import", "qdpx", str(path), "--db", str(db)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _state(db: Path) -> tuple:
    with sqlite3.connect(db) as conn:
        return (
            conn.execute("SELECT COUNT(*) FROM corrections").fetchone()[0],
            conn.execute("SELECT COUNT(*) FROM imported_examples").fetchone()[0],
        )


def test_unreadable_files_exit_2_in_swedish(writable_db, tmp_path, capsys, exported):
    before = _state(writable_db)
    not_zip = tmp_path / "a.qdpx"
    not_zip.write_text("hej", encoding="utf-8")
    code, said = _import(not_zip, writable_db, capsys)
    assert code == 2 and "inte en zip-fil" in said and "Traceback" not in said

    no_qde = tmp_path / "b.qdpx"
    with zipfile.ZipFile(no_qde, "w") as archive:
        archive.writestr("sources/x.txt", "text")
    code, said = _import(no_qde, writable_db, capsys)
    assert code == 2 and "saknar project.qde" in said

    broken = tmp_path / "c.qdpx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("project.qde", "<Project xmlns='urn:QDA-XML:project:1.0'")
    code, said = _import(broken, writable_db, capsys)
    assert code == 2 and "inte giltig XML" in said

    invalid = tmp_path / "d.qdpx"
    root, texts = read_zip(exported)
    root.find(".//q:PlainTextSelection", X).attrib.pop("startPosition")
    write_zip(invalid, root, texts)
    code, said = _import(invalid, writable_db, capsys)
    assert code == 2 and "följer inte REFI-QDA-schemat" in said and "startPosition" in said

    code, said = _import(tmp_path / "finns-inte.qdpx", writable_db, capsys)
    assert code == 2 and "finns inte" in said
    assert _state(writable_db) == before


def test_skipped_codings_exit_1_and_the_rest_is_kept(exported, writable_db, tmp_path, capsys, demo_store):
    root, texts = read_zip(exported)
    sources = root.findall("q:Sources/q:TextSource", X)
    # a source whose text matches no stored report, and one whose stored report has other text
    foreign, changed = sources[0], sources[3]
    foreign.set("name", "okänd-rapport.pdf")
    for source in (foreign, changed):
        texts["sources/" + source.get("plainTextPath").removeprefix("internal://")] = "En helt annan text."
    # a selection outside its text, on the second source
    outside = sources[1].find("q:PlainTextSelection", X)
    outside.set("startPosition", "999999")
    outside.set("endPosition", "1000005")
    # and one real change on the third source, which must still be saved
    third = sources[2]
    text = source_text(third, texts)
    codes = {c.get("name"): c.get("guid") for c in root.iterfind(".//q:CodeBook//q:Code", X)}
    passages = {fold_whitespace(p.text): p for p in demo_store.passages()}

    def passage_at(selection):
        return passages[fold_whitespace(text[int(selection.get("startPosition")) : int(selection.get("endPosition"))])]

    selection = next(s for s in third.iterfind("q:PlainTextSelection", X) if "bemotande" not in passage_at(s).themes)
    coding = etree.Element(f"{{{NS}}}Coding", guid=str(uuid.uuid4()))
    etree.SubElement(coding, f"{{{NS}}}CodeRef", targetGUID=codes["Bemötande"])
    selection.find("q:NoteRef", X).addprevious(coding)
    bad = tmp_path / "bad.qdpx"
    write_zip(bad, root, texts)
    code, said = _import(bad, writable_db, capsys)
    assert code == 1
    assert "Källan 'okänd-rapport.pdf' matchar ingen rapport i databasen" in said
    assert f"Källan '{changed.get('name')}' har en annan text än rapporten" in said
    assert "ligger utanför texten" in said and "Traceback" not in said
    with Store(writable_db, readonly=True) as store:  # the good change went in
        assert store.corrections()[(passage_at(selection).text_hash, "theme")] == "bemotande"


def _with_codings(exported: Path, tmp_path: Path, code_name: str, n: int, *keys: str) -> Path:
    """The export with `code_name` (and our codes with `keys`, such as "recurring:<id>") coded
    on its first n passages' selections by an unnamed user."""
    root, texts = read_zip(exported)
    codes = {c.get("name"): c.get("guid") for c in root.iterfind(".//q:CodeBook//q:Code", X)}
    passage_selections = [s for s in root.iterfind(".//q:PlainTextSelection", X) if s.find("q:NoteRef", X) is not None]
    for selection in passage_selections[:n]:
        for target in [codes[code_name], *(guid("code:" + key) for key in keys)]:
            coding = etree.Element(f"{{{NS}}}Coding", guid=str(uuid.uuid4()))
            etree.SubElement(coding, f"{{{NS}}}CodeRef", targetGUID=target)
            selection.find("q:NoteRef", X).addprevious(coding)
    changed = tmp_path / "changed.qdpx"
    write_zip(changed, root, texts)
    return changed


def test_a_failing_write_leaves_the_store_as_it_was(exported, writable_db, tmp_path, monkeypatch):
    changed = _with_codings(exported, tmp_path, "Bemötande", 20)
    before = _state(writable_db)

    def fail(conn):
        raise sqlite3.OperationalError("disk I/O error")

    with Store(writable_db) as store:
        plan = plan_import(store, changed)
        assert len(plan.corrections) > 1
        monkeypatch.setattr(Store, "_apply_corrections", staticmethod(fail))
        with pytest.raises(sqlite3.OperationalError):
            apply_import(store, plan)
    assert _state(writable_db) == before


def _everything(db: Path) -> tuple:
    with sqlite3.connect(db) as conn:
        return _state(db) + (
            conn.execute("SELECT COUNT(*) FROM correction_authors").fetchone()[0],
            conn.execute("SELECT COUNT(*), COUNT(DISTINCT issue_id), GROUP_CONCAT(issue_id) FROM statements").fetchone(),
            conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone(),
        )


def test_an_import_inside_a_transaction_is_all_or_nothing(exported, writable_db, tmp_path, monkeypatch, demo_store):
    """The import (corrections, examples, the regrouped recurring issues) is part of the caller's
    transaction: undone with it, and undone by itself when its own last step fails."""
    issue = demo_store.issues()[0]["id"]
    changed = _with_codings(exported, tmp_path, "Bemötande", 20, f"recurring:{issue}", "level:central")
    before = _everything(writable_db)
    with Store(writable_db) as store:
        plan = plan_import(store, changed)
        fields = {field.split(":")[0] for _, field, _, _ in plan.corrections}
        assert fields == {"theme", "recurring", "level"}, plan.skipped
        # 1. the caller's transaction fails after the import went through: none of it lands
        with pytest.raises(RuntimeError):
            with store.transaction() as conn:
                conn.execute("INSERT INTO meta(key, value) VALUES ('caller', 'x')")
                apply_import(store, plan)
                raise RuntimeError("the caller's next step fails")
        assert _everything(writable_db) == before and store.get_meta("caller") is None
        # 2. the regrouping, the import's last step, fails: its corrections are undone too
        import systemfel.exchange.qdpx_read as qdpx_read

        def fail(store):
            raise sqlite3.OperationalError("disk I/O error")

        with monkeypatch.context() as patch:
            patch.setattr(qdpx_read, "reassemble", fail)
            with pytest.raises(sqlite3.OperationalError):
                with store.transaction():
                    apply_import(store, plan)
        assert _everything(writable_db) == before
        # 3. and when all goes well it lands whole, with the caller's own write
        with store.transaction() as conn:
            conn.execute("INSERT INTO meta(key, value) VALUES ('caller', 'x')")
            apply_import(store, plan)
        after = _everything(writable_db)
        assert after[0] == before[0] + len(plan.corrections) and store.get_meta("caller") == "x"
        assert after[3] != before[3]  # the statements were regrouped with the new members


def test_dry_run_changes_nothing(exported, writable_db, tmp_path, capsys):
    changed = _with_codings(exported, tmp_path, "Väntetider", 5)
    before = _state(writable_db)
    assert main(["import", "qdpx", str(changed), "--db", str(writable_db), "--dry-run"]) == 0
    said = capsys.readouterr().out
    assert "skulle sparas" in said and "rättelse: " in said  # there was something to save
    assert _state(writable_db) == before


# ------------------------------------------------------------------ explorer
def test_the_document_view_offers_the_project_for_download(demo_db, monkeypatch, schema):
    at = start(demo_db, monkeypatch, "dokument")
    buttons = [b for b in at.get("download_button") if b.proto.id and "qdpx_export" in b.proto.id]
    assert len(buttons) == 1 and buttons[0].proto.label == "Projektfil (.qdpx)"
    assert any("REFI-QDA" in e.label for e in at.expander)
    data = qdpx_download(demo_db)  # what the button serves when clicked
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = etree.fromstring(archive.read("project.qde"))
    assert schema.validate(etree.ElementTree(root)), schema.error_log
    with Store(demo_db, readonly=True) as store:
        selections = list(root.iterfind(".//q:PlainTextSelection", X))
        assert len([s for s in selections if s.find("q:NoteRef", X) is not None]) == len(store.passages())
        # the store's recurring issues come along by default, each a child code of its theme
        issues = store.issues()
        in_book = codes_by_guid(root)
        assert issues and all(guid(f"code:recurring:{i['id']}") in in_book for i in issues)
        assert all(in_book[guid(f"code:recurring:{i['id']}")].getparent().get("name") != "Teman"
                   for i in issues if i["themes"])  # fmt: skip
        assert any(s.get("name").startswith("Påstående: ") for s in selections)
