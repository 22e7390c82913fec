"""Masking speed: formats only (personnummer, phone, e-mail) vs formats and names, side by side.

    .venv/bin/python benchmarks/pii_speed.py [--repeat N]

Both run on the passages of the four demo reports (tests/data/blocks) in one process; the
name finder is built before timing; each is repeated and the median time taken. "report"
adds the pipeline's first pass that collects a report's names to mask them everywhere in it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from systemfel.nlp.blocks import load_block_corpus  # noqa: E402
from systemfel.nlp.pii import PiiDetector  # noqa: E402


def median_seconds(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    corpus = load_block_corpus(ROOT / "tests" / "data" / "blocks")
    reports = [[p.text for p in passages] for passages in corpus.values()]
    chars = sum(len(t) for texts in reports for t in texts)
    formats = PiiDetector(kinds=("personnummer", "telefon", "e-post"))
    everything = PiiDetector()
    everything.names  # build the gazetteer matcher before timing  # noqa: B018

    def mask_all(detector: PiiDetector, per_report: bool) -> None:
        for texts in reports:
            known = detector.known_names(texts) if per_report else frozenset()
            for text in texts:
                detector.mask(text, known)

    rows = [
        ("formats only", median_seconds(lambda: mask_all(formats, False), args.repeat)),
        ("formats + names", median_seconds(lambda: mask_all(everything, False), args.repeat)),
        ("formats + names, report", median_seconds(lambda: mask_all(everything, True), args.repeat)),
    ]
    print(f"{chars} characters in {sum(map(len, reports))} passages, median of {args.repeat} runs")
    print(f"{'masking':26s} {'seconds':>8s} {'kchars/s':>9s} {'ratio':>6s}")
    for name, seconds in rows:
        print(f"{name:26s} {seconds:8.3f} {chars / seconds / 1000:9.0f} {seconds / rows[0][1]:6.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
