"""Pages per second: read_document (layout, cleaning, passages) vs plain pdfplumber extract_text;
then OCR of a scanned copy of a corpus report: seconds a page with 1 and 2 workers, and a
rebuild that takes the pages from the OCR cache.

    .venv/bin/python benchmarks/ingest_speed.py [PDF ...] [--repeat N] [--ocr-pages N | --no-ocr]

Both run on the same files in the same process; each is repeated and the median time taken.
The OCR runs are made once each (they take seconds a page), side by side in the same run.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pdfplumber  # noqa: E402

from systemfel.ingest import read_document  # noqa: E402
from systemfel.ingest.ocr import OcrSettings  # noqa: E402
from tests.scans import scanned_copy  # noqa: E402

SCANNED_REPORT = ROOT / "corpus" / "po-varmland-2021.pdf"


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
    parser.add_argument("--ocr-pages", type=int, default=4, help="pages of the scanned copy to OCR (0: none)")
    parser.add_argument("--no-ocr", dest="ocr_pages", action="store_const", const=0)
    args = parser.parse_args()
    files = args.pdfs or sorted((ROOT / "corpus").glob("*.pdf"))
    print(f"{len(files)} files, median of {args.repeat} runs")
    plain_s, pages = median_seconds(plain_pdfplumber, files, args.repeat)
    ours_s, _ = median_seconds(ours, files, args.repeat)
    print(f"{'reader':28s} {'seconds':>8s} {'pages/s':>8s}")
    print(f"{'pdfplumber extract_text':28s} {plain_s:8.2f} {pages / plain_s:8.1f}")
    print(f"{'ingest.read_document':28s} {ours_s:8.2f} {pages / ours_s:8.1f}")
    print(f"ratio read_document / extract_text (time): {ours_s / plain_s:.2f}x")
    if args.ocr_pages:
        ocr_speed(args.ocr_pages)
    return 0


def ocr_speed(n_pages: int) -> None:
    """Seconds a scanned page: OCR with 1 and 2 workers, then a rebuild from the cache."""
    with tempfile.TemporaryDirectory() as folder:
        scan = scanned_copy(SCANNED_REPORT, list(range(2, 2 + n_pages)), Path(folder) / "scan.pdf")
        timings = {}
        first = None
        for label, settings in (("OCR, 1 worker", lambda: OcrSettings(workers=1)),
                                ("OCR, 2 workers", lambda: OcrSettings(workers=2)),
                                ("rebuild (OCR cache)", lambda: OcrSettings(cache={p.number: p for p in first.ocr_pages}))):
            start = time.perf_counter()
            parsed = read_document(scan, ocr=settings())
            timings[label] = time.perf_counter() - start
            first = first or parsed
        print(f"\nscanned copy of {SCANNED_REPORT.name}, {n_pages} pages at 200 dpi ({len(first.passages)} passages)")
        print(f"{'reader':28s} {'seconds':>8s} {'s/page':>8s}")
        for label, seconds in timings.items():
            print(f"{label:28s} {seconds:8.2f} {seconds / n_pages:8.2f}")
        one, two, cached = timings.values()
        print(f"ratio 1 worker / 2 workers (time): {one / two:.2f}x; OCR / rebuild from cache: {one / cached:.0f}x")


if __name__ == "__main__":
    raise SystemExit(main())
