"""Sök liknande fall: an ombud describes a case and reads the most similar passages.

Search shows only what passes the calibrated relevance (models.search.Calibration), each hit
with its band and the words it matched; when nothing passes, the page says so and offers the
closest themes. Filters alone browse every matching passage, newest first.
"""
from __future__ import annotations

import logging

import streamlit as st

from systemfel.base.records import PASSAGE_KINDS
from systemfel.explorer import tables
from systemfel.explorer.context import Context, Snapshot, cached_search_engine
from systemfel.explorer.highlight import TermHighlighter, markdown_safe, snippet
from systemfel.explorer.labels import LEVEL_SV, ThemeNamer, kind_sv, level_sv
from systemfel.explorer.widgets import export_buttons, passage_card, pick_many
from systemfel.models.search import MAX_QUERY_CHARS, STRONG, QueryTooLongError, SearchFilters, SearchHit

SLUG = "sok"
TITLE = "Sök liknande fall"
ORDER = 30
RESULTS_K = 10
BROWSE_SHOWN = 25
NO_HITS = "Inga träffar som liknar detta."
BAND_BADGE = {STRONG: ":green-badge[Stark träff]", None: ""}
SHOWN_WITHOUT_TOGGLE = ["deficiency", "background", None]  # good examples behind a toggle

log = logging.getLogger(__name__)


def render(ctx: Context) -> None:
    snap, namer = ctx.snap, ctx.namer
    st.title(TITLE)
    if not snap.passages:
        st.info("Databasen har inga stycken att söka i.")
        return
    query = st.text_input(
        "Beskriv fallet", key="sok_fraga", placeholder="t.ex. min klient har inget BankID och kommer inte in hos FK",
        max_chars=MAX_QUERY_CHARS, help=f"Högst {MAX_QUERY_CHARS} tecken.",
    )
    filters, narrowed = search_filters(snap, namer)
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
        passage_card(by_id[like_id], namer, snap.corrections, key="kalla")
        st.button("Tillbaka till sökningen", key="tillbaka", on_click=lambda: st.session_state.pop("liknande", None))
        hits = engine.more_like_this(like_id, k=RESULTS_K, filters=filters)
        st.caption("Fall från andra rapporter visas först; högst två från samma rapport kommer sist.")
        show_hits(ctx, hits, by_id, typed=False)
    elif query.strip():
        try:
            hits = engine.search(query, k=RESULTS_K, filters=filters, mode="hybrid")
        except QueryTooLongError as exc:
            st.warning(str(exc))
            return
        if not hits:
            no_hits(ctx, engine, query)
            return
        if engine.calibration is None:
            st.caption("Sökmodellen saknar kalibrering: träffarna visas utan relevansnivå.")
        show_hits(ctx, hits, by_id, typed=True)
    elif narrowed:
        browse(ctx, engine.browse(filters))
    else:
        st.caption("Skriv en fråga ovan, eller välj filter för att bläddra bland alla stycken som matchar.")


def show_hits(ctx: Context, hits: list[SearchHit], by_id: dict, *, typed: bool) -> None:
    snap, namer = ctx.snap, ctx.namer
    highlighter = TermHighlighter()
    if typed:
        strong = sum(h.band == STRONG for h in hits)
        st.caption(f"{len(hits)} träffar: {strong} starka, {len(hits) - strong} möjliga. "
                   "Stark = tydligt likt frågan; möjlig = delvis likt, läs och bedöm.")  # fmt: skip
    for hit in hits:
        p = by_id.get(hit.passage_id)
        # only the words the passage matched are marked: never filler words of the query
        terms = list(hit.matched_terms)
        body = highlighter.highlight(snippet(hit.text, terms, width=600), terms)
        if p is None:
            st.markdown(body, unsafe_allow_html=True)
            continue
        why = []
        if typed:
            why.append(BAND_BADGE.get(hit.band) or ":orange-badge[Möjlig träff]")
            if terms:
                why.append("Matchade ord: " + markdown_safe(", ".join(terms)))
        elif hit.same_report:
            why.append(":gray-badge[Samma rapport]")
        else:
            why.append(":blue-badge[Från andra rapporter]")
        passage_card(p, namer, snap.corrections, body=f"**{hit.rank}.** {body}", db=ctx.db, key="sok",
                     note=" · ".join(why))  # fmt: skip
        st.button("Liknande fall", key=f"liknande_{hit.passage_id}", on_click=_set_like, args=(hit.passage_id,))
    export_buttons(tables.search_hits_table(hits, namer), "sokresultat", "hits")


def no_hits(ctx: Context, engine, query: str) -> None:
    """Nothing passes the relevance threshold: say so, and offer the themes nearest the query."""
    st.info(f"{NO_HITS} Inget stycke i rapporterna ligger tillräckligt nära frågan. "
            "Pröva andra ord, eller börja från ett av temana nedan.")  # fmt: skip
    nearest = engine.search(query, k=30, threshold=False)
    themes = list(dict.fromkeys(t for h in nearest if h.kind == "deficiency" for t in h.themes[:1]))[:3]
    if themes:
        st.markdown("**Närmaste teman:** " + markdown_safe(", ".join(ctx.namer.theme(t) for t in themes)))
        cols = st.columns(len(themes))
        for col, slug in zip(cols, themes):
            col.button(ctx.namer.theme(slug), key=f"narmaste_{slug}", on_click=_browse_theme, args=(slug,))


def browse(ctx: Context, passages: list) -> None:
    """Filter-only browsing: every passage the filters let through, newest report first."""
    st.subheader(f"{len(passages)} stycken matchar filtren")
    if not passages:
        st.info("Inga stycken matchar filtren. Ta bort något filter.")
        return
    st.caption(f"Nyaste rapporten först. Visar de första {min(BROWSE_SHOWN, len(passages))}; alla finns i exporten.")
    for p in passages[:BROWSE_SHOWN]:
        passage_card(p, ctx.namer, ctx.snap.corrections, db=ctx.db, key="bladdra")
    export_buttons(tables.passages_table(passages, ctx.namer, ctx.snap.corrections), "stycken_filter", "browse")


def _set_like(passage_id: int) -> None:
    st.session_state["liknande"] = passage_id


def _browse_theme(slug: str) -> None:
    st.session_state["sok_fraga"] = ""
    st.session_state["filter_tema"] = [slug]


def search_filters(snap: Snapshot, namer: ThemeNamer) -> tuple[SearchFilters, bool]:
    """The filter widgets, and whether the user narrowed anything (then filters alone browse).

    Each empty choice means 'all'; good examples are shown only when asked for (deficiencies
    come first in any case: the search ranks them above other kinds)."""
    passages = snap.passages
    keys = ("filter_tema", "filter_aktor", "filter_org", "filter_ar", "filter_niva", "filter_typ", "filter_goda")
    with st.expander("Filter", expanded=any(st.session_state.get(k) for k in keys)):
        c1, c2, c3 = st.columns(3)
        themes = pick_many(c1, "Tema", sorted({t for p in passages for t in p.themes}, key=namer.theme),
                           format_func=namer.theme, key="filter_tema")  # fmt: skip
        actors = pick_many(c2, "Aktör", sorted({a for p in passages for a in p.actors}), key="filter_aktor")
        orgs = pick_many(c3, "Organisation", sorted({p.org for p in passages if p.org}), key="filter_org")
        c4, c5, c6 = st.columns(3)
        years = pick_many(c4, "År", sorted({p.year for p in passages if p.year}), key="filter_ar")
        levels = pick_many(c5, "Nivå", list(LEVEL_SV), format_func=level_sv, key="filter_niva")
        kinds = pick_many(c6, "Typ", list(PASSAGE_KINDS), format_func=kind_sv, key="filter_typ")
        good = st.toggle("Visa även goda exempel", key="filter_goda")
    narrowed = any((themes, actors, orgs, years, levels, kinds))
    if not kinds and not good:
        kinds = SHOWN_WITHOUT_TOGGLE
    filters = SearchFilters(
        themes=themes or None, actors=actors or None, orgs=orgs or None, years=years or None,
        levels=levels or None, kinds=kinds or None,
    )  # fmt: skip
    return filters, narrowed
