"""Pages per second: read_document (layout, cleaning, passages) vs plain pdfplumber extract_text.

    .venv/bin/python benchmarks/ingest_speed.py [PDF ...] [--repeat N]

Both run on the same files in the same process; each is repeated and the median time taken.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pdfplumber  # noqa: E402

from systemfel.ingest import read_document  # noqa: E402


def plain_pdfplumber(path: Path) -> int:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_text()
            page.close()
        return len(pdf.pages)


def ours(path: Path) -> int:
    return read_document(path).pages


def median_seconds(func, files: list[Path], repeat: int) -> tuple[float, int]:
    times = []
    pages = 0
    for _ in range(repeat):
        start = time.perf_counter()
        pages = sum(func(f) for f in files)
        times.append(time.perf_counter() - start)
    return statistics.median(times), pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pdfs", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    files = args.pdfs or sorted((ROOT / "corpus").glob("*.pdf"))
    print(f"{len(files)} files, median of {args.repeat} runs")
    plain_s, pages = median_seconds(plain_pdfplumber, files, args.repeat)
    ours_s, _ = median_seconds(ours, files, args.repeat)
    print(f"{'reader':28s} {'seconds':>8s} {'pages/s':>8s}")
    print(f"{'pdfplumber extract_text':28s} {plain_s:8.2f} {pages / plain_s:8.1f}")
    print(f"{'ingest.read_document':28s} {ours_s:8.2f} {pages / ours_s:8.1f}")
    print(f"ratio read_document / extract_text (time): {ours_s / plain_s:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
