"""Pieces several pages draw the same way: tables with downloads, a citable passage card, messages."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from systemfel.base.records import StoredPassage
from systemfel.explorer.export import to_csv_bytes, to_excel_bytes
from systemfel.explorer.highlight import markdown_safe
from systemfel.explorer.labels import ThemeNamer, kind_sv, level_sv

KIND_BADGE = {"deficiency": "red", "good_example": "green", "background": "gray"}
TIGHT_MARGIN = {"l": 0, "r": 0, "t": 10, "b": 0}


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


def passage_card(
    p: StoredPassage, namer: ThemeNamer, corrections: dict, *, show_source: bool = True, body: str | None = None
) -> None:
    """One passage as users cite it: labels, quote, source and page."""
    corrected = [f for (h, f) in corrections if h == p.text_hash]
    with st.container(border=True):
        parts = [f":{KIND_BADGE.get(p.kind, 'gray')}-badge[{kind_sv(p.kind)}]"]
        if p.themes:
            parts.append("Tema: " + markdown_safe(namer.themes(p.themes)))
        if p.actors:
            parts.append("Aktörer: " + markdown_safe(", ".join(p.actors)))
        if p.level:
            parts.append(level_sv(p.level))
        if corrected:
            parts.append(":violet-badge[Rättad]")
        st.markdown(" · ".join(parts))
        if p.context:
            # the lead-in lines the passage is a list item under ("Brister på lokal nivå:")
            st.caption(markdown_safe(p.context))
        st.markdown(body if body is not None else markdown_safe(p.text), unsafe_allow_html=True)
        source = f"{p.org} {p.year or ''} – {p.file}, s. {p.page}" if show_source else f"s. {p.page}"
        caption = source + (f" · {p.heading}" if p.heading else "")
        st.caption(markdown_safe(caption))


def flash(message: str) -> None:
    """A message for the next run of the page (the current one is about to rerun)."""
    st.session_state["flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("flash", None)
    if message:
        st.success(message)
