"""Extraction quality on the demo corpus: text recall, gold keys, furniture left, passage sizes.

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

from systemfel.ingest.quality import extraction_report  # noqa: E402


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
    from systemfel.ingest.reader import read_document

    for pdf in sorted(pdf_dir.glob("*.pdf")):
        all_words += [len(p.text.split()) for p in read_document(pdf).passages]
    print("-" * len(header))
    print(
        f"corpus: recall min {min(r.text_recall for r in rows):.4f} (target >= 0.98), "
        f"keys {sum(r.keys_found for r in rows)}/{sum(r.keys_total for r in rows)} (target all), "
        f"passage words median {statistics.median(all_words):.0f} (target < 80), max {max(all_words)} (target <= 250)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
