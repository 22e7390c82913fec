"""Figures a report states about itself: "Under 2025 rapporterade ombuden totalt 147
systemfel", "handläggarnivå: 47 st.", "218 klienter", "1338 uppdrag".

Numbers are spaCy tokens (like_num), with digit groups written with spaces joined
("9 130 klienter", "302 400 kronor"). The counted thing is the word after the number;
a small spaCy Matcher finds the other two shapes reports use: "<nivå>: 47 st." (the
qualifier of the figure before it) and "antalet <uppdrag> ... är 1338". Years, dates,
ranges, law and page references are not figures.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from systemfel.nlp.kind import passage_field
from systemfel.nlp.swedish import SwedishNLP
from systemfel.base.records import Figure

log = logging.getLogger(__name__)

_YEAR = re.compile(r"^(19[5-9]\d|20\d\d)$")
_PLAIN_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")
_GROUP = re.compile(r"^\d{3}$")
# words that may stand between a number and what it counts ("10 ordinarie ombud")
_BETWEEN = {"ordinarie", "nya", "aktiva", "olika", "unika", "enskilda", "registrerade", "rapporterade", "st", "st.",
            "stycken", "pågående", "avslutade", "dokumenterade", "anställda", "heltidsanställda", "personliga",
            "särskilt", "allvarliga", "olika"}
_MULTIPLIERS = {"tusen": 1e3, "miljon": 1e6, "miljoner": 1e6, "miljard": 1e9, "miljarder": 1e9}
_NOT_COUNTED = {"år", "månader", "månad", "veckor", "vecka", "dagar", "dag", "timmar", "timme", "minuter", "gånger",
                "gång", "tillfällen", "st", "st.", "stycken", "januari", "februari", "mars", "april", "maj", "juni",
                "juli", "augusti", "september", "oktober", "november", "december", "kap", "kap.", "sid", "s",
                "års", "månaders", "veckors", "dagars", "timmars", "mil", "km", "kilometer", "meter", "del"}
_REFERENCE_BEFORE = {"§", "s.", "s", "sid", "sid.", "sidan", "kap", "kap.", "nr", "dnr", "bilaga", "tabell", "figur",
                     "mål", "punkt", "sfs", "sou", "prop", "prop.", "del", "version", "steg", "nivå"}
_PERCENT = {"%", "procent"}
_FIRST_PERSON = {"jag", "mig", "min", "mitt", "mina"}
_ONE_CLIENT = {"klienten", "klientens", "hen", "hens", "hon", "henne", "hennes", "han", "honom", "hans"}
_QUOTED = re.compile(r"[\"”“„«»][^\"”“„«»]*\d[^\"”“„«»]*[\"”“„«»]")
_JOINERS = {"§", ":", "/", "-", "–", "—"}  # 2013:522, 1993/94, 9–12, 3 §: references and ranges
# "alla 16 kommuner", "samtliga 12 län": the size of a known set, named to refer to it, not a count
_WHOLE_SET = {"alla", "samtliga"}
# "Värmland utgörs av 16 kommuner": what something consists of, not a count of the work
_COMPOSITION = {("utgörs", "av"), ("består", "av"), ("bestod", "av"), ("utgjordes", "av")}
# who the report speaks for when it gives a figure of another year about its own work
_OWN_WORK = {"vi", "vår", "vårt", "våra", "ombuden"}
# a heading that lists measures taken: its numbers count what was done ("200 PO har skrivit
# under ett upprop"), not the clients, cases and deficiencies the report accounts for
_MEASURE_HEADING = re.compile(r"\båtgärd(?:er|erna)?\b", re.IGNORECASE)


def _looks_like_verb(token: Token) -> bool:
    """A finite verb after a number ("52 bedömdes", "98 är") means nothing was named as counted."""
    if token.lower_ in ("är", "var", "har", "hade", "blev", "fick", "kan", "ska", "som"):
        return True
    lemma, word = token.lemma_, token.lower_
    return lemma != word and lemma.endswith("a") and word.endswith(
        ("de", "des", "te", "tes", "ade", "ades", "ar", "er", "it", "at", "ts", "tt")
    )


def _is_story(sent: Span) -> bool:
    """A sentence of one person's story or a quote: first person, one client ("klienten", "hen",
    "en klient"), or numbers inside quotation marks. Its numbers are not the report's statistics."""
    words = [t.lower_ for t in sent]
    if any(w in _FIRST_PERSON or w in _ONE_CLIENT for w in words):
        return True
    if any(a == "en" and b == "klient" for a, b in zip(words, words[1:])):
        return True
    return bool(_QUOTED.search(sent.text))


def _indefinite(word: str) -> str:
    """klienterna -> klienter, kommunerna -> kommuner: one subject name for both forms."""
    for suffix in ("erna", "arna", "orna"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[:-2]
    return word


class FigureExtractor:
    """Extracts Figure records from the passages of one document."""

    def __init__(self, nlp: SwedishNLP | None = None, *, max_sentence_chars: int = 400):
        self.nlp = nlp or SwedishNLP()
        self.max_sentence_chars = max_sentence_chars
        self._shapes = Matcher(self.nlp.vocab)
        # "handläggarnivå: 47 st." / "lokal nivå: 75 st." / a table row "Handläggarnivå | 47"
        self._shapes.add("QUALIFIED", [[{"IS_ALPHA": True}, {"ORTH": {"IN": [":", "|"]}}, {"IS_SPACE": True, "OP": "*"},
                                        {"LIKE_NUM": True}]])
        # "antalet uppdrag som är fördelat på dessa klienter är 1338"
        self._shapes.add("ANTAL", [[{"LOWER": {"IN": ["antalet", "antal"]}}, {"IS_ALPHA": True},
                                    {"IS_PUNCT": False, "LIKE_NUM": False, "OP": "*"},
                                    {"LOWER": {"IN": ["är", "var", "blev", "uppgick", "uppgår"]}},
                                    {"LOWER": "till", "OP": "?"}, {"LIKE_NUM": True}]])

    # ------------------------------------------------------------ numbers
    @staticmethod
    def _number_at(doc: Doc | Span, i: int) -> tuple[float, int] | None:
        """(value, index after the number) for a plain or space-grouped number starting at token i."""
        token = doc[i]
        if not _PLAIN_NUMBER.match(token.text):
            return None
        text, j = token.text, i + 1
        while j < len(doc) and _GROUP.match(doc[j].text) and doc[j - 1].whitespace_ == " " and len(text) <= 3 + 4 * 3:
            if "," in text or "." in text:
                break
            text += doc[j].text
            j += 1
        try:
            return float(text.replace(",", ".")), j
        except ValueError:
            return None

    @staticmethod
    def _is_reference(doc: Doc | Span, i: int, end: int) -> bool:
        before = doc[i - 1].lower_ if i > 0 else ""
        if before in _WHOLE_SET or (i > 1 and (doc[i - 2].lower_, before) in _COMPOSITION):
            return True
        after = doc[end].text if end < len(doc) else ""
        spaced_colon = i > 0 and doc[i - 1].text == ":" and bool(doc[i - 1].whitespace_)  # "året: 17", not "2013:522"
        if before in _REFERENCE_BEFORE or after in _JOINERS or (before in _JOINERS and not spaced_colon):
            return True
        if i > 0 and doc[i - 1].text in ("(",) and after == ")":
            return True
        return False

    def _subject_after(self, sent: Span, end: int) -> tuple[str, str] | None:
        """(subject, unit qualifier) of the word(s) after a number."""
        qualifier = ""
        j = end
        if j < len(sent) and sent[j].lower_ in _PERCENT:
            qualifier = "procent"
            j += 1
            if j < len(sent) and sent[j].lower_ in ("av", "utav"):
                j += 1
                if j < len(sent) and sent[j].lower_ in ("de", "dessa", "alla", "samtliga", "hela", "våra"):
                    j += 1
            elif not (j < len(sent) and sent[j].is_alpha and sent[j].lower_ not in self.nlp.stop_words):
                return None  # "49 procent" of something the sentence does not name ("70 procent kvinnor" does)
        steps = 0
        while j < len(sent) and sent[j].lower_ in _BETWEEN and steps < 2:
            j += 1
            steps += 1
        if j >= len(sent):
            return None
        word = sent[j]
        if j + 2 < len(sent) and sent[j + 1].text == "/" and word.is_alpha and sent[j + 2].is_alpha:
            # "135 hinder/brister": the pair is what was counted (and "hinder" is no verb here)
            return f"{word.lower_}/{sent[j + 2].lower_}", qualifier
        if not (word.is_alpha or "/" in word.text) or word.lower_ in self.nlp.stop_words or word.lower_ in _NOT_COUNTED:
            return None
        if word.text.isupper() and word.lower_ != "po":
            return None  # "1 SOU 1992:73": a footnote mark before an abbreviation
        if word.is_title and word.i > sent.start and word.lower_ not in ("po",):
            # a capitalised name after a number is a place or a label, not what was counted
            return None
        return _indefinite(word.lower_.split("/")[0]), qualifier

    def _whole_after(self, sent: Span, end: int) -> tuple[float, int] | None:
        """(whole, index after it) when "av <number>" follows a number: "137 av 726 uppdrag"."""
        if end + 1 < len(sent) and sent[end].lower_ == "av" and sent[end + 1].like_num:
            parsed = self._number_at(sent, end + 1)
            if parsed and not _YEAR.match(sent[end + 1].text):
                return parsed
        return None

    @staticmethod
    def _level_after(sent: Span, end: int) -> str | None:
        """"på handläggarnivå" / "på lokal nivå" after a number: the level the count is of."""
        if end + 1 >= len(sent) or sent[end].lower_ != "på":
            return None
        word = sent[end + 1].lower_
        if word.endswith("nivå") and word != "nivå":
            return word
        if end + 2 < len(sent) and sent[end + 2].lower_ == "nivå" and sent[end + 1].is_alpha:
            return f"{word} nivå"
        return None

    def _year_in(self, sent: Span, default: int | None) -> int | None:
        for token in sent:
            if _YEAR.match(token.text) and not (token.i > 0 and token.doc[token.i - 1].text in ("(",)):
                return int(token.text)
        return default

    # ------------------------------------------------------------ extract
    def extract_sentence(
        self, sent: Span, page: int, default_year: int | None, last_subject: str | None
    ) -> list[Figure]:
        figures: list[Figure] = []
        text = sent.text.strip().strip("•·▪").strip()  # run-in bullet marks are layout, not words
        year = self._year_in(sent, default_year)
        used: set[int] = set()
        local = sent.as_doc()
        for match_id, start, end in self._shapes(local):
            label = self.nlp.vocab.strings[match_id]
            number_token = next(t for t in reversed(local[start:end]) if t.like_num)
            parsed = self._number_at(local, number_token.i)
            if not parsed or sent.start + number_token.i in used:
                continue
            after = local[end] if end < len(local) else None
            if label == "QUALIFIED" and after is not None and not (after.is_punct or after.lower_ in ("st", "st.", "stycken")):
                continue  # "under året: 17 på handläggarnivå": the word before the colon is no qualifier
            if label == "QUALIFIED" and last_subject:
                qualifier = local[start].lower_
                if qualifier in ("nivå", "nivån") and start > 0 and local[start - 1].is_alpha:
                    qualifier = f"{local[start - 1].lower_} {qualifier}"
                figures.append(Figure(last_subject, parsed[0], page, text, year, qualifier))
            elif label == "ANTAL":
                figures.append(Figure(_indefinite(local[start + 1].lower_), parsed[0], page, text, year))
            used.add(sent.start + number_token.i)
        i = 0
        while i < len(sent):
            token: Token = sent[i]
            parsed = self._number_at(sent, i) if token.like_num else None
            if not parsed or sent.start + i in used:
                i += 1
                continue
            value, end = parsed
            if end < len(sent) and sent[end].lower_ in _MULTIPLIERS:
                value *= _MULTIPLIERS[sent[end].lower_]
                end += 1
            if _YEAR.match(token.text) and end == i + 1 or self._is_reference(sent, i, end):
                i = end
                continue
            varav = i > 0 and sent[i - 1].lower_ in ("varav", "därav")
            if not varav and figures and figures[-1].qualifier == "varav" and i > 0 and sent[i - 1].lower_ in ("och", ","):
                varav = True  # "varav 58 kvinnor och 38 män": both are parts
            whole = self._whole_after(sent, end)
            if whole is not None:
                # "137 av 726 uppdrag": a part, and the whole it is a part of
                whole_value, whole_end = whole
                subject = self._subject_after(sent, whole_end)
                if subject and not _looks_like_verb(sent[whole_end]):
                    figures.append(Figure(subject[0], value, page, text, year, f"av {whole_value:g}"))
                    used.add(sent.start + i)
                i = end
                continue
            level = self._level_after(sent, end)
            if level and last_subject:
                # "17 på handläggarnivå, 21 på lokal nivå": the last count split by level
                figures.append(Figure(last_subject, value, page, text, year, level))
                i = end
                continue
            subject = self._subject_after(sent, end)
            if varav and (subject is None or _looks_like_verb(sent[end])) and last_subject:
                # "varav 52 bedömdes ...": a part of what was just counted ("varav 230 ombud är
                # kvinnor och 98 är män": of the same thing as the part before)
                part_of = figures[-1].subject if figures and figures[-1].qualifier == "varav" else ""
                subject = (part_of, "")
            elif (subject is None or _looks_like_verb(sent[end])) and i > 0 and sent[i - 1].lower_ == "har" \
                    and sent[0].lower_ == "av" and figures \
                    and figures[-1].sentence == text and not figures[-1].qualifier:
                # "Av landets 108 verksamheter har 101 ...": a part of the whole named first
                figures.append(Figure(figures[-1].subject, value, page, text, year, f"av {figures[-1].value:g}"))
                i = end
                continue
            elif subject and "/" not in subject[0] and _looks_like_verb(sent[end]):
                subject = None
            if subject:
                name, unit = subject
                name = name or last_subject or ""
                if name:
                    figures.append(Figure(name, value, page, text, year, "varav" if varav else unit))
                    last_subject = name if not varav else last_subject
            i = end
        return figures

    @staticmethod
    def _about_another_year(sent: Span, figure: Figure, report_year: int | None) -> bool:
        """A figure of a year two or more years from the report's, in a sentence that does not
        speak for the report's own work ("Under 2021 fanns det 318 heltidstjänster" in a 2024
        report): a comparison or national background, not the report's statistics."""
        if report_year is None or figure.year is None or abs(figure.year - report_year) <= 1:
            return False
        return not any(t.lower_ in _OWN_WORK for t in sent)

    def extract(self, passages: Sequence, year: int | None = None, docs: Sequence[Doc] | None = None) -> list[Figure]:
        """Figures of one document in reading order; `year` is the report year when a sentence
        names none; `docs`: the passages' texts already parsed."""
        figures: list[Figure] = []
        last_subject: str | None = None
        for i, passage in enumerate(passages):
            text = passage_field(passage, "text", "") or ""
            if not any(ch.isdigit() for ch in text):
                continue
            if any(_MEASURE_HEADING.search(h) for h in passage_field(passage, "heading_path", ()) or ()):
                continue  # measures taken ("Åtgärder/resultat"): numbers of what was done, not statistics
            page = int(passage_field(passage, "page", 0) or 0)
            doc = docs[i] if docs is not None else self.nlp(text)
            for sent in doc.sents:
                if len(sent.text) > self.max_sentence_chars * 3:
                    continue
                if _is_story(sent):
                    continue  # "187 samtal väntar före mig": someone's own story, not a count of the work
                found = [f for f in self.extract_sentence(sent, page, year, last_subject)
                         if not self._about_another_year(sent, f, year)]
                for figure in found:
                    if figure.qualifier not in ("varav",) and not figure.qualifier.endswith("nivå"):
                        last_subject = figure.subject
                figures.extend(found)
        return figures
