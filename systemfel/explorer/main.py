"""The explorer's frame: choose the database, read one snapshot, route to a page.

Views are the modules of `systemfel.explorer.views` (each with SLUG, TITLE, ORDER and
`render(ctx)`); the sidebar lists them and `?vy=SLUG` opens one, so links keep working.
"""
from __future__ import annotations

import importlib
import pkgutil
import sqlite3
from types import ModuleType

import streamlit as st
from streamlit import config as st_config

from systemfel.explorer import views
from systemfel.explorer.context import (
    HOW_TO_START,
    Context,
    db_marker,
    load_snapshot,
    resolve_db_path,
    theme_namer,
    warm_search_engine,
)
from systemfel.explorer.highlight import markdown_safe
from systemfel.store import StoreError


def discover_pages() -> dict[str, ModuleType]:
    """slug -> page module, in the pages' own order."""
    found = [importlib.import_module(f"{views.__name__}.{info.name}") for info in pkgutil.iter_modules(views.__path__)]
    pages = [m for m in found if hasattr(m, "render") and hasattr(m, "SLUG")]
    return {m.SLUG: m for m in sorted(pages, key=lambda m: (m.ORDER, m.SLUG))}


def usage_statistics_off() -> bool:
    """The explorer sends nothing home, however it was started (`streamlit run app.py` from
    another folder, an environment that turns statistics on). If Streamlit was started with
    usage statistics on, they are turned off here and this first page, whose browser side was
    already told otherwise, refuses to show any data."""
    if not st.get_option("browser.gatherUsageStats"):
        return True
    st_config.set_option("browser.gatherUsageStats", False, "systemfel: utforskaren skickar ingen statistik")
    return False


def main() -> None:
    st.set_page_config(page_title="Systemfel – utforskare", layout="wide")
    if not usage_statistics_off():
        st.error(
            "Streamlit startades med användningsstatistik påslagen (browser.gatherUsageStats). Utforskaren "
            "skickar ingenting hem: statistiken är nu avstängd. Ladda om sidan för att fortsätta, och starta "
            "helst med `systemfel app --db FIL`."
        )
        st.stop()
    db = resolve_db_path()
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
    ctx = Context(snap=snap, namer=theme_namer(snap), db=db, marker=marker)
    if snap.passages:
        warm_search_engine(str(db), marker, snap.embedding_model)  # the first search need not wait for it

    views = discover_pages()
    first = next(iter(views))
    if "vy" not in st.session_state:
        wanted = st.query_params.get("vy", first)
        st.session_state["vy"] = wanted if wanted in views else first
    with st.sidebar:
        st.header("Systemfel")
        slug = st.radio("Vy", list(views), format_func=lambda s: views[s].TITLE, key="vy")
        st.caption(markdown_safe(f"Databas: {db.name} · {sum(d.status == 'ok' for d in snap.documents)} rapporter"))
        if snap.snapshot_only:
            st.info("Databasens mapp är skrivskyddad: den visas som den är, och uppladdningar och rättelser "
                    "kan inte sparas.")  # fmt: skip
    st.query_params["vy"] = slug
    page = views[slug]
    if not snap.passages and not getattr(page, "SHOWN_WITHOUT_PASSAGES", False):
        st.info(
            f"Databasen {db.name} har inga stycken ännu. Kör `systemfel build --db {db}` "
            "eller ladda upp PDF:er under Dokument."
        )
    page.render(ctx)


if __name__ == "__main__":  # `streamlit run` executes this file as a script
    main()
