"""Trender: deficiencies per theme and year, and the figures the reports state about themselves."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from systemfel.explorer import tables
from systemfel.explorer.context import Context, cached_theme_trends
from systemfel.explorer.labels import ThemeNamer
from systemfel.explorer.widgets import show_table

SLUG = "trender"
TITLE = "Trender"
ORDER = 40


def render(ctx: Context) -> None:
    st.title(TITLE)
    split = st.radio(
        "Visa", ["Alla organisationer tillsammans", "Per organisation"], horizontal=True, key="trend_delning"
    )
    by_org = split == "Per organisation"
    left, right = st.columns([3, 2])
    with left:
        frame = cached_theme_trends(ctx.db_key, ctx.marker, by_org).copy()
        if frame.empty:
            st.info("Inga brister att visa trender för ännu.")
        else:
            trend_charts(frame, ctx.namer, by_org)
    with right:
        st.subheader("Siffror som rapporterna själva anger")
        figures = tables.figures_table(ctx.snap.figures)
        if figures.empty:
            st.info("Inga siffror hittades i rapporterna.")
        else:
            show_table(figures, "rapporternas_siffror", "figures", height=520)


def trend_charts(frame: pd.DataFrame, namer: ThemeNamer, by_org: bool) -> None:
    """Counts and shares of deficiencies per theme and year as heat maps: fourteen lines would be a tangle."""
    frame = frame.assign(Tema=frame["theme"].map(namer.theme)).rename(
        columns={"year": "År", "org": "Organisation", "count": "Antal", "share": "Andel"}
    )
    column = "Rapport" if by_org else "År"
    if by_org:
        frame = frame.sort_values(["Organisation", "År"])
        frame["Rapport"] = frame["Organisation"] + " " + frame["År"].astype(str)
    order = list(dict.fromkeys(frame.sort_values(["Organisation", "År"] if by_org else ["År"])[column].astype(str)))
    for value, title, fmt in (("Antal", "Antal brister per tema och år", "d"),
                              ("Andel", "Andel av årets brister per tema", ".0%")):  # fmt: skip
        st.subheader(title)
        grid = frame.pivot_table(index="Tema", columns=column, values=value, aggfunc="sum", fill_value=0)
        grid.columns = grid.columns.astype(str)
        grid = grid[order]
        grid = grid.loc[grid.sum(axis=1).sort_values(ascending=False).index]  # largest theme on top
        chart = px.imshow(grid, text_auto=fmt, aspect="auto", color_continuous_scale="Reds",
                          labels={"x": "", "y": "", "color": value})  # fmt: skip
        chart.update_xaxes(type="category", side="top")
        chart.update_layout(height=max(320, 32 * len(grid) + 80), margin={"l": 0, "r": 0, "t": 30, "b": 0},
                            coloraxis_showscale=False)  # fmt: skip
        st.plotly_chart(chart, key=f"trend_{value}")
    shown = frame[["År", "Organisation", "Tema", "Antal", "Andel"] if by_org else ["År", "Tema", "Antal", "Andel"]]
    show_table(shown, "trender_per_org" if by_org else "trender", "trends")
