"""`systemfel eval`: the figures for a gold file against a built database.

The metric code lives with the stage it measures (nlp/evaluate.py, models/evaluate.py);
this module only loads the gold, gathers passages from the store and prints.
"""
from __future__ import annotations

import json
from pathlib import Path

from systemfel.store import Store
from systemfel.textnorm import normalize_for_match


def load_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}: rad {number} är inte giltig JSON ({exc.msg})") from exc
    return rows


def passages_by_doc(store: Store) -> dict[str, list[dict]]:
    """Passages grouped by report name (file stem), the `doc` of the gold format."""
    grouped: dict[str, list[dict]] = {}
    for p in store.passages():
        grouped.setdefault(Path(p["file"]).stem, []).append(p | {"doc": Path(p["file"]).stem})
    return grouped


def theme_accuracy(gold: list[dict], by_doc: dict[str, list[dict]]) -> dict:
    """Main theme among the key's themes; either of the top two among them."""
    per_doc: dict[str, dict[str, int]] = {}
    for row in gold:
        if row.get("label") != "deficiency" or not row.get("themes"):
            continue
        key = normalize_for_match(row["key"])
        passage = next((p for p in by_doc.get(row["doc"], []) if key in normalize_for_match(p["text"])), None)
        counts = per_doc.setdefault(row["doc"], {"n": 0, "top1": 0, "top2": 0})
        counts["n"] += 1
        if passage is None or not passage["themes"]:
            continue
        counts["top1"] += passage["themes"][0] in row["themes"]
        counts["top2"] += any(t in row["themes"] for t in passage["themes"][:2])
    total = {k: sum(c[k] for c in per_doc.values()) for k in ("n", "top1", "top2")}

    def ratios(c: dict[str, int]) -> dict:
        n = max(c["n"], 1)
        return {"n": c["n"], "theme_top1": c["top1"] / n, "theme_top2": c["top2"] / n}

    return {"per_doc": {d: ratios(c) for d, c in sorted(per_doc.items())}, "total": ratios(total)}


def run_evaluation(store: Store, gold_path: Path, queries_path: Path | None = None) -> tuple[dict, str]:
    from nlp.evaluate import evaluate_labels, format_report

    gold = load_jsonl(gold_path)
    by_doc = passages_by_doc(store)
    unknown = sorted({row["doc"] for row in gold} - set(by_doc))
    labels = evaluate_labels(gold, by_doc)
    themes = theme_accuracy(gold, by_doc)
    report = {"labels": labels, "themes": themes}
    lines = ["Etiketter (typ, nivå, aktörer)", format_report(labels), "", "Teman (brister med guldteman)"]
    lines.append(f"  {'dokument':<38} {'n':>3} {'huvudtema':>10} {'topp 2':>8}")
    for doc, r in [*themes["per_doc"].items(), ("TOTALT", themes["total"])]:
        lines.append(f"  {doc:<38} {r['n']:>3} {r['theme_top1']:>10.3f} {r['theme_top2']:>8.3f}")
    if unknown:
        lines.append(f"\nVarning: guldfilen nämner dokument som inte finns i databasen: {', '.join(unknown)}")
    if queries_path is not None:
        from models.evaluate import evaluate_queries
        from systemfel.pipeline import load_search_engine

        queries = load_jsonl(queries_path)
        engine = load_search_engine(store)
        report["queries"] = {mode: evaluate_queries(engine, queries, mode) for mode in ("lexical", "dense", "hybrid")}
        lines += ["", f"Sökfrågor ({len(queries)} st)", f"  {'metod':<10} {'recall@10':>10} {'MRR':>8}"]
        for mode, r in report["queries"].items():
            lines.append(f"  {mode:<10} {r['recall@10']:>10.3f} {r['mrr']:>8.3f}")
    return report, "\n".join(lines)
