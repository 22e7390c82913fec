"""Personal data: the PII gold, and every stored text field masked (issue 19, items 1-3)."""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from systemfel.nlp.evaluate import evaluate_pii
from systemfel.nlp.pii import PiiDetector
from tests.conftest import DATA

PII_GOLD = DATA / "pii-gold.jsonl"


def load_pii_gold() -> list[dict]:
    return [json.loads(line) for line in PII_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def pii():
    return PiiDetector()


def test_the_pii_gold_is_large_and_covers_every_kind_and_negatives():
    rows = load_pii_gold()
    kinds = {kind for row in rows for kind, _ in row["pii"]}
    assert len(rows) >= 60
    assert kinds == {"personnummer", "telefon", "e-post", "namn"}
    assert sum(not row["pii"] for row in rows) >= 20  # years, amounts, dates, Dnr, pages


@pytest.mark.parametrize("row", load_pii_gold(), ids=lambda row: row["text"][:40])
def test_every_gold_string_is_masked_exactly(pii, row):
    assert pii.mask(row["text"])[0] == row["masked"]


def test_pii_gold_figures(pii):
    report = evaluate_pii(pii, load_pii_gold())
    assert report["exact"] == 1.0 and report["untouched"] == 1.0
    for kind, figures in report["kinds"].items():
        assert figures["precision"] == 1.0 and figures["recall"] == 1.0, kind


@pytest.mark.parametrize(
    "text, masked",
    [
        ("Klient 850709–9805 Anna Svensson", "Klient [personnummer] [namn]"),
        ("pnr:850709-9805", "pnr:[personnummer]"),
        ("tel:070-123 45 67", "tel:[telefon]"),
        ("anna(at)kommun.se", "[e-post]"),
        ("Klienten Anna Svensson ringde.", "Klienten [namn] ringde."),
    ],
)
def test_the_formats_the_probe_found(pii, text, masked):
    assert pii.mask(text)[0] == masked


def test_a_name_outside_the_gazetteer_after_a_naming_cue(pii):
    assert pii.mask("Klienten, som vi kallar Zoltan, fick avslag.")[0] == "Klienten, som vi kallar [namn], fick avslag."


@pytest.mark.parametrize(
    "text",
    [
        "Inga pengar fanns kvar.",  # a first name that is a word
        "Per månad betalar hon 3 200 kr.",
        "Björn i Karlstad.",  # an ambiguous first name alone is left alone
        "Mark och bostäder saknas.",
        "Försäkringskassan, Arbetsförmedlingen och Region Värmland.",
        "Dnr 2021/123, s. 14, 2021-06-30, 1 234 567 kr",
    ],
)
def test_words_that_look_like_names_or_numbers_stay(pii, text):
    assert pii.mask(text) == (text, {})


# ------------------------------------------------------------------ every stored field (item 1)
RAW_PII = ("850709", "9805", "Svensson", "123 45 67", "070-123", "anna.svensson@", "Zoltan")


_DIGEST = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _stored_text(db: Path) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text value in the database but documents.path (the file's
    location on disk: the key a rebuild finds the file by) and hex digests (a file's or text's
    SHA: "…09b98051943…" holds "9805" by chance, not a personnummer)."""
    conn = sqlite3.connect(db)
    out = []
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        for row in conn.execute(f"SELECT * FROM {table}"):
            for column, value in zip(columns, row):
                if isinstance(value, str) and (table, column) != ("documents", "path") and not _DIGEST.fullmatch(value):
                    out.append((table, column, value))
    conn.close()
    return out


def _report_full_of_pii(folder: Path) -> Path:
    from tests.pdfgen import ReportPdf

    pdf = ReportPdf(
        folder / "Klient Anna Svensson 850709-9805.pdf",
        title="Ärende 850709-9805, tel 070-123 45 67",
        author="Anna Svensson 070-123 45 67",
        header="PO Exempelstad – Årsrapport 2024",
    )
    pdf.heading("Klient 850709-9805 Anna Svensson")
    pdf.paragraph(["Klienten Anna Svensson ringde Försäkringskassan 14 gånger under 2024 utan att",
                   "få svar. Hennes e-post anna.svensson@kommun.se besvarades aldrig av myndigheten."])
    pdf.heading("Brister hos tel 070-123 45 67")
    pdf.paragraph(["Under 2024 hade ombudet 312 klienter, bland dem Zoltan som vi kallar Zoltan här,",
                   "och väntetiden till Försäkringskassan var i genomsnitt 14 veckor för alla klienter."])
    return pdf.save()


def test_every_stored_text_field_is_masked(tmp_path):
    """Heading paths, title, organisation, file name, figures' sentences, failure messages."""
    from systemfel.pipeline import BuildOptions, build
    from systemfel.store import Store

    folder = tmp_path / "in"
    folder.mkdir()
    _report_full_of_pii(folder)
    (folder / "Klient Anna Svensson 850709-9805 tom.pdf").write_bytes(b"")  # fails: name in the message
    other = _report_full_of_pii(tmp_path)
    other = other.rename(folder / "sidovagn.pdf")
    (folder / "sidovagn.yaml").write_text("org: Anna Svensson 070-123 45 67\ntitle: Om 850709-9805\n", encoding="utf-8")
    db = tmp_path / "store.db"
    with Store(db) as store:
        summary = build(store, [folder], options=BuildOptions(analyse=False, workers=0))
    assert [f.status for f in summary.files].count("failed") == 1
    stored = _stored_text(db)
    leaks = [(table, column, value) for table, column, value in stored if any(raw in value for raw in RAW_PII)]
    assert leaks == []
    values = {(table, column): [] for table, column, _ in stored}
    for table, column, value in stored:
        values[(table, column)].append(value)
    assert any("[personnummer]" in v and "[namn]" in v for v in values[("passages", "heading_path")])
    assert any("[personnummer]" in v for v in values[("blocks", "heading_path")])
    assert any("[namn]" in v for v in values[("documents", "file")])
    assert any("[personnummer]" in v for v in values[("documents", "title")])
    assert any("[namn]" in v and "[telefon]" in v for v in values[("documents", "org")])
    assert any("[namn]" in v for v in values[("figures", "sentence")])


def test_keep_pii_keeps_every_field(tmp_path):
    from systemfel.pipeline import BuildOptions, build
    from systemfel.store import Store

    _report_full_of_pii(tmp_path)
    db = tmp_path / "store.db"
    with Store(db) as store:
        build(store, [tmp_path], options=BuildOptions(analyse=False, workers=0, keep_pii=True))
        docs = store.documents()
    assert docs[0].file == "Klient Anna Svensson 850709-9805.pdf"
    assert any("850709-9805" in value for _, _, value in _stored_text(db))


def test_held_out_strings_written_after_the_detector_was_frozen(pii):
    """tests/data/pii-heldout.jsonl was written after the last change to nlp/pii.py and is
    never tuned on: it says how the detector does on client stories it has not seen."""
    rows = [json.loads(line) for line in (DATA / "pii-heldout.jsonl").read_text(encoding="utf-8").splitlines()]
    report = evaluate_pii(pii, rows)
    names = report["kinds"]["namn"]
    assert names["precision"] >= 0.9 and names["recall"] >= 0.9
    assert report["untouched"] == 1.0
