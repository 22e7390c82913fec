"""Personal data: the PII gold, and every stored text field masked (issue 19, items 1-3)."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from systemfel.nlp.evaluate import evaluate_pii
from systemfel.nlp.pii import PiiDetector
from tests.conftest import DATA

PII_GOLD = DATA / "pii-gold.jsonl"


def load_pii_gold() -> list[dict]:
    return [json.loads(line) for line in PII_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def pii():
    return PiiDetector()


def test_the_pii_gold_is_large_and_covers_every_kind_and_negatives():
    rows = load_pii_gold()
    kinds = {kind for row in rows for kind, _ in row["pii"]}
    assert len(rows) >= 60
    assert kinds == {"personnummer", "telefon", "e-post", "namn"}
    assert sum(not row["pii"] for row in rows) >= 20  # years, amounts, dates, Dnr, pages


@pytest.mark.parametrize("row", load_pii_gold(), ids=lambda row: row["text"][:40])
def test_every_gold_string_is_masked_exactly(pii, row):
    assert pii.mask(row["text"])[0] == row["masked"]


def test_pii_gold_figures(pii):
    report = evaluate_pii(pii, load_pii_gold())
    assert report["exact"] == 1.0 and report["untouched"] == 1.0
    for kind, figures in report["kinds"].items():
        assert figures["precision"] == 1.0 and figures["recall"] == 1.0, kind


@pytest.mark.parametrize(
    "text, masked",
    [
        ("Klient 850709–9805 Anna Svensson", "Klient [personnummer] [namn]"),
        ("pnr:850709-9805", "pnr:[personnummer]"),
        ("tel:070-123 45 67", "tel:[telefon]"),
        ("anna(at)kommun.se", "[e-post]"),
        ("Klienten Anna Svensson ringde.", "Klienten [namn] ringde."),
    ],
)
def test_the_formats_the_probe_found(pii, text, masked):
    assert pii.mask(text)[0] == masked


def test_a_name_outside_the_gazetteer_after_a_naming_cue(pii):
    assert pii.mask("Klienten, som vi kallar Zoltan, fick avslag.")[0] == "Klienten, som vi kallar [namn], fick avslag."


@pytest.mark.parametrize(
    "text",
    [
        "Inga pengar fanns kvar.",  # a first name that is a word
        "Per månad betalar hon 3 200 kr.",
        "Björn i Karlstad.",  # an ambiguous first name alone is left alone
        "Mark och bostäder saknas.",
        "Försäkringskassan, Arbetsförmedlingen och Region Värmland.",
        "Dnr 2021/123, s. 14, 2021-06-30, 1 234 567 kr",
    ],
)
def test_words_that_look_like_names_or_numbers_stay(pii, text):
    assert pii.mask(text) == (text, {})
