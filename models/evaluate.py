"""How well search and themes answer the gold, and passages built from ground-truth blocks.

The gold format is described in ../shared/README.md: a passage *covers* a key when the
normalised key is a substring of the normalised passage text.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from systemfel.base.hashing import text_hash
from systemfel.base.jsonlines import read_jsonl
from systemfel.base.records import StoredPassage
from systemfel.base.textnorm import normalize_for_match
from systemfel.ingest import read_document
from systemfel.models.search import Calibration

log = logging.getLogger(__name__)

RECALL_AT = 10




def passages_from_blocks(blocks_dir: str | Path, corpus_dir: str | Path | None = None) -> list[StoredPassage]:
    """Passages shaped like `Store.passages()` rows, from `*.blocks.jsonl` ground-truth files.

    Lets the models be developed and measured without PDF extraction; a report's org and
    year come from its `corpus/<name>.yaml` sidecar when there is one.
    """
    passages: list[StoredPassage] = []
    for doc_id, path in enumerate(sorted(Path(blocks_dir).glob("*.blocks.jsonl")), 1):
        doc = path.name.removesuffix(".blocks.jsonl")
        meta: dict = {}
        sidecar = Path(corpus_dir) / f"{doc}.yaml" if corpus_dir else None
        if sidecar is not None and sidecar.is_file():
            meta = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
        heading = ""
        for seq, block in enumerate(read_jsonl(path)):
            if block["kind"] == "h":
                heading = block["text"]
                continue
            passages.append(
                StoredPassage(
                    id=len(passages) + 1, doc_id=doc_id, file=f"{doc}.pdf", org=meta.get("org", ""),
                    year=meta.get("year"), title=meta.get("title", ""), page=None,
                    heading_path=(heading,) if heading else (),
                    block_kind={"p": "paragraph", "bullet": "bullet", "quote": "quote"}.get(block["kind"], "paragraph"),
                    seq=seq, text=block["text"], text_hash=text_hash(block["text"]),
                )  # fmt: skip
            )
    return passages


def passages_from_pdfs(corpus_dir: str | Path) -> list[StoredPassage]:
    """Passages shaped like `Store.passages()` rows, read from the PDFs by the real extraction.

    For measuring the models on what the pipeline really produces, without a database or the
    Swedish reading (kind, actors, level stay empty). Org and year come from the yaml sidecars.
    """
    passages: list[StoredPassage] = []
    for doc_id, path in enumerate(sorted(Path(corpus_dir).glob("*.pdf")), 1):
        meta: dict = {}
        sidecar = path.with_suffix(".yaml")
        if sidecar.is_file():
            meta = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
        parsed = read_document(path)
        for passage in parsed.passages:
            passages.append(
                StoredPassage(
                    id=len(passages) + 1, doc_id=doc_id, file=path.name, org=meta.get("org", ""),
                    year=meta.get("year"), title=meta.get("title", ""), page=passage.page,
                    heading_path=tuple(passage.heading_path), block_kind=passage.block_kind,
                    seq=passage.seq, text=passage.text, text_hash=text_hash(passage.text),
                )  # fmt: skip
            )
    return passages


def passage_covering(key: str, passages: list[dict]) -> dict | None:
    """The first passage whose normalised text contains the normalised key."""
    needle = normalize_for_match(key)
    return next((p for p in passages if needle in normalize_for_match(p.text)), None)


def apply_gold_labels(passages: list[dict], gold: list[dict]) -> list[dict]:
    """Copies of the passages with kind/themes/actors/level from the gold keys they cover.

    For developing stages downstream of the Swedish reading (clusters, trends) before it
    exists; passages no key covers keep kind None.
    """
    out = list(passages)
    index = {p.id: i for i, p in enumerate(out)}
    by_doc: dict[str, list[StoredPassage]] = {}
    for p in out:
        by_doc.setdefault(p.doc, []).append(p)
    for row in gold:
        passage = passage_covering(row["key"], [out[index[p.id]] for p in by_doc.get(row["doc"], [])])
        if passage is None:
            log.warning("gold key not found in %s: %s", row["doc"], row["key"])
            continue
        out[index[passage.id]] = replace(
            passage,
            kind=row["label"],
            themes=tuple(row.get("themes") or passage.themes),
            actors=tuple(row.get("actors") or passage.actors),
            level=row.get("level") or passage.level,
        )
    return out


def evaluate_queries(
    engine, queries: list[dict], mode: str = "hybrid", k: int = RECALL_AT, threshold: bool = True
) -> dict:
    """Recall@k (share of a query's relevant keys among its first k hits) and MRR, averaged.

    A hit is relevant when it covers one of the query's gold keys.
    """
    recalls, reciprocal_ranks, per_query = [], [], []
    for row in queries:
        keys = [normalize_for_match(key) for key in row["relevant"]]
        hits = engine.search(row["query"], k=k, mode=mode, threshold=threshold)
        texts = [normalize_for_match(hit.text) for hit in hits]
        found = [any(key in text for text in texts) for key in keys]
        first = next((rank for rank, text in enumerate(texts, 1) if any(key in text for key in keys)), None)
        recalls.append(sum(found) / max(len(keys), 1))
        reciprocal_ranks.append(1.0 / first if first else 0.0)
        per_query.append({"query": row["query"], "recall": recalls[-1], "first_relevant_rank": first})
    return {
        f"recall@{k}": float(np.mean(recalls)) if recalls else 0.0,
        "mrr": float(np.mean(reciprocal_ranks)) if reciprocal_ranks else 0.0,
        "n": len(queries),
        "per_query": per_query,
    }


def themed_keys(gold: list[dict], passages: list[dict]) -> list[tuple[dict, dict | None]]:
    """Each themed deficiency key of the gold with the passage that covers it (None if none)."""
    by_doc: dict[str, list[dict]] = {}
    for p in passages:
        by_doc.setdefault(p.doc, []).append(p)
    return [
        (row, passage_covering(row["key"], by_doc.get(row["doc"], [])))
        for row in gold
        if row.get("label") == "deficiency" and row.get("themes")
    ]


def theme_accuracy(gold: list[dict], passages: list[dict], predicted: dict[int, list[str]]) -> dict:
    """Main theme among a deficiency key's themes (top1) and either of the top two (top2).

    `predicted` maps passage id to its ranked theme slugs. Keys no passage covers (an
    extraction problem, not a theme problem) are left out and counted in `uncovered`.
    """
    return theme_hits(themed_keys(gold, passages), predicted)


def theme_hits(keys: list[tuple[dict, dict | None]], predicted: dict[int, list[str]]) -> dict:
    """`theme_accuracy` for keys already paired with their passages (`themed_keys`), so that
    many predictions can be scored without finding the passages again."""
    n = top1 = top2 = uncovered = 0
    misses = []
    for row, passage in keys:
        if passage is None:
            uncovered += 1
            continue
        n += 1
        slugs = predicted.get(passage.id, [])
        top1 += bool(slugs) and slugs[0] in row["themes"]
        hit2 = any(s in row["themes"] for s in slugs[:2])
        top2 += hit2
        if not hit2:
            misses.append({"key": row["key"], "gold": row["themes"], "predicted": slugs[:3]})
    return {"n": n, "uncovered": uncovered, "top1": top1 / max(n, 1), "top2": top2 / max(n, 1), "misses": misses}


def theme_predictions_leaving_reports_out(
    assigner, evidence, passages: list[dict], exclude_also: frozenset[str] = frozenset(), owners: np.ndarray | None = None
) -> dict[int, list[str]]:
    """Ranked theme slugs per passage id, each report scored without its own labelled examples
    (and without those of `exclude_also`): what the assigner would say about a report it has
    no labels from. With `owners` (`statement_units`) the statements among `passages` are
    blended with their passage as the build does (`ThemeAssigner.mix_parts`)."""
    docs = np.asarray([p.doc for p in passages], dtype=object)
    scores = np.zeros((len(passages), len(assigner.codebook.slugs)))
    for doc in sorted(set(docs)):
        rows = np.flatnonzero(docs == doc)
        scores[rows] = assigner.combine(evidence.rows(rows), exclude_docs={doc} | exclude_also)
    if owners is not None:
        scores = assigner.mix_parts(scores, owners)
    return {passages[i].id: [t.slug for t in ranked] for i, ranked in enumerate(assigner.rank(scores))}


# Weights the leave-one-report-out evaluation chooses between (192 settings), each switched
# off as one choice. top_examples and labelled_top stay as set on the assigner: the evidence
# is computed once for them.
THEME_SETTINGS_GRID = [
    {"lexical_weight": lexical, "heading_weight": heading, "sentence_weight": sentence, "labelled_weight": labelled}
    for lexical in (0.0, 0.05, 0.1, 0.2)
    for heading in (0.0, 0.1, 0.2)
    for sentence in (0.0, 0.25, 0.5, 0.75)
    for labelled in (0.0, 0.2, 0.3, 0.5)
]


def main_effects(grid: list[dict], scores: list[float]) -> list[float]:
    """Each setting's support: for each of its weights, the mean score of all settings that
    share that weight's value, summed over its weights. On a full grid the best-supported
    setting takes, for every weight, the value that scores best averaged over the others."""
    by_value: dict[tuple, list[float]] = {}
    for setting, score in zip(grid, scores):
        for item in setting.items():
            by_value.setdefault(item, []).append(score)
    means = {item: float(np.mean(values)) for item, values in by_value.items()}
    return [sum(means[item] for item in setting.items()) for setting in grid]


def theme_accuracy_leave_one_report_out(
    gold: list[dict],
    passages: list[dict],
    vectors: np.ndarray,
    assigner,
    grid: list[dict] | None = None,
    sentences: tuple[np.ndarray, np.ndarray] | None = None,
    owners: np.ndarray | None = None,
) -> dict:
    """Theme accuracy with everything learned from gold chosen without the report it is scored on.

    For each report, every setting in `grid` is scored on each of the other reports (top-1 plus
    top-2 hits, with the labelled examples of neither the held-out nor the scored report). The
    best setting predicts the held-out report with the labelled examples of the others, and the
    held-out figures are pooled. `assigner` is a fitted ThemeAssigner; its settings are restored.

    "Best" is the best-supported setting (`main_effects`), first in the grid on a tie: the
    weights add their evidence up, and on about 55 keys a third of the 192 settings score within
    one hit of the top, so the single top setting is chosen by noise; a weight's value that
    scores well averaged over the other weights is a choice the other reports support.
    """
    grid = grid or THEME_SETTINGS_GRID
    evidence = assigner.evidence(
        [p.text for p in passages], vectors, headings=[p.filed_under for p in passages], sentences=sentences
    )
    saved = {key: getattr(assigner, key) for setting in grid for key in setting}
    keys = themed_keys(gold, passages)
    docs = sorted({row["doc"] for row, _ in keys})
    n = top1 = top2 = 0
    chosen: dict[str, dict] = {}
    try:
        for held_out in docs:
            train = [(row, p) for row, p in keys if row["doc"] != held_out]
            test = [(row, p) for row, p in keys if row["doc"] == held_out]
            scores = []
            for setting in grid:
                for key, value in setting.items():
                    setattr(assigner, key, value)
                predicted = theme_predictions_leaving_reports_out(assigner, evidence, passages, frozenset({held_out}), owners)
                result = theme_hits(train, predicted)
                scores.append(round((result["top1"] + result["top2"]) * result["n"]))
            best = grid[int(np.argmax(main_effects(grid, scores)))]
            for key, value in best.items():
                setattr(assigner, key, value)
            result = theme_hits(test, theme_predictions_leaving_reports_out(assigner, evidence, passages, owners=owners))
            chosen[held_out] = best | {"top1": result["top1"], "top2": result["top2"], "n": result["n"]}
            n += result["n"]
            top1 += result["top1"] * result["n"]
            top2 += result["top2"] * result["n"]
    finally:
        for key, value in saved.items():
            setattr(assigner, key, value)
    return {"n": n, "top1": top1 / max(n, 1), "top2": top2 / max(n, 1), "per_doc": chosen}


def relevant_relevances(engine, queries: list[dict], k: int = RECALL_AT) -> list[list[float]]:
    """Per query, the relevance of each of its relevant passages among the first k hits
    ranked without a threshold (what `calibrate` learns from)."""
    out = []
    for row in queries:
        keys = [normalize_for_match(key) for key in row["relevant"]]
        hits = engine.search(row["query"], k=k, threshold=False)
        out.append([h.relevance for h in hits if any(key in normalize_for_match(h.text) for key in keys)])
    return out


def calibrate(engine, queries: list[dict], margin: float = 0.02, k: int = RECALL_AT):
    """Relevance thresholds from queries with judged answers.

    `possible` is the lowest relevance of any relevant passage the ranking puts in the first
    k, less `margin`: no judged answer that search finds is hidden by the threshold. `strong`
    is the median relevance of those passages: half of the judged answers reach it.
    """
    found = [r for per_query in relevant_relevances(engine, queries, k) for r in per_query]
    if not found:
        raise ValueError("no relevant passage among the first hits of any query: nothing to calibrate on")
    return Calibration(possible=round(min(found) - margin, 3), strong=round(float(np.median(found)), 3))
