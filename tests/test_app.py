"""The explorer driven through Streamlit's AppTest on the demo database built by the real pipeline."""
from __future__ import annotations

import html
import io
import json
import re
import sqlite3
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_h
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from systemfel.base.records import StoredPassage
from systemfel.store import Store
from systemfel.base.textnorm import normalize_for_match
from systemfel.explorer import tables
from systemfel.exchange.corpus import ExchangeCorpus
from systemfel.explorer.export import to_csv_bytes, to_excel_bytes
from systemfel.explorer.highlight import TermHighlighter, markdown_safe, snippet
from systemfel.explorer.labels import ThemeNamer, level_sv, load_theme_names
from systemfel.explorer.uploads import safe_filename, save_upload, upload_folder
from tests.pdfgen import ReportPdf

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
DATA = ROOT / "tests" / "data"
TIMEOUT = 300
DEMO_ORGS = ("PO Skåne", "PO Värmland", "Socialstyrelsen")


def copy_db(source: Path, target: Path) -> Path:
    """A consistent copy of a WAL database (the file alone may miss committed pages)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


@pytest.fixture(scope="session")
def app_db(demo_db, tmp_path_factory) -> Path:
    """The demo database, read-only for these tests (writers get their own copy)."""
    return demo_db


@pytest.fixture
def writable_db(demo_db, tmp_path) -> Path:
    """A private copy for tests that store corrections or uploads."""
    return copy_db(demo_db, tmp_path / "db" / "demo.db")


def start(db: Path, monkeypatch, view: str | None = None) -> AppTest:
    monkeypatch.setenv("SYSTEMFEL_DB", str(db))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(sys, "argv", ["app.py"])
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if view:
        at.sidebar.radio(key="vy").set_value(view)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def visible(markdown: str) -> str:
    """Markdown source as the reader sees it: escapes and entities resolved."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown))


def page_text(at: AppTest) -> str:
    """Everything visible on the page as text, for content checks."""
    parts = [visible(e.value) for e in (*at.title, *at.subheader, *at.markdown, *at.caption, *at.info, *at.error,
                               *at.warning, *at.success)]  # fmt: skip
    for frame in at.dataframe:
        parts.append(frame.value.to_string())
    return "\n".join(str(p) for p in parts)


def demo_passages(db: Path) -> list[dict]:
    with Store(db, readonly=True) as store:
        return store.passages()


# ------------------------------------------------------------ database choice
def test_missing_database_is_explained_in_swedish(tmp_path, monkeypatch):
    at = start(tmp_path / "saknas.db", monkeypatch)
    assert len(at.error) == 1
    message = at.error[0].value
    assert "finns inte" in message and "systemfel build --db" in message
    assert not at.sidebar.radio  # nothing else is drawn


def test_a_file_that_is_not_a_database_is_explained(tmp_path, monkeypatch):
    junk = tmp_path / "inte-en-databas.db"
    junk.write_bytes(b"%PDF-1.4 detta \xff\xfe \x00 ar ingen sqlite-fil" * 100)
    at = start(junk, monkeypatch)
    assert len(at.error) == 1
    assert "kan inte läsas" in at.error[0].value and "systemfel build" in at.error[0].value


def test_db_on_the_command_line_wins_over_the_environment(app_db, tmp_path, monkeypatch):
    monkeypatch.setenv("SYSTEMFEL_DB", str(tmp_path / "fel.db"))
    monkeypatch.setattr(sys, "argv", ["app.py", "--db", str(app_db)])
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Översikt"


@pytest.mark.parametrize("view", ["oversikt", "teman", "sok", "trender", "dokument"])
def test_an_empty_database_points_to_the_build_command(tmp_path, monkeypatch, view):
    db = tmp_path / "tom.db"
    Store(db).close()
    at = start(db, monkeypatch, view)
    assert not at.error
    assert any("systemfel build" in i.value or "Ladda upp" in i.value for i in at.info)


# --------------------------------------------------------------------- views
def test_overview_lists_the_reports_and_the_largest_themes(app_db, monkeypatch):
    at = start(app_db, monkeypatch, "oversikt")
    reports = at.dataframe[0].value
    for org in DEMO_ORGS:
        assert reports["Organisation"].str.contains(org).any(), org
    assert set(reports["År"].dropna().astype(int)) >= {2017, 2021, 2024, 2025}
    assert (reports["Brister"] > 0).all(), "every demo report describes deficiencies"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rapporter"] == "4"
    names = set(load_theme_names().values())
    text = page_text(at)
    assert any(name in text for name in names), "codebook theme names are shown, not slugs"
    assert "Återkommande systemfel" in text


def test_recurring_systemfel_span_several_reports(app_db, monkeypatch):
    at = start(app_db, monkeypatch, "oversikt")
    recurring = [f.value for f in at.dataframe if "Rapporter" in f.value and "Tema" in f.value]
    assert recurring, "a recurrence table per theme is shown"
    assert (recurring[-1]["Rapporter"] >= 2).any()


def test_themes_view_shows_evidence_with_report_and_page(app_db, monkeypatch):
    at = start(app_db, monkeypatch, "teman")
    chosen = at.selectbox(key="teman_val")
    assert chosen.value, "a theme is selected by default"
    text = page_text(at)
    assert "brister" in text and "Belägg" in text
    assert ", s. " in text, "evidence cites report and page"
    per_report = [f.value for f in at.dataframe
                  if list(f.value.columns) == ["Organisation", "År", "Fil", tables.COUNT_MAIN, tables.COUNT_ANY]]  # fmt: skip
    assert per_report and per_report[0][tables.COUNT_ANY].sum() > 0
    assert any(chart.proto.spec for chart in at.get("plotly_chart")), "theme map and per-year chart are drawn"

    at.radio(key="teman_grupp").set_value("Upptäckta kluster")
    at.run()
    assert not at.exception
    clusters = at.dataframe[0].value
    assert {"Kluster", "Nyckelord", "Rapporter"} <= set(clusters.columns)
    assert len(clusters) >= 2


def test_search_highlights_the_query_words_and_cites_source(app_db, monkeypatch):
    query = json.loads((DATA / "dev-queries.jsonl").read_text(encoding="utf-8").splitlines()[0])["query"]
    at = start(app_db, monkeypatch, "sok")
    at.text_input(key="sok_fraga").set_value(query)
    at.run()
    assert not at.exception
    hits = [m.value for m in at.markdown if m.value.startswith("**1.**") or "<mark>" in m.value]
    assert hits, "results are shown"
    marked = [w for h in hits for w in h.split("<mark>")[1:]]
    query_words = {normalize_for_match(w) for w in query.replace(",", " ").split() if len(w) > 2}
    assert marked, "matching words are highlighted"
    assert any(any(normalize_for_match(m.split("</mark>")[0])[:4] == q[:4] for q in query_words) for m in marked)
    assert any(", s. " in visible(c.value) for c in at.caption), "every result names report and page"


def test_opening_a_store_prepares_the_search_engine_in_the_background(writable_db, monkeypatch):
    """The first search after start finds the engine loaded: it does not load it again."""
    import threading

    from systemfel.explorer import context

    warmed, warm = [], context._warm
    monkeypatch.setattr(context, "_warm", lambda *args: (warmed.append(args[:2]), warm(*args)))
    start(writable_db, monkeypatch, "oversikt")  # a page without search
    for _ in range(100):  # the page started a thread; let it reach its first line
        if warmed:
            break
        threading.Event().wait(0.05)
    marker = context.db_marker(writable_db)
    assert warmed == [(str(writable_db), marker)], "opening the store started one warm-up, of this store state"
    with Store(writable_db, readonly=True) as store:
        model = store.get_meta("embedding_model")
    context.warm_search_engine(str(writable_db), marker, model).join(TIMEOUT)  # the page's thread, from the cache
    assert len(warmed) == 1

    def load_again(*args, **kwargs):
        raise AssertionError("the search engine was loaded again at the first search")

    monkeypatch.setattr(context, "load_engine", load_again)
    engine = context.cached_search_engine(str(writable_db), marker, model)
    assert engine.search("väntetid hos Försäkringskassan", k=5, mode="hybrid")


def test_search_filters_restrict_the_results(app_db, monkeypatch):
    at = start(app_db, monkeypatch, "sok")
    at.multiselect(key="filter_org").set_value(["PO Värmland"])
    at.text_input(key="sok_fraga").set_value("väntetider i psykiatrin")
    at.run()
    sources = [visible(c.value) for c in at.caption if ", s. " in visible(c.value)]
    assert sources
    assert all(s.startswith("PO Värmland") for s in sources), sources


def test_similar_cases_button_runs_more_like_this(app_db, monkeypatch):
    at = start(app_db, monkeypatch, "sok")
    at.text_input(key="sok_fraga").set_value("Bank-ID och digitala tjänster")
    at.run()
    like_buttons = [b for b in at.button if b.key and b.key.startswith("liknande_")]
    assert like_buttons
    source_id = int(like_buttons[0].key.split("_")[1])
    like_buttons[0].click()
    at.run()
    assert not at.exception
    assert any("liknar detta stycke" in i.value for i in at.info)
    result_ids = [int(b.key.split("_")[1]) for b in at.button if b.key and b.key.startswith("liknande_")]
    assert result_ids and source_id not in result_ids
    at.button(key="tillbaka").click()
    at.run()
    assert not any("liknar detta stycke" in i.value for i in at.info)


def test_trends_show_charts_and_the_reports_own_figures(app_db, monkeypatch):
    at = start(app_db, monkeypatch, "trender")
    text = page_text(at)
    assert "Siffror som rapporterna själva anger" in text
    figures = [f.value for f in at.dataframe if "Mening" in f.value]
    assert figures and figures[0]["Antal"].gt(0).all()
    assert at.get("plotly_chart")
    at.radio(key="trend_delning").set_value("Alla organisationer per år")
    at.radio(key="trend_matt").set_value("Antal brister")
    at.run()
    assert not at.exception
    assert any("Organisation" in f.value for f in at.dataframe if "Mening" not in f.value)


def test_document_view_shows_passages_in_reading_order(app_db, monkeypatch):
    at = start(app_db, monkeypatch, "dokument")
    doc_id = at.selectbox(key="dokument_val").value
    passages = [p for p in demo_passages(app_db) if p.doc_id == doc_id]
    assert passages
    texts = [m.value for m in at.markdown]
    first, last = (markdown_safe(passages[i].text) for i in (0, -1))
    assert first in texts and last in texts
    assert texts.index(first) < texts.index(last)
    assert any("badge[Brist]" in t for t in texts) and any("badge[Bakgrund]" in t for t in texts)


def open_correction(db: Path, monkeypatch, old_kind: str) -> tuple[AppTest, StoredPassage, str]:
    """Open the Dokument view and press Rätta on the card of the first passage of `old_kind`."""
    at = start(db, monkeypatch, "dokument")
    doc_id = at.selectbox(key="dokument_val").value
    target = next(p for p in demo_passages(db) if p.doc_id == doc_id and p.kind == old_kind)
    card = f"dok_{target.id}"
    at.button(key=f"ratta_{card}").click()
    at.run()
    assert not at.exception
    return at, target, card


def correct_kind(db: Path, monkeypatch, old_kind: str, new_kind: str) -> tuple[AppTest, StoredPassage]:
    """Change the kind of the first passage of `old_kind` from its own card, and save."""
    at, target, card = open_correction(db, monkeypatch, old_kind)
    at.selectbox(key=f"ratta_typ_{card}").set_value(new_kind)
    at.run()
    at.button(key=f"ratta_spara_{card}").click()
    at.run()
    assert not at.exception and not at.error
    return at, target


def card_of(at: AppTest, text: str) -> list[str]:
    """The visible text of the bordered card that quotes `text`, element by element, in order."""
    quote = markdown_safe(text)
    for block in at.main.children.values():
        found = _card_in(block, quote)
        if found is not None:
            return found
    raise AssertionError("no card quotes the passage")


def _card_in(node, quote: str) -> list[str] | None:
    children = list(getattr(node, "children", {}).values())
    values = [getattr(c, "value", None) for c in children]
    if quote in values:
        return [visible(str(v)) for v in values if isinstance(v, str)]
    for child in children:
        found = _card_in(child, quote)
        if found is not None:
            return found
    return None


def test_a_correction_from_the_card_is_stored_and_confirmed_in_that_card(writable_db, monkeypatch):
    at, target = correct_kind(writable_db, monkeypatch, "deficiency", "background")
    card = card_of(at, target.text)
    assert any("Rättelsen är sparad" in line for line in card), card  # the confirmation is where the user looks
    assert "badge[Bakgrund]" in card[0] and "badge[Rättad]" in card[0]
    assert "Tema:" not in card[0], "a passage corrected to background shows no deficiency themes"
    with Store(writable_db, readonly=True) as store:
        assert store.corrections()[(target.text_hash, "kind")] == "background"
        stored = next(p for p in store.passages() if p.id == target.id)
    assert stored.kind == "background"
    assert not any(b.key == f"ratta_spara_dok_{target.id}" for b in at.button), "the form closes after saving"


def test_a_passage_corrected_to_deficiency_says_when_it_gets_themes(writable_db, monkeypatch):
    at, target = correct_kind(writable_db, monkeypatch, "background", "deficiency")
    assert not target.themes
    assert any("nästa `systemfel build`" in s.value for s in at.success)
    with Store(writable_db, readonly=True) as store:
        assert next(p for p in store.passages() if p.id == target.id).kind == "deficiency"


def test_a_theme_correction_is_stored_and_said_to_teach_the_next_build(writable_db, monkeypatch):
    at, target, card = open_correction(writable_db, monkeypatch, "deficiency")
    new_theme = next(slug for slug in ("bostad", "vald", "kunskap") if slug not in target.themes[:1])
    at.selectbox(key=f"ratta_tema_{card}").set_value(new_theme)
    at.button(key=f"ratta_spara_{card}").click()
    at.run()
    assert not at.exception and not at.error
    assert any("märkt exempel" in s.value for s in at.success)
    with Store(writable_db, readonly=True) as store:
        assert store.corrections()[(target.text_hash, "theme")] == new_theme
        assert {"text": target.text, "slug": new_theme} in [
            {"text": r["text"], "slug": r["slug"]} for r in store.theme_corrections()
        ]


def test_a_level_correction_is_stored_like_the_others_and_exported_as_one(writable_db, monkeypatch, tmp_path):
    at, target, card = open_correction(writable_db, monkeypatch, "deficiency")
    new_level = next(level for level in ("central", "lokal") if level != target.level)
    at.selectbox(key=f"ratta_niva_{card}").set_value(new_level)
    at.button(key=f"ratta_spara_{card}").click()
    at.run()
    assert not at.exception and not at.error
    assert any(level_sv(new_level).lower() in s.value for s in at.success)
    assert level_sv(new_level) in card_of(at, target.text)[0]  # the card shows the new level
    with Store(writable_db, readonly=True) as store:
        assert store.corrections()[(target.text_hash, "level")] == new_level
        assert (target.text_hash, "kind") not in store.corrections()  # only what changed
        assert next(p for p in store.passages() if p.id == target.id).level == new_level
        # a QDA export codes it as a correction made in the explorer, not by the machine
        corpus = ExchangeCorpus.load(store, recurring=())
        stored = next(p for p in store.passages() if p.id == target.id)
        assert corpus.decided_by(stored, "level", new_level) == ""
        assert corpus.decided_by(stored, "kind", stored.kind) is None


def test_upload_stores_good_pdfs_and_explains_bad_ones(writable_db, tmp_path, monkeypatch):
    good = ReportPdf(tmp_path / "rapport.pdf", title="Brister och systemfel 2023", author="PO Testkommun")
    good.heading("Försäkringskassan")
    good.paragraph([
        "Klienten fick vänta i över fyra månader på ett beslut om sjukersättning från",
        "Försäkringskassan och saknade under tiden all inkomst. Handläggaren gick inte att nå.",
    ])  # fmt: skip
    good.heading("Bostad")
    good.paragraph([
        "Flera klienter har blivit vräkta trots att socialtjänsten kände till skulderna.",
        "Ingen samordnad individuell plan hölls innan avhysningen genomfördes.",
    ])  # fmt: skip
    good_bytes = good.save().read_bytes()
    at = start(writable_db, monkeypatch, "dokument")
    at.file_uploader(key="uppladdning").set_value([
        ("../../utanför/rapport 2023.pdf", good_bytes, "application/pdf"),
        ("trasig.pdf", b"detta ar ingen pdf alls", "application/pdf"),
    ])  # fmt: skip
    at.run()
    at.button(key="las_in").click()
    at.run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    folder = upload_folder(writable_db)
    assert sorted(p.name for p in folder.rglob("*.pdf")) == ["rapport 2023.pdf", "trasig.pdf"]
    assert not (writable_db.parent.parent / "utanför").exists()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("trasig.pdf: ")
    assert any("1 fil(er) klara" in s.value for s in at.success)
    results = next(f.value for f in at.dataframe if "Meddelande" in f.value)
    assert set(results["Fil"]) == {"rapport 2023.pdf", "trasig.pdf"}
    with Store(writable_db, readonly=True) as store:
        stored = {d.file: d for d in store.documents()}
    assert stored["rapport 2023.pdf"].status == "ok" and stored["rapport 2023.pdf"].n_passages >= 2
    at.run()  # the next interaction sees the new report
    at.selectbox(key="dokument_val").set_value(stored["rapport 2023.pdf"].id)
    at.run()
    assert any("sjukersättning" in m.value for m in at.markdown), "the new report can be read at once"
    at.sidebar.radio(key="vy").set_value("oversikt")
    at.run()
    assert any("kunde inte läsas in" in w.value for w in at.warning)
    failed = next(f.value for f in at.dataframe if "Meddelande" in f.value)
    assert list(failed["Fil"]) == ["trasig.pdf"] and failed["Meddelande"].str.len().gt(10).all()


# ------------------------------------------------------------ helper modules
def test_exports_keep_swedish_text_and_never_create_formulas(app_db):
    with Store(app_db, readonly=True) as store:
        documents, passages = store.documents(), store.passages()
    frame = tables.documents_table(documents, passages)
    hostile = pd.DataFrame({"Citat": ["=HYPERLINK(\"http://x\")", "+46 70 1234567", "åäö\x07"], "Sida": [1, 2, 3]})
    for table in (frame, hostile):
        csv = to_csv_bytes(table)
        assert csv.startswith(b"\xef\xbb\xbf")
        back = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig")
        assert list(back.columns) == list(table.columns)
        sheet = load_workbook(io.BytesIO(to_excel_bytes(table))).active
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == list(table.columns) and len(rows) == len(table) + 1
    cells = [row[0] for row in load_workbook(io.BytesIO(to_excel_bytes(hostile))).active.iter_rows(min_row=2, values_only=True)]
    assert cells == ["=HYPERLINK(\"http://x\")", "+46 70 1234567", "åäö"]
    sheet = load_workbook(io.BytesIO(to_excel_bytes(hostile))).active
    assert sheet["A2"].data_type == "s", "a quote starting with '=' stays text"
    csv_cells = list(pd.read_csv(io.BytesIO(to_csv_bytes(hostile)), encoding="utf-8-sig")["Citat"])
    assert csv_cells == ["'=HYPERLINK(\"http://x\")", "'+46 70 1234567", "åäö\x07"], "no CSV cell starts a formula"
    assert "Skåne" in to_csv_bytes(frame).decode("utf-8-sig")


def test_highlight_escapes_html_and_marks_stemmed_words():
    highlighter = TermHighlighter()
    marked = highlighter.highlight("<script>alert(1)</script> Klienten väntade länge på *beslut*.", ["vänta", "beslutet"])
    assert "<script>" not in marked and "&lt;script&gt;" in marked
    assert "<mark>väntade</mark>" in marked and "<mark>beslut</mark>" in marked
    assert "\\*" in marked, "markdown emphasis is shown literally"
    assert "<mark>" not in highlighter.highlight("Klienten fick ett avslag.", ["bostad"])


@given(st_h.text(min_size=0, max_size=80))
@settings(max_examples=300, deadline=None)
def test_uploaded_file_names_cannot_escape_the_folder(name):
    cleaned = safe_filename(name)
    assert cleaned and cleaned.lower().endswith(".pdf")
    assert "/" not in cleaned and "\\" not in cleaned and ".." not in cleaned
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in cleaned)


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\..\\windows\\win.ini", "/abs/path.pdf", "..", "a\x00b.pdf",
                                  "\u202erapport.pdf", "  .hidden.pdf", "rapport\n.pdf"])  # fmt: skip
def test_hostile_upload_names_land_inside_the_folder(tmp_path, name):
    folder = tmp_path / "uppladdningar"
    saved = save_upload(folder, name, b"%PDF-1.4")
    assert saved.parent.parent == folder.resolve() and saved.read_bytes() == b"%PDF-1.4"


def test_clicked_map_point_maps_back_to_its_passage(app_db):
    import plotly.express as px

    passages = demo_passages(app_db)
    frame = tables.theme_map_frame(passages, ThemeNamer(load_theme_names()))
    assert not frame.empty and frame["id"].isin([p.id for p in passages]).all()
    figure = px.scatter(frame, x="x", y="y", color="Tema", custom_data=["id"])
    trace = figure.data[0]
    # the shape Streamlit returns for a click on the third point of the first trace
    event = {"selection": {"points": [{"curve_number": 0, "point_index": 2, "x": trace.x[2], "y": trace.y[2],
                                       "customdata": list(trace.customdata[2])}], "point_indices": [2]}}  # fmt: skip
    assert tables.selected_point_ids(event) == [int(trace.customdata[2][0])]
    assert tables.selected_point_ids({"selection": {"points": []}}) == []


# ------------------------------------------------------------------ issue 19
def test_the_explorer_refuses_to_run_with_usage_statistics_on(app_db, monkeypatch):
    """However Streamlit was started, the explorer turns usage statistics off itself and shows
    no data on the page whose browser side was told to send them."""
    from streamlit import config as st_config

    before = st_config.get_option("browser.gatherUsageStats")
    st_config.set_option("browser.gatherUsageStats", True)
    try:
        monkeypatch.setenv("SYSTEMFEL_DB", str(app_db))
        monkeypatch.setattr(sys, "argv", ["app.py"])
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.run()
        assert not at.exception
        assert any("gatherUsageStats" in e.value for e in at.error)
        assert not at.dataframe and not at.metric
        assert st_config.get_option("browser.gatherUsageStats") is False
        at.run()
        assert not at.error and at.metric, "the next page load works"
    finally:
        st_config.set_option("browser.gatherUsageStats", before)


def test_a_very_long_query_is_capped_in_the_explorer(app_db, monkeypatch):
    at = start(app_db, monkeypatch, "sok")
    box = at.text_input(key="sok_fraga")
    assert box.proto.max_chars == 1000
    box.set_value("väntetid " * 600)  # 5400 characters: Streamlit keeps the first 1000
    at.run(timeout=TIMEOUT)
    assert not at.exception
    assert len(at.text_input(key="sok_fraga").value) <= 1000
    assert not any("för lång" in w.value for w in at.warning)


def test_the_search_engine_refuses_a_query_over_the_cap():
    from systemfel.models.search import MAX_QUERY_CHARS, QueryTooLongError, check_query_length

    check_query_length("x" * MAX_QUERY_CHARS)
    with pytest.raises(QueryTooLongError, match="för lång"):
        check_query_length("x" * (MAX_QUERY_CHARS + 1))


def test_the_total_upload_size_is_capped():
    from systemfel.explorer.uploads import upload_size_problem

    assert upload_size_problem([50 * 2**20] * 4) is None
    assert "högst 200 MB" in upload_size_problem([50 * 2**20] * 5)


def test_replacing_a_report_is_an_explicit_choice(writable_db, tmp_path, monkeypatch):
    """Item 10: only the 'Ersätt rapporten' form removes a report, after its new version is stored."""
    with Store(writable_db, readonly=True) as store:
        old = next(d for d in store.documents() if d.file == "po-varmland-2021.pdf")
    new = ReportPdf(tmp_path / "po-varmland-2021-rev.pdf", title="Brister och systemfel 2021", author="PO Värmland")
    new.heading("Försäkringskassan")
    new.paragraph(["Klienten fick vänta i över fyra månader på ett beslut om sjukersättning från",
                   "Försäkringskassan och saknade under tiden all inkomst. Handläggaren gick inte att nå."])
    at = start(writable_db, monkeypatch, "dokument")
    at.selectbox(key="dokument_val").set_value(old.id)
    at.run()
    at.file_uploader(key=f"ersatt_fil_{old.id}").set_value([("rev.pdf", new.save().read_bytes(), "application/pdf")])
    at.run()
    at.button(key=f"ersatt_{old.id}").click()
    at.run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    with Store(writable_db, readonly=True) as store:
        files = {d.file: d for d in store.documents()}
    assert "po-varmland-2021.pdf" not in files and files["rev.pdf"].status == "ok"


# ------------------------------------------------- issue 18: a research instrument
NONSENSE = [q for q in (DATA / "nonsense-queries.txt").read_text(encoding="utf-8").splitlines() if q.strip()]


@pytest.mark.parametrize("query", [NONSENSE[0], NONSENSE[1]])
def test_a_query_with_no_answer_says_so_and_offers_themes(app_db, monkeypatch, query):
    at = start(app_db, monkeypatch, "sok")
    at.text_input(key="sok_fraga").set_value(query)
    at.run()
    assert not at.exception
    assert any("Inga träffar som liknar detta" in i.value for i in at.info)
    assert not [b for b in at.button if b.key and b.key.startswith("liknande_")], "no result cards"
    offered = [b for b in at.button if b.key and b.key.startswith("narmaste_")]
    assert offered, "the closest themes are offered instead"
    offered[0].click()
    at.run()
    assert not at.exception
    assert at.multiselect(key="filter_tema").value == [offered[0].key.removeprefix("narmaste_")]
    assert any("stycken matchar filtren" in s.value for s in at.subheader), "the theme is browsed"


def test_a_real_query_shows_bands_and_matched_words(app_db, monkeypatch):
    at = start(app_db, monkeypatch, "sok")
    at.text_input(key="sok_fraga").set_value("Min klient har inget BankID och kan inte logga in hos Försäkringskassan")
    at.run()
    assert not at.exception
    headers = [visible(m.value) for m in at.markdown if "träff]" in m.value]
    assert headers and "Stark träff" in headers[0], "the best hit is a strong match"
    assert any("Matchade ord:" in h and "bank" in h.lower() for h in headers[:5]), headers[:5]
    marked = [w.split("</mark>")[0].lower() for m in at.markdown for w in m.value.split("<mark>")[1:]]
    assert "hos" not in marked and "klienten" not in marked, "filler words are never highlighted"


def test_filters_alone_browse_newest_first(app_db, monkeypatch):
    at = start(app_db, monkeypatch, "sok")
    at.multiselect(key="filter_org").set_value(["PO Värmland"])
    at.run()
    assert not at.exception
    expected = [p for p in demo_passages(app_db) if p.org == "PO Värmland" and p.kind != "good_example"]
    assert any(s.value == f"{len(expected)} stycken matchar filtren" for s in at.subheader)
    sources = [visible(c.value) for c in at.caption if ", s. " in visible(c.value)]
    assert sources and all(s.startswith("PO Värmland") for s in sources)
    assert sources[0].startswith("PO Värmland 2024"), "newest report first"


def numbers_by_view(monkeypatch, db: Path) -> dict[str, tuple]:
    """The main-theme and any-theme counts of the largest theme as each view shows them."""
    namer = ThemeNamer(load_theme_names())
    at = start(db, monkeypatch, "oversikt")
    sizes = next(f.value for f in at.dataframe if tables.COUNT_MAIN in f.value and "Organisationer" in f.value
                 and "Antal år" not in f.value)  # fmt: skip
    top = sizes.iloc[0]
    name = top["Tema"]
    recurrence = next(f.value for f in at.dataframe if "Antal år" in f.value and "Tema" in f.value)
    rec = recurrence[recurrence["Tema"] == name].iloc[0]
    views = {"Största teman": (top[tables.COUNT_MAIN], top[tables.COUNT_ANY]),
             "Återkommande": (rec[tables.COUNT_MAIN], rec[tables.COUNT_ANY])}  # fmt: skip

    at = start(db, monkeypatch, "teman")
    assert namer.theme(at.selectbox(key="teman_val").value) == name, "the largest theme is chosen first"
    header = next(visible(s.value) for s in at.subheader if s.value.startswith(name))
    caption = next(visible(c.value) for c in at.caption if "nämner temat (även som andra tema)" in visible(c.value))
    views["Teman"] = (int(re.search(r": (\d+) brister med temat som huvudtema", header).group(1)),
                      int(re.match(r"(\d+) brister som nämner temat", caption).group(1)))  # fmt: skip
    per_report = next(f.value for f in at.dataframe if tables.COUNT_ANY in f.value and "Fil" in f.value)
    views["Teman per rapport"] = (per_report[tables.COUNT_MAIN].sum(), per_report[tables.COUNT_ANY].sum())

    at = start(db, monkeypatch, "trender")
    trends = next(f.value for f in at.dataframe if "Rapportens brister" in f.value)
    main = trends.loc[trends["Tema"] == name, tables.COUNT_MAIN].sum()
    views["Trender"] = (main, views["Största teman"][1])  # trends count main themes only, and say so
    assert any("huvudtema" in visible(c.value) for c in at.caption)
    return {k: (int(a), int(b)) for k, (a, b) in views.items()}


def test_every_view_shows_the_same_counts(app_db, monkeypatch):
    views = numbers_by_view(monkeypatch, app_db)
    assert len(set(views.values())) == 1, views
    main, anywhere = next(iter(views.values()))
    passages = demo_passages(app_db)
    slug = tables.theme_sizes(passages, ThemeNamer(load_theme_names())).iloc[0]["Slug"]
    deficiencies = [p for p in passages if p.kind == "deficiency"]
    assert main == sum(p.theme == slug for p in deficiencies) and anywhere == sum(slug in p.themes for p in deficiencies)
    assert main < anywhere, "the two definitions differ on the demo reports, so the test can tell them apart"


def test_trends_compare_like_with_like_by_default(app_db, monkeypatch):
    at = start(app_db, monkeypatch, "trender")
    assert at.radio(key="trend_delning").value.startswith("Per organisation")
    assert at.radio(key="trend_matt").value == "Andel av rapportens brister"
    warnings = [visible(w.value) for w in at.warning]
    assert any("2017" in w and "nationell översikt" in w for w in warnings), warnings
    assert any("2025" in w and "en enda rapport" in w for w in warnings), warnings
    assert any("Förändring inom PO Värmland: 2021 → 2024" in s.value for s in at.subheader)
    change = next(f.value for f in at.dataframe if "Förändring (procentenheter)" in f.value.columns)
    assert {"Andel 2021", "Andel 2024"} <= set(change.columns) and len(change) >= 3


@pytest.mark.parametrize("view", ["sok", "aterkommande", "dokument"])
def test_widgets_speak_swedish(app_db, monkeypatch, view):
    at = start(app_db, monkeypatch, view)
    boxes = list(at.multiselect)
    assert boxes, view
    # our placeholder instead of "Choose options"; no English bulk action ("Select all") in the open list
    assert all(m.proto.placeholder == "Välj …" for m in boxes), [m.proto.placeholder for m in boxes]
    assert all(m.proto.HasField("select_all") and m.proto.select_all == 0 for m in boxes), [m.label for m in boxes]
    if view == "sok":
        assert at.toggle(key="filter_goda").label == "Visa även goda exempel"


def test_reported_figures_are_listed_once_and_say_what_varav_is_part_of(app_db, monkeypatch):
    at = start(app_db, monkeypatch, "trender")
    table = next(f.value for f in at.dataframe if "Mening" in f.value)
    # "137 av 726 uppdrag" restates the 726 uppdrag counted a sentence earlier: shown once
    uppdrag = table[(table["Organisation"] == "PO Värmland") & (table["År"] == 2021) & (table["Vad"] == "uppdrag")]
    assert sorted(uppdrag["Antal"]) == [49, 137, 726], uppdrag
    assert "av 726" in set(uppdrag["Precisering"])
    assert not (table["Precisering"] == "varav").any()
    skane = table[(table["Organisation"] == "PO Skåne") & (table["Antal"] == 52)]
    assert list(skane["Precisering"]) == ["varav, del av 147 systemfel"]


def test_snippets_cut_at_word_boundaries_around_the_match(app_db):
    analyzer_terms = ["bank-ID", "väntetider", "Försäkringskassan", "SIP"]
    long_passages = [p for p in demo_passages(app_db) if len(p.text) > 700]
    assert long_passages
    checked = 0
    for p in long_passages:
        words = p.text.split()
        for term in analyzer_terms:
            if term.lower() not in p.text.lower():
                continue
            cut = snippet(p.text, [term], width=300)
            inner = cut.removeprefix("… ").removesuffix(" …").split()
            assert inner[0] in words and inner[-1] in words, (inner[0], inner[-1])
            assert term.lower() in cut.lower(), "the matched term is inside the snippet"
            checked += 1
    assert checked >= 3
