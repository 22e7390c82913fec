"""The view "Återkommande systemfel": the specific problems that come back, where and when.

Issues ranked by how many organisations and years they span; each opens to its quotes, one
block per report, with a years x organisations strip, and corrections (rename, merge, move
a statement out) that are kept across rebuilds.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import streamlit as st

from systemfel.explorer.context import Context
from systemfel.explorer.highlight import markdown_safe
from systemfel.explorer.widgets import flash, pick_many, show_flash
from systemfel.recurring import reassemble
from systemfel.store import Store, StoreError

SLUG = "aterkommande"
TITLE = "Återkommande systemfel"
ORDER = 25
STATUS_BADGE = {"återkommande": "red", "ny": "blue", "enstaka": "gray"}


@st.cache_data(max_entries=4, show_spinner="Läser systemfelen …")
def load_issues(db: str, marker: tuple) -> tuple[list[dict], list[dict]]:
    with Store(db, readonly=True) as store:
        return store.issues(), store.statements()


def issue_table(issues: list[dict], namer) -> pd.DataFrame:
    """The ranked list as users read it, in Swedish."""
    return pd.DataFrame(
        {
            "Systemfel": [i["label"] for i in issues],
            "Status": [i["status"] for i in issues],
            "Organisationer": [len(i["orgs"]) for i in issues],
            "År": [len(i["years"]) for i in issues],
            "Rapporter": [len(i["reports"]) for i in issues],
            "Påståenden": [i["size"] for i in issues],
            "Första år": [i["first_year"] for i in issues],
            "Senaste år": [i["last_year"] for i in issues],
            "Tema": [namer.theme(i["themes"][0]) if i["themes"] else "" for i in issues],
            "Utmärkande ord": [", ".join(i["terms"][:5]) for i in issues],
            "Id": [i["id"] for i in issues],
        }
    )


def year_org_strip(statements: list[dict]) -> pd.DataFrame:
    """Statements per organisation (rows) and year (columns): where and when it was reported."""
    frame = pd.DataFrame([{"Organisation": s["org"] or "okänd", "År": s["year"]} for s in statements])
    if frame.empty:
        return frame
    return frame.pivot_table(index="Organisation", columns="År", aggfunc="size", fill_value=0)


def filter_issues(issues: list[dict], statements: list[dict], namer) -> list[dict]:
    with st.expander("Filter", expanded=False):
        c1, c2, c3 = st.columns(3)
        themes = pick_many(c1, "Tema", sorted({t for i in issues for t in i["themes"]}, key=namer.theme),
                           format_func=namer.theme, key="sf_tema")  # fmt: skip
        actors = pick_many(c2, "Aktör", sorted({a for i in issues for a in i["actors"]}), key="sf_aktor")
        orgs = pick_many(c3, "Organisation", sorted({o for i in issues for o in i["orgs"]}), key="sf_org")
        c4, c5, c6 = st.columns(3)
        regions = pick_many(c4, "Region", sorted({r for i in issues for r in i["regions"]}), key="sf_region")
        years = pick_many(c5, "År", sorted({y for i in issues for y in i["years"]}), key="sf_ar")
        statuses = pick_many(c6, "Status", list(STATUS_BADGE), key="sf_status")
        min_reports = st.number_input("Minst antal rapporter", min_value=1, value=1, step=1, key="sf_minrapporter")
    return [
        i for i in issues
        if (not themes or set(themes) & set(i["themes"])) and (not actors or set(actors) & set(i["actors"]))
        and (not orgs or set(orgs) & set(i["orgs"])) and (not regions or set(regions) & set(i["regions"]))
        and (not years or set(years) & set(i["years"])) and (not statuses or i["status"] in statuses)
        and len(i["reports"]) >= min_reports
    ]  # fmt: skip


def open_issue(issue_id: str) -> None:
    """From elsewhere (a theme) to one issue in this view, with no filter hiding it."""
    for key in ("sf_tema", "sf_aktor", "sf_org", "sf_region", "sf_ar", "sf_status", "sf_minrapporter"):
        st.session_state.pop(key, None)
    st.session_state["sf_valt"] = issue_id
    st.session_state["vy"] = SLUG


def _open_similar(passage_id: int) -> None:
    """From a quote to *Sök liknande fall* for its passage."""
    st.session_state["liknande"] = passage_id
    st.session_state["vy"] = "sok"


def render(ctx: Context) -> None:
    db, marker, namer = ctx.db, ctx.marker, ctx.namer
    st.title(TITLE)
    show_flash()
    try:
        issues, statements = load_issues(str(db), marker)
    except (StoreError, sqlite3.Error) as exc:
        st.error(f"Systemfelen kan inte läsas: {exc}. Bygg om databasen med `systemfel build --db {db}`.")
        return
    if not issues:
        st.info(
            "Inga återkommande systemfel ännu. Bygg (om) databasen med "
            f"`systemfel build --db {db}` så grupperas bristerna i specifika systemfel."
        )
        return
    ungrouped = sum(1 for s in statements if not s["issue_id"])
    cols = st.columns(3)
    cols[0].metric("Systemfel", len(issues))
    cols[1].metric("Återkommande", sum(i["status"] == "återkommande" for i in issues))
    cols[2].metric("Påståenden utan grupp", ungrouped)
    shown = filter_issues(issues, statements, namer)
    st.caption("Rangordnade efter hur många organisationer och år de spänner över.")
    if not shown:
        st.info("Inga systemfel passar filtren.")
        return
    st.dataframe(issue_table(shown, namer).drop(columns=["Id"]), hide_index=True)
    by_id = {i["id"]: i for i in shown}
    if st.session_state.get("sf_valt") not in by_id:
        st.session_state.pop("sf_valt", None)  # an issue the filters now hide, or one merged away
    chosen = st.selectbox("Öppna systemfel", list(by_id), format_func=lambda i: by_id[i]["label"], key="sf_valt")
    issue = by_id[chosen]
    members = [s for s in statements if s["issue_id"] == chosen]
    badge = STATUS_BADGE.get(issue["status"], "gray")
    st.subheader(issue["label"])
    st.markdown(
        f":{badge}-badge[{issue['status']}] · "
        + markdown_safe(f"Utmärkande ord: {', '.join(issue['terms'])} · Aktörer: {', '.join(issue['actors']) or '-'}")
    )
    strip = year_org_strip(members)
    if not strip.empty:
        st.caption("Påståenden per organisation och år")
        st.dataframe(strip)
    for report in issue["reports"]:
        quotes = [s for s in members if Path(s["file"]).stem == report]
        with st.expander(f"{report} ({len(quotes)})", expanded=len(issue["reports"]) <= 3):
            for quote in quotes:
                st.markdown(f"> {markdown_safe(quote['text'])}")
                named = f" · Aktörer: {', '.join(quote['actors'])}" if quote.get("actors") else ""
                st.caption(markdown_safe(f"{quote['org']} {quote['year'] or ''} – {quote['file']}, s. {quote['page']}{named}"))
                c1, c2 = st.columns(2)
                c1.button("Sök liknande fall", key=f"sf_likn_{quote['id']}", on_click=_open_similar,
                          args=(quote["passage_id"],))  # fmt: skip
                c2.button("Flytta ut ur systemfelet", key=f"sf_ut_{quote['id']}", on_click=_correct,
                          args=(db, "move_out", chosen, quote["text_hash"]))  # fmt: skip
    corrections(db, issue, issues)


def corrections(db: Path, issue: dict, issues: list[dict]) -> None:
    with st.expander("Rätta systemfelet", expanded=False):
        name_key = f"sf_namn_{issue['id']}"
        st.text_input("Nytt namn", value=issue["label"], key=name_key)
        # the callback reads the field when clicked (args are fixed when the page is drawn)
        st.button("Byt namn", key="sf_bytnamn", on_click=_rename, args=(db, issue["id"], name_key))
        others = [i for i in issues if i["id"] != issue["id"]]
        if others:
            labels = {i["id"]: i["label"] for i in others}
            target = st.selectbox("Slå ihop med", list(labels), format_func=labels.get, key="sf_mal")
            st.button("Slå ihop", key="sf_slaihop", on_click=_correct, args=(db, "merge", issue["id"], target))
        st.caption("Rättelser sparas och gäller även efter ombyggnad.")


def _rename(db: Path, issue_id: str, name_key: str) -> None:
    _correct(db, "rename", issue_id, str(st.session_state.get(name_key, "")))


def _correct(db: Path, action: str, issue_id: str, target: str) -> None:
    if action == "rename" and not target.strip():
        flash("Namnet kan inte vara tomt.")
        return
    try:
        with Store(db) as store:
            store.add_issue_correction(action, issue_id, target.strip())
            reassemble(store)
    except (StoreError, sqlite3.Error) as exc:
        flash(f"Rättelsen kunde inte sparas: {exc}")
        return
    if action == "merge":
        st.session_state["sf_valt"] = target
    flash({
        "rename": "Systemfelet har fått nytt namn.",
        "merge": "Systemfelen är sammanslagna.",
        "move_out": "Påståendet är utflyttat ur systemfelet.",
    }[action] + " Rättelsen gäller även efter ombyggnad.")
