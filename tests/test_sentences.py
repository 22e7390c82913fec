"""One sentence rule for the whole project (issue 17): cutting long blocks, problem statements,
sentence vectors and spaCy's sentences agree on where a Swedish sentence ends."""
from __future__ import annotations

import pytest

from systemfel.base.sentences import sentence_spans, split_sentences
from systemfel.ingest.passages import PassageSplitter
from systemfel.models.statements import StatementSplitter
from systemfel.models.vectors import sentence_rows
from systemfel.nlp.swedish import SwedishNLP

TEXT = (
    "Ombuden ser bl. a. Försäkringskassan och t.ex. Kommunens rutiner som hinder. "
    "Klienten fick beslutet per brev den 3 maj. 2023 kom 147 nya ärenden! "
    "Handläggaren sa: ”Vi ringer tillbaka.” Ingen ringde. Vad gör man då? "
    "Det saknas s. k. samordnare, d.v.s. Någon som håller ihop planeringen."
)
EXPECTED = [
    "Ombuden ser bl. a. Försäkringskassan och t.ex. Kommunens rutiner som hinder.",
    "Klienten fick beslutet per brev den 3 maj.",
    "2023 kom 147 nya ärenden!",
    "Handläggaren sa: ”Vi ringer tillbaka.”",
    "Ingen ringde.",
    "Vad gör man då?",
    "Det saknas s. k. samordnare, d.v.s. Någon som håller ihop planeringen.",
]


def test_the_rule_keeps_abbreviations_and_quotes_inside_their_sentence():
    assert split_sentences(TEXT) == EXPECTED
    assert [TEXT[a:b] for a, b in sentence_spans(TEXT)] == EXPECTED


@pytest.mark.parametrize("text", ["", "   ", "Ett ord", "Slut. "])
def test_edges(text):
    assert " ".join(split_sentences(text)) == " ".join(text.split())


def test_short_scraps_join_a_neighbour_when_asked():
    assert split_sentences("Kalmar. Det saknas bostäder för unga med psykisk ohälsa.", min_chars=30) == [
        "Kalmar. Det saknas bostäder för unga med psykisk ohälsa."
    ]


def test_every_reader_cuts_where_the_rule_cuts():
    spacy_sentences = SwedishNLP().sentences(TEXT)
    assert spacy_sentences == EXPECTED
    vector_rows, owner = sentence_rows([TEXT], min_chars=0)
    assert vector_rows == EXPECTED and set(owner.tolist()) == {0}
    statements = StatementSplitter(min_chars=0).split(1, TEXT)
    # statements merge sentences that carry the previous one on, never cut inside one
    joined = [s.text for s in statements]
    assert " ".join(joined) == " ".join(EXPECTED)
    assert all(any(s.startswith(e) for e in EXPECTED) for s in joined)
    # a long block is cut only at sentence ends
    long_text = " ".join([TEXT] * 12)
    pieces = PassageSplitter(target_words=40, max_words=80).split_text(long_text)
    assert len(pieces) > 3
    ends = {e for e in EXPECTED}
    assert all(any(piece.endswith(e) for e in ends) for piece in pieces)


def test_a_list_run_into_one_line_ends_a_sentence_at_each_bullet():
    text = "Totalt 147 systemfel. • handläggarnivå: 47 st. • lokal nivå: 75 st. – central nivå: 25 st."
    assert split_sentences(text) == [
        "Totalt 147 systemfel.", "• handläggarnivå: 47 st.", "• lokal nivå: 75 st.", "– central nivå: 25 st."]
