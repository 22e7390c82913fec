"""The explorer's tables as DataFrames with Swedish column names (shown and exported alike)."""
from __future__ import annotations

import html
import textwrap
from collections import Counter

import pandas as pd

from systemfel.base.records import Document
from systemfel.explorer.labels import NO_VALUE, ThemeNamer, kind_sv, level_sv, ocr_note
from systemfel.models.trends import ANY_THEME, MAIN_THEME, theme_counts


def documents_table(documents: list[Document], passages: list[dict]) -> pd.DataFrame:
    """One row per readable report: who, when, how long, how many deficiencies."""
    deficiencies = Counter(p.doc_id for p in passages if p.kind == "deficiency")
    rows = [
        {
            "Organisation": d.meta.org or NO_VALUE,
            "År": d.meta.year,
            "Titel": d.meta.title,
            "Fil": d.file,
            "Sidor": d.pages,
            "Stycken": d.n_passages,
            "Brister": deficiencies.get(d.id, 0),
        }
        for d in documents
        if d.status == "ok"
    ]
    frame = pd.DataFrame(rows, columns=["Organisation", "År", "Titel", "Fil", "Sidor", "Stycken", "Brister"])
    return frame.astype({"År": "Int64"})


def failed_documents_table(documents: list[Document]) -> pd.DataFrame:
    rows = [{"Fil": d.file, "Status": d.status, "Meddelande": d.message} for d in documents if d.status != "ok"]
    return pd.DataFrame(rows, columns=["Fil", "Status", "Meddelande"])


# Column names of the two counts per theme (models.trends.theme_counts), used by every view.
COUNT_MAIN = "Brister (huvudtema)"
COUNT_ANY = "Brister (nämner temat)"
COUNT_HELP = (f"{COUNT_MAIN}: {MAIN_THEME}; varje brist räknas en gång, under sitt huvudtema. "
              f"{COUNT_ANY}: {ANY_THEME}, även som andra tema; en brist kan räknas under flera teman.")  # fmt: skip


def theme_sizes(passages: list[dict], namer: ThemeNamer) -> pd.DataFrame:
    """Themes by how many deficiencies have them as main theme, largest first, with the count of
    deficiencies that mention them and their spread (the one definition: theme_counts)."""
    counts = theme_counts(passages)
    return pd.DataFrame(
        {
            "Tema": counts["theme"].map(namer.theme),
            "Slug": counts["theme"],
            COUNT_MAIN: counts["n_main"],
            COUNT_ANY: counts["n_any"],
            "Rapporter": counts["n_reports"],
            "Organisationer": counts["n_orgs"],
            "År": counts["n_years"],
        }
    )


def cluster_table(clusters: list[dict], passages: list[dict], namer: ThemeNamer) -> pd.DataFrame:
    """Discovered clusters with keywords, nearest codebook theme and spread over reports."""
    members: dict[int, list[dict]] = {}
    for p in passages:
        if p.cluster is not None:
            members.setdefault(p.cluster, []).append(p)
    rows = []
    for c in clusters:
        group = members.get(c["id"], [])
        rows.append(
            {
                "Kluster": c["id"],
                "Namn": c["label"],
                "Nyckelord": ", ".join(c["keywords"]),
                "Närmaste tema": namer.theme(c.get("theme_slug")),
                "Nytt": "ja" if c.get("is_new") else "nej",
                "Stycken": len(group) or c["size"],
                "Rapporter": len({p.doc_id for p in group}),
                "Organisationer": len({p.org for p in group}),
            }
        )
    columns = ["Kluster", "Namn", "Nyckelord", "Närmaste tema", "Nytt", "Stycken", "Rapporter", "Organisationer"]
    return pd.DataFrame(rows, columns=columns)


def counts_per_report(members: list[dict], slug: str) -> pd.DataFrame:
    """How many of a theme's deficiencies each report holds (as main theme and at all), in year order."""
    main = Counter((p.org, p.year, p.file) for p in members if p.theme == slug)
    every = Counter((p.org, p.year, p.file) for p in members)
    rows = [{"Organisation": o, "År": y, "Fil": f, COUNT_MAIN: main.get((o, y, f), 0), COUNT_ANY: n}
            for (o, y, f), n in every.items()]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["Organisation", "År", "Fil", COUNT_MAIN, COUNT_ANY]).astype({"År": "Int64"})
    return frame.sort_values(["År", "Organisation"], ignore_index=True)


def counts_per_year(members: list[dict], slug: str) -> pd.DataFrame:
    """Per year: a theme's deficiencies as main theme and at all (long form, for a grouped bar chart)."""
    main = Counter(p.year for p in members if p.year is not None and p.theme == slug)
    every = Counter(p.year for p in members if p.year is not None)
    rows = [{"År": y, "Räknat": label, "Brister": counts.get(y, 0)}
            for y in sorted(every) for label, counts in (("huvudtema", main), ("nämner temat", every))]  # fmt: skip
    return pd.DataFrame(rows, columns=["År", "Räknat", "Brister"])


def passages_table(passages: list[dict], namer: ThemeNamer, corrections: dict | None = None) -> pd.DataFrame:
    """Passages as citable rows: quote, report, page, and what the system read in them."""
    corrected = {h for h, _ in (corrections or {})}
    rows = [
        {
            "Id": p.id,
            "Inledning": p.context,
            "Citat": p.text,
            "Organisation": p.org,
            "År": p.year,
            "Fil": p.file,
            "Sida": p.page,
            "Rubrik": p.heading,
            "Typ": kind_sv(p.kind),
            "Huvudtema": namer.theme(p.theme) if p.kind == "deficiency" else NO_VALUE,
            "Teman": namer.themes(p.themes) if p.kind == "deficiency" else NO_VALUE,
            "Aktörer": ", ".join(p.actors) or NO_VALUE,
            "Nivå": level_sv(p.level) if p.kind == "deficiency" else NO_VALUE,
            "Kluster": namer.cluster(p.cluster) if p.cluster is not None else NO_VALUE,
            "Rättad": "ja" if p.text_hash in corrected else "",
            "OCR-säkerhet": ocr_note(p) or NO_VALUE,
        }
        for p in passages
    ]
    columns = ["Id", "Inledning", "Citat", "Organisation", "År", "Fil", "Sida", "Rubrik", "Typ", "Huvudtema", "Teman",
               "Aktörer", "Nivå", "Kluster", "Rättad"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns).astype({"År": "Int64"})


def figures_table(figures: list[dict]) -> pd.DataFrame:
    """The figures the reports state, each once, with every qualifier readable on its own.

    "137 av 726 uppdrag" yields a part (137, "av 726") and its whole (726); when the report
    already stated that whole ("726 olika uppdrag"), the repeat is left out. A bare "varav"
    says of what: "varav, del av 147".
    """
    rows = []
    stated: set[tuple] = set()
    for f in figures:
        key = (f["doc_id"], f["subject"], f["qualifier"], f["value"])
        is_whole_again = key in stated and any(
            g["sentence"] == f["sentence"] and g["doc_id"] == f["doc_id"] and g["qualifier"] == f"av {f['value']:g}"
            for g in figures
        )
        stated.add(key)
        if is_whole_again:
            continue
        rows.append(
            {"Organisation": f["org"], "År": f["year"], "Vad": f["subject"], "Precisering": _qualifier_sv(f, figures),
             "Antal": f["value"], "Fil": f["file"], "Sida": f["page"], "Mening": f["sentence"]}
        )  # fmt: skip
    columns = ["Organisation", "År", "Vad", "Precisering", "Antal", "Fil", "Sida", "Mening"]
    return pd.DataFrame(rows, columns=columns).astype({"År": "Int64"})


def _qualifier_sv(figure: dict, figures: list[dict]) -> str:
    """ "varav" with the whole it is part of: a larger count of the same sentence without a
    qualifier, of the same thing if there is one, else the first ("328 PO ... varav 230 ombud")."""
    if figure["qualifier"] != "varav":
        return figure["qualifier"]
    wholes = [g for g in figures if g["sentence"] == figure["sentence"] and g["doc_id"] == figure["doc_id"]
              and not g["qualifier"] and g["value"] > figure["value"]]  # fmt: skip
    if not wholes:
        return "varav (en del av en större siffra)"
    whole = next((g for g in wholes if g["subject"] == figure["subject"]), wholes[0])
    return f"varav, del av {_number_sv(whole['value'])} {whole['subject']}"


def _number_sv(value: float) -> str:
    """Swedish thousands separator: 9 130."""
    return f"{value:,.0f}".replace(",", "\u00a0") if float(value).is_integer() else f"{value:g}".replace(".", ",")


def search_hits_table(hits: list, namer: ThemeNamer) -> pd.DataFrame:
    rows = [
        {"Rang": h.rank, "Relevans": h.band or NO_VALUE, "Matchade ord": ", ".join(h.matched_terms) or NO_VALUE,
         "Citat": h.text, "Organisation": h.org, "År": h.year,
         "Fil": h.file, "Sida": h.page, "Rubrik": h.heading, "Typ": kind_sv(h.kind), "Teman": namer.themes(h.themes),
         "Id": h.passage_id}
        for h in hits
    ]  # fmt: skip
    columns = ["Rang", "Relevans", "Matchade ord", "Citat", "Organisation", "År", "Fil", "Sida", "Rubrik", "Typ", "Teman", "Id"]
    return pd.DataFrame(rows, columns=columns).astype({"År": "Int64"})


def theme_map_frame(passages: list[dict], namer: ThemeNamer) -> pd.DataFrame:
    """Deficiency passages that have map coordinates, ready for a scatter plot."""
    rows = [
        {"id": p.id, "x": p.x, "y": p.y, "Tema": namer.theme(p.theme), "Organisation": p.org,
         "År": p.year, "Sida": p.page, "Hover": _hover_text(p.text)}
        for p in passages
        if p.kind == "deficiency" and p.x is not None and p.y is not None
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["id", "x", "y", "Tema", "Organisation", "År", "Sida", "Hover"])


def _hover_text(text: str, width: int = 70, lines: int = 3) -> str:
    """The start of a passage for a plotly hover label: HTML escaped (plotly renders tags), wrapped."""
    wrapped = textwrap.wrap(_short(text, width * lines), width)
    return "<br>".join(html.escape(line) for line in wrapped)


def _short(text: str, width: int = 120) -> str:
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + " …"


def selected_point_ids(event) -> list[int]:
    """Passage ids of the points a user clicked or lassoed in a plotly chart (customdata[0])."""
    if not event:
        return []
    selection = event.get("selection") if isinstance(event, dict) else getattr(event, "selection", None)
    if not selection:
        return []
    points = selection.get("points") if isinstance(selection, dict) else getattr(selection, "points", None)
    ids = []
    for point in points or []:
        custom = point.get("customdata")
        if custom is None:
            continue
        value = custom[0] if isinstance(custom, (list, tuple)) else custom
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return ids
