"""Peak memory and wall time of a whole build, one worker against N, side by side.

    .venv/bin/python benchmarks/build_memory.py [--workers 2] [--rounds 1] [paths ...]

Each round runs `systemfel build PATHS --db FRESH --workers 1` and then `--workers N`, each in
a fresh process on a fresh store (so every passage is read and embedded), and samples the
resident memory of the build's whole process tree (the build and every worker it starts,
summed, from /proc every 0.1 s). The sum counts pages the processes share (libraries, the
model files they map) once per process, so it is an upper bound of what the build takes.
Ratios are per round, so a noisy machine moves both builds alike. Linux only (reads /proc).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYSTEMFEL = Path(sys.executable).parent / "systemfel"
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def tree_rss_kib(root: int) -> int:
    """Resident memory of a process and all its descendants, summed."""
    tree, total, todo = children_of(), 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += resident_pages * PAGE_KIB
    return total


def measured_build(paths: list[str], workers: int, workdir: Path) -> tuple[float, float, int]:
    """Wall seconds, peak tree memory (MiB) and exit code of one build on a fresh store."""
    db = workdir / f"build-{workers}-{time.monotonic_ns()}.db"
    command = [str(SYSTEMFEL), "build", *paths, "--db", str(db), "--workers", str(workers)]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kib(process.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    code = process.wait()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return seconds, peak / 1024, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "corpus")])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if args.workers < 2 or args.rounds < 1:
        parser.error("--workers must be at least 2 and --rounds at least 1")

    rows: dict[int, list[tuple[float, float]]] = {1: [], args.workers: []}
    with tempfile.TemporaryDirectory(prefix="build-memory-") as tmp:
        for _ in range(args.rounds):
            for workers in (1, args.workers):
                seconds, peak, code = measured_build(args.paths, workers, Path(tmp))
                if code != 0:
                    print(f"build with --workers {workers} exited {code}", file=sys.stderr)
                    return 1
                rows[workers].append((seconds, peak))

    one_s = statistics.median(s for s, _ in rows[1])
    one_mib = statistics.median(m for _, m in rows[1])
    print(f"whole builds of {', '.join(args.paths)} on fresh stores, {args.rounds} round(s), "
          f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'workers':>7}  {'wall s':>7}  {'faster':>6}  {'peak MiB (tree)':>15}  {'vs 1':>5}")
    for workers, measured in rows.items():
        seconds = statistics.median(s for s, _ in measured)
        mib = statistics.median(m for _, m in measured)
        print(f"{workers:>7}  {seconds:7.1f}  {one_s / seconds:6.2f}  {mib:15.0f}  {mib / one_mib:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
