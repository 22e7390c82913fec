"""Sök liknande fall: an ombud describes a case and reads the most similar passages."""
from __future__ import annotations

import logging

import streamlit as st

from systemfel.base.records import PASSAGE_KINDS
from systemfel.explorer import tables
from systemfel.explorer.context import Context, Snapshot, cached_search_engine
from systemfel.explorer.highlight import TermHighlighter, snippet
from systemfel.explorer.labels import LEVEL_SV, ThemeNamer, kind_sv, level_sv
from systemfel.explorer.widgets import export_buttons, passage_card
from systemfel.models.search import SearchFilters

SLUG = "sok"
TITLE = "Sök liknande fall"
ORDER = 30
RESULTS_K = 10

log = logging.getLogger(__name__)


def render(ctx: Context) -> None:
    snap, namer = ctx.snap, ctx.namer
    st.title(TITLE)
    if not snap.passages:
        st.info("Databasen har inga stycken att söka i.")
        return
    query = st.text_input(
        "Beskriv fallet", key="sok_fraga", placeholder="t.ex. svårt att nå Försäkringskassan på telefon"
    )
    filters = search_filters(snap, namer)
    try:
        engine = cached_search_engine(ctx.db_key, ctx.marker, snap.embedding_model)
    except Exception as exc:  # noqa: BLE001 - the rest of the explorer must keep working
        log.exception("search engine could not be loaded")
        st.error(f"Sökningen kunde inte startas: {exc}")
        return
    like_id = st.session_state.get("liknande")
    by_id = {p.id: p for p in snap.passages}
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


def search_filters(snap: Snapshot, namer: ThemeNamer) -> SearchFilters:
    """The filter widgets; each empty choice means 'all'."""
    passages = snap.passages
    with st.expander("Filter", expanded=False):
        c1, c2, c3 = st.columns(3)
        themes = c1.multiselect("Tema", sorted({t for p in passages for t in p.themes}, key=namer.theme),
                                format_func=namer.theme, key="filter_tema")  # fmt: skip
        actors = c2.multiselect("Aktör", sorted({a for p in passages for a in p.actors}), key="filter_aktor")
        orgs = c3.multiselect("Organisation", sorted({p.org for p in passages if p.org}), key="filter_org")
        c4, c5, c6 = st.columns(3)
        years = c4.multiselect("År", sorted({p.year for p in passages if p.year}), key="filter_ar")
        levels = c5.multiselect("Nivå", list(LEVEL_SV), format_func=level_sv, key="filter_niva")
        kinds = c6.multiselect("Typ", list(PASSAGE_KINDS), format_func=kind_sv, key="filter_typ")
    return SearchFilters(
        themes=themes or None, actors=actors or None, orgs=orgs or None, years=years or None,
        levels=levels or None, kinds=kinds or None,
    )  # fmt: skip
