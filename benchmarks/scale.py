"""Scale benchmark: a corpus 100x the demo, built and searched, each figure beside its baseline.

    .venv/bin/python benchmarks/scale.py [--factor 100] [--workdir data/scale]

Generates report PDFs from the demo reports' ground-truth blocks with varied text and
metadata (organisation, region, year, paragraph order, actor names, numbers), then runs
in one process, side by side:
  - ingest pages/s: plain pdfplumber extract_text vs `systemfel build --no-analysis`
  - analysis time (vectors, themes, clusters) and peak memory (largest process of the
    build's tree), demo vs scaled, and a rebuild where nothing changed
  - embedding passages/s (a small vs a large batch)
  - search latency median / p95 on the demo store vs the scaled store
  - incremental: adding one report to the scaled store vs building that report alone
  - REFI-QDA export (`systemfel export qdpx`): seconds, peak memory and file size; reading
    that file back (`systemfel import qdpx --dry-run`): seconds and peak memory
  - recurring issues (`--grouping-only` runs just this, in a minute or two): grouping time and
    peak memory of about 100,000 distinct statements beside the demo's, with the demo's real
    statement vectors and texts copied with noise (the built 100x corpus repeats its texts,
    and the stage groups distinct texts only, so it cannot show the growth by itself)
Each row prints demo, scaled and their ratio; the scaled corpus is `factor` times the demo.

    .venv/bin/python benchmarks/scale.py --exchange-only --demo-db DEMO.db [--factor 100]

measures the export alone on a store made by copying the demo store's reports `factor`
times in SQL (no PDFs generated, nothing embedded): minutes instead of hours.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pdfplumber
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = ROOT / "tests" / "data" / "blocks"
ORGS = [
    ("PO Skåne", "Skåne län"), ("PO Värmland", "Värmlands län"), ("PO Göteborg", "Västra Götalands län"),
    ("PO Stockholm", "Stockholms län"), ("PO Norrbotten", "Norrbottens län"), ("PO Uppsala", "Uppsala län"),
    ("PO Jämtland", "Jämtlands län"), ("PO Kalmar", "Kalmar län"), ("PO Dalarna", "Dalarnas län"),
    ("PO Halland", "Hallands län"),
]  # fmt: skip
SWAPS = [
    ("Försäkringskassan", "Arbetsförmedlingen"), ("psykiatrin", "primärvården"), ("kommunen", "regionen"),
    ("klienten", "personen"), ("veckor", "månader"), ("telefon", "e-post"),
]  # fmt: skip
QUERIES = [
    "lång kö i telefon", "väntetid till psykiatrin", "avslag på sjukpenning", "ingen samordnad individuell plan",
    "bank-id saknas", "vräkning och hemlöshet", "bemötande från handläggare", "försörjningsstöd nekas",
]  # fmt: skip


def _vary(text: str, rng: random.Random) -> str:
    for a, b in SWAPS:
        if rng.random() < 0.3:
            text = text.replace(a, b)
    words = text.split()
    for i, word in enumerate(words):
        if word.isascii() and word.isdigit() and rng.random() < 0.5:
            words[i] = str(max(1, int(word) + rng.randint(-5, 5)))
    return " ".join(words)


def generate(out: Path, factor: int, seed: int = 7) -> list[Path]:
    """factor variants of each demo report, each with a YAML sidecar of its own metadata."""
    rng = random.Random(seed)
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName="Helvetica", fontSize=10, leading=13)
    quote = ParagraphStyle("quote", parent=body, fontName="Helvetica-Oblique")
    out.mkdir(parents=True, exist_ok=True)
    made = []
    sources = sorted(BLOCKS.glob("*.blocks.jsonl"))
    for variant in range(factor):
        for source in sources:
            org, region = ORGS[rng.randrange(len(ORGS))]
            year = rng.randint(2012, 2026)
            name = f"{source.name.split('.')[0]}-v{variant:03d}"
            blocks = [json.loads(line) for line in source.open(encoding="utf-8")]
            story = []
            for block in blocks:
                text = escape(_vary(block["text"], rng)) if block["kind"] != "h" else escape(block["text"])
                if len(text) > 6000:  # keep one paragraph within a page
                    text = text[:6000]
                if block["kind"] == "h":
                    story += [Spacer(1, 6), Paragraph(text, styles["Heading2"])]
                elif block["kind"] == "quote" and len(text) < 1500:
                    box = Table([[Paragraph(text, quote)]], colWidths=[15 * cm])
                    box.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), "#e8eef4")]))
                    story += [box, Spacer(1, 6)]
                elif block["kind"] == "bullet":
                    story.append(Paragraph(text, body, bulletText="•"))
                else:
                    story.append(Paragraph(text, body))
            title = f"Brister och systemfel {year} – {org}"

            def decorate(canvas, doc, title=title):
                canvas.saveState()
                canvas.setFont("Helvetica", 8)
                canvas.drawString(2 * cm, A4[1] - 1.2 * cm, title)
                canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, str(doc.page))
                canvas.restoreState()

            pdf = out / f"{name}.pdf"
            SimpleDocTemplate(str(pdf), pagesize=A4, title=title, author=org).build(
                story, onFirstPage=decorate, onLaterPages=decorate
            )
            (out / f"{name}.yaml").write_text(
                f'org: "{org}"\nregion: "{region}"\nyear: {year}\ntitle: "{title}"\nreport_kind: "erfarenhetsrapport"\n',
                encoding="utf-8",
            )
            made.append(pdf)
    return made


def pdfplumber_pages_per_second(files: list[Path]) -> float:
    start, pages = time.perf_counter(), 0
    for path in files:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.extract_text()
                pages += 1
    return pages / (time.perf_counter() - start)


PEAK_RSS = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)"
)


def timed_build(db: Path, paths: list[Path], *extra: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, largest process of the build's tree) of one `systemfel build`.

    A fresh wrapper process runs each build, so its children's peak belongs to that build alone.
    """
    return timed_command("build", *map(str, paths), "--db", str(db), *extra)


def search_latency(db: Path) -> tuple[float, float]:
    from systemfel.pipeline import load_search_engine
    from systemfel.store import Store

    with Store(db, readonly=True) as store:
        engine = load_search_engine(store)
        engine.search(QUERIES[0])  # warm up
        times = []
        for _ in range(5):
            for query in QUERIES:
                start = time.perf_counter()
                engine.search(query, k=10)
                times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def count(db: Path) -> tuple[int, int, int]:
    """Pages, passages and distinct passage texts in a store."""
    from systemfel.store import Store

    with Store(db, readonly=True) as store:
        texts = store.passage_texts()
        return sum(d.pages for d in store.documents()), len(texts), len({t for _, t, _ in texts})


def timed_command(*args: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one `systemfel` command in a fresh process."""
    command = [sys.executable, "-m", "systemfel.cli", *args]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *command], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    seconds = time.perf_counter() - start
    peak_kib, code = done.stdout.split()[-2:]
    if code != "0":
        print(f"warning: systemfel {args[0]} exited with {code}", file=sys.stderr)
    return seconds, int(peak_kib) / 1024


def qdpx_rows(demo_db: Path, scaled_db: Path, work: Path, *extra: str) -> list[tuple[str, float, float]]:
    """`systemfel export qdpx` on both stores: seconds, peak memory, file size."""
    rows = []
    demo_out, scaled_out = work / "demo.qdpx", work / "scaled.qdpx"
    demo_s, demo_rss = timed_command("export", "qdpx", "--db", str(demo_db), "-o", str(demo_out), *extra)
    scaled_s, scaled_rss = timed_command("export", "qdpx", "--db", str(scaled_db), "-o", str(scaled_out), *extra)
    rows.append(("qdpx export seconds (whole command)", demo_s, scaled_s))
    rows.append(("qdpx export peak memory MiB", demo_rss, scaled_rss))
    rows.append(("qdpx file MB", demo_out.stat().st_size / 1e6, scaled_out.stat().st_size / 1e6))
    demo_s, demo_rss = timed_command("import", "qdpx", str(demo_out), "--db", str(demo_db), "--dry-run")
    scaled_s, scaled_rss = timed_command("import", "qdpx", str(scaled_out), "--db", str(scaled_db), "--dry-run")
    rows.append(("qdpx import of that file (--dry-run) seconds", demo_s, scaled_s))
    rows.append(("qdpx import peak memory MiB", demo_rss, scaled_rss))
    return rows


def replicate_store(source: Path, target: Path, factor: int) -> None:
    """A store holding the source store's reports `factor` times (new paths and hashes), with
    their blocks, passages, labels, themes, recurring-issue statements and corrections; no
    vectors, no clusters."""
    import sqlite3

    from systemfel.store import Store

    Store(target).close()  # the schema
    with sqlite3.connect(target) as conn:
        conn.execute("ATTACH DATABASE ? AS src", (str(source),))
        docs = conn.execute("SELECT id FROM src.documents WHERE status = 'ok'").fetchall()
        tables = {r[0] for r in conn.execute("SELECT name FROM src.sqlite_master WHERE type = 'table'")}
        recurring = {"statements", "issues"} <= tables
        for copy in range(factor):
            for (doc_id,) in docs:
                new_id = conn.execute(
                    "INSERT INTO documents(path, file, sha256, org, region, year, title, report_kind, pages, status,"
                    " message, pii_counts, ingested_at) SELECT path || ?, file || ?, sha256 || ?, org, region, year,"
                    " title, report_kind, pages, status, message, pii_counts, ingested_at FROM src.documents"
                    " WHERE id = ?",
                    (f"#{copy}", "" if copy == 0 else f"-{copy}", f"-{copy}", doc_id),
                ).lastrowid
                conn.execute(
                    "INSERT INTO blocks(doc_id, seq, kind, page, page_end, heading_path, text) SELECT ?, seq, kind,"
                    " page, page_end, heading_path, text FROM src.blocks WHERE doc_id = ?",
                    (new_id, doc_id),
                )
                for (pid,) in conn.execute("SELECT id FROM src.passages WHERE doc_id = ? ORDER BY seq", (doc_id,)).fetchall():
                    new_pid = conn.execute(
                        "INSERT INTO passages(doc_id, seq, page, page_end, heading_path, block_kind, text, text_hash,"
                        " pii) SELECT ?, seq, page, page_end, heading_path, block_kind, text, text_hash, pii"
                        " FROM src.passages WHERE id = ?",
                        (new_id, pid),
                    ).lastrowid
                    conn.execute(
                        "INSERT INTO labels SELECT ?, kind, kind_score, level, actors FROM src.labels WHERE passage_id = ?",
                        (new_pid, pid),
                    )
                    conn.execute(
                        "INSERT INTO passage_themes SELECT ?, slug, score, rank FROM src.passage_themes"
                        " WHERE passage_id = ?",
                        (new_pid, pid),
                    )
                    if recurring:
                        conn.execute(
                            "INSERT INTO statements(passage_id, start, end, text, text_hash, machine_issue_id,"
                            " issue_id) SELECT ?, start, end, text, text_hash, machine_issue_id, issue_id"
                            " FROM src.statements WHERE passage_id = ?",
                            (new_pid, pid),
                        )
        if recurring:  # the same issues, each now stated in every copy of its reports
            conn.execute("INSERT INTO issues SELECT * FROM src.issues")
        conn.execute("INSERT OR IGNORE INTO corrections SELECT * FROM src.corrections")
        conn.commit()


def exchange_only(demo_db: Path, factor: int, work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    scaled_db = work / f"replicated-x{factor}.db"
    scaled_db.unlink(missing_ok=True)
    start = time.perf_counter()
    replicate_store(demo_db, scaled_db, factor)
    print(f"replicated the demo store x{factor} in {time.perf_counter() - start:.0f} s")
    rows = [("passages", count(demo_db)[1], count(scaled_db)[1])]
    rows += qdpx_rows(demo_db, scaled_db, work, "--no-pdf")
    print_rows(rows, factor)


GROUP_CHILD = """
import resource, sys, time
import numpy as np
from systemfel.models.recurring import StatementGrouper
from systemfel.nlp.actors import ActorMatcher
data = np.load(sys.argv[1], allow_pickle=True)
copies = int(sys.argv[2])
rng = np.random.default_rng(0)
base, context, texts = data["vectors"], data["context"], list(data["texts"])
noise = 0.35 / np.sqrt(base.shape[1])
vectors = np.vstack([base + rng.normal(0, noise, base.shape) for _ in range(copies)]).astype(np.float32)
contexts = np.vstack([context + rng.normal(0, noise, context.shape) for _ in range(copies)]).astype(np.float32)
words = [t.split() for t in texts]
all_texts = [" ".join(w[: max(3, len(w) - (c % 3))]) + f" {c}" for c in range(copies) for w in words]
themes = [tuple(t.split("|")) if t else () for t in data["themes"].tolist()] * copies
reports = [f"{report}#{c}" for c in range(copies) for report in data["reports"].tolist()]  # each copy a report
start = time.perf_counter()
# as the stage does: the actors each statement names are found before grouping (timed)
matcher = ActorMatcher()
actors = [frozenset(matcher.find(text)) for text in all_texts]
labels = StatementGrouper().fit_predict(vectors, all_texts, contexts, reports=reports, actors=actors, themes=themes)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(len(vectors), seconds, peak, int(labels.max()) + 1, float(np.mean(labels >= 0)))
"""


ADD_ONE_CHILD = GROUP_CHILD.split("start = time.perf_counter()")[0] + """
import json
from collections import Counter
grouper = StatementGrouper()
matcher = ActorMatcher()
actors = [frozenset(matcher.find(text)) for text in all_texts]  # kept in the store with the statements
previous = grouper.fit_predict(vectors, all_texts, contexts, reports=reports, actors=actors, themes=themes)
# one more report: the statements of the demo's first report, with fresh noise and new texts
report = data["reports"] == sorted(set(data["reports"].tolist()))[0]
added = (base[report] + rng.normal(0, noise, base[report].shape)).astype(np.float32)
added_context = (context[report] + rng.normal(0, noise, context[report].shape)).astype(np.float32)
added_texts = [t + " (ny rapport)" for t, r in zip(texts, report) if r]
vectors = np.vstack([vectors, added]); contexts = np.vstack([contexts, added_context]); all_texts += added_texts
themes += [theme for theme, r in zip(themes, report) if r]
reports += ["ny rapport"] * len(added_texts)
kept = json.dumps(grouper.frequencies_)  # what the stage keeps in the store
start = time.perf_counter()
# as the stage does: the kept document frequencies read back and brought up to date
old = json.loads(kept)
df = Counter(old["df"])
df.update(grouper.document_frequencies(added_texts))
frequencies = {"n": old["n"] + len(added_texts), "df": dict(df)}
# the stored statements keep their actors; only the added ones are read
actors += [frozenset(matcher.find(text)) for text in added_texts]
labels = grouper.assign(
    vectors, all_texts, np.concatenate([previous, np.full(len(added), -2)]), contexts, reports=reports,
    frequencies=frequencies, actors=actors, themes=themes,
)
assign_seconds = time.perf_counter() - start
joined = float(np.mean(labels[-len(added):] >= 0))
kept = bool(np.array_equal(labels[: len(previous)][previous >= 0], previous[previous >= 0]))
start = time.perf_counter()
StatementGrouper().fit_predict(vectors, all_texts, contexts, reports=reports, actors=actors, themes=themes)
regroup_seconds = time.perf_counter() - start
print(len(vectors), len(added), assign_seconds, regroup_seconds, joined, kept)
"""


def add_one_report(db: Path, factor: int, work: Path) -> list[tuple[str, float, float]]:
    """Adding one report's statements to the demo's and to about `factor` times as many distinct
    statements: assigning them to the existing issues (what a build does) vs grouping all again
    (`build --regroup`), side by side in one process per size."""
    data, copies = statement_sample(db, factor, work)
    results = {}
    for label, n in (("demo", 1), ("scaled", copies)):
        out = subprocess.run([sys.executable, "-c", ADD_ONE_CHILD, str(data), str(n)], capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(out.stderr)
        size, added, assign_s, regroup_s, joined, kept = out.stdout.split()
        results[label] = (int(size), int(added), float(assign_s), float(regroup_s), float(joined), kept == "True")
        print(f"{label}: {size} statements, {added} added: assigned in {float(assign_s):.2f} s, regrouped in "
              f"{float(regroup_s):.1f} s; {float(joined):.0%} joined an issue; old issues kept: {kept}", flush=True)
    demo, scaled = results["demo"], results["scaled"]
    return [
        ("recurring add one report: statements after", demo[0], scaled[0]),
        ("recurring add one report: assign seconds (build)", demo[2], scaled[2]),
        ("recurring add one report: regroup seconds (--regroup)", demo[3], scaled[3]),
        ("recurring add one report: regroup / assign", demo[3] / demo[2], scaled[3] / scaled[2]),
    ]


def statement_sample(db: Path, factor: int, work: Path) -> tuple[Path, int]:
    """The demo store's distinct statements (vectors, context vectors, texts, reports) saved
    for the grouping children, and how many noisy copies make about `factor` demo corpora."""
    import numpy as np

    from systemfel.store import Store

    with Store(db, readonly=True) as store:
        statements = store.statements()
        passages = {p.id: p.text_hash for p in store.passages()}
        model = store.get_meta("embedding_model") + "|query"
        first: dict[str, dict] = {}
        for s in statements:
            first.setdefault(s["text_hash"], s)
        rows = list(first.values())
        cached = store.cached_vectors(model, [r["text_hash"] for r in rows] + list(passages.values()))
    data = work / "statements.npz"
    work.mkdir(parents=True, exist_ok=True)
    np.savez(
        data,
        vectors=np.vstack([cached[r["text_hash"]] for r in rows]),
        context=np.vstack([cached[passages[r["passage_id"]]] for r in rows]),
        texts=np.asarray([r["text"] for r in rows], dtype=object),
        reports=np.asarray([r["file"] for r in rows]),
        themes=np.asarray(["|".join(r["themes"] or ()) for r in rows], dtype=object),
    )
    return data, max(1, round(factor * 1000 / len(rows)))  # ~1000 statements per demo-sized corpus


def grouping_scale(db: Path, factor: int, work: Path) -> list[tuple[str, float, float]]:
    """Recurring-issue grouping of the demo's statements vs about `factor` times as many distinct ones."""
    data, copies = statement_sample(db, factor, work)
    results = {}
    for label, n in (("demo", 1), ("x10", max(1, copies // 10)), ("scaled", copies)):
        out = subprocess.run([sys.executable, "-c", GROUP_CHILD, str(data), str(n)], capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(out.stderr)
        size, seconds, peak, issues, grouped = out.stdout.split()
        results[label] = (int(size), float(seconds), float(peak), int(issues), float(grouped))
        print(f"grouped {size} statements in {float(seconds):.1f} s, peak {float(peak):.0f} MiB", flush=True)
    demo, mid, scaled = results["demo"], results["x10"], results["scaled"]
    return [
        ("recurring: distinct statements grouped", demo[0], scaled[0]),
        ("recurring: grouping seconds", demo[1], scaled[1]),
        (f"recurring: grouping seconds ({mid[0]} statements in the middle)", demo[1], mid[1]),
        ("recurring: grouping ms per statement", demo[1] / demo[0] * 1000, scaled[1] / scaled[0] * 1000),
        ("recurring: grouping peak memory MiB", demo[2], scaled[2]),
        ("recurring: issues", demo[3], scaled[3]),
    ]


def print_rows(rows, factor: int) -> None:
    print(f"\n{'measure':<55} {'demo':>12} {'scaled x' + str(factor):>12} {'ratio':>8}")
    for name, demo, scaled in rows:
        ratio = scaled / demo if demo else float("nan")
        print(f"{name:<55} {demo:>12.2f} {scaled:>12.2f} {ratio:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "scale")
    parser.add_argument("--exchange-only", action="store_true", help="measure the qdpx export alone (see above)")
    parser.add_argument("--demo-db", type=Path, help="with --exchange-only: a built demo store")
    parser.add_argument(
        "--grouping-only", type=Path, metavar="DEMO_DB",
        help="only the recurring-issue grouping, from a built demo store",
    )  # fmt: skip
    parser.add_argument(
        "--add-one", type=Path, metavar="DEMO_DB",
        help="only adding one report to the grouped statements: assigning vs grouping all again",
    )  # fmt: skip
    args = parser.parse_args()
    if args.add_one:
        print_rows(add_one_report(args.add_one, args.factor, args.workdir), args.factor)
        return
    if args.grouping_only:
        print_rows(grouping_scale(args.grouping_only, args.factor, args.workdir), args.factor)
        return
    work = args.workdir
    if args.exchange_only:
        if args.demo_db is None or not args.demo_db.is_file():
            parser.error("--exchange-only needs --demo-db pointing to a built demo store")
        exchange_only(args.demo_db, args.factor, work)
        return
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    t0 = time.perf_counter()
    scaled_files = generate(work / "scaled", args.factor)
    extra_file = generate(work / "extra", 1, seed=99)[0]
    print(f"generated {len(scaled_files)} PDFs in {time.perf_counter() - t0:.0f} s")
    demo_files = sorted((ROOT / "corpus").glob("*.pdf"))

    demo_db, scaled_db = work / "demo.db", work / "scaled.db"
    rows = []
    # ingest only (--no-analysis), then the analysis stages on the same store: the second
    # build finds every file unchanged, so it times vectors, themes and clusters alone
    plumber_demo = pdfplumber_pages_per_second(demo_files)
    plumber_scaled = pdfplumber_pages_per_second(scaled_files)
    demo_ingest_s, demo_ingest_rss = timed_build(demo_db, demo_files, "--no-analysis")
    scaled_ingest_s, scaled_ingest_rss = timed_build(scaled_db, scaled_files, "--no-analysis")
    print(f"ingested in {demo_ingest_s:.0f} s and {scaled_ingest_s:.0f} s", flush=True)
    demo_pages, demo_passages, demo_unique = count(demo_db)
    scaled_pages, scaled_passages, scaled_unique = count(scaled_db)
    rows.append(("pages", demo_pages, scaled_pages))
    rows.append(("passages", demo_passages, scaled_passages))
    rows.append(("distinct passage texts (embedded once each)", demo_unique, scaled_unique))
    rows.append(("ingest pages/s (plain pdfplumber extract_text)", plumber_demo, plumber_scaled))
    rows.append(("ingest pages/s (systemfel, 2 workers)", demo_pages / demo_ingest_s, scaled_pages / scaled_ingest_s))
    rows.append(("ingest peak memory MiB", demo_ingest_rss, scaled_ingest_rss))

    demo_analyse_s, demo_analyse_rss = timed_build(demo_db, demo_files)
    scaled_analyse_s, scaled_analyse_rss = timed_build(scaled_db, scaled_files)
    print(f"analysed in {demo_analyse_s:.0f} s and {scaled_analyse_s:.0f} s", flush=True)
    rows.append(("analysis seconds (vectors, themes, clusters)", demo_analyse_s, scaled_analyse_s))
    rows.append(("analysis seconds per 1000 distinct texts", demo_analyse_s / demo_unique * 1000,
                 scaled_analyse_s / scaled_unique * 1000))  # fmt: skip
    rows.append(("analysis peak memory MiB", demo_analyse_rss, scaled_analyse_rss))
    rows.append(("build seconds (ingest + analysis)", demo_ingest_s + demo_analyse_s, scaled_ingest_s + scaled_analyse_s))
    rebuild_s, _ = timed_build(scaled_db, scaled_files)
    demo_rebuild_s, _ = timed_build(demo_db, demo_files)
    rows.append(("rebuild, nothing changed: seconds", demo_rebuild_s, rebuild_s))

    from systemfel.models.embed import load_embedder
    from systemfel.store import Store

    embedder = load_embedder(None)
    with Store(scaled_db, readonly=True) as store:
        sample = [t for _, t, _ in store.passage_texts()[:2000]]
    start = time.perf_counter()
    embedder.embed_passages(sample[:200])
    small_rate = 200 / (time.perf_counter() - start)
    start = time.perf_counter()
    embedder.embed_passages(sample)
    large_rate = len(sample) / (time.perf_counter() - start)
    rows.append(("embedding passages/s (200 vs 2000 texts)", small_rate, large_rate))

    demo_latency, scaled_latency = search_latency(demo_db), search_latency(scaled_db)
    rows.append(("search latency median ms", demo_latency[0], scaled_latency[0]))
    rows.append(("search latency p95 ms", demo_latency[1], scaled_latency[1]))

    alone_s, _ = timed_build(work / "alone.db", [extra_file])
    incremental_s, incremental_rss = timed_build(scaled_db, [*scaled_files, extra_file])
    rows.append(("add one report: seconds (into empty store vs scaled store)", alone_s, incremental_s))
    rows += qdpx_rows(demo_db, scaled_db, work)
    rows += grouping_scale(demo_db, args.factor, work / "grouping")
    rows += add_one_report(demo_db, args.factor, work / "grouping")
    print_rows(rows, args.factor)


if __name__ == "__main__":
    main()
