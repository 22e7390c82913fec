"""Blocks -> passages: the unit users read, search and cite (one paragraph, bullet or quote box)."""
from __future__ import annotations

import re
from collections.abc import Sequence

from systemfel.base.records import LEAD_IN, Passage
from systemfel.base.sentences import split_sentences
from systemfel.ingest.blocks import LaidBlock

_INNER_SENTENCE_END = re.compile(r"[.!?]\s+[A-ZÅÄÖ]")
_LIST_MARKER = re.compile(r"^\(?(?:\d{1,2}|[a-zA-Z])[.)]\s+")


def is_lead_in_text(text: str, max_words: int = 25) -> bool:
    """A short line ending with a colon that is one clause ("Brister på lokal nivå:",
    "Följande brister har rapporterats under året:"); whether it leads a list is up to what follows."""
    text = _LIST_MARKER.sub("", text.strip())
    return text.endswith(":") and 0 < len(text.split()) <= max_words and not _INNER_SENTENCE_END.search(text)


def _ocr_fields(block: LaidBlock) -> dict:
    """ocr and ocr_confidence (mean word confidence) of a block read from a scan."""
    scores = [w.conf for line in block.lines for w in line.words if w.conf is not None]
    if not scores:
        return {}
    return {"ocr": True, "ocr_confidence": round(sum(scores) / len(scores), 1)}


def _item_indent(block: LaidBlock) -> float:
    return block.first.x0


class ContextReader:
    """Which blocks are lead-ins, and the context (lead-ins above it, a table's column names) of each block.

    A paragraph ending with ":" leads the list or table right after it (several such lines in a
    row stack up: "Brister på lokal nivå:" then "Följande brister ...:"); a list item ending
    with ":" leads the items indented under it. Nested items inherit every lead-in above them,
    as sections inherit headings. A heading or an ordinary paragraph ends the list. A table's
    first row in bold holds its column names; a table going on after a page break without
    them keeps the names of the part before.
    """

    def read(self, blocks: Sequence[LaidBlock]) -> tuple[list[str], set[int]]:
        contexts = [""] * len(blocks)
        lead_ins: set[int] = set()
        paragraph_leads: list[str] = []  # lead-in paragraphs of the current list
        item_leads: list[tuple[float, str]] = []  # (indent, text) of lead-in items above
        header = ""  # column names of the current table
        header_cells = 0
        after_items = False
        single = False  # the lead-in lines wait for one paragraph, not a list
        for i, block in enumerate(blocks):
            kind = block.kind
            if kind == "footnote":
                continue  # set aside by the layout; does not end a list
            if kind == "heading":
                paragraph_leads, item_leads, header, after_items, single = [], [], "", False, False
                continue
            if kind == "paragraph" and is_lead_in_text(block.text):
                # a colon line: it leads the list or table after it, else the one paragraph after
                # it ("Ombuden vill lyfta följande:"); before a heading it leads nothing
                if after_items or single:
                    paragraph_leads, item_leads, after_items = [], [], False
                paragraph_leads.append(block.text.strip())
                lead_ins.add(i)
                contexts[i] = " ".join(paragraph_leads[:-1])
                header = ""
                single = not self._leads(blocks, i)
                continue
            if single and kind in ("paragraph", "quote"):
                contexts[i] = " ".join(paragraph_leads)
                paragraph_leads, single = [], False
                continue
            if kind == "bullet":
                indent = _item_indent(block)
                item_leads = [(x, t) for x, t in item_leads if x < indent - 3]
                contexts[i] = " ".join([*paragraph_leads, *(t for _, t in item_leads)])
                after_items = True
                if is_lead_in_text(block.text, max_words=12) and self._has_nested_items(blocks, i):
                    item_leads.append((indent, block.text.strip()))
                    lead_ins.add(i)
                continue
            if kind == "table":
                row = block.first.extra
                cells = block.text.count(" | ") + 1
                if row.get("table_header"):
                    header, header_cells = block.text.strip(), cells
                    lead_ins.add(i)
                    contexts[i] = " ".join(paragraph_leads)
                    continue
                if header and cells != header_cells:
                    header = ""
                contexts[i] = " ".join(part for part in (*paragraph_leads, header) if part)
                after_items = True
                continue
            # an ordinary paragraph or a quote box ends the list
            paragraph_leads, item_leads, header, after_items = [], [], "", False
        return contexts, lead_ins

    @staticmethod
    def _next(blocks: Sequence[LaidBlock], i: int) -> LaidBlock | None:
        for block in blocks[i + 1 :]:
            if block.kind != "footnote":
                return block
        return None

    def _leads(self, blocks: Sequence[LaidBlock], i: int) -> bool:
        """A colon line leads a list or table only when one follows (maybe after more lead-in lines)."""
        j = i
        while True:
            following = self._next(blocks, j)
            if following is None:
                return False
            if following.kind in ("bullet", "table"):
                return True
            if following.kind == "paragraph" and is_lead_in_text(following.text):
                j = blocks.index(following, j + 1)
                continue
            return False

    def _has_nested_items(self, blocks: Sequence[LaidBlock], i: int) -> bool:
        following = self._next(blocks, i)
        return following is not None and following.kind == "bullet" and _item_indent(following) > _item_indent(blocks[i]) + 3


class PassageSplitter:
    """Makes one passage per paragraph, bullet, quote box (and footnote); long ones are cut at sentences.

    ``target_words``: a long block is cut into pieces of about this size;
    ``max_words``: no passage is longer (a sentence longer than that is cut at word boundaries);
    ``min_words``: fragments this short join a neighbour under the same heading.
    """

    def __init__(
        self,
        target_words: int = 120,
        max_words: int = 250,
        min_words: int = 3,
        kinds: Sequence[str] = ("paragraph", "bullet", "quote", "footnote", "table"),
    ):
        self.target_words = target_words
        self.max_words = max_words
        self.min_words = min_words
        self.kinds = tuple(kinds)

    def split_text(self, text: str) -> list[str]:
        """The pieces one block's text is cut into (the text itself when it is short enough)."""
        return [piece for _, piece in self._pieces(text)]

    def _pieces(self, text: str) -> list[tuple[int, str]]:
        """(char offset, text) pieces of one block."""
        if len(text.split()) <= self.target_words * 1.5 and len(text.split()) <= self.max_words:
            return [(0, text)]
        sentences: list[str] = []
        for sentence in split_sentences(text):
            words = sentence.split()
            if len(words) <= self.max_words:
                sentences.append(sentence)
            else:
                for i in range(0, len(words), self.target_words):
                    sentences.append(" ".join(words[i : i + self.target_words]))
        pieces: list[str] = []
        current: list[str] = []
        count = 0
        for sentence in sentences:
            n = len(sentence.split())
            if current and count + n > self.target_words:
                pieces.append(" ".join(current))
                current, count = [], 0
            current.append(sentence)
            count += n
        if current:
            # a short tail joins the piece before it when that stays under the limit
            if pieces and count < self.target_words / 4 and len(pieces[-1].split()) + count <= self.max_words:
                pieces[-1] = pieces[-1] + " " + " ".join(current)
            else:
                pieces.append(" ".join(current))
        located = []
        cursor = 0
        for piece in pieces:
            head = piece.split(" ", 1)[0]
            found = text.find(head, cursor)
            offset = found if found >= 0 else cursor
            located.append((offset, piece))
            cursor = offset + max(len(piece) - 1, 0)
        return located

    def split(self, blocks: Sequence[LaidBlock]) -> list[Passage]:
        """Passages in reading order; lead-in lines come as passages of block kind "lead_in"
        (the Swedish reading keeps those that state a problem) and as the context of the items."""
        passages: list[Passage] = []
        contexts, lead_ins = ContextReader().read(blocks)
        for index, block in enumerate(blocks):
            if block.kind not in self.kinds or not block.text.strip():
                continue
            if index in lead_ins:
                if block.first.extra.get("table_header"):
                    continue  # column names are the rows' context, never a passage
                passages.append(Passage(text=block.text.strip(), page=block.page, heading_path=list(block.heading_path),
                                        block_kind=LEAD_IN, context=contexts[index], **_ocr_fields(block)))
                continue
            for offset, piece in self._pieces(block.text):
                start_page = block.page_at(offset)
                end_page = block.page_at(offset + len(piece) - 1)
                passages.append(
                    Passage(
                        text=piece,
                        page=start_page,
                        heading_path=list(block.heading_path),
                        block_kind=block.kind,
                        page_end=end_page if end_page != start_page else None,
                        context=contexts[index],
                        **_ocr_fields(block),
                    )
                )
        passages = self._merge_fragments(passages)
        for seq, passage in enumerate(passages):
            passage.seq = seq
        return passages

    def _merge_fragments(self, passages: list[Passage]) -> list[Passage]:
        out: list[Passage] = []
        pending: Passage | None = None  # a fragment waiting for the passage after it
        for passage in passages:
            if passage.block_kind == LEAD_IN:
                if pending is not None:
                    out.append(pending)
                    pending = None
                out.append(passage)
                continue
            if pending is not None:
                if pending.heading_path == passage.heading_path and pending.context == passage.context:
                    passage.text = f"{pending.text} {passage.text}"
                    passage.page = min(passage.page, pending.page)
                else:
                    out.append(pending)
                pending = None
            if len(passage.text.split()) < self.min_words:
                prev = out[-1] if out else None
                if (prev is not None and prev.heading_path == passage.heading_path and prev.block_kind == passage.block_kind
                        and prev.context == passage.context):
                    if len(prev.text.split()) + len(passage.text.split()) <= self.max_words:
                        prev.text = f"{prev.text} {passage.text}"
                        continue
                pending = passage
                continue
            out.append(passage)
        if pending is not None:
            out.append(pending)
        return out
