"""Typed records that flow between stages: PDF -> blocks -> passages -> labels -> themes.

Each stage produces its own record type; the store persists them. Records are plain
dataclasses so stages stay testable without a database.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

BLOCK_KINDS = ("heading", "paragraph", "bullet", "quote", "footnote", "table")
# a line that introduces a list or table ("Brister på central nivå:"): context of the items
LEAD_IN = "lead_in"
PASSAGE_KINDS = ("deficiency", "good_example", "background")
LEVELS = ("handlaggare", "lokal", "central")


@dataclass
class DocumentMeta:
    """Who wrote a report and when; filled from metadata file, PDF info or file name."""

    org: str = ""
    region: str = ""
    year: int | None = None
    title: str = ""
    report_kind: str = ""


@dataclass
class Block:
    """One laid-out unit of a report in reading order."""

    kind: str  # one of BLOCK_KINDS
    text: str
    page: int  # 1-based page where the block starts
    heading_path: list[str] = field(default_factory=list)
    page_end: int | None = None  # page where the block ends, when it spans pages


@dataclass
class Passage:
    """The unit users read, search and cite: one paragraph, bullet or quote box."""

    text: str
    page: int
    heading_path: list[str]
    block_kind: str
    seq: int = 0
    page_end: int | None = None
    # lead-in lines above a list item ("Brister på lokal nivå:"), a table's column names:
    # what the passage is read under, besides its headings
    context: str = ""
    ocr: bool = False  # read from a scanned page by OCR
    ocr_confidence: float | None = None  # mean OCR word confidence (0-100) of its block

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)


@dataclass
class Document:
    """A stored report and what happened when it was ingested."""

    id: int
    sha256: str
    file: str
    path: str
    meta: DocumentMeta
    pages: int
    status: str  # "ok", "failed", "empty"
    message: str = ""
    n_passages: int = 0


@dataclass(frozen=True)
class StoredPassage:
    """A passage as stored, joined with its report, labels, themes and cluster.

    What every reader after the store works on (search, clusters, trends, evaluation,
    explorer, exports): a typed record, so a renamed field is a type error, not a grep.
    """

    id: int
    doc_id: int
    file: str
    text: str
    text_hash: str
    page: int | None = None
    org: str = ""
    region: str = ""
    year: int | None = None
    title: str = ""
    page_end: int | None = None
    heading_path: tuple[str, ...] = ()
    block_kind: str = "paragraph"
    seq: int = 0
    context: str = ""  # lead-in lines above the passage, a table's column names (shown above the quote)
    ocr: bool = False  # read from a scanned page by OCR
    ocr_confidence: float | None = None  # mean OCR word confidence (0-100)
    kind: str | None = None
    kind_score: float | None = None
    level: str | None = None
    actors: tuple[str, ...] = ()
    pii: dict = field(default_factory=dict, compare=False, hash=False)
    themes: tuple[str, ...] = ()
    theme_scores: tuple[float, ...] = ()
    cluster: int | None = None
    x: float | None = None
    y: float | None = None

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)

    @property
    def filed_under(self) -> str:
        """Its headings and the lead-in lines above it ("Brister på lokal nivå: Boende:"): what
        theme assignment reads beside the text."""
        return " ".join(part for part in (self.heading, self.context) if part)

    @property
    def theme(self) -> str | None:
        """The main theme: the first of `themes`."""
        return self.themes[0] if self.themes else None

    @property
    def doc(self) -> str:
        """The report's name as gold files write it: the file name without `.pdf`."""
        return self.file.rsplit("/", 1)[-1].removesuffix(".pdf")

    def as_dict(self) -> dict:
        """Plain JSON-ready fields (lists, not tuples) with the derived heading and main theme."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out.update({k: list(v) for k, v in out.items() if isinstance(v, tuple)})
        out["heading"] = self.heading
        out["theme"] = self.theme
        return out


@dataclass
class PassageLabels:
    """What the Swedish reading adds to one passage."""

    kind: str  # one of PASSAGE_KINDS
    kind_score: float
    actors: list[str] = field(default_factory=list)
    level: str | None = None


@dataclass
class Figure:
    """A number a report states about itself: '147 systemfel', '218 klienter'."""

    subject: str  # what was counted, e.g. "systemfel", "klienter", "uppdrag"
    value: float
    page: int
    sentence: str
    year: int | None = None
    qualifier: str = ""  # e.g. "handläggarnivå"


@dataclass
class ThemeScore:
    slug: str
    score: float
