"""Labelled examples: report sentences whose themes a person has decided.

The codebook's phrases say what a theme is about in general; labelled sentences say how
reports actually write about it. Sources: the file shipped with the product (sentences of the
four dev reports that hold a gold key), a user's own file (`systemfel build --examples`,
written by `systemfel examples` from a gold file), and the theme corrections made in the
explorer. Each example remembers its report, so an evaluation can leave a report's own
examples out when it scores that report.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from systemfel.base.jsonlines import read_json_lines
from systemfel.base.sentences import split_sentences
from systemfel.base.textnorm import normalize_for_match

DEFAULT_LABELLED = Path(__file__).resolve().parent / "data" / "labelled_examples.jsonl"


class LabelledExamplesError(Exception):
    """A labelled-examples file that cannot be used, explained in Swedish for the user."""


@dataclass(frozen=True)
class LabelledExample:
    text: str
    themes: tuple[str, ...]
    doc: str = ""  # the report the text comes from (file stem), "" when unknown
    source: str = ""  # where the label comes from: a file name or "rättelse"


def read_labelled(path: str | Path) -> list[LabelledExample]:
    """Examples from a JSON-lines file with `text` and `themes` (and optional `doc`) per line."""
    path = Path(path)
    examples: list[LabelledExample] = []
    for number, row in read_json_lines(path, LabelledExamplesError):
        text = row.get("text") if isinstance(row, dict) else None
        themes = row.get("themes") if isinstance(row, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise LabelledExamplesError(f"{path}: rad {number} saknar 'text'.")
        if not isinstance(themes, list) or not themes or not all(isinstance(t, str) and t for t in themes):
            raise LabelledExamplesError(f"{path}: rad {number} behöver 'themes', en lista med minst ett tema-id.")
        examples.append(LabelledExample(text.strip(), tuple(themes), str(row.get("doc") or ""), path.name))
    return examples


def labelled_lines(examples: list[LabelledExample]) -> str:
    """The examples as JSON lines, as `read_labelled` reads them."""
    rows = [{"text": e.text, "themes": list(e.themes), "doc": e.doc} for e in examples]
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def write_labelled(examples: list[LabelledExample], path: str | Path) -> None:
    Path(path).write_text(labelled_lines(examples), encoding="utf-8")


def labelled_from_gold(gold: list[dict], passages: list[dict]) -> tuple[list[LabelledExample], list[str]]:
    """The sentence holding each themed deficiency key of a gold file, with the key's themes.

    `passages` carry `doc` and `text` (as `Store.passages()` rows grouped by report). A key
    that spans sentences gives its whole passage. Returns the examples and the keys no
    passage holds (they are reported, not guessed).
    """
    by_doc: dict[str, list[dict]] = {}
    for p in passages:
        by_doc.setdefault(p.doc, []).append(p)
    examples: list[LabelledExample] = []
    missing: list[str] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for row in gold:
        if row.get("label") != "deficiency" or not row.get("themes"):
            continue
        needle = normalize_for_match(row["key"])
        passage = next((p for p in by_doc.get(row["doc"], []) if needle in normalize_for_match(p.text)), None)
        if passage is None:
            missing.append(f"{row['doc']}: {row['key']}")
            continue
        sentences = split_sentences(passage.text, min_chars=30) or [passage.text]
        text = next((s for s in sentences if needle in normalize_for_match(s)), passage.text)
        themes = tuple(row["themes"])
        if (text, themes) not in seen:
            seen.add((text, themes))
            examples.append(LabelledExample(text, themes, row["doc"], "guld"))
    return examples, missing
