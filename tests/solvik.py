"""A test report in the bullet-list style, written for the tests (not quoted from any report).

"Personligt ombud Solvik, Årsrapport 2025" is fictional. It holds the kinds of text the four
dev reports have little of: lead-in lines that announce a level ("Brister på lokal nivå:",
"Följande brister har rapporterats under året:"), short bullets, nested and numbered lists
("1.", "a)"), a lead-in at the foot of a column whose items start in the next column, a
lead-in with no items, a colon inside an ordinary sentence, a ruled table "Område |
Beskrivning av bristen | Nivå" with a compound split at a cell's line end ("e-" +
"legitimation"), problems described under "Åtgärder" headings, a client's story with a
queue position in it, and a footer "Sida N av M" centred across the gutter of two columns.

The content is one list of layout steps; `render_pdf` draws it with reportlab, line by line
as the tests need, and `render_docx` writes the same text as a Word document that an office
program lays out itself (benchmarks/extraction_quality.py converts it with LibreOffice).
Its gold labels (tests/data/solvik/) are not among the shipped labelled examples.
"""
from __future__ import annotations

from pathlib import Path

from tests.pdfgen import ReportPdf

DOC = "po-solvik-2025"
DATA = Path(__file__).resolve().parent / "data" / "solvik"
GOLD = DATA / f"{DOC}.jsonl"
FIGURE_GOLD = DATA / f"{DOC}.figures.jsonl"
HEADER = "Personligt ombud Solvik – Årsrapport 2025"
PAGES = 3

# (step, payload): heading (text, size), para [lines], leadin text, item (lines, marker, level),
# quote [lines], table (rows, widths), column, page (columns)
CONTENT: list[tuple] = [
    ("heading", ("Personligt ombud Solvik – Årsrapport 2025", 18.0)),
    ("heading", ("Om verksamheten", 14.0)),
    ("para", [
        "Personligt ombud Solvik arbetar på uppdrag av kommunen och regionen med personer",
        "över 18 år som har en psykisk funktionsnedsättning. Verksamheten finansieras delvis",
        "med statsbidrag enligt förordningen (2013:522) och leds av en ledningsgrupp.",
    ]),
    ("heading", ("Statistik", 14.0)),
    ("para", [
        "Under 2025 hade verksamheten 3 ombud och 96 klienter, varav 58 kvinnor och 38 män.",
        "Ombuden arbetade med 412 uppdrag. 31 av 96 klienter var nya under året.",
    ]),
    ("para", [
        "Totalt dokumenterade ombuden 52 hinder/brister under året: 17 på handläggarnivå,",
        "21 på lokal nivå och 14 på central nivå.",
    ]),
    ("heading", ("Brister och systemfel", 14.0)),
    ("para", [
        "Ombuden ser ett mönster: klienter som saknar bank-ID stängs ute från allt fler",
        "tjänster och blir beroende av andra för att sköta sina bankärenden och räkningar.",
    ]),
    ("quote", [
        "\u201dJag ringde kundtjänsten klockan åtta och fick höra att 143 samtal var före mig i",
        "kön. Efter två timmar lade jag på utan att ha fått prata med någon.\u201d",
    ]),
    ("page", 2),
    ("leadin", "Brister på handläggarnivå:"),
    ("item", (["Klienten får inte tag på sin handläggare på", "Arbetsförmedlingen, varken per telefon eller", "via mejl."], "\u2022", 0)),
    ("item", (["En handläggare på Försäkringskassan bemötte", "klienten nedlåtande och ifrågasatte hens", "diagnos inför andra besökare."], "\u2022", 0)),
    ("item", (["Beslut om avslag på försörjningsstöd skickas", "utan någon förklaring av hur beslutet kan", "överklagas."], "\u2022", 0)),
    ("leadin", "Brister på lokal nivå:"),
    ("leadin", "Följande brister har rapporterats under året:"),
    ("item", (["Brist på psykiatriker på mottagningen gör att", "klienter går utan läkarkontakt i flera månader."], "\u2022", 0)),
    ("item", (["Beviljat boendestöd har inte kommit i gång,", "eftersom boendestödet saknar personal."], "\u2022", 0)),
    ("item", (["Kommunen har för få lägenheter för personer", "med psykisk ohälsa, och kön till dem är längre", "än ett år."], "\u2022", 0)),
    ("item", (["Socialtjänsten begär nya underlag varje månad,", "så försörjningsstödet betalas ut för sent och", "klienten står utan pengar till hyran."], "\u2022", 0)),
    ("item", (["Psykiatrin:"], "\u2022", 0)),
    ("item", (["kallar till möten med kort varsel och ställer", "in dem utan att meddela klienten,"], "\u2013", 1)),
    ("item", (["skriver ut klienter från slutenvården utan", "att någon samordnad plan finns."], "\u2013", 1)),
    ("leadin", "Brister på central nivå:"),
    ("column", None),
    ("item", (["Sjukpenningen dras in när läkarintyget kommer", "in för sent, trots att det är vården som dröjer", "med intyget."], "1.", 0)),
    ("item", (["Arbetsförmedlingen:"], "2.", 0)),
    ("item", (["kräver aktivitetsrapporter varje månad som", "klienten inte klarar att fylla i på egen hand,"], "a)", 1)),
    ("item", (["skriver ut klienter från sina program utan", "att kontakta ombudet eller vården."], "b)", 1)),
    ("item", (["Den som saknar e-legitimation kan inte se sina", "egna beslut eller ansöka digitalt hos", "myndigheterna."], "3.", 0)),
    ("leadin", "Övriga synpunkter från ombuden:"),
    ("heading", ("Samverkan i länet", 12.0)),
    ("para", [
        "Ombuden deltar i länets nätverksträffar fyra gånger",
        "per år och redovisar där sina erfarenheter.",
    ]),
    ("page", 1),
    ("heading", ("Brister rapporterade till ledningsgruppen", 14.0)),
    ("leadin", "Tabellen nedan visar de brister som ombuden rapporterade till ledningsgruppen under hösten:"),
    ("table", ([
        ["Område", "Beskrivning av bristen", "Nivå"],
        ["Digitalisering", ["Klienter utan e-", "legitimation kan inte boka tid", "hos vårdcentralen."], "Lokal"],
        ["Samverkan", ["Ingen SIP har hållits trots att", "klienten har insatser från både", "psykiatrin och socialtjänsten."], "Lokal"],
        ["Ekonomi", ["Återkrav från Försäkrings-", "kassan drabbar klienter som", "inte förstod beslutet."], "Central"],
        ["Bemötande", ["Personal på akutpsykiatrin", "ifrågasatte klientens behov av", "inläggning."], "Handläggare"],
    ], [100.0, 250.0, 90.0])),
    ("heading", ("Åtgärder", 14.0)),
    ("para", [
        "Ledningsgruppen har bjudit in Försäkringskassan och Arbetsförmedlingen till ett gemensamt",
        "möte under våren 2026.",
    ]),
    ("para", [
        "Trots att frågan togs upp redan förra året saknas fortfarande en rutin för hur vården ska",
        "meddela socialtjänsten när en klient skrivs ut från slutenvården. Klienter kommer hem utan",
        "att boendestödet vet om det.",
    ]),
    ("heading", ("Ledningsgruppens åtgärder", 12.0)),
    ("para", [
        "Kommunen har inte avsatt några medel för att korta kön till boendestöd, och klienter",
        "väntar fortfarande upp till sex månader på att stödet ska börja.",
    ]),
    ("para", [
        "Regionen har tagit fram en gemensam rutin för SIP, som har lett till förbättringar för",
        "klienter med insatser från flera huvudmän.",
    ]),
    ("heading", ("Goda exempel", 14.0)),
    ("para", [
        "En handläggare på Försäkringskassan ringde upp klienten på eget initiativ och förklarade",
        "beslutet, vilket gav klienten trygghet.",
    ]),
]


def render_pdf(path: Path) -> Path:
    """The report as the tests need it: two columns on page 2, "Sida N av M" across the gutter."""
    report = ReportPdf(Path(path), header=HEADER, page_footer="Sida {page}|av {pages}", total_pages=PAGES,
                       page_numbers=False, title="Årsrapport 2025", author="Personligt ombud Solvik")
    for step, payload in CONTENT:
        if step == "heading":
            report.heading(*payload)
        elif step == "para":
            report.paragraph(payload)
        elif step == "leadin":
            report.gap(4).line(payload).gap(2)
        elif step == "item":
            lines, marker, level = payload
            report.list_item(lines, marker=marker, level=level)
        elif step == "quote":
            report.quote_box(payload)
        elif step == "table":
            report.table(*payload)
        elif step == "column":
            report.next_column()
        elif step == "page":
            report.new_page(columns=payload)
    return report.save()


def unbroken(lines: list[str]) -> str:
    """The lines of a paragraph as one string, as a writer would type it (line-end hyphens of
    split words removed, "e-" + "legitimation" kept together as one hyphenated word)."""
    text = ""
    for line in lines:
        if text.endswith("-"):
            stem = text[:-1].rsplit(None, 1)[-1]
            text = text + line if len(stem) <= 2 else text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    return text


def render_docx(path: Path) -> Path:
    """The same report as a Word document (python-docx): headings, lists, a ruled table, a
    two-column section, and a footer "Sida N av M" made of PAGE and NUMPAGES fields."""
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def columns(section, count: int) -> None:
        cols = section._sectPr.find(qn("w:cols"))
        if cols is None:
            cols = OxmlElement("w:cols")
            section._sectPr.append(cols)
        cols.set(qn("w:num"), str(count))
        cols.set(qn("w:space"), "400")

    def field(paragraph, code: str) -> None:
        run = paragraph.add_run()
        for tag, attr in (("w:fldChar", "begin"), ("w:instrText", code), ("w:fldChar", "end")):
            element = OxmlElement(tag)
            if tag == "w:fldChar":
                element.set(qn("w:fldCharType"), attr)
            else:
                element.set(qn("xml:space"), "preserve")
                element.text = attr
            run._r.append(element)

    def footer(section) -> None:
        section.header.paragraphs[0].text = HEADER
        paragraph = section.footer.paragraphs[0]
        paragraph.alignment = 1
        paragraph.add_run("Sida ")
        field(paragraph, "PAGE")
        paragraph.add_run(" av ")
        field(paragraph, "NUMPAGES")

    document = Document()
    document.core_properties.title = "Årsrapport 2025"
    document.core_properties.author = "Personligt ombud Solvik"
    footer(document.sections[0])
    for step, payload in CONTENT:
        if step == "heading":
            text, size = payload
            document.add_heading(text, level=0 if size >= 18 else 1 if size >= 14 else 2)
        elif step == "para":
            document.add_paragraph(unbroken(payload))
        elif step == "leadin":
            document.add_paragraph(payload)
        elif step == "item":
            lines, marker, level = payload
            numbered = marker[0].isalnum()
            style = ("List Number" if numbered else "List Bullet") + (" 2" if level else "")
            document.add_paragraph(unbroken(lines), style=style)
        elif step == "quote":
            document.add_paragraph(unbroken(payload), style="Intense Quote")
        elif step == "table":
            rows, _ = payload
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    text = cell if isinstance(cell, str) else unbroken(cell)
                    table.cell(r, c).text = text
                    if r == 0:
                        for run in table.cell(r, c).paragraphs[0].runs:
                            run.bold = True
        elif step == "column":
            document.add_section(WD_SECTION.NEW_COLUMN)
        elif step == "page":
            section = document.add_section(WD_SECTION.NEW_PAGE)
            columns(section, payload)
    document.save(str(path))
    return Path(path)
