"""PDF ingestion on generated report layouts, bad files, the demo corpus and real-world PDFs."""
from __future__ import annotations

import json
import os

import pytest

from systemfel.ingest import read_document
from systemfel.ingest.errors import IngestError
from systemfel.ingest.ocr import OcrSettings
from systemfel.base.records import BLOCK_KINDS
from systemfel.base.textnorm import normalize_for_match
from tests.conftest import CORPUS, DATA, SHARED
from tests.pdfgen import ReportPdf, image_only_pdf, simple_pdf

HEADER = "Personligt ombud Norrland – Erfarenhetsrapport 2023"
FOOTER = "Personligt ombud Norrland · Box 12 · 901 00 Umeå"


def _passage_texts(parsed) -> list[str]:
    return [p.text for p in parsed.passages]


def _find(parsed, phrase: str):
    """The passages that hold ``phrase`` (normalised)."""
    needle = normalize_for_match(phrase)
    return [p for p in parsed.passages if needle in normalize_for_match(p.text)]


# ------------------------------------------------------------------ layouts
def test_two_columns_are_read_column_by_column(tmp_path):
    report = ReportPdf(tmp_path / "two-col.pdf", header=HEADER, columns=2)
    report.heading("Tillgänglighet")
    left = [
        "Klienterna beskriver att telefonköerna till",
        "Försäkringskassan är mycket långa och att",
        "ingen ringer tillbaka trots att de har bokat",
        "en tid för återuppringning.",
    ]
    report.paragraph(left)
    report.paragraph(["Många ger upp innan de får svar och söker", "då ingen ersättning alls under våren."])
    report.next_column()
    right = [
        "Vårdcentralen stänger sin tidsbokning redan",
        "klockan nio på morgonen, vilket gör att den",
        "som har svårt att komma upp aldrig får tid.",
    ]
    report.paragraph(right)
    report.paragraph(["Ombuden har lyft frågan med regionen men", "inget har ändrats under året."])
    parsed = read_document(report.save())
    texts = _passage_texts(parsed)
    assert " ".join(left) in texts
    assert " ".join(right) in texts
    order = [next(i for i, t in enumerate(texts) if t.startswith(s)) for s in ("Klienterna", "Många", "Vårdcentralen", "Ombuden")]
    assert order == sorted(order)


def test_line_end_hyphens_are_joined_but_compound_hyphens_stay(tmp_path):
    report = ReportPdf(tmp_path / "hyphens.pdf")
    report.heading("Samverkan")
    report.paragraph(
        [
            "Klienten har under lång tid haft kontakt med Arbetsmarknads-",
            "och socialförvaltningen utan att någon tagit ansvar för välfärds-",
            "samhällets insatser. Ett SIP-",
            "möte bokades men ställdes in. Handläggaren på hälso- och sjukvården",
            "skickade ärendet vidare till Försäkrings-",
            "kassan, som återkom efter flera månader.",
        ]
    )
    parsed = read_document(report.save())
    text = parsed.passages[0].text
    assert "Arbetsmarknads- och socialförvaltningen" in text
    assert "välfärdssamhällets" in text
    assert "SIP-möte" in text
    assert "hälso- och sjukvården" in text
    assert "Försäkringskassan," in text
    assert "- " not in text.replace("Arbetsmarknads- och", "").replace("hälso- och", "")


def test_running_headers_footers_and_page_numbers_are_removed(tmp_path):
    body = [
        "Ombudet följde med klienten till mottagningen flera gånger under hösten.",
        "Efter varje besök fick klienten en ny läkare och fick berätta allt från början.",
    ]
    path = simple_pdf(tmp_path / "furniture.pdf", body, pages=5, header=HEADER, footer=FOOTER)
    parsed = read_document(path)
    joined = normalize_for_match(" ".join(_passage_texts(parsed)))
    assert "erfarenhetsrapport 2023" not in joined
    assert "umeå" not in joined
    for text in _passage_texts(parsed):
        assert not text.strip().isdigit()
    assert sum(1 for t in _passage_texts(parsed) if t == body[0]) == 5
    assert all(b.heading_path == [f"Avsnitt {b.page}"] for b in parsed.blocks if b.kind == "paragraph")


def test_quote_box_stays_whole_and_the_paragraph_around_it_continues(tmp_path):
    report = ReportPdf(tmp_path / "quote.pdf", header=HEADER)
    report.heading("Bemötande")
    report.paragraph(["Ombuden möter ofta klienter som har fått ett kort och otydligt besked av", "handläggaren, vilket kan göra att de blir mer"])
    quote = [
        "”Klient ringer handläggaren på ekonomiskt bistånd för att fråga om sitt beslut.",
        "Handläggaren svarar att hon inte har tid och lägger på. Klienten vet fortfarande",
        "inte varför ansökan avslogs.”",
    ]
    report.quote_box(quote)
    report.paragraph(["oroliga och avstår från att söka hjälp nästa gång. Det är en brist som", "ombuden rapporterar varje år."])
    parsed = read_document(report.save())
    paragraph = _find(parsed, "vilket kan göra att de blir mer oroliga och avstår")
    assert len(paragraph) == 1 and paragraph[0].block_kind == "paragraph"
    quotes = [p for p in parsed.passages if p.block_kind == "quote"]
    assert [q.text for q in quotes] == [" ".join(quote)]
    assert quotes[0].heading_path == ["Bemötande"]



def test_ruled_table_becomes_one_block_per_row_in_reading_order(tmp_path):
    report = ReportPdf(tmp_path / "table.pdf")
    report.heading("Rapporterade brister per län")
    report.paragraph(["Tabellen visar de brister som ombuden rapporterade under året."])
    rows = [
        ["Län", "Uppgiven brist", "Antal"],
        ["Blekinge", "Utebliven utbetalning av sjukpenning", "12"],
        ["Dalarna", "Avslag på sjukersättning", ""],
        ["Gävleborg", "Lång väntan på psykiatrin", "4"],
    ]
    report.table(rows, widths=[90, 260, 60])
    report.paragraph(["Efter tabellen fortsätter texten om samverkan."])
    report.quote_box(["”Jag väntade i tre månader på ett beslut.”"])
    parsed = read_document(report.save())
    kinds = [b.kind for b in parsed.blocks]
    assert kinds == ["heading", "paragraph", "table", "table", "table", "table", "paragraph", "quote"]
    table = [b for b in parsed.blocks if b.kind == "table"]
    assert [b.text for b in table] == [" | ".join(cell for cell in row if cell) for row in rows]
    assert all(b.heading_path == ["Rapporterade brister per län"] for b in table)
    # the cells are not read a second time as body text
    assert sum("Blekinge" in p.text for p in parsed.passages) == 1
    assert [p.block_kind for p in parsed.passages if "Dalarna" in p.text] == ["table"]

def test_paragraph_across_a_page_break_is_one_block(tmp_path):
    report = ReportPdf(tmp_path / "pagebreak.pdf", header=HEADER, footer=FOOTER)
    report.heading("Ekonomi")
    for _ in range(40):
        report.line("Fyllnadstext om verksamheten som beskriver året som gått och vad ombuden gjort.")
    report.gap(8)
    report.line("Klienten fick ett återkrav från Försäkringskassan på flera tusen kronor och")
    report.new_page()
    report.line("hade ingen möjlighet att betala tillbaka, så skulden gick vidare till Kronofogden.")
    report.gap(8)
    report.line("Nästa stycke börjar här och handlar om något annat.")
    parsed = read_document(report.save())
    block = next(b for b in parsed.blocks if "återkrav" in b.text)
    assert "kronor och hade ingen möjlighet" in block.text
    assert (block.page, block.page_end) == (1, 2)
    passage = _find(parsed, "kronor och hade ingen möjlighet att betala")[0]
    assert passage.page == 1


def test_footnote_is_its_own_block_and_does_not_split_the_paragraph(tmp_path):
    report = ReportPdf(tmp_path / "footnote.pdf", header=HEADER)
    report.heading("Regelverk")
    for _ in range(38):
        report.line("Inledande text som fyller sidan med beskrivningar av verksamhetens arbete.")
    report.gap(8)
    report.line("Enligt förordningen1 ska kommunen samverka med regionen, men i praktiken")
    report.footnote("1 Förordning (2013:522) om statsbidrag till kommuner som bedriver verksamhet med personligt ombud.")
    report.new_page()
    report.line("saknas ofta en gemensam plan för klienten.")
    parsed = read_document(report.save())
    footnotes = [b for b in parsed.blocks if b.kind == "footnote"]
    assert len(footnotes) == 1 and footnotes[0].text.startswith("1 Förordning (2013:522)")
    paragraph = next(b for b in parsed.blocks if "samverka med regionen" in b.text)
    assert paragraph.kind == "paragraph"
    assert "i praktiken saknas ofta en gemensam plan för klienten." in paragraph.text
    assert "Förordning (2013:522)" not in paragraph.text


def test_headings_form_a_path_by_font_size_and_bullets_are_items(tmp_path):
    report = ReportPdf(tmp_path / "headings.pdf")
    report.heading("Brister och systemfel", size=18)
    report.heading("Försäkringskassan", size=14)
    report.paragraph(["Vi har sett följande brister under året:"])
    report.bullets([
        ["långa handläggningstider för sjukpenning, som gör att", "klienten står utan inkomst"],
        ["otydliga beslut utan förklaring"],
    ])  # fmt: skip
    report.heading("Arbetsförmedlingen", size=14)
    report.paragraph(["Klienterna skrivs ut från programmen utan att någon plan finns."])
    parsed = read_document(report.save())
    kinds = {b.kind for b in parsed.blocks}
    assert kinds <= set(BLOCK_KINDS)
    bullets = [p for p in parsed.passages if p.block_kind == "bullet"]
    assert [b.text for b in bullets] == [
        "långa handläggningstider för sjukpenning, som gör att klienten står utan inkomst",
        "otydliga beslut utan förklaring",
    ]
    assert bullets[0].heading_path == ["Brister och systemfel", "Försäkringskassan"]
    last = _find(parsed, "skrivs ut från programmen")[0]
    assert last.heading_path == ["Brister och systemfel", "Arbetsförmedlingen"]
    assert all("Försäkringskassan" != p.text for p in parsed.passages)


def test_pdf_info_gives_title_org_and_year(tmp_path):
    path = simple_pdf(
        tmp_path / "x.pdf", ["Text om verksamheten under året."], title="Erfarenhetsrapport 2022", author="Personligt ombud Gävle"
    )
    meta = read_document(path).pdf_meta
    assert (meta.title, meta.org, meta.year) == ("Erfarenhetsrapport 2022", "Personligt ombud Gävle", 2022)


# ---------------------------------------------------------------- bad files
def test_empty_file(tmp_path):
    path = tmp_path / "tom.pdf"
    path.write_bytes(b"")
    with pytest.raises(IngestError) as info:
        read_document(path)
    assert info.value.code == "empty" and "tom" in info.value.message


def test_not_a_pdf(tmp_path):
    path = tmp_path / "rapport.pdf"
    path.write_text("Det här är ett Word-dokument som fått fel ändelse.", encoding="utf-8")
    with pytest.raises(IngestError) as info:
        read_document(path)
    assert info.value.code == "not_pdf" and "ingen PDF" in info.value.message


def test_truncated_pdf(tmp_path):
    whole = simple_pdf(tmp_path / "hel.pdf", ["Text som ska försvinna när filen klipps av."], pages=3)
    data = whole.read_bytes()
    for share in (0.1, 0.5):
        cut = tmp_path / f"klippt-{share}.pdf"
        cut.write_bytes(data[: int(len(data) * share)])
        try:
            parsed = read_document(cut)
        except IngestError as exc:
            assert exc.code in ("corrupt", "no_text", "empty"), exc.code
            assert exc.message
        else:  # pdfminer can sometimes recover pages from a partial file
            assert parsed.pages >= 1


def test_corrupt_pdf_with_garbage_body(tmp_path):
    path = tmp_path / "trasig.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\n" + os.urandom(4000))
    with pytest.raises(IngestError) as info:
        read_document(path)
    assert info.value.code in ("corrupt", "empty", "no_text")


def test_password_protected_pdf(tmp_path):
    report = ReportPdf(tmp_path / "lasad.pdf", encrypt="hemligt")
    report.paragraph(["Skyddad text."])
    with pytest.raises(IngestError) as info:
        read_document(report.save())
    assert info.value.code == "encrypted" and "lösenord" in info.value.message


def test_image_only_pdf_too_small_for_ocr_says_why(tmp_path):
    # a 400 x 200 pixel picture: too small for OCR (tests/test_ocr.py reads real scans)
    with pytest.raises(IngestError) as info:
        read_document(image_only_pdf(tmp_path / "skannad.pdf"))
    assert info.value.code == "no_text"
    assert "OCR" in info.value.message and "Sida 1" in info.value.message and "för liten" in info.value.message


def test_limits_on_pages_and_bytes(tmp_path):
    path = simple_pdf(tmp_path / "lang.pdf", ["Kort text."], pages=4)
    with pytest.raises(IngestError) as info:
        read_document(path, max_pages=3)
    assert info.value.code == "too_many_pages" and "4 sidor" in info.value.message
    with pytest.raises(IngestError) as info:
        read_document(path, max_bytes=1000)
    assert info.value.code == "too_large"
    assert read_document(path, max_pages=4).pages == 4


# ------------------------------------------------------------ demo corpus
CORPUS_PDFS = sorted(CORPUS.glob("*.pdf"))


@pytest.fixture(scope="session")
def corpus_report():
    from systemfel.ingest.quality import extraction_report

    return {r.doc: r for r in extraction_report(CORPUS, DATA / "blocks", DATA / "dev.jsonl")}


@pytest.fixture(scope="session")
def corpus_parsed():
    return {p.stem: read_document(p) for p in CORPUS_PDFS}


def test_corpus_text_comes_out_in_passages(corpus_report):
    assert set(corpus_report) == {p.stem for p in CORPUS_PDFS}
    for doc, row in corpus_report.items():
        assert row.text_recall >= 0.98, (doc, row.text_recall)
        assert row.text_recall_in_order >= 0.95, (doc, row.text_recall_in_order)


def test_every_gold_key_lies_inside_one_passage(corpus_report):
    for doc, row in corpus_report.items():
        assert row.keys_total > 0
        assert row.missing_keys == [], doc


def test_no_running_header_or_footer_left_in_passages(corpus_report):
    for doc, row in corpus_report.items():
        assert row.furniture_left == [], doc


def test_corpus_passage_sizes(corpus_parsed):
    import statistics

    words = [len(p.text.split()) for parsed in corpus_parsed.values() for p in parsed.passages]
    assert statistics.median(words) < 80
    assert max(words) <= 250


def test_corpus_blocks_are_well_formed(corpus_parsed):
    for doc, parsed in corpus_parsed.items():
        assert parsed.pages > 1
        assert all(b.kind in BLOCK_KINDS for b in parsed.blocks)
        assert all(1 <= b.page <= parsed.pages for b in parsed.blocks)
        assert all(1 <= p.page <= parsed.pages for p in parsed.passages)
        assert [p.seq for p in parsed.passages] == list(range(len(parsed.passages)))
        body = [p for p in parsed.passages if p.page > 1]
        assert sum(1 for p in body if p.heading_path) >= 0.9 * len(body), doc
        truth_kinds = {json.loads(line)["kind"] for line in (DATA / "blocks" / f"{doc}.blocks.jsonl").open(encoding="utf-8")}
        for truth_kind, kind in (("quote", "quote"), ("bullet", "bullet")):
            if truth_kind in truth_kinds:
                assert any(p.block_kind == kind for p in parsed.passages), (doc, kind)
        assert all("(cid:" not in p.text for p in parsed.passages)


def test_corpus_sidecars_resolve_to_the_reports_metadata():
    from systemfel.ingest.metadata import load_sidecar, resolve
    from systemfel.base.records import DocumentMeta

    for pdf in CORPUS_PDFS:
        sidecar = load_sidecar(pdf)
        assert sidecar is not None and sidecar.org and sidecar.region and sidecar.title and sidecar.report_kind
        meta = resolve(sidecar, read_document(pdf).pdf_meta, pdf, DocumentMeta())
        assert str(meta.year) in pdf.stem
    meta = resolve(load_sidecar(CORPUS / "po-varmland-2024.pdf"), None, CORPUS / "po-varmland-2024.pdf", DocumentMeta(year=2030))
    assert (meta.org, meta.region, meta.year) == ("PO Värmland", "Värmlands län", 2030)


def test_metadata_falls_back_from_sidecar_to_pdf_to_file_name(tmp_path):
    from systemfel.ingest.metadata import load_sidecar, resolve
    from systemfel.base.records import DocumentMeta

    pdf = simple_pdf(tmp_path / "po-jonkoping-2019.pdf", ["Text."], title="Årsrapport personligt ombud")
    assert load_sidecar(pdf) is None
    meta = resolve(None, read_document(pdf).pdf_meta, pdf, DocumentMeta())
    assert (meta.org, meta.region, meta.year, meta.title) == ("PO Jönköping", "Jönköpings län", 2019, "Årsrapport personligt ombud")
    pdf.with_suffix(".yaml").write_text("org: PO Jönköpings län\nyear: 2018\nreport_kind: årsrapport\n", encoding="utf-8")
    meta = resolve(load_sidecar(pdf), read_document(pdf).pdf_meta, pdf, DocumentMeta(report_kind="lägesrapport"))
    assert (meta.org, meta.year, meta.report_kind, meta.title) == ("PO Jönköpings län", 2018, "lägesrapport", "Årsrapport personligt ombud")
    pdf.with_suffix(".yaml").write_text("org: [trasig\n", encoding="utf-8")
    assert load_sidecar(pdf) is None


# ------------------------------------------------------ real-world PDFs
WILD = SHARED / "pdf-wild"


@pytest.mark.timeout(600)
@pytest.mark.skipif(not WILD.is_dir(), reason="../shared/pdf-wild is not beside the project (CI puts it there)")
def test_every_wild_pdf_parses_or_fails_with_ingest_error():
    """The text layers' turn: without OCR, so the image pages cost nothing here
    (tests/test_wild.py builds the same files with OCR on)."""
    parsed_ok, failed = [], {}
    for path in sorted(WILD.glob("*.pdf")):
        try:
            parsed = read_document(path, ocr=OcrSettings(enabled=False))
        except IngestError as exc:
            assert exc.code and exc.message, path.name
            failed[path.name] = exc
            continue
        assert parsed.pages >= 1, path.name
        assert all(b.kind in BLOCK_KINDS and b.page >= 1 for b in parsed.blocks), path.name
        parsed_ok.append(path.name)
    assert failed["pdfplumber-empty.pdf"].code == "empty"
    assert failed["pdfplumber-password-example.pdf"].code == "encrypted"
    assert failed["sample-libreoffice-writer-password.pdf"].code == "encrypted"
    assert failed["sample-grayscale-image.pdf"].code == "no_text"
    assert len(parsed_ok) >= 50
