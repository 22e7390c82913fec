"""Översikt: what the database holds, the largest themes and what recurs across reports."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from systemfel.explorer import tables
from systemfel.explorer.context import Context, cached_recurrence
from systemfel.explorer.highlight import markdown_safe
from systemfel.explorer.labels import ThemeNamer
from systemfel.models.trends import MAIN_THEME, theme_counts
from systemfel.explorer.widgets import TIGHT_MARGIN, show_table

SLUG = "oversikt"
TITLE = "Översikt"
ORDER = 10


def render(ctx: Context) -> None:
    snap, namer = ctx.snap, ctx.namer
    st.title(TITLE)
    ok_docs = [d for d in snap.documents if d.status == "ok"]
    kinds = pd.Series([p.kind for p in snap.passages], dtype="object").value_counts()
    cols = st.columns(4)
    cols[0].metric("Rapporter", len(ok_docs))
    cols[1].metric("Stycken", len(snap.passages))
    cols[2].metric("Brister", int(kinds.get("deficiency", 0)))
    cols[3].metric("Goda exempel", int(kinds.get("good_example", 0)))

    st.subheader("Rapporter")
    show_table(tables.documents_table(snap.documents, snap.passages), "rapporter", "docs")
    failed = tables.failed_documents_table(snap.documents)
    if not failed.empty:
        st.warning(f"{len(failed)} fil(er) kunde inte läsas in:")
        show_table(failed, "misslyckade_filer", "failed")

    st.subheader("Största teman")
    sizes = tables.theme_sizes(snap.passages, namer)
    if sizes.empty:
        st.info("Inga brister med tema ännu. Har analysen körts? (`systemfel build --db FIL`)")
    else:
        st.caption(markdown_safe(f"Stapeln: {MAIN_THEME}. " + tables.COUNT_HELP))
        main = tables.COUNT_MAIN
        chart = px.bar(sizes.head(10), x=main, y="Tema", orientation="h", text=main)
        chart.update_layout(yaxis={"categoryorder": "total ascending", "title": ""}, height=360, margin=TIGHT_MARGIN)
        st.plotly_chart(chart, key="overview_themes")
        show_table(sizes.drop(columns=["Slug"]), "storsta_teman", "sizes")

    st.subheader("Återkommande systemfel")
    st.caption("Teman och kluster som finns i flera rapporter, rangordnade efter hur många rapporter, "
               "organisationer och år de spänner över.")  # fmt: skip
    for by, title in (("theme", "Teman"), ("cluster", "Kluster")):
        st.markdown(f"**{title}**")
        frame = recurrence_table(ctx, by, namer)
        if frame.empty:
            st.info("Inget återkommer i flera rapporter ännu.")
        else:
            show_table(frame, f"aterkommande_{by}", f"rec_{by}")


def recurrence_table(ctx: Context, by: str, namer: ThemeNamer) -> pd.DataFrame:
    """Themes or clusters found in at least two reports, with display names and Swedish columns.

    Theme counts are the two of `theme_counts` (main theme and any theme), as everywhere."""
    frame = cached_recurrence(ctx.db_key, ctx.marker, by)
    frame = frame[frame["n_reports"] >= 2].copy() if not frame.empty else frame.copy()
    name = namer.theme if by == "theme" else namer.cluster
    counts: dict = {}
    if by == "theme":
        main = theme_counts(ctx.snap.passages).set_index("theme")["n_main"]
        counts[tables.COUNT_MAIN] = frame["key"].map(main).fillna(0).astype(int)
        counts[tables.COUNT_ANY] = frame["n_passages"]
    else:
        counts["Brister"] = frame["n_passages"]
    return pd.DataFrame(
        {
            "Tema" if by == "theme" else "Kluster": frame["key"].map(name),
            "Rapporter": frame["n_reports"],
            "Organisationer": frame["n_orgs"],
            "Antal år": frame["n_years"],
            **counts,
            "År": frame["years"].map(lambda years: ", ".join(str(y) for y in years)),
            "Organisationerna": frame["orgs"].map(", ".join),
        }
    ).reset_index(drop=True)
