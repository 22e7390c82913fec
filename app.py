"""Systemfel explorer: browse, search and follow the deficiencies found in PO reports.

Start with `systemfel app --db FILE`, or `streamlit run app.py -- --db FILE`, or set
SYSTEMFEL_DB. Everything is read through `Store`; tables are cached per database
file and its modification marker, so a rebuild or a correction is seen at once.
"""
from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from systemfel.base.records import PASSAGE_KINDS, Document
from systemfel.store import Store, StoreError
from systemfel.explorer import tables
from systemfel.explorer.export import to_csv_bytes, to_excel_bytes
from systemfel.explorer.highlight import TermHighlighter, markdown_safe, snippet
from systemfel.explorer.labels import (
    LEVEL_SV,
    ThemeNamer,
    kind_sv,
    level_sv,
    load_theme_descriptions,
    load_theme_names,
)
from systemfel.explorer.pages import recurring as recurring_page
from systemfel.explorer.uploads import save_upload, upload_folder

log = logging.getLogger("systemfel.app")

VIEWS = {
    "oversikt": "Översikt",
    "teman": "Teman",
    "aterkommande": "Återkommande systemfel",
    "sok": "Sök liknande fall",
    "trender": "Trender",
    "dokument": "Dokument",
}
HOW_TO_START = "Starta utforskaren med `systemfel app --db FIL` eller `streamlit run app.py -- --db FIL`."
KIND_BADGE = {"deficiency": "red", "good_example": "green", "background": "gray"}
EVIDENCE_SHOWN = 15
RESULTS_K = 10
TIGHT_MARGIN = {"l": 0, "r": 0, "t": 10, "b": 0}


# ------------------------------------------------------------------ data access
@dataclass
class Snapshot:
    """Everything the views read from one database at one moment."""

    documents: list[Document]
    passages: list[dict]
    clusters: list[dict]
    figures: list[dict]
    corrections: dict[tuple[str, str], str] = field(default_factory=dict)
    embedding_model: str | None = None


def resolve_db_path(argv: list[str], environ: dict[str, str]) -> Path | None:
    """`--db FILE` after `--` on the streamlit line wins over SYSTEMFEL_DB."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--db")
    args, _ = parser.parse_known_args(argv)
    value = args.db or environ.get("SYSTEMFEL_DB")
    return Path(value).expanduser() if value else None


def db_marker(path: Path) -> tuple:
    """Changes whenever the database changes: size and mtime of the file and its WAL."""
    marker = []
    for candidate in (path, Path(f"{path}-wal")):
        try:
            stat = candidate.stat()
            marker.append((stat.st_size, stat.st_mtime_ns))
        except OSError:
            marker.append(None)
    return tuple(marker)


@st.cache_data(max_entries=4, show_spinner="Läser databasen …")
def load_snapshot(db: str, marker: tuple) -> Snapshot:
    with Store(db, readonly=True) as store:
        return Snapshot(
            documents=store.documents(),
            passages=store.passages(),
            clusters=store.clusters(),
            figures=store.figures(),
            corrections=store.corrections(),
            embedding_model=store.get_meta("embedding_model"),
        )


@st.cache_data(show_spinner=False)
def cached_theme_names() -> dict[str, str]:
    return load_theme_names()


@st.cache_data(show_spinner=False)
def cached_theme_descriptions() -> dict[str, str]:
    return load_theme_descriptions()


@st.cache_resource(show_spinner="Laddar språkmodellen …")
def cached_embedder(spec: str | None):
    from systemfel.models.embed import load_embedder

    return load_embedder(spec)


@st.cache_resource(max_entries=2, show_spinner="Förbereder sökningen …")
def cached_search_engine(db: str, marker: tuple, embedding_model: str | None):
    from systemfel.pipeline import load_search_engine

    with Store(db, readonly=True) as store:
        return load_search_engine(store, embedder=cached_embedder(embedding_model))


@st.cache_data(max_entries=8, show_spinner=False)
def cached_recurrence(db: str, marker: tuple, by: str) -> pd.DataFrame:
    from systemfel.models.trends import recurrence

    return recurrence(load_snapshot(db, marker).passages, by=by)


@st.cache_data(max_entries=8, show_spinner=False)
def cached_theme_trends(db: str, marker: tuple, by_org: bool) -> pd.DataFrame:
    from systemfel.models.trends import theme_trends

    return theme_trends(load_snapshot(db, marker).passages, by_org=by_org)


# ------------------------------------------------------------------- helpers
def export_buttons(frame: pd.DataFrame, name: str, key: str) -> None:
    """CSV and Excel of exactly the table shown; the Excel file is made only when asked for."""
    with st.container(horizontal=True):
        st.download_button(
            "CSV", data=to_csv_bytes(frame), file_name=f"{name}.csv", mime="text/csv",
            key=f"csv_{key}", on_click="ignore", icon=":material/download:", help="Ladda ner tabellen som CSV",
        )  # fmt: skip
        st.download_button(
            "Excel", data=lambda: to_excel_bytes(frame, sheet=name), file_name=f"{name}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"xlsx_{key}", on_click="ignore", icon=":material/download:", help="Ladda ner tabellen som Excel",
        )  # fmt: skip


def show_table(frame: pd.DataFrame, name: str, key: str, **kwargs) -> None:
    st.dataframe(frame, hide_index=True, width="stretch", **kwargs)
    export_buttons(frame, name, key)


def passage_card(p: dict, namer: ThemeNamer, corrections: dict, *, show_source: bool = True, body: str | None = None):
    """One passage as users cite it: labels, quote, source and page."""
    corrected = [f for (h, f) in corrections if h == p["text_hash"]]
    with st.container(border=True):
        parts = [f":{KIND_BADGE.get(p['kind'], 'gray')}-badge[{kind_sv(p['kind'])}]"]
        if p["themes"]:
            parts.append("Tema: " + markdown_safe(namer.themes(p["themes"])))
        if p["actors"]:
            parts.append("Aktörer: " + markdown_safe(", ".join(p["actors"])))
        if p["level"]:
            parts.append(level_sv(p["level"]))
        if corrected:
            parts.append(":violet-badge[Rättad]")
        st.markdown(" · ".join(parts))
        st.markdown(body if body is not None else markdown_safe(p["text"]), unsafe_allow_html=True)
        source = f"{p['org']} {p['year'] or ''} – {p['file']}, s. {p['page']}" if show_source else f"s. {p['page']}"
        caption = source + (f" · {p['heading']}" if p["heading"] else "")
        st.caption(markdown_safe(caption))


def flash(message: str) -> None:
    st.session_state["flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("flash", None)
    if message:
        st.success(message)


# --------------------------------------------------------------------- views
def overview_view(snap: Snapshot, namer: ThemeNamer, db: str, marker: tuple) -> None:
    st.title("Översikt")
    ok_docs = [d for d in snap.documents if d.status == "ok"]
    kinds = pd.Series([p["kind"] for p in snap.passages], dtype="object").value_counts()
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
        chart = px.bar(sizes.head(10), x="Brister", y="Tema", orientation="h", text="Brister")
        chart.update_layout(yaxis={"categoryorder": "total ascending"}, height=360, margin=TIGHT_MARGIN)
        st.plotly_chart(chart, key="overview_themes")
        show_table(sizes.drop(columns=["Slug"]), "storsta_teman", "sizes")

    st.subheader("Återkommande systemfel")
    st.caption("Teman och kluster som finns i flera rapporter, rangordnade efter hur många rapporter, "
               "organisationer och år de spänner över.")  # fmt: skip
    for by, title in (("theme", "Teman"), ("cluster", "Kluster")):
        st.markdown(f"**{title}**")
        try:
            frame = recurrence_table(db, marker, by, namer)
        except ImportError:
            st.info("Återkommande systemfel kan inte beräknas ännu (modulen models.trends saknas).")
            break
        if frame.empty:
            st.info("Inget återkommer i flera rapporter ännu.")
        else:
            show_table(frame, f"aterkommande_{by}", f"rec_{by}")


def recurrence_table(db: str, marker: tuple, by: str, namer: ThemeNamer) -> pd.DataFrame:
    """Themes or clusters found in at least two reports, with display names and Swedish columns."""
    frame = cached_recurrence(db, marker, by)
    frame = frame[frame["n_reports"] >= 2].copy() if not frame.empty else frame.copy()
    name = namer.theme if by == "theme" else namer.cluster
    return pd.DataFrame(
        {
            "Tema" if by == "theme" else "Kluster": frame["key"].map(name),
            "Rapporter": frame["n_reports"],
            "Organisationer": frame["n_orgs"],
            "Antal år": frame["n_years"],
            "Brister": frame["n_passages"],
            "År": frame["years"].map(lambda years: ", ".join(str(y) for y in years)),
            "Organisationerna": frame["orgs"].map(", ".join),
        }
    ).reset_index(drop=True)


def themes_view(snap: Snapshot, namer: ThemeNamer) -> None:
    st.title("Teman")
    grouping = st.radio("Gruppering", ["Teman i kodboken", "Upptäckta kluster"], horizontal=True, key="teman_grupp")
    deficiencies = [p for p in snap.passages if p["kind"] == "deficiency"]
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
        members = sorted((p for p in deficiencies if chosen in p["themes"]),
                         key=lambda p: (p["theme"] != chosen, -_theme_score(p, chosen)))  # fmt: skip
        title = namer.theme(chosen) if chosen else ""
        if chosen and cached_theme_descriptions().get(chosen):
            st.caption("Kodboken: " + markdown_safe(cached_theme_descriptions()[chosen]))
    else:
        overview = tables.cluster_table(snap.clusters, snap.passages, namer)
        show_table(overview, "kluster", "clusters_all")
        options = [c["id"] for c in snap.clusters]
        chosen = (
            st.selectbox("Välj kluster", options, format_func=namer.cluster, key="kluster_val") if options else None
        )
        members = [p for p in deficiencies if p["cluster"] == chosen]
        cluster = next((c for c in snap.clusters if c["id"] == chosen), None)
        title = namer.cluster(chosen) if chosen is not None else ""
        if cluster:
            st.markdown("**Nyckelord:** " + markdown_safe(", ".join(cluster["keywords"])))
    if chosen is None:
        st.info("Inga teman eller kluster att visa ännu.")
    else:
        theme_details(title, members, namer, snap.corrections)
    theme_map(snap, namer)


def _theme_score(p: dict, slug: str) -> float:
    return p["theme_scores"][p["themes"].index(slug)] if slug in p["themes"] else 0.0


def theme_details(title: str, members: list[dict], namer: ThemeNamer, corrections: dict) -> None:
    st.subheader(f"{title}: {len(members)} brister")
    if not members:
        st.info("Inga brister i denna grupp.")
        return
    left, right = st.columns(2)
    with left:
        st.markdown("**Per rapport**")
        show_table(tables.counts_per_report(members), "per_rapport", "per_report")
    with right:
        st.markdown("**Per år**")
        per_year = tables.counts_per_year(members)
        chart = px.bar(per_year, x="År", y="Stycken")
        chart.update_layout(height=260, margin=TIGHT_MARGIN, xaxis={"type": "category"})
        st.plotly_chart(chart, key="theme_per_year")
    st.markdown(f"**Belägg** (de {min(EVIDENCE_SHOWN, len(members))} tydligaste; alla finns i exporten)")
    for p in members[:EVIDENCE_SHOWN]:
        passage_card(p, namer, corrections)
    export_buttons(tables.passages_table(members, namer, corrections), "belagg", "evidence")


def theme_map(snap: Snapshot, namer: ThemeNamer) -> None:
    st.subheader("Karta över bristerna")
    frame = tables.theme_map_frame(snap.passages, namer)
    if frame.empty:
        st.info("Kartan saknas: inga brister har koordinater ännu (kör analysen med `systemfel build`).")
        return
    st.caption("Varje punkt är en brist; närliggande punkter handlar om liknande saker. "
               "Klicka på en punkt för att läsa den.")  # fmt: skip
    chart = px.scatter(
        frame, x="x", y="y", color="Tema", custom_data=["id", "Tema", "Organisation", "År", "Sida", "Hover"],
        color_discrete_sequence=px.colors.qualitative.Dark24,
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
    by_id = {p["id"]: p for p in snap.passages}
    for passage_id in chosen[:5]:
        if passage_id in by_id:
            passage_card(by_id[passage_id], namer, snap.corrections)


def search_view(snap: Snapshot, namer: ThemeNamer, db: str, marker: tuple) -> None:
    st.title("Sök liknande fall")
    try:
        from systemfel.models.search import SearchFilters
    except ImportError:
        st.warning("Sökningen är inte tillgänglig ännu (modulen models.search saknas).")
        return
    if not snap.passages:
        st.info("Databasen har inga stycken att söka i.")
        return
    query = st.text_input(
        "Beskriv fallet", key="sok_fraga", placeholder="t.ex. svårt att nå Försäkringskassan på telefon"
    )
    filters = search_filters(snap, namer, SearchFilters)
    try:
        engine = cached_search_engine(db, marker, snap.embedding_model)
    except Exception as exc:  # noqa: BLE001 - the rest of the explorer must keep working
        log.exception("search engine could not be loaded")
        st.error(f"Sökningen kunde inte startas: {exc}")
        return
    like_id = st.session_state.get("liknande")
    by_id = {p["id"]: p for p in snap.passages}
    if like_id is not None and like_id in by_id:
        st.info("Visar fall som liknar detta stycke:")
        passage_card(by_id[like_id], namer, snap.corrections)
        st.button("Tillbaka till sökningen", key="tillbaka", on_click=lambda: st.session_state.pop("liknande", None))
        hits = engine.more_like_this(like_id, k=RESULTS_K, filters=filters)
        terms: list[str] = []
    elif query.strip():
        hits = engine.search(query, k=RESULTS_K, filters=filters, mode="hybrid")
        terms = [query]
    else:
        st.caption("Skriv en fråga ovan, eller välj filter och sök.")
        return
    if not hits:
        st.info("Inga träffar. Pröva andra ord eller färre filter.")
        return
    highlighter = TermHighlighter()
    for hit in hits:
        p = by_id.get(hit.passage_id)
        # a whole passage shares many everyday words with its neighbours: mark words of typed queries only
        hit_terms = list(hit.matched_terms or []) + terms if terms else []
        body = highlighter.highlight(snippet(hit.text, hit_terms, width=600), hit_terms)
        if p is None:
            st.markdown(body, unsafe_allow_html=True)
            continue
        passage_card(p, namer, snap.corrections, body=f"**{hit.rank}.** {body}")
        st.button("Liknande fall", key=f"liknande_{hit.passage_id}", on_click=_set_like, args=(hit.passage_id,))
    export_buttons(tables.search_hits_table(hits, namer), "sokresultat", "hits")


def _set_like(passage_id: int) -> None:
    st.session_state["liknande"] = passage_id


def _open_similar(passage_id: int) -> None:
    """From a quote elsewhere to *Sök liknande fall* for its passage."""
    st.session_state["liknande"] = passage_id
    st.session_state["vy"] = "sok"


def search_filters(snap: Snapshot, namer: ThemeNamer, filters_class):
    """The filter widgets; each empty choice means 'all'."""
    passages = snap.passages
    with st.expander("Filter", expanded=False):
        c1, c2, c3 = st.columns(3)
        themes = c1.multiselect("Tema", sorted({t for p in passages for t in p["themes"]}, key=namer.theme),
                                format_func=namer.theme, key="filter_tema")  # fmt: skip
        actors = c2.multiselect("Aktör", sorted({a for p in passages for a in p["actors"]}), key="filter_aktor")
        orgs = c3.multiselect("Organisation", sorted({p["org"] for p in passages if p["org"]}), key="filter_org")
        c4, c5, c6 = st.columns(3)
        years = c4.multiselect("År", sorted({p["year"] for p in passages if p["year"]}), key="filter_ar")
        levels = c5.multiselect("Nivå", list(LEVEL_SV), format_func=level_sv, key="filter_niva")
        kinds = c6.multiselect("Typ", list(PASSAGE_KINDS), format_func=kind_sv, key="filter_typ")
    return filters_class(
        themes=themes or None, actors=actors or None, orgs=orgs or None, years=years or None,
        levels=levels or None, kinds=kinds or None,
    )  # fmt: skip


def trends_view(snap: Snapshot, namer: ThemeNamer, db: str, marker: tuple) -> None:
    st.title("Trender")
    split = st.radio(
        "Visa", ["Alla organisationer tillsammans", "Per organisation"], horizontal=True, key="trend_delning"
    )
    by_org = split == "Per organisation"
    left, right = st.columns([3, 2])
    with left:
        try:
            frame = cached_theme_trends(db, marker, by_org).copy()
        except ImportError:
            st.info("Trender kan inte beräknas ännu (modulen models.trends saknas).")
            frame = None
        if frame is not None and frame.empty:
            st.info("Inga brister att visa trender för ännu.")
        elif frame is not None:
            trend_charts(frame, namer, by_org)
    with right:
        st.subheader("Siffror som rapporterna själva anger")
        figures = tables.figures_table(snap.figures)
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


def document_view(snap: Snapshot, namer: ThemeNamer, db: Path) -> None:
    st.title("Dokument")
    show_flash()
    docs = [d for d in snap.documents if d.status == "ok"]
    with st.expander("Lägg till rapporter (PDF)", expanded=not docs or bool(st.session_state.get("uppladdning"))):
        upload_section(db)
    if docs:
        by_id = {d.id: d for d in docs}
        doc_id = st.selectbox(
            "Rapport", list(by_id), key="dokument_val",
            format_func=lambda i: f"{by_id[i].meta.org} {by_id[i].meta.year or ''} – {by_id[i].file}",
        )  # fmt: skip
        document_passages(snap, namer, db, by_id[doc_id])
    else:
        st.info("Databasen har inga inlästa rapporter ännu. Ladda upp en PDF ovan.")


def document_passages(snap: Snapshot, namer: ThemeNamer, db: Path, doc: Document) -> None:
    st.caption(markdown_safe(f"{doc.meta.title} · {doc.pages} sidor · {doc.n_passages} stycken"))
    passages = [p for p in snap.passages if p["doc_id"] == doc.id]
    kinds = st.multiselect("Visa typ", list(PASSAGE_KINDS), default=list(PASSAGE_KINDS), format_func=kind_sv,
                           key="dokument_typer")  # fmt: skip
    shown = [p for p in passages if p["kind"] in kinds or p["kind"] is None]
    correction_form(passages, namer, db)
    st.subheader(f"Stycken i läsordning ({len(shown)})")
    for p in shown:
        passage_card(p, namer, snap.corrections, show_source=False)
    table = tables.passages_table(shown, namer, snap.corrections)
    export_buttons(table, f"stycken_{Path(doc.file).stem}", "doc_passages")


def correction_form(passages: list[dict], namer: ThemeNamer, db: Path) -> None:
    """Let a researcher overrule the machine: the correction survives rebuilds (keyed by text)."""
    if not passages:
        return
    with st.expander("Rätta ett stycke", expanded=False):
        by_id = {p["id"]: p for p in passages}
        passage_id = st.selectbox(
            "Stycke", list(by_id), key="ratta_stycke",
            format_func=lambda i: f"s. {by_id[i]['page']}: {by_id[i]['text'][:90]}",
        )  # fmt: skip
        p = by_id[passage_id]
        kinds = list(PASSAGE_KINDS)
        kind = st.selectbox("Typ", kinds, index=kinds.index(p["kind"]) if p["kind"] in kinds else 0,
                            format_func=kind_sv, key=f"ratta_typ_{passage_id}")  # fmt: skip
        known = set(namer.theme_names) | {t for q in passages for t in q["themes"]}
        theme_options = [""] + sorted(known, key=namer.theme)
        theme = st.selectbox(
            "Huvudtema", theme_options, index=theme_options.index(p["theme"]) if p["theme"] in theme_options else 0,
            format_func=lambda s: namer.theme(s) if s else "(oförändrat)", key=f"ratta_tema_{passage_id}",
        )  # fmt: skip
        if st.button("Spara rättelse", key="ratta_spara", type="primary"):
            save_correction(db, p, kind, theme)


def save_correction(db: Path, passage: dict, kind: str, theme: str) -> None:
    changes = []
    if kind != passage["kind"]:
        changes.append(("kind", kind))
    if theme and theme != passage["theme"]:
        changes.append(("theme", theme))
    if not changes:
        st.info("Inget att ändra: stycket har redan den typen och det temat.")
        return
    try:
        with Store(db) as store:
            for field_name, value in changes:
                store.set_correction(passage["text_hash"], field_name, value)
    except (StoreError, sqlite3.Error) as exc:
        st.error(f"Rättelsen kunde inte sparas: {exc}")
        return
    message = "Rättelsen är sparad och gäller även efter ombyggnad."
    if kind == "deficiency" and not theme and not passage["themes"]:
        message += " Stycket får teman vid nästa `systemfel build`; välj ett huvudtema här om du vill sätta det nu."
    if theme and theme != passage["theme"]:
        message += " Temat används också som märkt exempel: nästa `systemfel build` lär sig av det för liknande stycken."
    flash(message)
    st.rerun()


def upload_section(db: Path) -> None:
    st.caption("Filerna sparas bredvid databasen och läses in, analyseras och visas i alla vyer.")
    uploads = st.file_uploader("PDF-filer", type=["pdf"], accept_multiple_files=True, key="uppladdning")
    if not uploads or not st.button("Läs in filerna", key="las_in", type="primary"):
        return
    folder = upload_folder(db)
    try:
        paths = [save_upload(folder, upload.name, upload.getvalue()) for upload in uploads]
    except (OSError, ValueError) as exc:
        st.error(f"Filerna kunde inte sparas i {folder}: {exc}")
        return
    run_build(db, paths)


def run_build(db: Path, paths: list[Path]) -> None:
    """Ingest and analyse the uploads with a progress bar, then report each file in Swedish."""
    from systemfel.pipeline import STATUS_SV, BuildError, BuildOptions, build

    bar = st.progress(0.0, text="Startar …")

    def progress(stage: str, done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 0.0, text=f"{stage}: {done} av {total}")

    try:
        with Store(db) as store:
            summary = build(store, paths, options=BuildOptions(workers=1), progress=progress)
    except (BuildError, StoreError) as exc:
        bar.empty()
        st.error(str(exc))
        return
    except Exception as exc:  # noqa: BLE001 - a failed build must be explained, not crash the page
        log.exception("build from the explorer failed")
        bar.empty()
        st.error(f"Inläsningen misslyckades oväntat: {type(exc).__name__}: {exc}")
        return
    bar.progress(1.0, text="Klart")
    rows = [{"Fil": Path(f.path).name, "Status": STATUS_SV.get(f.status, f.status), "Sidor": f.pages,
             "Stycken": f.passages, "Meddelande": f.message} for f in summary.files]  # fmt: skip
    for result in summary.failed:
        st.error(f"{Path(result.path).name}: {result.message}")
    good = len(summary.files) - len(summary.failed)
    if good:
        st.success(f"{good} fil(er) klara. Alla vyer visar nu de nya rapporterna.")
    show_table(pd.DataFrame(rows), "inlasning", "upload_results")


# ---------------------------------------------------------------------- main
def main() -> None:
    st.set_page_config(page_title="Systemfel – utforskare", layout="wide")
    db = resolve_db_path(sys.argv[1:], dict(os.environ))
    if db is None:
        st.error("Ingen databas angiven. " + HOW_TO_START + " Bygg en databas först med `systemfel build --db FIL`.")
        st.stop()
    if not db.is_file():
        st.error(f"Databasen {db} finns inte. Bygg den först med `systemfel build --db {db}`. " + HOW_TO_START)
        st.stop()
    marker = db_marker(db)
    try:
        snap = load_snapshot(str(db), marker)
    except (StoreError, sqlite3.Error) as exc:
        st.error(f"Databasen {db} kan inte läsas: {exc}. Bygg om den med `systemfel build --db {db}`.")
        st.stop()
    namer = ThemeNamer(cached_theme_names(), snap.clusters)

    if "vy" not in st.session_state:
        wanted = st.query_params.get("vy", "oversikt")
        st.session_state["vy"] = wanted if wanted in VIEWS else "oversikt"
    with st.sidebar:
        st.header("Systemfel")
        view = st.radio("Vy", list(VIEWS), format_func=VIEWS.get, key="vy")
        st.caption(markdown_safe(f"Databas: {db.name} · {sum(d.status == 'ok' for d in snap.documents)} rapporter"))
    st.query_params["vy"] = view
    if not snap.passages and view != "dokument":
        st.info(
            f"Databasen {db.name} har inga stycken ännu. Kör `systemfel build --db {db}` "
            "eller ladda upp PDF:er under Dokument."
        )
    if view == "oversikt":
        overview_view(snap, namer, str(db), marker)
    elif view == "teman":
        themes_view(snap, namer)
    elif view == "aterkommande":
        show_flash()
        recurring_page.render(db, marker, namer, _open_similar)
    elif view == "sok":
        search_view(snap, namer, str(db), marker)
    elif view == "trender":
        trends_view(snap, namer, str(db), marker)
    else:
        document_view(snap, namer, db)


if __name__ == "__main__":
    main()
