"""Dokument: one report's passages in reading order, corrections, and uploads of new reports."""
from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pandas as pd
import streamlit as st

from systemfel.base.records import PASSAGE_KINDS, Document
from systemfel.exchange.qdpx_write import qdpx_bytes
from systemfel.explorer import tables
from systemfel.explorer.context import Context
from systemfel.explorer.highlight import markdown_safe
from systemfel.explorer.labels import kind_sv
from systemfel.explorer.uploads import replace_report, save_upload, upload_folder, upload_size_problem
from systemfel.explorer.widgets import export_buttons, flash, passage_card, pick_many, show_flash, show_table
from systemfel.pipeline import STATUS_SV, BuildError, BuildOptions, build
from systemfel.store import Store, StoreError

SLUG = "dokument"
TITLE = "Dokument"
ORDER = 50
SHOWN_WITHOUT_PASSAGES = True  # uploads are how an empty database gets its first reports

log = logging.getLogger(__name__)


def render(ctx: Context) -> None:
    snap, db = ctx.snap, ctx.db
    st.title(TITLE)
    show_flash()
    docs = [d for d in snap.documents if d.status == "ok"]
    with st.expander("Lägg till rapporter (PDF)", expanded=not docs or bool(st.session_state.get("uppladdning"))):
        upload_section(db)
    if docs:
        qdpx_section(db)
        by_id = {d.id: d for d in docs}
        # ?rapport=FILE opens that report: a link a researcher can cite or send
        asked = st.query_params.get("rapport")
        linked = next((d.id for d in docs if asked and d.file == asked), None)
        if linked is not None and st.session_state.get("dokument_lank") != asked:
            st.session_state["dokument_val"] = linked
            st.session_state["dokument_lank"] = asked
        doc_id = st.selectbox(
            "Rapport", list(by_id), key="dokument_val",
            format_func=lambda i: f"{by_id[i].meta.org} {by_id[i].meta.year or ''} – {by_id[i].file}",
        )  # fmt: skip
        document_passages(ctx, by_id[doc_id])
    else:
        st.info("Databasen har inga inlästa rapporter ännu. Ladda upp en PDF ovan.")


def qdpx_section(db: Path) -> None:
    """The whole project for the researchers' own QDA tools; made only when asked for."""
    with st.expander("Exportera till NVivo, ATLAS.ti, MAXQDA eller QualCoder (REFI-QDA)"):
        st.caption(
            "En projektfil (.qdpx) med alla rapporter, kodboken (teman, typ, nivå, aktörer) och varje stycke "
            "kodat, rättelser som kodningar av användaren ”Rättelse i systemfel”. Forskarens ändringar läses "
            "tillbaka med `systemfel import qdpx PROJEKT.qdpx --db DATABAS`."
        )
        st.download_button(
            "Projektfil (.qdpx)", data=lambda: qdpx_download(db), file_name=f"{db.stem}.qdpx", mime="application/zip",
            key="qdpx_export", on_click="ignore", icon=":material/download:",
            help="Ladda ner projektet i REFI-QDA-formatet",
        )  # fmt: skip


def qdpx_download(db: Path) -> bytes:
    with Store(db, readonly=True) as store:
        return qdpx_bytes(store)


def document_passages(ctx: Context, doc: Document) -> None:
    snap, namer = ctx.snap, ctx.namer
    st.caption(markdown_safe(f"{doc.meta.title} · {doc.pages} sidor · {doc.n_passages} stycken"))
    passages = [p for p in snap.passages if p.doc_id == doc.id]
    kinds = pick_many(st, "Visa typ", list(PASSAGE_KINDS), default=list(PASSAGE_KINDS), format_func=kind_sv,
                      key="dokument_typer")  # fmt: skip
    shown = [p for p in passages if p.kind in kinds or p.kind is None]
    replace_form(ctx.db, doc)
    st.subheader(f"Stycken i läsordning ({len(shown)})")
    st.caption("Knappen Rätta på ett stycke ändrar dess typ eller huvudtema; rättelsen gäller även efter ombyggnad.")
    for p in shown:
        passage_card(p, namer, snap.corrections, show_source=False, db=ctx.db, key="dok")
    table = tables.passages_table(shown, namer, snap.corrections)
    export_buttons(table, f"stycken_{Path(doc.file).stem}", "doc_passages")


def upload_section(db: Path) -> None:
    st.caption("Filerna sparas bredvid databasen och läses in, analyseras och visas i alla vyer.")
    uploads = st.file_uploader("PDF-filer", type=["pdf"], accept_multiple_files=True, key="uppladdning")
    if not uploads or not st.button("Läs in filerna", key="las_in", type="primary"):
        return
    paths = store_uploads(db, uploads)
    if paths:
        run_build(db, paths)


def store_uploads(db: Path, uploads) -> list[Path] | None:
    """Save uploads to disk by content, streamed, within the total size limit; None on failure."""
    problem = upload_size_problem([upload.size for upload in uploads])
    if problem:
        st.error(problem)
        return None
    folder = upload_folder(db)
    try:
        return [save_upload(folder, upload.name, upload) for upload in uploads]
    except (OSError, ValueError) as exc:
        st.error(f"Filerna kunde inte sparas i {folder}: {exc}")
        return None


def replace_form(db: Path, doc: Document) -> None:
    """Replacing a report is a choice made here, never a side effect of an upload's name."""
    with st.expander("Ersätt rapporten med en ny version", expanded=False):
        st.caption(f"Den nya filen läses in; när den är klar tas {doc.file} och dess {doc.n_passages} stycken bort. "
                   "Rättelser följer med de stycken vars text är oförändrad.")  # fmt: skip
        upload = st.file_uploader("Ny version (PDF)", type=["pdf"], key=f"ersatt_fil_{doc.id}")
        if upload is None or not st.button("Ersätt rapporten", key=f"ersatt_{doc.id}", type="primary"):
            return
        paths = store_uploads(db, [upload])
        summary = run_build(db, paths) if paths else None
        if summary is None:
            return
        try:
            with Store(db) as store:
                replaced = replace_report(store, doc.id, summary.files[0].status)
        except (StoreError, sqlite3.Error) as exc:
            st.error(f"Den gamla versionen kunde inte tas bort: {exc}")
            return
        if replaced:
            flash(f"{doc.file} ersattes med {Path(paths[0]).name}.")
            st.rerun()
        else:
            st.warning("Den gamla versionen finns kvar: den nya filen lästes inte in som en egen rapport.")


def run_build(db: Path, paths: list[Path]):
    """Ingest and analyse the uploads with a progress bar, then report each file in Swedish."""
    bar = st.progress(0.0, text="Startar …")

    def progress(stage: str, done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 0.0, text=f"{stage}: {done} av {total}")

    try:
        with Store(db) as store:
            summary = build(store, paths, options=BuildOptions(workers=1), progress=progress)
    except (BuildError, StoreError) as exc:
        bar.empty()
        st.error(str(exc))
        return None
    except Exception as exc:  # noqa: BLE001 - a failed build must be explained, not crash the page
        log.exception("build from the explorer failed")
        bar.empty()
        st.error(f"Inläsningen misslyckades oväntat: {type(exc).__name__}: {exc}")
        return None
    bar.progress(1.0, text="Klart")
    rows = [{"Fil": Path(f.path).name, "Status": STATUS_SV.get(f.status, f.status), "Sidor": f.pages,
             "Stycken": f.passages, "Meddelande": f.message} for f in summary.files]  # fmt: skip
    for result in summary.failed:
        st.error(f"{Path(result.path).name}: {result.message}")
    good = len(summary.files) - len(summary.failed)
    if good:
        st.success(f"{good} fil(er) klara. Alla vyer visar nu de nya rapporterna.")
    show_table(pd.DataFrame(rows), "inlasning", "upload_results")
    return summary
