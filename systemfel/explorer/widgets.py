"""Pieces several pages draw the same way: tables with downloads, a citable passage card, messages."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import streamlit as st

from systemfel.base.records import LEVELS, PASSAGE_KINDS, StoredPassage
from systemfel.explorer.export import to_csv_bytes, to_excel_bytes
from systemfel.explorer.highlight import markdown_safe
from systemfel.explorer.labels import ThemeNamer, kind_sv, level_sv, ocr_note
from systemfel.store import Store, StoreError

KIND_BADGE = {"deficiency": "red", "good_example": "green", "background": "gray"}
TIGHT_MARGIN = {"l": 0, "r": 0, "t": 10, "b": 0}
PICK = "Välj …"  # placeholder of multiselects (Streamlit's own is English)


def pick_many(container, label: str, options, **kwargs) -> list:
    """A multiselect with Swedish text only: our placeholder, and without Streamlit's English
    bulk actions ("Select all", "Select N matches") in the open list."""
    return container.multiselect(label, options, placeholder=PICK, select_all=False, **kwargs)


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


# Long text columns get a bounded width (the full text is in the cell and in the export), so a
# table fits the page instead of pushing its numbers off to the right.
WIDE_TEXT_COLUMNS = {"Citat": "large", "Mening": "large", "Titel": "medium", "Meddelande": "medium",
                     "Nyckelord": "medium", "Organisationerna": "medium", "Fil": "medium"}  # fmt: skip


def show_table(frame: pd.DataFrame, name: str, key: str, **kwargs) -> None:
    columns = {c: st.column_config.TextColumn(c, width=w) for c, w in WIDE_TEXT_COLUMNS.items() if c in frame}
    st.dataframe(frame, hide_index=True, width="stretch", column_config=columns, **kwargs)
    export_buttons(frame, name, key)


def passage_card(
    p: StoredPassage,
    namer: ThemeNamer,
    corrections: dict,
    *,
    show_source: bool = True,
    body: str | None = None,
    db: Path | None = None,
    key: str = "",
    note: str = "",
) -> None:
    """One passage as users cite it: labels, quote, source and page.

    With `db`, a *Rätta* button opens a correction form inside the card, and the confirmation
    of a saved correction appears in the same card (where the user is looking). Themes and
    level are shown for deficiencies only: a passage corrected to background has none.
    """
    corrected = [f for (h, f) in corrections if h == p.text_hash]
    card_key = f"{key}_{p.id}"
    with st.container(border=True):
        parts = [f":{KIND_BADGE.get(p.kind, 'gray')}-badge[{kind_sv(p.kind)}]"]
        if note:
            parts.append(note)
        if p.themes and p.kind == "deficiency":
            parts.append("Tema: " + markdown_safe(namer.themes(p.themes)))
        if p.actors:
            parts.append("Aktörer: " + markdown_safe(", ".join(p.actors)))
        if p.level and p.kind == "deficiency":
            parts.append(level_sv(p.level))
        if corrected:
            parts.append(":violet-badge[Rättad]")
        if p.ocr:
            parts.append(f":gray-badge[{ocr_note(p)}]")
        st.markdown(" · ".join(parts))
        if p.context:
            # the lead-in lines the passage is a list item under ("Brister på lokal nivå:")
            st.caption(markdown_safe(p.context))
        st.markdown(body if body is not None else markdown_safe(p.text), unsafe_allow_html=True)
        source = f"{p.org} {p.year or ''} – {p.file}, s. {p.page}" if show_source else f"s. {p.page}"
        caption = source + (f" · {p.heading}" if p.heading else "")
        st.caption(markdown_safe(caption))
        if db is not None:
            correction_in_card(p, namer, db, card_key)


def correction_in_card(p: StoredPassage, namer: ThemeNamer, db: Path, card_key: str) -> None:
    """The Rätta button, the form it opens and the confirmation after saving, all in the card."""
    confirmation = st.session_state.pop(f"rattad_{card_key}", None)
    if confirmation:
        st.success(confirmation, icon=":material/check_circle:")
    open_key = f"ratta_oppen_{card_key}"
    if not st.session_state.get(open_key):
        st.button("Rätta", key=f"ratta_{card_key}", icon=":material/edit:", help="Rätta typ, huvudtema eller nivå",
                  on_click=_set_state, args=(open_key, True))  # fmt: skip
        return
    kinds = list(PASSAGE_KINDS)
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox("Typ", kinds, index=kinds.index(p.kind) if p.kind in kinds else 0,
                        format_func=kind_sv, key=f"ratta_typ_{card_key}")  # fmt: skip
    theme = level = ""
    if kind == "deficiency":
        theme_options = [""] + sorted(namer.theme_names, key=namer.theme)
        theme = c2.selectbox(
            "Huvudtema", theme_options, index=theme_options.index(p.theme) if p.theme in theme_options else 0,
            format_func=lambda s: namer.theme(s) if s else "(oförändrat)", key=f"ratta_tema_{card_key}",
        )  # fmt: skip
        level_options = ["", *LEVELS]
        level = c3.selectbox(
            "Nivå", level_options, index=level_options.index(p.level) if p.level in level_options else 0,
            format_func=lambda v: level_sv(v) if v else "(oförändrad)", key=f"ratta_niva_{card_key}",
        )  # fmt: skip
    else:
        c2.caption("Teman och nivå gäller bara brister; de visas inte för denna typ.")
    b1, b2 = st.columns(2)
    if b1.button("Spara rättelse", key=f"ratta_spara_{card_key}", type="primary"):
        message = save_correction(db, p, kind, theme, namer, level)
        if message:
            st.session_state[f"rattad_{card_key}"] = message
            st.session_state[open_key] = False
            st.rerun()
    b2.button("Avbryt", key=f"ratta_avbryt_{card_key}", on_click=_set_state, args=(open_key, False))


def _set_state(name: str, value) -> None:
    st.session_state[name] = value


def save_correction(
    db: Path, passage: StoredPassage, kind: str, theme: str, namer: ThemeNamer, level: str = ""
) -> str | None:
    """Store a researcher's correction (it survives rebuilds, keyed by text, and a QDA export
    shows it as a correction); the message to show."""
    changes = []
    if kind != passage.kind:
        changes.append(("kind", kind))
    if theme and theme != passage.theme:
        changes.append(("theme", theme))
    if level and level != passage.level:
        changes.append(("level", level))
    if not changes:
        st.info("Inget att ändra: stycket har redan den typen, det temat och den nivån.")
        return None
    try:
        with Store(db) as store, store.transaction():
            for field_name, value in changes:
                store.set_correction(passage.text_hash, field_name, value)
    except (StoreError, sqlite3.Error) as exc:
        st.error(f"Rättelsen kunde inte sparas: {exc}")
        return None
    message = f"Rättelsen är sparad: {kind_sv(kind)}" + (f", huvudtema {namer.theme(theme)}" if theme else "")
    message += (f", {level_sv(level).lower()}" if level else "") + "."
    message += " Den gäller även efter ombyggnad."
    if kind != "deficiency":
        message += " Stycket räknas inte längre bland bristerna; dess teman och nivå visas inte."
    if kind == "deficiency" and not theme and not passage.themes:
        message += " Stycket får teman vid nästa `systemfel build`; välj ett huvudtema här om du vill sätta det nu."
    if theme and theme != passage.theme:
        message += " Temat används också som märkt exempel: nästa `systemfel build` lär sig av det för liknande stycken."
    return message


def flash(message: str) -> None:
    """A message for the next run of the page (the current one is about to rerun)."""
    st.session_state["flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("flash", None)
    if message:
        st.success(message)
