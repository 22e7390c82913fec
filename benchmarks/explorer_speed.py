"""Explorer speed: seconds per view of the demo corpus, first visit vs once loaded.

    .venv/bin/python benchmarks/explorer_speed.py [--db data/demo.db] [--repeats 5]

Drives app.py (every view module found by the explorer) with Streamlit's AppTest (the script runs as it does for a browser, minus the
network), so the figures are the server's time to answer a click. "first" includes loading
the store and the search engine into Streamlit's caches; "loaded" is the median of later
visits, the case the issue's "well under a second once loaded" is about. A search view is
also timed with a new query each time (query embedding and ranking, no cache hit).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # AppTest has no runtime; its cache warnings are noise here
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from systemfel.explorer.main import discover_pages  # noqa: E402

VIEWS = {slug: page.TITLE for slug, page in discover_pages().items()}

QUERIES = [
    "svårt att nå Försäkringskassan på telefon", "lång väntan på utredning i psykiatrin", "vräkt trots skulder",
    "ingen SIP trots flera insatser", "bank-id saknas", "avslag på försörjningsstöd",
]  # fmt: skip


def timed_run(at: AppTest) -> float:
    start = time.perf_counter()
    at.run()
    if at.exception:
        raise SystemExit(f"the explorer raised: {[e.value for e in at.exception]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "demo.db")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not args.db.exists():
        raise SystemExit(f"{args.db} is missing: run `systemfel build corpus --db {args.db}` first")
    os.environ["SYSTEMFEL_DB"] = str(args.db)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.argv = ["app.py"]

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    first_load = timed_run(at)
    rows = []
    for view in VIEWS:
        at.sidebar.radio(key="vy").set_value(view)
        first = timed_run(at)
        loaded = [timed_run(at) for _ in range(args.repeats)]
        rows.append((VIEWS[view], first, statistics.median(loaded), max(loaded)))
    at.sidebar.radio(key="vy").set_value("sok")
    at.run()
    new_queries = []
    for query in QUERIES:
        at.text_input(key="sok_fraga").set_value(query)
        new_queries.append(timed_run(at))
    rows.append(("Sök, ny fråga varje gång", new_queries[0], statistics.median(new_queries), max(new_queries)))

    print(f"demo store {args.db}: first script run {first_load:.2f} s (store opened, caches empty)\n")
    print(f"{'view':<28} {'first s':>8} {'loaded median s':>16} {'loaded max s':>13}")
    for name, first, median, worst in rows:
        print(f"{name:<28} {first:>8.2f} {median:>16.2f} {worst:>13.2f}")


if __name__ == "__main__":
    main()
