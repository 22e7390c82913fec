"""Extraction quality on the demo corpus: text recall, gold keys, furniture left, passage sizes.
Then the test report in the bullet-list style (tests/solvik.py) twice: drawn by reportlab,
and written as a Word document with python-docx and laid out by LibreOffice
(`soffice --headless --convert-to pdf`, Debian package libreoffice-writer-nogui), with the
same figures for both PDFs.

    .venv/bin/python benchmarks/extraction_quality.py [PDF_DIR BLOCKS_DIR GOLD]

Text recall compares the ground-truth non-heading blocks (headings become heading paths,
not passages) with the passages, word by word after normalize_for_match.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

from systemfel.base.jsonlines import read_jsonl  # noqa: E402
from systemfel.base.records import LEAD_IN  # noqa: E402
from systemfel.base.textnorm import normalize_for_match  # noqa: E402
from systemfel.ingest.quality import extraction_report  # noqa: E402
from systemfel.ingest.reader import read_document  # noqa: E402
from systemfel.nlp.evaluate import evaluate_figures, evaluate_labels, label_corpus  # noqa: E402
from systemfel.nlp.reader import PassageReader  # noqa: E402
from tests import solvik  # noqa: E402


def office_pdf(folder: Path) -> Path | None:
    """The test report through a real office producer: python-docx, then LibreOffice."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return None
    docx = solvik.render_docx(folder / f"{solvik.DOC}.docx")
    out = folder / "office"
    out.mkdir(exist_ok=True)
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(out), str(docx)],
                   check=True, capture_output=True, timeout=300)
    pdf = out / f"{solvik.DOC}.pdf"
    return pdf if pdf.is_file() else None


def test_report_figures(pdf: Path, reader: PassageReader) -> dict:
    """The issue-13 figures for one rendering of the test report."""
    parsed = read_document(pdf)
    passages = reader.keep_passages(parsed.passages)
    gold = read_jsonl(solvik.GOLD)
    texts = [normalize_for_match(p.text) for p in passages]
    keys = sum(sum(normalize_for_match(row["key"]) in t for t in texts) == 1 for row in gold)
    lead_ins = sum(p.block_kind == LEAD_IN for p in passages)
    furniture = sum(t.startswith(("av ", "sida ")) or normalize_for_match(solvik.HEADER) in t for t in texts)
    labels = evaluate_labels(gold, label_corpus(reader, {solvik.DOC: passages}))["total"]
    figures = evaluate_figures(read_jsonl(solvik.FIGURE_GOLD), {solvik.DOC: reader.figures(passages, year=2025)})
    return {"pages": parsed.pages, "passages": len(passages), "keys": f"{keys}/{len(gold)}", "lead_in_passages": lead_ins,
            "furniture": furniture, **{k: labels[k] for k in ("deficiency_recall", "exclusion", "level_accuracy", "actor_recall")},
            "figure_precision": figures["precision"], "figure_recall": figures["recall"]}


def main(argv: list[str]) -> int:
    pdf_dir = Path(argv[0]) if argv else ROOT / "corpus"
    blocks_dir = Path(argv[1]) if len(argv) > 1 else ROOT / "tests" / "data" / "blocks"
    gold = Path(argv[2]) if len(argv) > 2 else ROOT / "tests" / "data" / "dev.jsonl"
    rows = extraction_report(pdf_dir, blocks_dir, gold)
    header = f"{'document':36s} {'pages':>5s} {'pass.':>5s} {'recall':>7s} {'in-order':>8s} {'keys':>7s} {'furn.':>5s} {'med.w':>5s} {'max.w':>5s}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.doc:36s} {r.pages:5d} {r.passages:5d} {r.text_recall:7.4f} {r.text_recall_in_order:8.4f} "
            f"{r.keys_found:3d}/{r.keys_total:<3d} {len(r.furniture_left):5d} {r.median_words:5.0f} {r.max_words:5d}"
        )
        for key in r.missing_keys:
            print(f"    key not inside one passage: {key!r}")
        for line in r.furniture_left:
            print(f"    header/footer left in a passage: {line!r}")
    all_words = []
    for pdf in sorted(pdf_dir.glob("*.pdf")):
        all_words += [len(p.text.split()) for p in read_document(pdf).passages]
    print("-" * len(header))
    print(
        f"corpus: recall min {min(r.text_recall for r in rows):.4f} (target >= 0.98), "
        f"keys {sum(r.keys_found for r in rows)}/{sum(r.keys_total for r in rows)} (target all), "
        f"passage words median {statistics.median(all_words):.0f} (target < 80), max {max(all_words)} (target <= 250)"
    )
    print()
    print("test report in the bullet-list style (tests/solvik.py), two producers of the same text:")
    reader = PassageReader()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pdfs = {"reportlab": solvik.render_pdf(folder / f"{solvik.DOC}.pdf")}
        try:
            office = office_pdf(folder)
        except (subprocess.SubprocessError, OSError) as exc:
            office = None
            print(f"  LibreOffice failed: {exc}")
        if office is None:
            print("  LibreOffice (soffice) not found: apt-get install libreoffice-writer-nogui")
        else:
            pdfs["python-docx + LibreOffice"] = office
        rows = {name: test_report_figures(pdf, reader) for name, pdf in pdfs.items()}
    names = list(rows)
    print(f"  {'measure':<22}" + "".join(f"{name:>28}" for name in names))
    for measure in next(iter(rows.values())):
        cells = "".join(f"{_cell(rows[name][measure]):>28}" for name in names)
        print(f"  {measure:<22}{cells}")
    return 0


def _cell(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
