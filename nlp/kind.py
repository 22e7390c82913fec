"""Deficiency, good example or background: what kind of passage a reader is looking at.

Transparent evidence, weighed the way a careful reader does: what the section heading
says the section is, problem words in the passage (saknas, nekas, avslag, svårt att,
lång väntetid, negation), the client in the picture, a quoted case box, words of good
practice, words about the organisation, statistics and suggestions, and what the
neighbouring passages of the same section look like. Cue words live in
nlp/data/cues.yaml; the weights are the parameters below. Nothing is learned from gold.
"""
from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from spacy.tokens import Doc

from systemfel.nlp.cues import DEFAULT_CUES, CueMatcher, load_cue_file
from systemfel.nlp.swedish import SwedishNLP

log = logging.getLogger(__name__)

KINDS = ("deficiency", "good_example", "background")  # most telling first
_HEADING_END = re.compile(r"[.:;,]$")
_CONTEXT_BREAK = re.compile(r"(?<=:)\s+")


def passage_field(passage, name: str, default=None):
    """Read a field from a Passage record or a plain dict alike."""
    if isinstance(passage, dict):
        return passage.get(name, default)
    return getattr(passage, name, default)


@dataclass
class KindEvidence:
    """What one passage shows, before the section context is added."""

    heading: str | None  # section kind named by the heading: deficiency/good_example/background/None
    quote: bool
    problem: int = 0
    negation: int = 0
    client: int = 0
    good: int = 0
    background: int = 0
    suggestion: int = 0

    @property
    def own_lean(self) -> float:
        """How much the passage's own words lean to deficiency (+) or away from it (-)."""
        return math.tanh((min(self.problem, 4) - min(self.background, 4) - 1.5 * min(self.good, 3)) / 2)


def context_lines(context: str) -> list[str]:
    """The lead-in lines (and a table's column names) of a passage's context, outermost first."""
    return [line for line in _CONTEXT_BREAK.split(context.strip()) if line] if context else []


def looks_like_heading(text: str, block_kind: str) -> bool:
    """A short title-like line that the layout did not mark as a heading."""
    text = text.strip()
    if block_kind not in ("paragraph", "p") or not text or len(text) > 60 or len(text.split()) > 8:
        return False
    return text[0].isupper() and not _HEADING_END.search(text) and not any(ch.isdigit() for ch in text[:3])


class KindClassifier:
    """Labels the passages of one document, in order, with a kind and a confidence."""

    def __init__(
        self,
        nlp: SwedishNLP | None = None,
        cue_paths: Sequence[str | Path] = (),
        *,
        bias: float = -0.6,
        heading_weight: float = 1.4,
        quote_weight: float = 1.0,
        problem_weight: float = 0.9,
        negation_weight: float = 0.25,
        client_weight: float = 0.3,
        good_weight: float = 1.0,
        background_weight: float = 0.6,
        suggestion_weight: float = 0.8,
        context_weight: float = 0.8,
        threshold: float = 0.5,
        max_quote_chars: int = 1500,
    ):
        self.nlp = nlp or SwedishNLP()
        self.bias = bias
        self.heading_weight = heading_weight
        self.quote_weight = quote_weight
        self.problem_weight = problem_weight
        self.negation_weight = negation_weight
        self.client_weight = client_weight
        self.good_weight = good_weight
        self.background_weight = background_weight
        self.suggestion_weight = suggestion_weight
        self.context_weight = context_weight
        self.threshold = threshold
        self.max_quote_chars = max_quote_chars
        cues = load_cue_file([DEFAULT_CUES, *cue_paths])
        self._text = CueMatcher(self.nlp, cues["text"])
        self._headings = CueMatcher(self.nlp, cues["headings"])
        self._announcing = frozenset(w.lower() for w in cues.get("lead_in", {}).get("announcing", []))
        # a section name after a sentence end (or a page number) and before a capitalised word
        self._inline = {
            kind: [re.compile(r"(?:^|[.!?”\"]\s+|\d\s+)(" + re.escape(n) + r")\s+(?=[A-ZÅÄÖ])") for n in names]
            for kind, names in cues.get("inline_sections", {}).items()
        }
        self._heading_cache: dict[str, str | None] = {}

    # ------------------------------------------------------------ headings
    def heading_kind(self, heading: str) -> str | None:
        """The section kind a heading names; a good-practice or background word beats 'brist'."""
        if heading not in self._heading_cache:
            spans = self._headings.spans(self.nlp(heading.lower()))
            # the kind named first is the head of the heading ("Brister rapporterade till
            # ledningsgruppen" is about deficiencies, "Ledningsgruppens arbete med brister" is
            # not); at the same word, a good-practice or background word beats "brist"
            order = ("good_example", "measures", "background", "deficiency")
            named = [(min(span.start for span in spans[kind]), order.index(kind), kind) for kind in order if spans.get(kind)]
            self._heading_cache[heading] = min(named)[2] if named else None
        return self._heading_cache[heading]

    def path_kind(self, heading_path: Iterable[str]) -> str | None:
        for heading in reversed(list(heading_path)):
            kind = self.heading_kind(heading)
            if kind:
                return kind
        return None

    def inline_section(self, text: str) -> tuple[str, float, int] | None:
        """The last section name run into the text: (kind, share after it, where it starts)."""
        best = None
        for kind, patterns in self._inline.items():
            for pattern in patterns:
                for m in pattern.finditer(text):
                    share = (len(text) - m.start(1)) / max(len(text), 1)
                    if best is None or m.start(1) > best[2]:
                        best = (kind, share, m.start(1))
        return best

    # ------------------------------------------------------------ evidence
    def states_problem(self, text: str) -> bool:
        """Whether a line says itself that something fails, beyond announcing deficiencies
        ("Klienter utan bank-ID kan inte:" does; "Följande brister har rapporterats:" does not)."""
        spans = self._text.spans(self.nlp(text)).get("problem", [])
        return any(span.lemma_.lower() not in self._announcing and span.text.lower() not in self._announcing
                   for span in spans)

    def evidence(self, text: str, heading: str | None, block_kind: str, doc: Doc | None = None) -> KindEvidence:
        """`doc`: the text already parsed (PassageReader parses each passage once for every reader)."""
        doc = doc if doc is not None else self.nlp(text)
        counts = self._text.counts(doc)
        if heading == "measures":
            # a heading that announces measures is a good-practice section, unless the text
            # clearly states a problem: then the text outweighs the heading
            clear = counts.get("problem", 0) >= 2 or (counts.get("problem", 0) >= 1 and counts.get("negation", 0) >= 1)
            heading = None if clear and not counts.get("good", 0) else "good_example"
        return KindEvidence(
            heading=heading,
            quote=block_kind == "quote" and len(text) <= self.max_quote_chars,  # a case box is short
            problem=counts.get("problem", 0),
            negation=counts.get("negation", 0),
            client=counts.get("client", 0),
            good=counts.get("good", 0),
            background=counts.get("background", 0),
            suggestion=counts.get("suggestion", 0),
        )

    def logit(self, ev: KindEvidence, context: float) -> float:
        z = self.bias
        z += {"deficiency": self.heading_weight, "background": -1.4 * self.heading_weight,
              "good_example": -1.8 * self.heading_weight}.get(ev.heading or "", 0.0)
        z += self.quote_weight * ev.quote
        z += self.problem_weight * min(ev.problem, 4)
        z += self.negation_weight * min(ev.negation, 4)
        z += self.client_weight * min(ev.client, 3)
        z -= self.good_weight * min(ev.good, 4)
        z -= self.background_weight * min(ev.background, 5)
        z -= self.suggestion_weight * min(ev.suggestion, 3)
        z += self.context_weight * context
        return z

    @staticmethod
    def _is_good(ev: KindEvidence) -> bool:
        """Not a deficiency: a good example when the section says so or its own words clearly do."""
        if ev.heading == "good_example":
            return True
        against = ev.background + ev.suggestion
        if ev.heading == "background":  # closing words and statistics praise too; that is not an example
            return ev.good >= 2 and ev.good > against + 1
        return ev.good >= 1 and ev.good >= against

    # ----------------------------------------------------------- predict
    def predict(self, passages: Sequence, docs: Sequence[Doc] | None = None) -> list[tuple[str, float]]:
        """(kind, confidence in that kind) for each passage of one document, in reading order;
        `docs` are the passages' texts already parsed, else they are parsed here."""
        evidence: list[KindEvidence] = []
        sections: list[tuple] = []
        current_path: tuple = ()
        pseudo: list[str] = []
        carried: str | None = None  # section kind from a heading run into an earlier passage
        straddling: dict[int, KindEvidence] = {}  # passages running from one run-in section into the next
        for i, passage in enumerate(passages):
            text = passage_field(passage, "text", "") or ""
            block_kind = passage_field(passage, "block_kind", "paragraph") or "paragraph"
            path = tuple(passage_field(passage, "heading_path", []) or [])
            context = passage_field(passage, "context", "") or ""
            if path != current_path:
                current_path, pseudo, carried = path, [], None
            if looks_like_heading(text, block_kind):
                pseudo = [text]
                carried = None
            # lead-in lines above an item are read like the deepest heading
            heading = self.path_kind([*path, *pseudo, *context_lines(context)])
            inline = self.inline_section(text)
            if carried:
                heading = carried
            if inline:
                kind, share, start = inline
                if carried and text[:start].strip():
                    # the text before the name ends the section an earlier run-in name opened:
                    # judged there, it may be the example or the problem that section is about
                    straddling[i] = self.evidence(text[:start], carried, block_kind)
                carried = kind
                if share >= 0.4:
                    heading = kind
            evidence.append(self.evidence(text, heading, block_kind, docs[i] if docs is not None else None))
            sections.append((path, tuple(pseudo), carried, context))
        # the section's other passages: a case box among complaints is a complaint
        members: dict[tuple, list[int]] = {}
        for i, section in enumerate(sections):
            members.setdefault(section, []).append(i)
        context: list[float] = []
        for i, section in enumerate(sections):
            peers = [evidence[j].own_lean for j in members[section] if j != i]
            context.append(sum(peers) / len(peers) if peers else 0.0)
        out = []
        for i, (ev, ctx) in enumerate(zip(evidence, context)):
            judged = self._judge(ev, ctx)
            if i in straddling:
                # a passage holding the end of one section and the start of the next is shown as
                # the more telling of the two: background is what a reader skips, so an example
                # or a problem before "Avslutande ord" must not hide under the closing words
                before = self._judge(straddling[i], ctx)
                if KINDS.index(before[0]) < KINDS.index(judged[0]):
                    judged = before
            out.append(judged)
        return out

    def _judge(self, ev: KindEvidence, context: float) -> tuple[str, float]:
        p = 1 / (1 + math.exp(-self.logit(ev, context)))
        if p >= self.threshold:
            return "deficiency", p
        if self._is_good(ev):
            return "good_example", 1 - p
        return "background", 1 - p
