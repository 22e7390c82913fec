"""How well the Swedish reading agrees with a gold file.

A gold key lies in a passage when its normalised text is a substring of the passage's
normalised text (systemfel.base.textnorm.normalize_for_match, the gold's own rule). Inputs
are plain dicts so the same code scores passages from the database (`systemfel eval`)
and passages labelled in memory (`python -m nlp.evaluate`).
"""
from __future__ import annotations

import argparse
import logging
import sys

import yaml
from collections.abc import Iterable
from pathlib import Path

from systemfel.base.hashing import text_hash
from systemfel.base.jsonlines import read_jsonl
from systemfel.base.records import StoredPassage
from systemfel.base.textnorm import normalize_for_match
from systemfel.ingest import read_document
from systemfel.nlp.blocks import load_block_corpus
from systemfel.nlp.kind import KindClassifier
from systemfel.nlp.reader import PassageReader

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
METRICS = ("deficiency_recall", "exclusion", "good_example_recall", "level_accuracy", "actor_recall")


def _ratio(hit: int, n: int) -> float | None:
    return hit / n if n else None


def _count_doc(gold: list[dict], passages: list[dict]) -> dict[str, int]:
    normalised = [(normalize_for_match(p.text or ""), p) for p in passages]
    c = dict.fromkeys(
        ["def_n", "def_hit", "excl_n", "excl_hit", "good_n", "good_hit", "level_n", "level_hit",
         "actor_n", "actor_hit", "keys", "uncovered"], 0)  # fmt: skip
    for row in gold:
        key = normalize_for_match(row["key"])
        holders = [p for text, p in normalised if key in text]
        c["keys"] += 1
        c["uncovered"] += not holders
        marked = [p for p in holders if p.kind == "deficiency"]
        label = row.get("label")
        if label == "deficiency":
            c["def_n"] += 1
            c["def_hit"] += bool(marked)
        elif label in ("background", "good_example"):
            c["excl_n"] += 1
            c["excl_hit"] += not marked
            if label == "good_example":
                c["good_n"] += 1
                c["good_hit"] += any(p.kind == "good_example" for p in holders)
        # for level and actors, read the passage the system would show for this key
        shown = (marked or holders or [None])[0]
        if row.get("level"):
            c["level_n"] += 1
            c["level_hit"] += bool(shown and shown.level == row["level"])
        if row.get("actors"):
            found = set(shown.actors) if shown else set()
            c["actor_n"] += len(row["actors"])
            c["actor_hit"] += sum(actor in found for actor in row["actors"])
    return c


def _metrics(c: dict[str, int]) -> dict:
    return {
        "keys": c["keys"],
        "uncovered_keys": c["uncovered"],
        "n_deficiency": c["def_n"],
        "deficiency_recall": _ratio(c["def_hit"], c["def_n"]),
        "n_excluded": c["excl_n"],
        "exclusion": _ratio(c["excl_hit"], c["excl_n"]),
        "n_good_example": c["good_n"],
        "good_example_recall": _ratio(c["good_hit"], c["good_n"]),
        "n_level": c["level_n"],
        "level_accuracy": _ratio(c["level_hit"], c["level_n"]),
        "n_actor": c["actor_n"],
        "actor_recall": _ratio(c["actor_hit"], c["actor_n"]),
    }


def evaluate_labels(gold_rows: Iterable[dict], passages_by_doc: dict[str, list[dict]]) -> dict:
    """Per document and in total: deficiency recall, exclusion, good-example recall, level and actors.

    `passages_by_doc` maps the gold's `doc` (file stem) to dicts with text, kind, actors, level.
    """
    by_doc: dict[str, list[dict]] = {}
    for row in gold_rows:
        by_doc.setdefault(row["doc"], []).append(row)
    counts = {doc: _count_doc(rows, passages_by_doc.get(doc, [])) for doc, rows in sorted(by_doc.items())}
    total = {k: sum(c[k] for c in counts.values()) for k in next(iter(counts.values()), {})} if counts else {}
    return {
        "per_doc": {doc: _metrics(c) for doc, c in counts.items()},
        "total": _metrics(total) if total else {},
        "missing_docs": sorted(set(by_doc) - set(passages_by_doc)),
    }


def format_report(report: dict) -> str:
    """A table: one row per document and a total row."""

    def cell(value) -> str:
        return f"{value:>7.3f}" if isinstance(value, float) else f"{'-':>7}"

    head = f"  {'dokument':<36} {'nycklar':>7} {'brist-R':>7} {'uteslut':>7} {'gott-R':>7} {'nivå':>7} {'aktör-R':>7}"
    lines = [head]
    rows = [*report.get("per_doc", {}).items()]
    if report.get("total"):
        rows.append(("TOTALT", report["total"]))
    for doc, m in rows:
        lines.append(
            f"  {doc:<36} {m['keys']:>7} " + " ".join(cell(m[k]) for k in METRICS)
        )
    uncovered = report.get("total", {}).get("uncovered_keys")
    if uncovered:
        lines.append(
            f"  {uncovered} guldnycklar finns inte i någon passage (textutdragningen delade eller tappade dem)."
        )
    if report.get("missing_docs"):
        lines.append(f"  Dokument utan passager: {', '.join(report['missing_docs'])}")
    return "\n".join(lines)


def evaluate_figures(gold_rows: Iterable[dict], figures_by_doc: dict[str, list]) -> dict:
    """Precision and recall of reported figures against a figure gold (`doc`, `subject`,
    `value`, `qualifier` per line): a figure is right when all three agree. A report's
    figures are a set: a count stated twice is one figure. Only the gold's reports count."""
    wanted: dict[str, set] = {}
    for row in gold_rows:
        wanted.setdefault(row["doc"], set()).add((row["subject"], round(float(row["value"]), 2), row.get("qualifier", "")))
    per_doc, hit_all, found_all, gold_all = {}, 0, 0, 0
    for doc, expected in sorted(wanted.items()):
        found = {(f.subject, round(float(f.value), 2), f.qualifier) for f in figures_by_doc.get(doc, [])}
        hit = len(found & expected)
        per_doc[doc] = {"gold": len(expected), "found": len(found), "hit": hit,
                        "precision": _ratio(hit, len(found)), "recall": _ratio(hit, len(expected)),
                        "missed": sorted(expected - found), "wrong": sorted(found - expected)}
        hit_all, found_all, gold_all = hit_all + hit, found_all + len(found), gold_all + len(expected)
    return {"per_doc": per_doc, "precision": _ratio(hit_all, found_all), "recall": _ratio(hit_all, gold_all)}


def format_figures(report: dict) -> str:
    lines = [f"  {'dokument':<36} {'facit':>6} {'funna':>6} {'precision':>9} {'recall':>7}"]
    for doc, m in report["per_doc"].items():
        lines.append(f"  {doc:<36} {m['gold']:>6} {m['found']:>6} {m['precision'] or 0:>9.3f} {m['recall'] or 0:>7.3f}")
    lines.append(f"  {'TOTALT':<36} {'':>6} {'':>6} {report['precision'] or 0:>9.3f} {report['recall'] or 0:>7.3f}")
    for doc, m in report["per_doc"].items():
        lines += [f"  saknas  {doc}: {row}" for row in m["missed"]] + [f"  fel     {doc}: {row}" for row in m["wrong"]]
    return "\n".join(lines)


# ------------------------------------------------------------------ dev runner
def label_corpus(reader, passages_by_doc: dict[str, list]) -> dict[str, list[StoredPassage]]:
    """Label in memory: the passages as the store would return them, for `evaluate_labels`."""
    out: dict[str, list[StoredPassage]] = {}
    for doc, passages in passages_by_doc.items():
        labels = reader.label(passages)
        out[doc] = [
            StoredPassage(
                id=i, doc_id=0, file=f"{doc}.pdf", text=p.text, text_hash=text_hash(p.text), page=p.page,
                heading_path=tuple(p.heading_path), block_kind=p.block_kind, seq=p.seq, context=p.context, kind=lab.kind,
                kind_score=lab.kind_score, actors=tuple(lab.actors), level=lab.level,
            )  # fmt: skip
            for i, (p, lab) in enumerate(zip(passages, labels))
        ]
    return out


ABLATIONS: dict[str, dict[str, float]] = {
    "utan rubriker": {"heading_weight": 0.0},
    "utan grannkontext": {"context_weight": 0.0},
    "utan citatrutor": {"quote_weight": 0.0},
    "utan problemord": {"problem_weight": 0.0, "negation_weight": 0.0},
    "utan bakgrundsord": {"background_weight": 0.0, "suggestion_weight": 0.0},
    "utan klientord": {"client_weight": 0.0},
}


def ablation_table(reader, corpus: dict[str, list], gold: list[dict]) -> str:
    """Totals with one kind of evidence switched off, and with every weight 30 % lower or higher.

    Shows which evidence carries the figures and that they do not rest on finely set weights.
    """
    base = KindClassifier(reader.nlp)
    weights = {name: getattr(base, name) for name in (
        "heading_weight", "quote_weight", "problem_weight", "negation_weight", "client_weight", "good_weight",
        "background_weight", "suggestion_weight", "context_weight")}  # fmt: skip
    variants = dict(ABLATIONS)
    for factor in (0.7, 1.3):
        for name, value in weights.items():
            variants[f"{name} x{factor}"] = {name: value * factor}
    lines = [f"  {'variant':<28} {'brist-R':>7} {'uteslut':>7} {'gott-R':>7}"]
    original = reader.kinds
    try:
        for label, params in variants.items():
            reader.kinds = KindClassifier(reader.nlp, **params)
            total = evaluate_labels(gold, label_corpus(reader, corpus))["total"]
            lines.append(f"  {label:<28} {total['deficiency_recall']:>7.3f} {total['exclusion']:>7.3f} "
                         f"{total['good_example_recall']:>7.3f}")
    finally:
        reader.kinds = original
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Utvärdera den svenska läsningen mot en guldfil.")
    parser.add_argument("--gold", type=Path, default=ROOT / "tests" / "data" / "dev.jsonl")
    parser.add_argument("--blocks", type=Path, default=ROOT / "tests" / "data" / "blocks",
                        help="mapp med *.blocks.jsonl (facit för textutdragningen)")
    parser.add_argument("--pdf", type=Path, default=None, help="mapp med PDF:er att läsa med ingest.read_document")
    parser.add_argument("--errors", action="store_true", help="visa nycklar som hamnar fel")
    parser.add_argument("--figures", type=Path, default=None,
                        help="facit för rapporternas egna siffror (doc, subject, value, qualifier per rad)")
    parser.add_argument("--ablate", action="store_true",
                        help="visa hur siffrorna ändras utan varje slags belägg och med vikter ±30 %%")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    gold = read_jsonl(args.gold)
    reader = PassageReader()
    if args.pdf:
        corpus = {p.stem: reader.keep_passages(read_document(p).passages) for p in sorted(args.pdf.glob("*.pdf"))}
        source = f"ingest.read_document på {args.pdf}"
    else:
        corpus = load_block_corpus(args.blocks)
        source = f"facitblock i {args.blocks}"
    labelled = label_corpus(reader, corpus)
    report = evaluate_labels(gold, labelled)
    print(f"Källa: {source}")
    print(format_report(report))
    if args.figures:
        years = {}
        for doc in corpus:
            sidecar = (args.pdf or Path()) / f"{doc}.yaml"
            years[doc] = (yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}).get("year") if sidecar.is_file() else None
        found = {doc: reader.figures(passages, year=years[doc]) for doc, passages in corpus.items()}
        print()
        print("Rapporternas egna siffror")
        print(format_figures(evaluate_figures(read_jsonl(args.figures), found)))
    if args.ablate:
        print()
        print(ablation_table(reader, corpus, gold))
    if args.errors:
        for row in gold:
            key = normalize_for_match(row["key"])
            holders = [p for p in labelled.get(row["doc"], []) if key in normalize_for_match(p.text)]
            kinds = {p.kind for p in holders}
            wrong = (row["label"] == "deficiency") != ("deficiency" in kinds)
            if wrong or (row["label"] == "good_example" and "good_example" not in kinds):
                p = holders[0] if holders else None
                where = f" | {p.heading_path} {p.block_kind} {p.kind_score} | {p.text[:160]!r}" if p else ""
                print(f"- {row['doc']} [{row['label']}] {row['key']!r} -> {sorted(kinds) or 'saknas'}{where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
