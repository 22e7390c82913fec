"""Recurrence and trends: which systemfel come back across reports, organisations and years.

A researcher calls a deficiency *recurring* when it is reported by several organisations,
in several reports, over several years, not when one report mentions it many times. So
groups are ranked by how many reports, organisations and years they span, then by size.
Only passages labelled as deficiencies count.
"""
from __future__ import annotations

import pandas as pd

RECURRENCE_COLUMNS = [
    "key", "n_passages", "n_reports", "n_orgs", "n_years", "years", "orgs", "reports", "passage_ids",
]  # fmt: skip


def _deficiencies(passages: list[dict]) -> list[dict]:
    return [p for p in passages if p.kind == "deficiency"]


def recurrence(passages: list[dict], by: str = "theme") -> pd.DataFrame:
    """One row per theme (every theme a passage has) or cluster, ranked by spread.

    Columns: key (theme slug or cluster id), n_passages, n_reports, n_orgs, n_years, sorted
    `years`, `orgs` and `reports` lists, and `passage_ids` (the evidence to cite).
    """
    if by not in ("theme", "cluster"):
        raise ValueError(f"Okänd gruppering '{by}'. Välj 'theme' eller 'cluster'.")
    groups: dict[object, list[dict]] = {}
    for p in _deficiencies(passages):
        keys = list(dict.fromkeys(p.themes or [])) if by == "theme" else [p.cluster]
        for key in keys:
            if key is not None:
                groups.setdefault(key, []).append(p)
    rows = []
    for key, members in groups.items():
        reports = sorted({p.file or str(p.doc_id) for p in members})
        orgs = sorted({p.org for p in members if p.org})
        years = sorted({int(p.year) for p in members if p.year is not None})
        rows.append(
            {
                "key": key,
                "n_passages": len(members),
                "n_reports": len(reports),
                "n_orgs": len(orgs),
                "n_years": len(years),
                "years": years,
                "orgs": orgs,
                "reports": reports,
                "passage_ids": [p.id for p in members],
            }
        )
    frame = pd.DataFrame(rows, columns=RECURRENCE_COLUMNS)
    if frame.empty:
        return frame
    frame["_key"] = frame["key"].astype(str)
    frame = frame.sort_values(
        ["n_reports", "n_orgs", "n_years", "n_passages", "_key"], ascending=[False, False, False, False, True]
    )
    return frame.drop(columns="_key").reset_index(drop=True)


def theme_trends(passages: list[dict], by_org: bool = False) -> pd.DataFrame:
    """Per theme and year (and organisation): count of deficiency passages with the theme, and
    its share of all deficiency passages of that year (and organisation).

    A passage counts once for its main theme only, so the shares of a year add up to 1.
    """
    group_cols = ["year", "org"] if by_org else ["year"]
    rows = [
        {"year": p.year, "org": p.org or "", "theme": (p.themes or [None])[0]}
        for p in _deficiencies(passages)
        if p.year is not None
    ]
    columns = [*group_cols, "theme", "count", "share"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    frame["year"] = frame["year"].astype(int)
    totals = frame.groupby(group_cols).size().rename("total")
    themed = frame.dropna(subset=["theme"])
    counts = themed.groupby([*group_cols, "theme"]).size().rename("count").reset_index()
    counts = counts.join(totals, on=group_cols)
    counts["share"] = counts["count"] / counts["total"]
    return counts[columns].sort_values([*group_cols, "count", "theme"], ascending=[True] * len(group_cols) + [False, True]).reset_index(drop=True)
