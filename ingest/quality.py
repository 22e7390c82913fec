"""How well extraction works on PDFs whose laid-out text is known (ground-truth ``*.blocks.jsonl``).

Used by benchmarks/extraction_quality.py and by the tests, so both report the same figures.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import pdfplumber

from systemfel.ingest.furniture import furniture_key
from systemfel.ingest.reader import read_document
from systemfel.base.jsonlines import read_jsonl
from systemfel.base.textnorm import normalize_for_match


@dataclass
class DocQuality:
    doc: str
    pages: int
    passages: int
    text_recall_in_order: float  # share of ground-truth characters found in the passages, in order
    text_recall: float  # the same, also counting whole runs found out of order (quote boxes moved behind the paragraph they interrupted)
    keys_found: int
    keys_total: int
    furniture_left: list[str] = field(default_factory=list)
    median_words: float = 0.0
    max_words: int = 0
    missing_keys: list[str] = field(default_factory=list)

    @property
    def key_share(self) -> float:
        return self.keys_found / self.keys_total if self.keys_total else 1.0


def _chars(tokens: list[str]) -> int:
    return sum(len(t) + 1 for t in tokens)


def text_recall(truth: str, extracted: str, min_moved_words: int = 4) -> tuple[float, float]:
    """(in-order share, share with moved runs) of the truth's characters found in ``extracted``.

    Compared word by word after normalize_for_match; characters count as the words' lengths.
    """
    gold = normalize_for_match(truth).split()
    ours = normalize_for_match(extracted).split()
    if not gold:
        return 1.0, 1.0
    matcher = SequenceMatcher(None, gold, ours, autojunk=False)
    matched = [False] * len(gold)
    for block in matcher.get_matching_blocks():
        for i in range(block.a, block.a + block.size):
            matched[i] = True
    total = _chars(gold)
    in_order = sum(len(w) + 1 for w, m in zip(gold, matched) if m) / total
    haystack = " " + " ".join(ours) + " "
    moved = 0
    i = 0
    while i < len(gold):
        if matched[i]:
            i += 1
            continue
        j = i
        while j < len(gold) and not matched[j]:
            j += 1
        run = gold[i:j]
        if len(run) >= min_moved_words and f" {' '.join(run)} " in haystack:
            moved += _chars(run)
        i = j
    return in_order, in_order + moved / total


def running_lines(pdf_path: Path) -> list[str]:
    """Header/footer lines found independently of our reader: plain pdfplumber text,
    first and last line of each page, repeated (digits aside) on at least half of the pages."""
    edges: list[list[str]] = []
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages:
            lines = [line.strip() for line in (page.extract_text() or "").splitlines() if line.strip()]
            edges.append(lines[:1] + lines[-1:] if lines else [])
    counts = Counter(furniture_key(line) for page in edges for line in set(page))
    frequent = {key for key, n in counts.items() if n >= max(2, len(edges) / 2)}
    found = {line for page in edges for line in page if furniture_key(line) in frequent}
    return sorted(line for line in found if sum(c.isalpha() for c in line) >= 3)


def load_gold_keys(gold_path: Path) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = defaultdict(list)
    for item in read_jsonl(gold_path):
        keys[item["doc"]].append(item["key"])
    return keys


def document_quality(pdf_path: Path, blocks_path: Path, keys: list[str]) -> DocQuality:
    parsed = read_document(pdf_path)
    truth_blocks = read_jsonl(blocks_path)
    truth = " ".join(b["text"] for b in truth_blocks if b["kind"] != "h")
    extracted = " ".join(p.text for p in parsed.passages)
    in_order, with_moved = text_recall(truth, extracted)
    normalized = [normalize_for_match(p.text) for p in parsed.passages]
    missing = [k for k in keys if not any(normalize_for_match(k) in text for text in normalized)]
    furniture = [
        line for line in running_lines(pdf_path) if any(normalize_for_match(line) in text for text in normalized)
    ]
    words = [len(p.text.split()) for p in parsed.passages] or [0]
    return DocQuality(
        doc=pdf_path.stem,
        pages=parsed.pages,
        passages=len(parsed.passages),
        text_recall_in_order=in_order,
        text_recall=with_moved,
        keys_found=len(keys) - len(missing),
        keys_total=len(keys),
        furniture_left=furniture,
        median_words=statistics.median(words),
        max_words=max(words),
        missing_keys=missing,
    )


def extraction_report(pdf_dir: Path, blocks_dir: Path, gold: Path) -> list[DocQuality]:
    """One row per PDF in ``pdf_dir`` that has ``<stem>.blocks.jsonl`` in ``blocks_dir``."""
    keys = load_gold_keys(gold)
    rows = []
    for pdf_path in sorted(Path(pdf_dir).glob("*.pdf")):
        blocks_path = Path(blocks_dir) / f"{pdf_path.stem}.blocks.jsonl"
        if blocks_path.is_file():
            rows.append(document_quality(pdf_path, blocks_path, keys.get(pdf_path.stem, [])))
    return rows
