"""Trender: themes over the years compared like with like, and the figures the reports state.

Each report is written by one organisation in one year, so a column per year mostly compares
organisations. By default the view shows each report as its own column, grouped by
organisation, as shares of that report's deficiencies (reports differ in length), and points
out the one honest trend: the same organisation in different years.
"""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from systemfel.explorer import tables
from systemfel.explorer.context import Context, cached_report_shares
from systemfel.explorer.highlight import markdown_safe
from systemfel.explorer.labels import ThemeNamer
from systemfel.explorer.widgets import show_table
from systemfel.models.trends import MAIN_THEME, within_org_changes

SLUG = "trender"
TITLE = "Trender"
ORDER = 40

PER_ORG = "Per organisation (samma organisation över åren)"
PER_YEAR = "Alla organisationer per år"
SHARE = "Andel av rapportens brister"
COUNT = "Antal brister"


def render(ctx: Context) -> None:
    st.title(TITLE)
    shares = cached_report_shares(ctx.db_key, ctx.marker).copy()
    left, right = st.columns([3, 2])
    with left:
        if shares.empty:
            st.info("Inga brister att visa trender för ännu.")
        else:
            trend_section(shares, ctx.namer)
    with right:
        st.subheader("Siffror som rapporterna själva anger")
        figures = tables.figures_table(ctx.snap.figures)
        if figures.empty:
            st.info("Inga siffror hittades i rapporterna.")
        else:
            show_table(figures, "rapporternas_siffror", "figures", height=520)


def trend_section(shares: pd.DataFrame, namer: ThemeNamer) -> None:
    years_per_org = shares.groupby("org")["year"].nunique()
    has_repeat = bool((years_per_org > 1).any())
    c1, c2 = st.columns(2)
    split = c1.radio("Jämför", [PER_ORG, PER_YEAR], index=0 if has_repeat else 1, key="trend_delning")
    measure = c2.radio("Mått", [SHARE, COUNT], index=0, key="trend_matt")
    by_org = split == PER_ORG
    st.caption(markdown_safe(
        f"Räknat: {MAIN_THEME} (varje brist en gång). "
        + ("Andel = temats brister delat med rapportens alla brister, så att långa och korta rapporter "
           "kan jämföras." if measure == SHARE else "Antal följer rapportens längd: jämför hellre andelar.")
    ))  # fmt: skip
    for note in comparability_notes(shares):
        st.warning(markdown_safe(note))
    frame = shares.assign(Tema=shares["theme"].map(namer.theme))
    value = "share" if measure == SHARE else "count"
    if by_org:
        frame["Kolumn"] = frame["org"] + " " + frame["year"].astype(str) + frame["national"].map({True: " (riket)", False: ""})
        order = list(dict.fromkeys(frame.sort_values(["org", "year"])["Kolumn"]))
    else:
        frame["Kolumn"] = frame["year"].astype(str)
        order = sorted(frame["Kolumn"].unique())
        if value == "share":  # a year's share: its themes over all its reports' deficiencies
            totals = frame.drop_duplicates("doc_id").groupby("Kolumn")["total"].sum()
            frame = frame.groupby(["Kolumn", "Tema"], as_index=False)["count"].sum()
            frame["share"] = frame["count"] / frame["Kolumn"].map(totals)
    grid = frame.pivot_table(index="Tema", columns="Kolumn", values=value, aggfunc="sum", fill_value=0)[order]
    grid = grid.loc[grid.sum(axis=1).sort_values(ascending=False).index]  # largest theme on top
    st.subheader(("Andel av rapportens brister per tema" if value == "share" else "Antal brister per tema")
                 + (" – per rapport" if by_org else " – per år"))  # fmt: skip
    chart = px.imshow(grid, text_auto=".0%" if value == "share" else "d", aspect="auto",
                      color_continuous_scale="Reds", labels={"x": "", "y": "", "color": measure})  # fmt: skip
    chart.update_xaxes(type="category", side="top")
    chart.update_layout(height=max(320, 32 * len(grid) + 80), margin={"l": 0, "r": 0, "t": 30, "b": 0},
                        coloraxis_showscale=False)  # fmt: skip
    st.plotly_chart(chart, key=f"trend_{value}_{'org' if by_org else 'year'}")
    changes = within_org_changes(shares)
    if not changes.empty:
        same_org_changes(changes, namer)
    table = shares.assign(Tema=shares["theme"].map(namer.theme))
    shown = pd.DataFrame({
        "Organisation": table["org"], "År": table["year"], "Tema": table["Tema"], tables.COUNT_MAIN: table["count"],
        "Rapportens brister": table["total"], "Andel": table["share"].round(3),
    })  # fmt: skip
    show_table(shown, "trender_per_rapport", "trends")


def same_org_changes(changes: pd.DataFrame, namer: ThemeNamer) -> None:
    """The like-with-like comparison: one organisation's first and latest report."""
    for (org, first, last), group in changes.groupby(["org", "from_year", "to_year"]):
        st.subheader(f"Förändring inom {org}: {first} → {last}")
        st.caption("Samma organisation två år: här är en skillnad en förändring över tid, inte mellan organisationer. "
                   "Procentenheter av rapportens brister.")  # fmt: skip
        shown = pd.DataFrame({
            "Tema": group["theme"].map(namer.theme),
            f"Andel {first}": group["share_from"].map("{:.0%}".format),
            f"Andel {last}": group["share_to"].map("{:.0%}".format),
            "Förändring (procentenheter)": group["change_points"],
        })  # fmt: skip
        st.dataframe(
            shown.style.map(_change_colour, subset=["Förändring (procentenheter)"]).format(
                {"Förändring (procentenheter)": "{:+.1f}"}
            ),
            hide_index=True, width="stretch",
        )  # fmt: skip


def _change_colour(points: float) -> str:
    if points >= 5:
        return "background-color: #f5b7b1"
    if points <= -5:
        return "background-color: #aed6f1"
    return ""


def comparability_notes(shares: pd.DataFrame) -> list[str]:
    """What a reader must know before reading a year as a trend."""
    notes = []
    reports = shares.drop_duplicates("doc_id")
    for year, group in reports.groupby("year"):
        if len(group) == 1:
            row = group.iloc[0]
            kind = "en nationell översikt" if row["national"] else "en enda rapport"
            notes.append(f"{year} bygger på {kind} ({row['org']}): skillnader mot andra år är också skillnader "
                         "mellan organisationer.")  # fmt: skip
        elif group["national"].any():
            notes.append(f"{year} blandar en nationell översikt med regionala rapporter.")
    return notes
