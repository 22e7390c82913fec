"""Passages from ground-truth block files (`*.blocks.jsonl`: kinds h/p/bullet/quote).

Lets the Swedish reading be developed and evaluated without the PDF parser: a block of
kind "h" is a heading and becomes the heading path of the blocks after it; every other
block becomes one Passage record, exactly as ingest would hand it over. The files carry
no heading levels, so a run of headings with no text between them is read as nested
("Tabell 4 ... på nationell nivå" > "Rapporterad brist").
"""
from __future__ import annotations

from pathlib import Path

from systemfel.base.jsonlines import read_jsonl
from systemfel.base.records import Passage

BLOCK_KIND_TO_PASSAGE = {"p": "paragraph", "bullet": "bullet", "quote": "quote"}


def passages_from_blocks(path: str | Path) -> list[Passage]:
    """Read one blocks file into passages in reading order (pages are unknown: 0)."""
    heading: list[str] = []
    after_heading = False
    passages: list[Passage] = []
    for block in read_jsonl(path):
        text = block.get("text", "").strip()
        if not text:
            continue
        if block.get("kind") == "h":
            heading = [*heading, text] if after_heading else [text]
            after_heading = True
            continue
        after_heading = False
        passages.append(
            Passage(
                text=text,
                page=int(block.get("page") or 0),
                heading_path=list(heading),
                block_kind=BLOCK_KIND_TO_PASSAGE.get(block.get("kind", "p"), "paragraph"),
                seq=len(passages),
            )
        )
    return passages


def load_block_corpus(folder: str | Path) -> dict[str, list[Passage]]:
    """All `*.blocks.jsonl` in a folder, keyed by report name (the gold's `doc`)."""
    return {
        path.name.removesuffix(".blocks.jsonl"): passages_from_blocks(path)
        for path in sorted(Path(folder).glob("*.blocks.jsonl"))
    }
