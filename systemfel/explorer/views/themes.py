"""Teman: codebook themes or discovered clusters, their evidence, and a map of all deficiencies."""
from __future__ import annotations

import sqlite3

import plotly.express as px
import streamlit as st

from systemfel.base.records import StoredPassage
from systemfel.explorer import tables
from systemfel.explorer.context import Context, theme_descriptions
from systemfel.explorer.highlight import markdown_safe
from systemfel.explorer.labels import ThemeNamer
from systemfel.explorer.views.recurring import load_issues, open_issue
from systemfel.models.trends import ANY_THEME, MAIN_THEME
from systemfel.store import StoreError
from systemfel.explorer.widgets import TIGHT_MARGIN, export_buttons, passage_card, show_table

SLUG = "teman"
TITLE = "Teman"
ORDER = 20
EVIDENCE_SHOWN = 15


def render(ctx: Context) -> None:
    snap, namer = ctx.snap, ctx.namer
    st.title(TITLE)
    grouping = st.radio("Gruppering", ["Teman i kodboken", "Upptäckta kluster"], horizontal=True, key="teman_grupp")
    deficiencies = [p for p in snap.passages if p.kind == "deficiency"]
    if grouping == "Teman i kodboken":
        overview = tables.theme_sizes(snap.passages, namer)
        keywords: dict[str, dict[str, None]] = {}  # slug -> keywords of its clusters, in order, once each
        for c in snap.clusters:
            if c.get("theme_slug"):
                keywords.setdefault(c["theme_slug"], {}).update(dict.fromkeys(c["keywords"]))
        overview.insert(1, "Nyckelord", overview["Slug"].map(lambda s: ", ".join(list(keywords.get(s, {}))[:8])))
        show_table(overview.drop(columns=["Slug"]), "teman", "themes_all")
        options = overview["Slug"].tolist()
        chosen = st.selectbox("Välj tema", options, format_func=namer.theme, key="teman_val") if options else None
        members = sorted((p for p in deficiencies if chosen in p.themes),
                         key=lambda p: (p.theme != chosen, -_theme_score(p, chosen)))  # fmt: skip
        title = namer.theme(chosen) if chosen else ""
        description = theme_descriptions(snap).get(chosen or "")
        if description:
            st.caption("Kodboken: " + markdown_safe(description))
    else:
        overview = tables.cluster_table(snap.clusters, snap.passages, namer)
        show_table(overview, "kluster", "clusters_all")
        options = [c["id"] for c in snap.clusters]
        chosen = (
            st.selectbox("Välj kluster", options, format_func=namer.cluster, key="kluster_val") if options else None
        )
        members = [p for p in deficiencies if p.cluster == chosen]
        cluster = next((c for c in snap.clusters if c["id"] == chosen), None)
        title = namer.cluster(chosen) if chosen is not None else ""
        if cluster:
            st.markdown("**Nyckelord:** " + markdown_safe(", ".join(cluster["keywords"])))
    if chosen is None:
        st.info("Inga teman eller kluster att visa ännu.")
    else:
        if grouping == "Teman i kodboken":
            theme_issues(ctx, chosen, title)
        theme_details(title, members, namer, snap.corrections, chosen if grouping == "Teman i kodboken" else None)
    theme_map(ctx, chosen if grouping == "Teman i kodboken" else None)


ISSUES_SHOWN = 8


def theme_issues(ctx: Context, slug: str, title: str) -> None:
    """From a theme to the specific recurring problems filed under it, and on to their quotes."""
    try:
        issues, _ = load_issues(str(ctx.db), ctx.marker)
    except (StoreError, sqlite3.Error):
        return  # the view Återkommande systemfel explains what is wrong
    under = [i for i in issues if slug in i["themes"]]
    if not under:
        return
    st.markdown(f"**Återkommande systemfel i temat** ({len(under)}, de som spänner över flest organisationer och år först)")
    for issue in under[:ISSUES_SHOWN]:
        left, right = st.columns([5, 1])
        left.markdown(markdown_safe(
            f"{issue['label']} · {issue['status']} · {len(issue['orgs'])} organisationer, "
            f"{len(issue['years'])} år, {issue['size']} påståenden"
        ))  # fmt: skip
        right.button("Öppna", key=f"tema_sf_{issue['id']}", on_click=open_issue, args=(issue["id"],),
                     help=f"Visa citaten för {issue['label']}")  # fmt: skip
    if len(under) > ISSUES_SHOWN:
        st.caption(f"Alla {len(under)} finns i vyn Återkommande systemfel (filtrera på temat {title}).")


def _theme_score(p: StoredPassage, slug: str) -> float:
    return p.theme_scores[p.themes.index(slug)] if slug in p.themes else 0.0


def theme_details(
    title: str, members: list[StoredPassage], namer: ThemeNamer, corrections: dict, slug: str | None
) -> None:
    """A theme's (or cluster's) deficiencies; for a theme both counts, named as everywhere."""
    if slug is None:
        st.subheader(f"{title}: {len(members)} brister")
    else:
        n_main = sum(p.theme == slug for p in members)
        st.subheader(f"{title}: {n_main} {MAIN_THEME}")
        st.caption(markdown_safe(f"{len(members)} {ANY_THEME} (även som andra tema). " + tables.COUNT_HELP))
    if not members:
        st.info("Inga brister i denna grupp.")
        return
    left, right = st.columns(2)
    with left:
        st.markdown("**Per rapport**")
        if slug is None:
            per_report = tables.counts_per_report(members, slug="").drop(columns=[tables.COUNT_MAIN])
            per_report = per_report.rename(columns={tables.COUNT_ANY: "Brister"})
        else:
            per_report = tables.counts_per_report(members, slug)
        show_table(per_report, "per_rapport", "per_report")
    with right:
        st.markdown("**Per år**")
        per_year = tables.counts_per_year(members, slug or "")
        if slug is None:
            per_year = per_year[per_year["Räknat"] == "nämner temat"]
        chart = px.bar(per_year, x="År", y="Brister", color="Räknat" if slug else None, barmode="group")
        chart.update_layout(height=260, margin=TIGHT_MARGIN, xaxis={"type": "category"}, legend_title_text="")
        st.plotly_chart(chart, key="theme_per_year")
    st.markdown(f"**Belägg** (de {min(EVIDENCE_SHOWN, len(members))} tydligaste; alla finns i exporten)")
    for p in members[:EVIDENCE_SHOWN]:
        passage_card(p, namer, corrections)
    export_buttons(tables.passages_table(members, namer, corrections), "belagg", "evidence")


def theme_map(ctx: Context, slug: str | None) -> None:
    """All deficiencies as points; the chosen theme in colour, the rest grey, so its spread shows."""
    snap, namer = ctx.snap, ctx.namer
    st.subheader("Karta över bristerna")
    frame = tables.theme_map_frame(snap.passages, namer)
    if frame.empty:
        st.info("Kartan saknas: inga brister har koordinater ännu (kör analysen med `systemfel build`).")
        return
    chosen = namer.theme(slug) if slug else None
    st.caption(markdown_safe(
        "Varje punkt är en brist; närliggande punkter handlar om liknande saker. "
        + (f"Färgade: {chosen} som huvudtema; grå: övriga. " if chosen else "")
        + "Klicka på en punkt för att läsa den."
    ))  # fmt: skip
    other = "Övriga teman"
    frame = frame.assign(Färg=frame["Tema"].where(frame["Tema"] == chosen, other) if chosen else other)
    frame = frame.sort_values("Färg", key=lambda c: c != other)  # coloured points drawn on top
    chart = px.scatter(
        frame, x="x", y="y", color="Färg", custom_data=["id", "Tema", "Organisation", "År", "Sida", "Hover"],
        color_discrete_map={other: "#c8c8c8", **({chosen: "#c0392b"} if chosen else {})},
    )  # fmt: skip
    chart.update_traces(
        marker={"size": 9, "opacity": 0.85},
        hovertemplate="<b>%{customdata[1]}</b><br>%{customdata[2]} %{customdata[3]}, s. %{customdata[4]}"
        "<br>%{customdata[5]}<extra></extra>",
    )
    chart.update_layout(height=520, xaxis={"visible": False}, yaxis={"visible": False}, margin=TIGHT_MARGIN,
                        legend_title_text="")  # fmt: skip
    event = st.plotly_chart(chart, key="temakarta", on_select="rerun", selection_mode=("points",))
    chosen = tables.selected_point_ids(event)
    by_id = {p.id: p for p in snap.passages}
    for passage_id in chosen[:5]:
        if passage_id in by_id:
            passage_card(by_id[passage_id], namer, snap.corrections)
