"""Cold search: `systemfel search` as a whole process, and the explorer's first search after start.

    .venv/bin/python benchmarks/search_cold.py [--db data/demo.db] [--factor 100] [--workdir data/search-cold]

On the demo store and on a store holding its reports `factor` times (made in SQL with
`scale.replicate_store`, plus the demo's cached vectors, so nothing is embedded: 100x is some
34,000 passages), each measured side by side in one run:
- `systemfel search "..."`, the whole process: "first" with an empty search cache (the engine is
  built from the store and kept, the case right after a build), "kept" the median of three later
  calls (the engine read back from the cache);
- the explorer's first search after start: a fresh process imports the explorer (the app has
  started), then the clock runs over what the search page does on its first query:
  `cached_search_engine` (model and engine loaded) and `engine.search` in hybrid mode; again
  first (empty cache) and kept. With the engine warmed at start (`warm_search_engine`, as
  `systemfel app` does), the page's first query is also timed after that warm-up has finished.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

QUERY = "Min klient har inget BankID och kan inte logga in hos Försäkringskassan"

EXPLORER_FIRST_SEARCH = """
import json, sys, time
from pathlib import Path
from systemfel.explorer import context  # the app has started: streamlit and the explorer are imported
from systemfel.store import Store
db = Path(sys.argv[1])
with Store(db, readonly=True) as store:
    model = store.get_meta("embedding_model")
marker = context.db_marker(db)
warm = sys.argv[3] == "warm"
if warm:
    context.warm_search_engine(str(db), marker, model).join()  # started with the app, finished before the query
start = time.perf_counter()
engine = context.cached_search_engine(str(db), marker, model)
hits = engine.search(sys.argv[2], k=10, mode="hybrid")
print(json.dumps({"seconds": time.perf_counter() - start, "hits": len(hits)}))
"""


def scaled_store(demo: Path, target: Path, factor: int) -> None:
    """The demo store's reports `factor` times, with the demo's cached vectors and model."""
    from scale import replicate_store

    done = target.with_suffix(".complete")  # a store made to the end by an earlier run is reused
    if done.exists():
        return
    for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)
    replicate_store(demo, target, factor)
    conn = sqlite3.connect(target)
    try:
        conn.execute("ATTACH DATABASE ? AS src", (str(demo),))
        conn.execute("INSERT OR IGNORE INTO embeddings SELECT * FROM src.embeddings")
        conn.execute("INSERT OR REPLACE INTO meta SELECT * FROM src.meta WHERE key = 'embedding_model'")
        conn.commit()
    finally:
        conn.close()
    done.touch()


def environment(cache: Path) -> dict[str, str]:
    return os.environ | {"SYSTEMFEL_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "STREAMLIT_LOGGER_LEVEL": "error"}


def cli_search(db: Path, cache: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "systemfel.cli", "search", QUERY, "--db", str(db), "--k", "10"],
                   check=True, capture_output=True, env=environment(cache))  # fmt: skip
    return time.perf_counter() - start


def explorer_search(db: Path, cache: Path, warm: bool = False) -> float:
    done = subprocess.run([sys.executable, "-c", EXPLORER_FIRST_SEARCH, str(db), QUERY, "warm" if warm else "cold"],
                          check=True, capture_output=True, text=True, env=environment(cache))  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["hits"] > 0, "the search found nothing: the timing would not be of a search"
    return result["seconds"]


def measure(db: Path) -> dict[str, float]:
    rows = {}
    with tempfile.TemporaryDirectory() as cache:
        rows["systemfel search, first (engine built and kept) s"] = cli_search(db, Path(cache))
        kept = [cli_search(db, Path(cache)) for _ in range(3)]
        rows["systemfel search, engine kept: median of 3, s"] = statistics.median(kept)
    with tempfile.TemporaryDirectory() as cache:
        rows["explorer first search, first (engine built) s"] = explorer_search(db, Path(cache))
        rows["explorer first search, engine kept s"] = explorer_search(db, Path(cache))
    with tempfile.TemporaryDirectory() as cache:
        rows["explorer first search after the start-up warm-up s"] = explorer_search(db, Path(cache), warm=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "demo.db")
    parser.add_argument("--factor", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "search-cold")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    demo = args.workdir / "demo.db"
    with sqlite3.connect(args.db) as source, sqlite3.connect(demo) as copy:
        source.backup(copy)  # never touch the given store (a cache key is the store's path)
    source.close(), copy.close()
    scaled = args.workdir / f"demo-x{args.factor}.db"
    start = time.perf_counter()
    scaled_store(demo, scaled, args.factor)
    with sqlite3.connect(scaled) as conn:
        passages = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
    load = os.getloadavg()
    print(f"x{args.factor} store: {passages} passages ({time.perf_counter() - start:.0f} s to make); "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")  # fmt: skip
    small, large = measure(demo), measure(scaled)
    print(f"\n{'measure':<55} {'demo':>8} {'x' + str(args.factor):>8} {'ratio':>6}")
    for name in small:
        print(f"{name:<55} {small[name]:>8.2f} {large[name]:>8.2f} {large[name] / small[name]:>6.2f}")
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
