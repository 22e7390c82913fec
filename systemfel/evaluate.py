"""`systemfel eval`: the figures for a gold file against a built database.

The metric code lives with the stage it measures (nlp/evaluate.py, models/evaluate.py);
this module only loads the gold, gathers passages from the store and prints.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from systemfel.base.jsonlines import read_json_lines
from systemfel.models.embed import load_embedder
from systemfel.models.evaluate import (
    evaluate_queries,
    theme_accuracy,
    theme_accuracy_leave_one_report_out,
    theme_predictions_leaving_reports_out,
)
from systemfel.models.recurrence_eval import StatementRef, locate_gold, score_recurrence
from systemfel.models.themes import ThemeAssigner, statement_units
from systemfel.models.vectors import MODEL_META_KEY, embed_passages_cached, sentence_vectors_cached
from systemfel.nlp.evaluate import evaluate_labels, format_report
from systemfel.pipeline import THEMED_KINDS, BuildOptions, build_codebook, labelled_examples, load_search_engine
from systemfel.store import Store


class GoldFormatError(ValueError):
    """A gold or query file that cannot be used (wrong format, or none of its reports in the
    database), explained in Swedish."""


GOLD_FIELDS = {"doc": str, "key": str, "label": str}
QUERY_FIELDS = {"query": str, "relevant": list}


def load_jsonl(path: Path, required: dict[str, type] | None = None) -> list[dict]:
    """Rows of a JSON-lines file; each must be an object with the `required` fields and types."""
    rows = []
    for number, row in read_json_lines(path, GoldFormatError):
        missing = [k for k, kind in (required or {}).items() if not isinstance(row, dict) or not isinstance(row.get(k), kind)]
        if missing:
            raise GoldFormatError(f"{path}: rad {number} saknar fälten {', '.join(missing)} (eller har fel typ).")
        rows.append(row)
    return rows


def passages_by_doc(store: Store) -> dict[str, list[dict]]:
    """Passages grouped by report name (file stem), the `doc` of the gold format."""
    grouped: dict[str, list[dict]] = {}
    for p in store.passages():
        grouped.setdefault(p.doc, []).append(p)
    return grouped


def theme_evaluation(store: Store, gold: list[dict], by_doc: dict[str, list[dict]], options) -> dict:
    """Theme accuracy per report with the default weights, each report scored without its own
    labelled examples; and with the weights, too, chosen leaving each report out.

    The stored themes are not measured: they were assigned with every labelled example,
    including those taken from the gold reports themselves.
    """
    # the statements of the deficiencies come first, so a key one statement holds is scored on it
    passages, owners = statement_units(
        [p for rows in by_doc.values() for p in rows if p.kind in THEMED_KINDS], store.statements()
    )
    embedder = load_embedder(store.get_meta(MODEL_META_KEY))
    cached = embed_passages_cached(store, embedder, [(p.text_hash, p.text) for p in passages], save=False)
    vectors = np.vstack([cached[p.text_hash] for p in passages])
    sentences = sentence_vectors_cached(store, embedder, [p.text for p in passages], save=False)
    assigner = ThemeAssigner(build_codebook(store, options.codebook), embedder, labelled=labelled_examples(store, options)).fit()
    evidence = assigner.evidence(
        [p.text for p in passages], vectors, headings=[p.filed_under for p in passages], sentences=sentences
    )
    predicted = theme_predictions_leaving_reports_out(assigner, evidence, passages, owners=owners)
    docs = sorted({row["doc"] for row in gold if row.get("label") == "deficiency" and row.get("themes")})
    per_doc = {doc: theme_accuracy([r for r in gold if r["doc"] == doc], passages, predicted) for doc in docs}
    return {
        "per_doc": per_doc,
        "total": theme_accuracy(gold, passages, predicted),
        "labelled_examples": len(assigner.labelled_docs_),
        "leave_one_report_out": theme_accuracy_leave_one_report_out(
            gold, passages, vectors, assigner, sentences=sentences, owners=owners
        ),
    }


def run_evaluation(store: Store, gold_path: Path, queries_path: Path | None = None, options=None) -> tuple[dict, str]:
    """The figures as a report dict and as text. `options` (BuildOptions) name the codebook
    and labelled examples the build used."""

    options = options or BuildOptions()

    gold = load_jsonl(gold_path, GOLD_FIELDS)
    queries = load_jsonl(queries_path, QUERY_FIELDS) if queries_path is not None else None
    by_doc = passages_by_doc(store)
    unknown = sorted({row["doc"] for row in gold} - set(by_doc))
    if gold and len(unknown) == len({row["doc"] for row in gold}):
        raise GoldFormatError(
            f"Ingen av guldfilens rapporter ({', '.join(unknown)}) finns i databasen. "
            "Bygg rapporterna först, eller ange rätt databas med --db."
        )
    labels = evaluate_labels(gold, by_doc)
    themed = any(row.get("label") == "deficiency" and row.get("themes") and row["doc"] in by_doc for row in gold)
    themes = theme_evaluation(store, gold, by_doc, options) if themed else None
    report = {"labels": labels, "themes": themes}
    lines = ["Etiketter (typ, nivå, aktörer)", format_report(labels)]
    if themes:
        held_out = themes["leave_one_report_out"]
        lines += [
            "",
            "Teman (brister med guldteman; varje rapport utan sina egna märkta exempel, "
            f"{themes['labelled_examples']} exempel totalt)",
            f"  {'dokument':<38} {'n':>3} {'huvudtema':>10} {'topp 2':>8}",
        ]
        for doc, r in [*themes["per_doc"].items(), ("TOTALT", themes["total"])]:
            lines.append(f"  {doc:<38} {r['n']:>3} {r['top1']:>10.3f} {r['top2']:>8.3f}")
        lines.append(
            f"  {'TOTALT, vikter valda utan rapporten':<38} {held_out['n']:>3} "
            f"{held_out['top1']:>10.3f} {held_out['top2']:>8.3f}"
        )
    if unknown:
        lines.append(f"\nVarning: guldfilen nämner dokument som inte finns i databasen: {', '.join(unknown)}")
    if queries_path is not None:

        engine = load_search_engine(store)
        report["queries"] = {mode: evaluate_queries(engine, queries, mode) for mode in ("lexical", "dense", "hybrid")}
        lines += ["", f"Sökfrågor ({len(queries)} st)", f"  {'metod':<10} {'recall@10':>10} {'MRR':>8}"]
        for mode, r in report["queries"].items():
            lines.append(f"  {mode:<10} {r['recall@10']:>10.3f} {r['mrr']:>8.3f}")
    return report, "\n".join(lines)


RECURRENCE_FIELDS = {"group": str, "doc": str, "key": str}


def run_recurrence_evaluation(store: Store, gold_path: Path) -> tuple[dict, str]:
    """B-cubed precision/recall/F1 and found groups of the stored recurring issues."""
    gold = load_jsonl(gold_path, RECURRENCE_FIELDS)
    if not gold:
        raise GoldFormatError(f"{gold_path} innehåller inga påståenden.")
    by_doc = passages_by_doc(store)
    docs = {row["doc"] for row in gold}
    if not docs & set(by_doc):
        raise GoldFormatError(
            f"Ingen av guldfilens rapporter ({', '.join(sorted(docs))}) finns i databasen. "
            "Bygg rapporterna först, eller ange rätt databas med --db."
        )
    passages = {p.id: (doc, p.text) for doc, rows in by_doc.items() for p in rows}
    refs = [
        StatementRef(Path(s["file"]).stem, s["passage_id"], s["text"], frozenset([s["issue_id"]]) if s["issue_id"] else frozenset())
        for s in store.statements()
    ]
    score = score_recurrence(gold, locate_gold(gold, refs, passages))
    if not score.n:
        raise GoldFormatError(
            f"Ingen av guldfilens {len(gold)} nycklar finns i databasens stycken; inget att mäta."
        )
    found = ", ".join(score.found_groups) or "-"
    lines = [
        f"Återkommande systemfel ({score.n} guldpåståenden i {score.groups} grupper)",
        f"  B-cubed precision {score.precision:.3f}",
        f"  B-cubed recall    {score.recall:.3f}",
        f"  B-cubed F1        {score.f1:.3f}",
        f"  hittade grupper   {score.found:.3f} ({len(score.found_groups)} av {score.groups}: {found})",
    ]
    if score.by_passage:
        lines.append(f"  {score.by_passage} nycklar hittades bara via sitt stycke (inget påstående innehöll hela nyckeln)")
    if score.unmatched:
        lines.append(f"  Varning: {len(score.unmatched)} nycklar finns inte i databasen och räknades inte:")
        lines += [f"    {row['doc']}: {row['key']}" for row in score.unmatched]
    report = score.as_dict()
    return report, "\n".join(lines)
