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


# The two ways a theme's deficiencies are counted, named as users read them. Every view
# and export that shows a count per theme says which of the two it is.
MAIN_THEME = "brister med temat som huvudtema"
ANY_THEME = "brister som nämner temat"

THEME_COUNT_COLUMNS = ["theme", "n_main", "n_any", "n_reports", "n_orgs", "n_years"]


def theme_counts(passages: list[dict]) -> pd.DataFrame:
    """Per theme: deficiencies with it as main theme (`n_main`), deficiencies that have it at
    all (`n_any`), and the reports, organisations and years those span; largest `n_main` first.

    The one definition of these numbers: overview, themes, trends and recurrence read it.
    """
    rows: dict[str, dict] = {}
    for p in _deficiencies(passages):
        for rank, slug in enumerate(dict.fromkeys(p.themes or ())):
            row = rows.setdefault(slug, {"theme": slug, "n_main": 0, "n_any": 0, "docs": set(), "orgs": set(),
                                         "years": set()})  # fmt: skip
            row["n_any"] += 1
            row["n_main"] += rank == 0
            row["docs"].add(p.doc_id)
            if p.org:
                row["orgs"].add(p.org)
            if p.year is not None:
                row["years"].add(p.year)
    out = [
        {"theme": r["theme"], "n_main": r["n_main"], "n_any": r["n_any"], "n_reports": len(r["docs"]),
         "n_orgs": len(r["orgs"]), "n_years": len(r["years"])}
        for r in rows.values()
    ]  # fmt: skip
    frame = pd.DataFrame(out, columns=THEME_COUNT_COLUMNS)
    return frame.sort_values(["n_main", "n_any", "theme"], ascending=[False, False, True], ignore_index=True)


REPORT_TREND_COLUMNS = ["doc_id", "org", "year", "national", "theme", "count", "total", "share"]


def report_theme_shares(passages: list[dict], national_docs: set[int] | frozenset[int] = frozenset()) -> pd.DataFrame:
    """Per report and theme: deficiencies with the theme as main theme (`count`), the report's
    deficiencies (`total`) and `share` = count / total.

    Shares, not counts, are what compare reports of different length (one report lists 76
    deficiencies, another 14). `national` marks overviews of the whole country.
    """
    rows = [
        {"doc_id": p.doc_id, "org": p.org or "", "year": p.year, "theme": p.theme}
        for p in _deficiencies(passages)
        if p.year is not None
    ]
    if not rows:
        return pd.DataFrame(columns=REPORT_TREND_COLUMNS)
    frame = pd.DataFrame(rows)
    frame["year"] = frame["year"].astype(int)
    keys = ["doc_id", "org", "year"]
    totals = frame.groupby(keys).size().rename("total")
    counts = frame.dropna(subset=["theme"]).groupby([*keys, "theme"]).size().rename("count").reset_index()
    counts = counts.join(totals, on=keys)
    counts["share"] = counts["count"] / counts["total"]
    counts["national"] = counts["doc_id"].isin(set(national_docs))
    return counts[REPORT_TREND_COLUMNS].sort_values(["org", "year", "count"], ascending=[True, True, False],
                                                     ignore_index=True)  # fmt: skip


def within_org_changes(shares: pd.DataFrame) -> pd.DataFrame:
    """For each organisation with reports from several years: each theme's share in its first
    and its latest report and the change in percentage points (the like-with-like trend)."""
    columns = ["org", "from_year", "to_year", "theme", "share_from", "share_to", "change_points"]
    out = []
    for org, group in shares.groupby("org"):
        years = sorted(group["year"].unique())
        if len(years) < 2 or not org:
            continue
        first, last = years[0], years[-1]
        by_year = {y: group[group["year"] == y].set_index("theme")["share"] for y in (first, last)}
        for theme in sorted(set(by_year[first].index) | set(by_year[last].index)):
            a, b = float(by_year[first].get(theme, 0.0)), float(by_year[last].get(theme, 0.0))
            out.append({"org": org, "from_year": int(first), "to_year": int(last), "theme": theme,
                        "share_from": a, "share_to": b, "change_points": round(100 * (b - a), 1)})  # fmt: skip
    frame = pd.DataFrame(out, columns=columns)
    if frame.empty:
        return frame
    frame["_abs"] = frame["change_points"].abs()
    return frame.sort_values(["org", "_abs"], ascending=[True, False]).drop(columns="_abs").reset_index(drop=True)
