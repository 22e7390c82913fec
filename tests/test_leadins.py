"""Lead-in lines, list structure, tables and page furniture on reports in the bullet-list style.

The test report (tests/solvik.py) is written for these tests and rendered here; the small
PDFs below each hold one bad-input case of issue 13.
"""
from __future__ import annotations

import json

import pytest

from systemfel.base.records import LEAD_IN, DocumentMeta, PassageLabels
from systemfel.base.textnorm import normalize_for_match
from systemfel.ingest import read_document
from systemfel.nlp.evaluate import evaluate_labels, label_corpus
from systemfel.nlp.reader import PassageReader
from tests import solvik
from tests.pdfgen import ReportPdf

HEADER = "Personligt ombud Kustbygd – Årsrapport 2024"


@pytest.fixture(scope="module")
def reader():
    return PassageReader()


@pytest.fixture(scope="module")
def solvik_passages(tmp_path_factory, reader):
    pdf = solvik.render_pdf(tmp_path_factory.mktemp("solvik") / f"{solvik.DOC}.pdf")
    return reader.keep_passages(read_document(pdf).passages)


def _gold(path=solvik.GOLD) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _holding(passages, phrase: str):
    needle = normalize_for_match(phrase)
    return [p for p in passages if needle in normalize_for_match(p.text)]


def _read(reader, path):
    passages = reader.keep_passages(read_document(path).passages)
    return passages, reader.label(passages)


# ------------------------------------------------------------- the test report
def test_test_report_keeps_every_gold_key_in_one_passage(solvik_passages):
    for row in _gold():
        assert len(_holding(solvik_passages, row["key"])) == 1, row["key"]


def test_test_report_has_no_lead_in_header_row_or_furniture_passage(solvik_passages):
    # the footer "Sida 2|av 3" straddles the gutter of page 2: the columns cut it, "av 3" is left over
    texts = [p.text for p in solvik_passages]
    for lead_in in ("Brister på handläggarnivå:", "Brister på lokal nivå:", "Följande brister har rapporterats under året:",
                    "Brister på central nivå:", "Psykiatrin:", "2. Arbetsförmedlingen:", "Övriga synpunkter från ombuden:"):
        assert lead_in not in texts
    assert not any(p.block_kind == LEAD_IN for p in solvik_passages)
    assert "Område | Beskrivning av bristen | Nivå" not in texts
    assert not any(t.startswith("Tabellen nedan visar") for t in texts)
    for text in texts:
        assert not text.startswith(("av ", "Sida ")), text
        assert solvik.HEADER not in text


def test_test_report_items_carry_their_lead_ins_as_context(solvik_passages):
    [item] = _holding(solvik_passages, "kallar till möten med kort varsel")
    assert item.context == "Brister på lokal nivå: Följande brister har rapporterats under året: Psykiatrin:"
    [row] = _holding(solvik_passages, "Klienter utan e-legitimation kan inte boka tid")
    assert row.context.endswith("Område | Beskrivning av bristen | Nivå")
    assert "e- legitimation" not in row.text
    [cell] = _holding(solvik_passages, "Återkrav från Försäkringskassan drabbar")  # "Försäkrings-" + "kassan"
    assert cell.block_kind == "table"


def test_test_report_targets(reader, solvik_passages):
    labelled = label_corpus(reader, {solvik.DOC: solvik_passages})
    total = evaluate_labels(_gold(), labelled)["total"]
    assert total["uncovered_keys"] == 0
    assert total["deficiency_recall"] == 1.0
    assert total["exclusion"] == 1.0
    assert total["level_accuracy"] >= 0.92
    assert total["actor_recall"] >= 0.90


def test_test_report_is_not_among_the_shipped_labelled_examples():
    from systemfel.models.labelled import DEFAULT_LABELLED

    shipped = DEFAULT_LABELLED.read_text(encoding="utf-8")
    assert solvik.DOC not in shipped
    for row in _gold():
        assert normalize_for_match(row["key"]) not in normalize_for_match(shipped)


# ------------------------------------------------------------------ bad input
def test_lead_in_without_items_is_no_passage_and_leaks_no_context(tmp_path, reader):
    report = ReportPdf(tmp_path / "empty-list.pdf")
    report.heading("Brister")
    report.paragraph(["Klienterna får vänta länge på en första tid hos psykiatrin,", "ofta mer än ett halvår."])
    report.line("Övriga iakttagelser under året:")
    report.heading("Verksamheten")
    report.paragraph(["Ombuden träffar sina klienter i hemmet eller på kontoret", "och arbetar på klientens uppdrag."])
    passages, labels = _read(reader, report.save())
    texts = [p.text for p in passages]
    assert "Övriga iakttagelser under året:" not in texts
    [after] = _holding(passages, "Ombuden träffar sina klienter")
    assert after.context == ""
    assert not any(lab.kind == "deficiency" and "iakttagelser" in p.text for p, lab in zip(passages, labels))


def test_lead_in_at_the_foot_of_a_page_leads_the_items_on_the_next(tmp_path, reader):
    report = ReportPdf(tmp_path / "page-break.pdf", header=HEADER)
    report.heading("Brister och systemfel")
    for n in range(8):
        report.paragraph([f"Stycke {n + 1} om verksamhetens arbete med klienter under året, med", "nätverk och samverkan."])
    report._y = 90  # the lead-in sits just above the footer
    report.line("Brister på central nivå:")
    report.new_page()
    report.list_item(["Försäkringskassan drar in sjukpenningen när intyget", "kommer in för sent."])
    report.list_item(["Arbetsförmedlingen kräver aktivitetsrapporter som", "klienten inte klarar att lämna."])
    passages, labels = _read(reader, report.save())
    items = [(p, lab) for p, lab in zip(passages, labels) if p.page == 2]
    assert len(items) == 2
    for passage, label in items:
        assert passage.context == "Brister på central nivå:"
        assert label.kind == "deficiency" and label.level == "central"
    assert "Brister på central nivå:" not in [p.text for p in passages]


def test_nested_bullets_inherit_every_lead_in_above_them(tmp_path, reader):
    report = ReportPdf(tmp_path / "nested.pdf")
    report.heading("Brister och systemfel")
    report.line("Brister på lokal nivå:")
    report.list_item(["Vårdcentralen:"])
    report.list_item(["stänger sin tidsbokning redan klockan nio,"], marker="\u2013", level=1)
    report.list_item(["ringer inte tillbaka trots utlovad återuppringning."], marker="\u2013", level=1)
    report.list_item(["Boendestödet har långa köer och saknar personal på helger."])
    passages, labels = _read(reader, report.save())
    by_text = {p.text: (p, lab) for p, lab in zip(passages, labels)}
    nested, label = by_text["stänger sin tidsbokning redan klockan nio,"]
    assert nested.context == "Brister på lokal nivå: Vårdcentralen:"
    assert label.level == "lokal" and "primärvården" in label.actors
    sibling, _ = by_text["Boendestödet har långa köer och saknar personal på helger."]
    assert sibling.context == "Brister på lokal nivå:"  # the item lead-in ends with its nested items
    assert "Vårdcentralen:" not in by_text


def test_numbered_lists_with_nested_letters(tmp_path, reader):
    report = ReportPdf(tmp_path / "numbered.pdf")
    report.heading("Brister och systemfel")
    report.line("Brister på handläggarnivå:")
    report.list_item(["Handläggaren svarar inte på klientens frågor om beslutet."], marker="1.")
    report.list_item(["Försäkringskassan:"], marker="2.")
    report.list_item(["ställer frågor som klienten inte förstår,"], marker="a)", level=1)
    report.list_item(["avslutar samtal innan ombudet hunnit ringa in."], marker="b)", level=1)
    report.list_item(["Beslut skickas utan förklaring av hur de kan överklagas."], marker="3.")
    passages, labels = _read(reader, report.save())
    texts = [p.text for p in passages]
    assert "a) ställer frågor som klienten inte förstår," in texts
    assert "b) avslutar samtal innan ombudet hunnit ringa in." in texts
    assert not any(t.startswith("2. Försäkringskassan:") for t in texts)
    for passage, label in zip(passages, labels):
        assert label.level == "handlaggare", passage.text
        if passage.text.startswith(("a)", "b)")):
            assert passage.context == "Brister på handläggarnivå: 2. Försäkringskassan:"
            assert "Försäkringskassan" in label.actors


def test_a_colon_inside_an_ordinary_sentence_is_no_lead_in(tmp_path, reader):
    report = ReportPdf(tmp_path / "colon.pdf")
    report.heading("Brister och systemfel")
    report.paragraph(["Ombuden ser ett mönster: klienter som saknar bank-ID stängs ute från", "allt fler tjänster."])
    report.list_item(["Ett fristående listobjekt om långa väntetider i psykiatrin."])
    passages, labels = _read(reader, report.save())
    [sentence] = _holding(passages, "Ombuden ser ett mönster: klienter som saknar bank-ID")
    assert sentence.block_kind == "paragraph" and sentence.context == ""
    [item] = _holding(passages, "Ett fristående listobjekt")
    assert item.context == ""


def test_ruled_table_header_is_context_and_level_column_decides(tmp_path, reader):
    report = ReportPdf(tmp_path / "table.pdf")
    report.heading("Rapporterade brister")
    report.line("Tabellen visar de brister som rapporterats under året:")
    report.gap(8)
    report.table([
        ["Område", "Beskrivning av bristen", "Nivå"],
        ["Digitalisering", ["Klienter utan e-", "legitimation kan inte logga in."], "Central"],
        ["Boende", ["Kommunen saknar lägenheter för", "personer med psykisk ohälsa."], "Lokal"],
        ["Bemötande", ["Handläggaren avbröt klienten", "och höjde rösten."], "Handläggare"],
    ], [100.0, 250.0, 90.0])
    passages, labels = _read(reader, report.save())
    rows = {p.text.split(" | ")[0]: (p, lab) for p, lab in zip(passages, labels) if p.block_kind == "table"}
    assert set(rows) == {"Digitalisering", "Boende", "Bemötande"}
    assert "e-legitimation" in rows["Digitalisering"][0].text
    assert {name: lab.level for name, (_, lab) in rows.items()} == {
        "Digitalisering": "central", "Boende": "lokal", "Bemötande": "handlaggare"}
    assert all(lab.kind == "deficiency" for _, lab in rows.values())
    assert not any(p.text.startswith(("Tabellen visar", "Område |")) for p in passages)


def test_a_problem_under_a_measures_heading_is_a_deficiency_and_a_measure_is_not(tmp_path, reader):
    report = ReportPdf(tmp_path / "measures.pdf")
    report.heading("Åtgärder")
    report.paragraph(["Ledningsgruppen har bjudit in regionen till ett möte om samordnad", "individuell plan under våren."])
    report.paragraph(["Trots påpekanden saknas fortfarande en rutin för utskrivning från", "slutenvården, och klienter kommer hem utan att boendestödet vet om det."])
    report.heading("Ledningsgruppens åtgärder")
    report.paragraph(["Kommunen har tagit fram en ny rutin för boendestöd som har lett till", "förbättringar för klienterna."])
    passages, labels = _read(reader, report.save())
    kinds = {p.text[:20]: lab.kind for p, lab in zip(passages, labels)}
    assert kinds["Trots påpekanden sak"] == "deficiency"
    assert kinds["Ledningsgruppen har "] != "deficiency"
    assert kinds["Kommunen har tagit f"] == "good_example"


def test_a_lead_in_that_states_a_problem_stays_a_passage(reader):
    from systemfel.base.records import Passage

    problem = Passage("Klienter som saknar bank-ID kan inte:", 1, [], LEAD_IN)
    announcing = Passage("Följande brister har rapporterats under året:", 1, [], LEAD_IN)
    kept = reader.keep_passages([problem, announcing])
    assert [p.text for p in kept] == [problem.text]


def test_context_is_stored_and_exported(tmp_path):
    from systemfel.base.records import Passage
    from systemfel.store import Store

    passage = Passage("stänger tidsbokningen klockan nio.", 2, ["Brister"], "bullet", context="Brister på lokal nivå:")
    with Store(tmp_path / "ctx.db") as store:
        store.replace_document(path="x.pdf", sha256="ab", meta=DocumentMeta(org="X"), pages=2, blocks=[],
                               passages=[passage], labels=[PassageLabels("deficiency", 0.9, [], "lokal")])
        [stored] = store.passages()
    assert stored.context == "Brister på lokal nivå:"
    from systemfel.cli import EXPORT_FIELDS

    assert "context" in EXPORT_FIELDS


# ------------------------------------------------------------------ reported figures
def _figure_rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_figures_keep_parts_wholes_slash_pairs_and_levels_and_skip_stories(reader, solvik_passages):
    from systemfel.nlp.evaluate import evaluate_figures

    found = reader.figures(solvik_passages, year=2025)
    got = {(f.subject, f.value, f.qualifier) for f in found}
    assert ("klienter", 31.0, "av 96") in got and ("klienter", 96.0, "") in got
    assert ("hinder/brister", 52.0, "") in got
    assert ("hinder/brister", 17.0, "handläggarnivå") in got and ("hinder/brister", 14.0, "central nivå") in got
    assert not any(f.value == 143 for f in found)  # a queue position in a quoted story
    report = evaluate_figures(_figure_rows(solvik.FIGURE_GOLD), {solvik.DOC: found})
    assert report["precision"] == 1.0 and report["recall"] == 1.0


def test_figures_of_the_dev_reports_against_their_gold(reader):
    from tests.conftest import CORPUS, DATA
    from systemfel.nlp.evaluate import evaluate_figures

    years = {"po-skane-2025": 2025, "po-varmland-2021": 2021, "po-varmland-2024": 2024,
             "socialstyrelsen-lagesrapport-2017": 2017}
    found = {doc: reader.figures(reader.keep_passages(read_document(CORPUS / f"{doc}.pdf").passages), year=year)
             for doc, year in years.items()}
    report = evaluate_figures(_figure_rows(DATA / "dev-figures.jsonl"), found)
    assert report["recall"] >= 0.95
    # every headline count of the seeds, with its role
    for doc, figure in [("po-skane-2025", ("systemfel", 147.0, "")), ("po-skane-2025", ("systemfel", 75.0, "lokal nivå")),
                        ("po-varmland-2021", ("hinder/brister", 135.0, "")), ("po-varmland-2021", ("uppdrag", 137.0, "av 726")),
                        ("po-varmland-2021", ("klienter", 175.0, "")), ("po-varmland-2024", ("händelser", 84.0, "")),
                        ("po-varmland-2024", ("uppdrag", 1338.0, ""))]:
        assert figure in {(f.subject, f.value, f.qualifier) for f in found[doc]}, (doc, figure)
    assert not any(f.value == 187 for f in found["po-varmland-2021"])  # "187 samtal väntar före mig"
    # counts about others are not the report's own: the county's 16 kommuner, another year's
    # national figures, a petition's signatories under "Åtgärder/resultat"
    assert report["precision"] >= 0.95
    assert not any(f.subject == "kommuner" and f.value == 16 for doc in found for f in found[doc])
    assert not any(f.value in (318, 245) for f in found["po-varmland-2024"])
    assert not any(f.value == 200 for f in found["socialstyrelsen-lagesrapport-2017"])


def test_a_file_whose_only_text_is_a_lead_in_is_reported_not_stored_empty(tmp_path):
    """Nothing is left to store once the lone lead-in line goes: the build says so for that file
    and stores the report beside it."""
    from systemfel.pipeline import BuildOptions, build
    from systemfel.store import Store

    lone = ReportPdf(tmp_path / "lone.pdf")
    lone.line("Följande brister har rapporterats under året:")
    good = ReportPdf(tmp_path / "good.pdf")
    good.heading("Brister och systemfel")
    good.paragraph(["Klienterna får vänta länge på en första tid hos psykiatrin,", "ofta mer än ett halvår."])
    with Store(tmp_path / "lone.db") as store:
        summary = build(store, [lone.save(), good.save()], options=BuildOptions(analyse=False, workers=0))
        docs = {d.file: d for d in store.documents()}
    by_file = {f.path.rsplit("/", 1)[-1]: f for f in summary.files}
    assert by_file["lone.pdf"].failed and "Ingen brödtext" in by_file["lone.pdf"].message
    assert by_file["good.pdf"].status == "new"
    assert docs["good.pdf"].n_passages == 1
    assert "lone.pdf" not in docs or (docs["lone.pdf"].status == "failed" and docs["lone.pdf"].n_passages == 0)
