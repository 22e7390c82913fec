"""Recurring systemfel: statements, grouping quality on the gold, labels, ids, export, corrections."""
from __future__ import annotations

import html
import json
import re
import shutil
import sqlite3
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

# the demo build of the session fixture runs inside the first test that needs it; on a busy
# 2-core machine it has taken more than the suite's 15 minutes
pytestmark = pytest.mark.timeout(2700)

from systemfel.base.textnorm import normalize_for_match
from systemfel.base.records import DocumentMeta, Passage, PassageLabels, StoredPassage
from systemfel.cli import main
from systemfel.models.embed import load_embedder
from systemfel.models.recurrence_eval import StatementRef, locate_gold, score_recurrence
from systemfel.models.recurring import StatementGrouper, pair_similarities, set_agreement, stable_ids
from systemfel.nlp.actors import ActorMatcher
from systemfel.models.statements import StatementSplitter
from systemfel.models.vectors import MODEL_META_KEY
from systemfel import recurring as recurring_stage
from systemfel.recurring import ACTOR_WORDS_KEY, FREQUENCIES_KEY, RecurringStage, issue_actors, reassemble
from systemfel.stages import AnalysisInput
from systemfel.store import APPLIES, SCHEMA, Store

DATA = Path(__file__).resolve().parent / "data"
GOLD = DATA / "dev-recurrence.jsonl"

# Words one of which a found gold group's issue must name (label or its first distinctive terms).
EXPECTED_WORDS = {
    "telefon_nas_inte": ["telefon", "kö", "ringer", "växel", "röstmeddelande", "vårdcentral"],
    "digitalt_utanforskap": ["digital", "internet", "e-legitimation", "bank", "dator"],
    "vantan_psykiatri": ["vänt", "väntetid", "psykiatri", "vårdkö", "utredning"],
    "aktivitetsrapport": ["aktivitetsrapport"],
    "aktivitetsersattning_upphor_vid_30": ["aktivitetsersättning", "trettio", "30"],
    "samtycke_hos_af": ["samtycke"],
    "medicinering_avbryts": ["medicin"],
    "lokala_kontor_forsvinner": ["kontor", "lokal"],
    "gode_man_brist": ["god man", "gode män", "förvaltare"],
    "bostad_skulder": ["bostad", "kontrakt", "kronofogden", "skuld", "boende"],
    "fk_felaktiga_beslut": ["felaktig", "återbetalning"],
    "fk_avslag_sjukpenning": ["avslag", "avslår", "sjukpenning"],
}


def _gold() -> list[dict]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_a_county_paragraph_becomes_one_statement_per_problem():
    text = (
        "Västra Götaland Bostadsbrist. Svårighet att få god man. Skärpta krav inom Försäkringskassan. "
        "Svårt för människor som inte har tillgång till Internet att ha kontakt med myndigheter då den "
        "personliga servicen har skurits ner."
    )
    statements = StatementSplitter().split(7, text)
    assert [s.text for s in statements][1:3] == ["Svårighet att få god man.", "Skärpta krav inom Försäkringskassan."]
    for s in statements:
        assert s.passage_id == 7 and text[s.start : s.end] == s.text


def test_a_sentence_that_carries_the_previous_on_stays_with_it():
    text = "Man får ingen särskild tid eller datum, utan hänvisas till växeln. Här är köerna långa. Ett annat problem är bank-id."
    statements = StatementSplitter().split(1, text)
    assert statements[0].text == "Man får ingen särskild tid eller datum, utan hänvisas till växeln. Här är köerna långa."
    assert len(statements) == 2


def test_bcubed_follows_the_definition():
    gold = [
        {"group": "a", "doc": "r1", "key": "alfa ett"},
        {"group": "a", "doc": "r2", "key": "alfa två"},
        {"group": "b", "doc": "r1", "key": "beta"},
    ]
    refs = [
        StatementRef("r1", 1, "Alfa ett här.", frozenset({"x"})),
        StatementRef("r2", 2, "Alfa två där.", frozenset({"x"})),
        StatementRef("r1", 3, "Beta.", frozenset({"x"})),
    ]
    passages = {1: ("r1", "Alfa ett här."), 2: ("r2", "Alfa två där."), 3: ("r1", "Beta.")}
    score = score_recurrence(gold, locate_gold(gold, refs, passages))
    assert score.precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3)
    assert score.recall == pytest.approx(1.0)
    # a: 3 gold statements in the issue <= 2 x 2, from two reports; b: 3 > 2 x 1, so not found
    assert score.found_groups == ["a"]
    # a key in no statement and no passage is listed, not scored
    missing = score_recurrence(gold + [{"group": "c", "doc": "r1", "key": "gamma"}],
                               locate_gold(gold + [{"group": "c", "doc": "r1", "key": "gamma"}], refs, passages))
    assert missing.n == 3 and [r["key"] for r in missing.unmatched] == ["gamma"]


@pytest.fixture(scope="module")
def recurring_db(demo_db, tmp_path_factory) -> Path:
    """A private copy of the demo store (corrections are written to it)."""
    folder = tmp_path_factory.mktemp("recurring")
    target = folder / "demo.db"
    source = sqlite3.connect(demo_db)
    copy = sqlite3.connect(target)
    source.backup(copy)
    copy.close()
    source.close()
    return target


def test_grouping_meets_the_gold_on_the_demo_corpus(demo_db, capsys):
    assert main(["eval", "--recurrence", str(GOLD), "--db", str(demo_db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 35 and not report["unmatched"]
    # measured 0.818 and 0.833 (10 of 12) with the shipped seed; over eight seeds F1 0.819 (sd
    # 0.019), found 0.81 (min 0.75); leaving each report out 0.791 / 0.81 (README): the
    # issue's targets are 0.75 and 0.80
    assert report["f1"] >= 0.75
    assert report["found"] >= 0.80


def test_grouping_does_not_hang_on_one_seed(demo_db, tmp_path, capsys):
    """Single Louvain runs spread from 0.63 to 0.75 F1 over seeds; the consensus of many keeps
    every seed near the shipped one (over eight seeds F1 0.819, sd 0.019, found 0.81, min
    0.75: README)."""
    import shutil

    db = tmp_path / "seeds.db"
    shutil.copy(demo_db, db)
    figures = []
    for seed in (1, 2):
        with Store(db) as store:
            embedder = load_embedder(store.get_meta(MODEL_META_KEY))
            stage = RecurringStage(grouper=StatementGrouper(random_state=seed))
            assert stage.run(AnalysisInput(store, embedder, store.passages(), lambda *_: None))
        assert main(["eval", "--recurrence", str(GOLD), "--db", str(db), "--json"]) == 0
        figures.append(json.loads(capsys.readouterr().out))
    assert all(f["f1"] >= 0.70 and f["found"] >= 0.75 for f in figures), [(f["f1"], f["found"]) for f in figures]


def test_the_approximate_index_groups_as_well_as_the_exact_one(demo_db, tmp_path, capsys):
    """Large corpora take their neighbours from a faiss index; forced onto this corpus, the
    groups must meet the same gold guard as the exact neighbours."""
    import shutil

    db = tmp_path / "approximate.db"
    shutil.copy(demo_db, db)
    with Store(db) as store:
        embedder = load_embedder(store.get_meta(MODEL_META_KEY))
        stage = RecurringStage(grouper=StatementGrouper(exact_below=10))
        assert stage.run(AnalysisInput(store, embedder, store.passages(), lambda *_: None))
    assert main(["eval", "--recurrence", str(GOLD), "--db", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["f1"] >= 0.70 and report["found"] >= 0.75, (report["f1"], report["found"])


def test_approximate_neighbours_find_the_exact_ones_and_never_the_row_itself():
    from systemfel.models.embed.base import l2_normalise
    from systemfel.models.recurring import approximate_neighbours, exact_neighbours

    rng = np.random.default_rng(3)
    topics = rng.normal(size=(60, 64))
    vectors = l2_normalise((topics[rng.integers(0, 60, 4000)] + rng.normal(size=(4000, 64))).astype(np.float32))
    vectors[1] = vectors[0]  # a duplicate ties with its own row
    exact, _ = exact_neighbours(vectors, 10)
    approximate, sims = approximate_neighbours(vectors, 10)
    rows = np.arange(len(vectors))[:, None]
    assert not (approximate == rows).any()
    assert 0 in approximate[1] and 1 in approximate[0]
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approximate, exact)])
    assert recall >= 0.9, recall
    assert np.all(np.diff(sims, axis=1) <= 1e-6)  # best first
    again, _ = approximate_neighbours(vectors, 10)
    assert np.array_equal(approximate, again)


def test_labels_name_the_found_gold_groups(demo_db):
    store = Store(demo_db, readonly=True)
    statements, issues = store.statements(), {i["id"]: i for i in store.issues()}
    gold = _gold()
    refs = [StatementRef(Path(s["file"]).stem, s["passage_id"], s["text"], frozenset([s["issue_id"]]) if s["issue_id"] else frozenset())
            for s in statements]
    passages = {p.id: (Path(p.file).stem, p.text) for p in store.passages()}
    located = locate_gold(gold, refs, passages)
    score = score_recurrence(gold, located)
    assert score.found_groups
    unnamed = []
    for group in score.found_groups:
        held = [issues_ for row, (issues_, _) in zip(gold, located) if row["group"] == group and issues_]
        issue_id = max(sorted({i for h in held for i in h}), key=lambda i: sum(i in h for h in held))
        issue = issues[issue_id]
        named = normalize_for_match(" ".join([issue["label"], *issue["terms"][:3]]))
        if not any(word in named for word in EXPECTED_WORDS[group]):
            unnamed.append((group, issue["label"], issue["terms"][:3]))
    # measured (2026-11-27): all 9 found groups are named by their issue's label or first three terms
    # (gode män got an issue of its own, "Gode män", once statements naming different actors were
    # kept apart)
    assert not unnamed, unnamed


# Hand-written statements of three problems (not from the gold): "tid" and "personer" turn up
# in every problem and outside them; the county only says where the debts were reported.
_NAMING = [
    ("Man får ingen tid hos handläggaren och telefonkön är stängd.", 0),
    ("Det tar tid innan någon svarar i telefonkön.", 0),
    ("Ingen tid att boka för personer som ringer.", 0),
    ("Ännu en gång tar det tid, sedan bryts samtalet.", 0),
    ("I Värmland har personer med skulder hos Kronofogden ingen chans på bostadsmarknaden.", 1),
    ("I Värmland får den som har skulder inget kontrakt på en bostad under lång tid.", 1),
    ("Värmland: skulder hos Kronofogden hindrar ett eget kontrakt.", 1),
    ("Medicineringen avbryts utan uppföljning när vårdkontakten upphör.", 2),
    ("Ingen uppföljning av medicineringen sker efter utskrivning, det tar tid.", 2),
    ("Personer som skrivs ut får vänta på uppföljning av medicineringen.", 2),
    ("Det tar tid för personer att få ett beslut.", -1),
    ("Personer med psykisk ohälsa behöver mer tid hos handläggaren.", -1),
    ("Handläggaren har ingen tid att ringa tillbaka till personer som väntar.", -1),
]


def test_an_issue_is_named_by_its_own_distinctive_words_not_generic_ones():
    from systemfel.models.recurring import IssueNamer

    texts, groups = [t for t, _ in _NAMING], [g for _, g in _NAMING]

    def names(namer):
        namer.fit(texts, groups)
        members = {g: [t for t, m in _NAMING if m == g] for g in range(3)}
        return {g: (namer.label(g, m), namer.terms(g, m)) for g, m in members.items()}, namer

    named, namer = names(IssueNamer(actor_words=["Kronofogden"], place_words=["Värmland", "Värmlands län"]))
    # "tid" is said more often than "telefonkön" in the telephone problem, but in every other
    # problem too: the queue names it (weighing words by the issues using them is what does it)
    assert namer.weights_[0][namer.analyzer.stem("telefonkön")] > namer.weights_[0]["tid"]
    assert "telefonkön" in named[0][0].lower() and named[0][1][0] == "telefonkön", named[0]
    assert "skulder" in named[1][0].lower() and "medicineringen" in named[2][0].lower(), named
    # the county says where, not what: neither in the name nor in the terms
    assert all("värmland" not in " ".join([label, *terms]).lower() for label, terms in named.values()), named
    # a name is a noun phrase: no pronoun or negation, and a verb the statements use after
    # "att" ("att ringa", "att boka") only as its first word
    assert {"ring", "bok"} <= namer.verb_stems_
    for label, _ in named.values():
        words = label.lower().split()
        assert not set(words) & {"man", "de", "vi", "inte", "ingen", "inget"}, label
        assert not any(namer._verb(w) and words[i - 1] != "att" for i, w in enumerate(words) if i), label
    # the same statements give the same names
    again, _ = names(IssueNamer(actor_words=["Kronofogden"], place_words=["Värmland", "Värmlands län"]))
    assert again == named
    # without the weighing by issues, the generic word wins: the test can tell the difference
    generic, _ = names(IssueNamer(actor_words=["Kronofogden"], spread_power=0.0))
    assert "telefonkön" not in generic[0][0].lower(), generic[0]


def test_every_issue_is_citable_and_has_a_status(demo_db, capsys):
    assert main(["export", "recurring", "--db", str(demo_db), "--min-reports", "2"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows
    store = Store(demo_db, readonly=True)
    passages = {p.id: p for p in store.passages()}
    for row in rows:
        assert {"id", "label", "status", "themes", "actors", "reports", "orgs", "years", "first_year", "last_year",
                "passage_ids", "quotes"} <= set(row)
        assert len(row["reports"]) >= 2 and row["status"] == "återkommande"
        assert row["first_year"] == min(row["years"]) and row["last_year"] == max(row["years"])
        for quote in row["quotes"]:
            passage = passages[quote["passage_id"]]
            assert quote["text"] in passage.text and quote["page"] == passage.page
            assert quote["file"] == passage.file
            assert quote["themes"] and quote["themes"][0] in row["themes"]
    # ungrouped statements stay ungrouped and are counted
    statements = store.statements()
    assert 0 < sum(1 for s in statements if s["issue_id"]) <= len(statements)


def test_grouping_is_deterministic_and_ids_survive_a_new_report(demo_db):
    store = Store(demo_db, readonly=True)
    statements = store.statements()
    vectors = store.cached_vectors("multilingual-e5-small|query", [s["text_hash"] for s in statements])
    passages = {p.id: p for p in store.passages()}
    context = store.cached_vectors("multilingual-e5-small|query", [p.text_hash for p in passages.values()])

    def group(rows):
        matrix = np.vstack([vectors[s["text_hash"]] for s in rows])
        ctx = np.vstack([context[passages[s["passage_id"]].text_hash] for s in rows])
        labels = StatementGrouper().fit_predict(matrix, [s["text"] for s in rows], ctx)
        groups: dict[int, list[str]] = {}
        for s, label in zip(rows, labels):
            if label >= 0:
                groups.setdefault(int(label), []).append(s["text_hash"])
        return labels, groups

    labels_once, _ = group(statements)
    labels_twice, _ = group(statements)
    assert np.array_equal(labels_once, labels_twice)
    before = [s for s in statements if s["file"] != "po-skane-2025.pdf"]
    _, groups_before = group(before)
    ids_before = stable_ids(groups_before, {})
    previous = {ids_before[g]: set(m) for g, m in groups_before.items()}
    _, groups_after = group(statements)
    ids_after = stable_ids(groups_after, previous)
    kept = set(ids_after.values()) & set(previous)
    # an issue whose statements mostly stay together keeps its id
    together = 0
    for old_id, members in previous.items():
        for number, new_members in groups_after.items():
            overlap = len(members & set(new_members))
            if overlap * 2 > len(members) and overlap * 2 > len(new_members):
                together += 1
                assert ids_after[number] == old_id
    assert together and len(kept) >= together
    # ids are unique; an issue not kept by overlap may still keep its id through its anchor
    # statement (the smallest statement hash), which is the deterministic fallback
    assert len(set(ids_after.values())) == len(ids_after)


def _regroup(store: Store, embedder) -> bool:
    return RecurringStage().run(AnalysisInput(store, embedder, store.passages(), lambda *_: None))


def test_corrections_survive_a_regrouping(recurring_db):
    store = Store(recurring_db)
    issues = store.issues()
    first, second = issues[0], issues[1]
    moved = store.statements(first["id"])[0]
    store.add_issue_correction("rename", first["id"], "Mitt eget namn")
    store.add_issue_correction("move_out", first["id"], moved["text_hash"])
    store.add_issue_correction("merge", second["id"], first["id"])
    reassemble(store)
    store.set_stage_signature(RecurringStage.name, "stale")  # forces the stage to group again
    assert _regroup(store, load_embedder(None))
    after = {i["id"]: i for i in store.issues()}
    assert after[first["id"]]["label"] == "Mitt eget namn"
    assert second["id"] not in after
    assert after[first["id"]]["size"] >= first["size"] + second["size"] - 1
    statement = [s for s in store.statements() if s["text_hash"] == moved["text_hash"]]
    assert statement and all(s["issue_id"] != first["id"] for s in statement)
    store.close()


def test_bad_stores_get_a_swedish_message(tmp_path, capsys):
    empty = tmp_path / "empty.db"
    Store(empty).close()
    assert main(["export", "recurring", "--db", str(empty)]) == 2
    assert "inga dokument" in capsys.readouterr().err
    old = tmp_path / "old.db"
    connection = sqlite3.connect(old)
    connection.executescript(SCHEMA)
    connection.execute(
        "INSERT INTO documents(path, file, sha256, status, ingested_at) VALUES ('a.pdf', 'a.pdf', 'x', 'ok', 0)"
    )
    connection.commit()
    connection.close()
    assert main(["export", "recurring", "--db", str(old)]) == 2
    assert "byggdes innan" in capsys.readouterr().err
    assert main(["eval", "--recurrence", str(GOLD), "--db", str(old)]) == 2


def test_a_store_without_deficiencies_is_explained(tmp_path, capsys):
    db = tmp_path / "background.db"
    with Store(db) as store:
        store.replace_document(
            path="a.pdf", sha256="x", meta=DocumentMeta(org="PO Test", year=2024), pages=1, blocks=[],
            passages=[Passage(text="Verksamheten startade 2010 och har fyra ombud.", page=1, heading_path=[],
                              block_kind="paragraph", seq=0)],
            labels=[PassageLabels(kind="background", kind_score=0.9, level=None, actors=[])],
        )  # fmt: skip
        # no deficiency, so nothing is embedded: a stand-in with only a name is enough
        assert _regroup(store, type("NoModel", (), {"name": "none"})())
    assert main(["export", "recurring", "--db", str(db)]) == 2
    assert "inga stycken som beskriver brister" in capsys.readouterr().err


def test_gold_keys_that_match_nothing_are_reported(demo_db, tmp_path, capsys):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"group": "x", "doc": "po-skane-2025", "key": "finns inte i någon rapport"}) + "\n")
    assert main(["eval", "--recurrence", str(gold), "--db", str(demo_db)]) == 2
    assert "nycklar" in capsys.readouterr().err


# ------------------------------------------------------------------------- explorer
def _start(db: Path, monkeypatch):
    monkeypatch.setenv("SYSTEMFEL_DB", str(db))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(sys, "argv", ["app.py"])
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=300)
    at.run()
    at.sidebar.radio(key="vy").set_value("aterkommande")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_view_ranks_issues_and_opens_quotes_by_report(demo_db, monkeypatch):
    at = _start(demo_db, monkeypatch)
    assert at.title[0].value == "Återkommande systemfel"
    table = at.dataframe[0].value
    assert list(table.columns[:3]) == ["Systemfel", "Status", "Organisationer"]
    assert table["Organisationer"].is_monotonic_decreasing
    store = Store(demo_db, readonly=True)
    first = store.issues()[0]
    assert at.subheader[0].value == first["label"]
    quotes = [e.value for e in at.markdown if e.value.startswith("> ")]
    texts = {normalize_for_match(s["text"]) for s in store.statements(first["id"])}
    assert quotes and len(quotes) == first["size"]
    assert all(normalize_for_match(html.unescape(re.sub(r"\\(.)", r"\1", q[2:]))) in texts for q in quotes)
    # each quote's source line names the actors that statement names, no others
    captions = [html.unescape(re.sub(r"\\(.)", r"\1", e.value)) for e in at.caption]
    named = sorted(", ".join(s["actors"]) for s in store.statements(first["id"]) if s["actors"])
    assert named and sorted(c.split("Aktörer: ")[1] for c in captions if "Aktörer: " in c) == named
    # a quote leads to "Sök liknande fall" for its passage
    button = next(b for b in at.button if b.label == "Sök liknande fall")
    button.click()
    at.run()
    assert at.title[0].value == "Sök liknande fall"


def test_a_theme_drills_down_to_its_issues_and_their_quotes(demo_db, monkeypatch):
    """Teman -> a theme -> its recurring issues -> one issue's quotes (issue 12, item 2)."""
    at = _start(demo_db, monkeypatch)
    at.sidebar.radio(key="vy").set_value("teman")
    at.run()
    store = Store(demo_db, readonly=True)
    issues = store.issues()
    slug = Counter(t for i in issues for t in i["themes"][:1]).most_common(1)[0][0]
    at.selectbox(key="teman_val").set_value(slug)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    under = [i for i in issues if slug in i["themes"]]
    heading = next(m.value for m in at.markdown if m.value.startswith("**Återkommande systemfel i temat**"))
    assert f"({len(under)}," in heading
    wanted = under[1] if len(under) > 1 else under[0]  # not the one the view would open anyway
    at.button(key=f"tema_sf_{wanted['id']}").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Återkommande systemfel"
    assert at.subheader[0].value == wanted["label"]
    quotes = [e.value for e in at.markdown if e.value.startswith("> ")]
    assert len(quotes) == wanted["size"]


def test_filters_narrow_the_list(demo_db, monkeypatch):
    at = _start(demo_db, monkeypatch)
    before = len(at.dataframe[0].value)
    at.multiselect(key="sf_status").set_value(["enstaka"])
    at.run()
    after = at.dataframe[0].value if at.dataframe else None
    assert after is None or (len(after) < before and set(after["Status"]) == {"enstaka"})


def test_a_rename_in_the_view_is_kept(recurring_db, monkeypatch):
    at = _start(recurring_db, monkeypatch)
    chosen = at.selectbox(key="sf_valt").value
    at.text_input(key=f"sf_namn_{chosen}").set_value("Väntan på god man")
    at.button(key="sf_bytnamn").click()
    at.run()
    assert not at.exception
    with Store(recurring_db, readonly=True) as store:
        assert {i["id"]: i["label"] for i in store.issues()}[chosen] == "Väntan på god man"
        assert ("rename", chosen, "Väntan på god man") in store.issue_corrections()


def test_a_researchers_assignment_puts_the_statement_or_passage_into_the_issue():
    """Assignments from a QDA tool (passage text hash, issue, statement hash or 'applies'): the
    named statement moves; 'applies' takes the passage's ungrouped statements, or else makes the
    whole passage a statement of the issue; applied again, nothing is added twice."""
    from types import SimpleNamespace

    from systemfel.base.hashing import text_hash
    from systemfel.recurring import apply_corrections

    texts = {1: "Ingen ringde tillbaka. Beslutet dröjde.", 2: "Handläggaren svarade inte.", 3: "Bakgrund om verksamheten."}
    passages = [SimpleNamespace(id=i, text=t, text_hash=text_hash(t)) for i, t in texts.items()]

    def row(pid, text, issue):
        return {"passage_id": pid, "start": 0, "end": len(text), "text": text, "text_hash": text_hash(text),
                "machine_issue_id": issue, "issue_id": None}  # fmt: skip

    rows = [row(1, "Ingen ringde tillbaka.", "a"), row(1, "Beslutet dröjde.", "b"), row(2, "Handläggaren svarade inte.", None)]
    assignments = [
        (passages[0].text_hash, "x", text_hash("Beslutet dröjde.")),  # one statement, out of issue b
        (passages[1].text_hash, "x", "applies"),  # the passage's ungrouped statement
        (passages[2].text_hash, "x", "applies"),  # a passage without statements
    ]
    apply_corrections(rows, [], assignments, passages)
    assert [(r["passage_id"], r["text"], r["issue_id"]) for r in rows] == [
        (1, "Ingen ringde tillbaka.", "a"),
        (1, "Beslutet dröjde.", "x"),
        (2, "Handläggaren svarade inte.", "x"),
        (3, "Bakgrund om verksamheten.", "x"),
    ]
    apply_corrections(rows, [], assignments, passages)  # as after a reassembly: the same, nothing added
    assert len(rows) == 4 and [r["issue_id"] for r in rows] == ["a", "x", "x", "x"]


def _partition(store: Store) -> set[frozenset]:
    return {frozenset(members) for members in store.previous_issue_members().values()}


class _CountingMatcher(ActorMatcher):
    """The actor gazetteer, noting every text it reads."""

    read: list[str] = []

    def find(self, text):
        self.read.append(text)
        return super().find(text)


def test_adding_a_report_assigns_its_statements_and_keeps_the_issues(demo_db, tmp_path, monkeypatch):
    """A build that adds a report assigns the added statements to the existing issues (or new
    issues among themselves): every issue keeps its id, members and corrections, and a new
    statement that states an existing issue's problem joins it; the actor gazetteer reads the
    added statements only. `--regroup` groups everything again, as a build from scratch does."""
    import shutil

    monkeypatch.setattr(recurring_stage, "ActorMatcher", _CountingMatcher)
    db = tmp_path / "added.db"
    shutil.copy(demo_db, db)
    added = "po-skane-2025.pdf"
    with Store(db) as store:
        embedder = load_embedder(store.get_meta(MODEL_META_KEY))
        passages = store.passages()
        before = [p for p in passages if Path(p.file).name != added]
        assert RecurringStage(regroup=True).run(AnalysisInput(store, embedder, before, lambda *_: None))
        members_before = store.previous_issue_members()
        renamed = sorted(members_before)[0]
        store.add_issue_correction("rename", renamed, "Mitt eget namn")
        known = {s["text_hash"] for s in store.statements()}
        _CountingMatcher.read = []
        assert RecurringStage().run(AnalysisInput(store, embedder, passages, lambda *_: None))
        added_texts = {s["text"] for s in store.statements() if s["text_hash"] not in known}
        assert added_texts and sorted(_CountingMatcher.read) == sorted(added_texts)
        members_after = store.previous_issue_members()
        labels = {i["id"]: i["label"] for i in store.issues()}
        statements = store.statements()
        frequencies = json.loads(store.get_meta(FREQUENCIES_KEY))
    # the TF-IDF document frequencies kept for the next assignment are those of all statements
    texts = list({s["text_hash"]: s["text"] for s in statements}.values())
    assert frequencies == {"n": len(texts), "df": dict(StatementGrouper().document_frequencies(texts))}
    # every issue keeps its id and its statements; the researcher's name stays
    for issue, members in members_before.items():
        assert members <= members_after[issue], issue
    assert labels[renamed] == "Mitt eget namn"
    new_hashes = {s["text_hash"] for s in statements if Path(s["file"]).name == added} - set().union(*members_before.values())
    joined = {h for h in new_hashes for issue, members in members_before.items() if h in members_after[issue]}
    # measured 2026-11-27 with the own-report cap: all 79 join (their neighbours are mostly
    # other reports' statements); that a statement without a link into an issue forms a new
    # one is `test_an_added_report_with_a_new_problem_gets_a_new_issue`
    assert joined
    # a gold statement of the added report whose group mates from the other reports mostly
    # sit in one issue joins that issue (the telephone statement)
    gold = _gold()
    refs = [StatementRef(Path(s["file"]).stem, s["passage_id"], s["text"], frozenset([s["text_hash"]])) for s in statements]
    located = locate_gold(gold, refs, {p.id: (Path(p.file).stem, p.text) for p in passages})
    issue_of = {h: issue for issue, members in members_after.items() for h in members}
    restated = 0
    for row, (hashes, _) in zip(gold, located):
        if row["doc"] != Path(added).stem or not hashes:
            continue
        mates = [h for other, (hs, _) in zip(gold, located) if other["group"] == row["group"] and other["doc"] != row["doc"] for h in hs]
        held = Counter(issue for issue, members in members_before.items() for h in mates if h in members)
        if held and held.most_common(1)[0][1] * 2 > len(mates) >= 2:  # most of its mates sit in one issue
            restated += 1
            assert {issue_of.get(h) for h in hashes} == {held.most_common(1)[0][0]}, row
    assert restated >= 1
    # a full regrouping on request gives the issues a build from scratch gives
    with Store(db) as store:
        assert RecurringStage(regroup=True).run(AnalysisInput(store, embedder, passages, lambda *_: None))
        regrouped = _partition(store)
    scratch = tmp_path / "scratch.db"
    shutil.copy(demo_db, scratch)
    with sqlite3.connect(scratch) as connection:
        connection.execute("DELETE FROM statements")
        connection.execute("DELETE FROM issues")
        connection.execute("DELETE FROM meta WHERE key LIKE 'stage:återkommande%'")
    with Store(scratch) as store:
        assert RecurringStage().run(AnalysisInput(store, embedder, store.passages(), lambda *_: None))
        assert _partition(store) == regrouped


def test_an_unseen_report_joins_the_issues_of_the_problems_it_restates(demo_db, demo_corpus, tmp_path, capsys):
    """The test report (tests/solvik.py, written for the tests, not among the dev reports)
    restates ten of the dev gold groups' problems in its own words
    (tests/data/solvik/po-solvik-2025.recurrence.jsonl). Added to the demo store by a build,
    as a user adds a new report, its statements are assigned to the existing issues: most of
    its gold statements land in the issue that holds their group's dev statements, and the
    dev and test gold together still score near the dev figures."""
    import shutil

    from tests import solvik

    db = tmp_path / "unseen.db"
    shutil.copy(demo_db, db)
    folder = tmp_path / "ny"
    folder.mkdir()
    solvik.render_pdf(folder / f"{solvik.DOC}.pdf")
    assert main(["build", str(demo_corpus), str(folder), "--db", str(db), "--workers", "1"]) == 0
    capsys.readouterr()
    test_gold = solvik.DATA / f"{solvik.DOC}.recurrence.jsonl"
    both = tmp_path / "both.jsonl"
    both.write_text(GOLD.read_text(encoding="utf-8") + test_gold.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["eval", "--recurrence", str(both), "--db", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 45 and not report["unmatched"]
    # measured 2026-11-27 (session 9): F1 0.735, found 0.83 (10 of 12); the dev gold alone gives 0.818 / 0.83
    assert report["f1"] >= 0.70 and report["found"] >= 0.80, (report["f1"], report["found"])
    gold = [json.loads(line) for line in both.read_text(encoding="utf-8").splitlines()]
    with Store(db, readonly=True) as store:
        statements, passages = store.statements(), {p.id: (Path(p.file).stem, p.text) for p in store.passages()}
    refs = [StatementRef(Path(s["file"]).stem, s["passage_id"], s["text"], frozenset([s["issue_id"]]) if s["issue_id"] else frozenset())
            for s in statements]  # fmt: skip
    located = locate_gold(gold, refs, passages)
    joined = 0
    for row, (issues, _) in zip(gold, located):
        if row["doc"] == solvik.DOC:
            mates = Counter(i for other, (held, _) in zip(gold, located)
                            if other["group"] == row["group"] and other["doc"] != solvik.DOC for i in held)  # fmt: skip
            joined += mates.most_common(1)[0][0] in issues
    # measured: 5 of 10 (telephone queues, e-legitimation, activity reports, FK's repayment claims and
    # sickness benefit); the bank-ID statement went to a bank-ID issue, housing to psychiatry (README)
    assert joined >= 5


def test_build_regroup_groups_again_on_request(demo_db, demo_corpus, tmp_path):
    """`systemfel build --regroup` groups every statement again although nothing changed; a
    build without it leaves the grouping alone."""
    import shutil

    db = tmp_path / "regroup.db"
    shutil.copy(demo_db, db)
    args = ["build", str(demo_corpus), "--db", str(db), "--workers", "1"]
    assert main(args) == 0  # brings the store up to this code's signatures
    with Store(db) as store:
        before = _partition(store)
        store.add_issue_correction("rename", store.issues()[0]["id"], "Mitt eget namn")
    with sqlite3.connect(db) as connection:  # a grouping the next build must not touch
        connection.execute("UPDATE statements SET machine_issue_id = NULL")
    assert main(args) == 0
    with Store(db, readonly=True) as store:
        assert _partition(store) == set()
    assert main([*args, "--regroup"]) == 0
    with Store(db, readonly=True) as store:
        assert _partition(store) == before  # the same statements, the same settings: the same issues
        assert "Mitt eget namn" in {i["label"] for i in store.issues()}


def test_statements_that_name_different_actors_are_linked_less():
    """The actors a statement names move its edges: up for the same actors, down for none in
    common, not at all when either names none."""
    actors = [frozenset({"god man"}), frozenset({"Försäkringskassan"}), frozenset({"god man", "Kronofogden"}), frozenset()]
    shared, disjoint = set_agreement(actors, np.asarray([0, 0, 0, 1]), np.asarray([1, 2, 3, 3]))
    assert shared.tolist() == [0.0, 0.5, 0.0, 0.0]
    assert disjoint.tolist() == [1.0, 0.0, 0.0, 0.0]
    texts = ["Lång väntetid på god man.", "Lång väntetid hos Försäkringskassan.", "Brist på gode män och skulder hos Kronofogden."]
    vectors = np.asarray([[1.0, 0.1, 0.0], [1.0, 0.0, 0.1], [0.8, 0.3, 0.3]], dtype=np.float32)
    found = [frozenset(ActorMatcher().find(text)) for text in texts]
    assert found == [{"god man"}, {"Försäkringskassan"}, {"god man", "Kronofogden"}]
    grouper = StatementGrouper(n_neighbors=2, lexical_weight=0.0, context_weight=0.0, min_similarity=-1.0)
    dense = grouper.features(vectors)
    plain = dict(((a, b), s) for a, b, s in zip(*grouper.edges(dense, texts)))
    moved = dict(((a, b), s) for a, b, s in zip(*grouper.edges(dense, texts, actors=found)))
    assert moved[(0, 1)] == pytest.approx(plain[(0, 1)] - grouper.actor_penalty)
    assert moved[(0, 2)] == pytest.approx(plain[(0, 2)] + grouper.actor_weight * 0.5)
    assert moved[(1, 0)] == pytest.approx(plain[(1, 0)] - grouper.actor_penalty)


def test_an_issue_lists_the_actors_its_statements_name_not_their_passages(demo_store):
    """A county paragraph names the actors of all its problems; each statement keeps only the
    actors it names itself (found again here by a fresh gazetteer), and an issue lists those of
    its statements: the passage's other actors belong to other issues."""
    matcher = ActorMatcher()
    statements = demo_store.statements()
    passages = {p.id: p for p in demo_store.passages()}
    assert statements and all(s["actors"] == matcher.find(s["text"]) for s in statements)
    lent = 0
    for issue in demo_store.issues():
        members = [s for s in statements if s["issue_id"] == issue["id"]]
        named = Counter(a for s in members for a in set(s["actors"]))
        if named:
            assert set(issue["actors"]) == set(named), issue["label"]
            assert [named[a] for a in issue["actors"]] == sorted(named.values(), reverse=True)
            lent += bool({a for s in members for a in passages[s["passage_id"]].actors} - set(named))
        else:  # no statement names anyone: the passages tell who it concerns
            assert set(issue["actors"]) == {a for s in members for a in passages[s["passage_id"]].actors}
    assert lent >= 3  # issues whose passages name actors their statements do not (the old list)


def test_issue_actors_fall_back_to_the_passage_and_take_a_researchers_additions():
    passages = {
        1: StoredPassage(id=1, doc_id=1, file="a.pdf", text="Försäkringskassan och god man. Lång väntan.",
                         text_hash="p1", actors=("Försäkringskassan", "god man")),
        2: StoredPassage(id=2, doc_id=1, file="a.pdf", text="Lång väntan hos socialtjänsten.", text_hash="p2",
                         actors=("socialtjänsten",)),
    }  # fmt: skip
    waiting = {"passage_id": 1, "actors": []}
    social = {"passage_id": 2, "actors": ["socialtjänsten"]}
    assert issue_actors([waiting, social], passages, {}) == ["socialtjänsten"]
    # a researcher said the first passage concerns Kronofogden: its statements count it
    assert issue_actors([waiting, social], passages, {"p1": ["Kronofogden"]}) == ["Kronofogden", "socialtjänsten"]
    # actors not known (a store grouped before statements kept them): the passage's
    assert issue_actors([{"passage_id": 1, "actors": None}], passages, {}) == ["Försäkringskassan", "god man"]
    # no statement names anyone: the passages say who it concerns
    assert issue_actors([waiting], passages, {}) == ["Försäkringskassan", "god man"]


def test_the_codebook_themes_two_statements_share_move_their_edge():
    """Themes can be a prior like actors (off by default, README): shared themes strengthen an
    edge, none in common weaken it, and zero weights (the default) leave the similarity alone."""
    texts = ["Skulder hos Kronofogden stänger ute från bostadsmarknaden.", "Bostadslösa får inget boende.",
             "Lång väntan på utredning inom psykiatrin."]  # fmt: skip
    vectors = np.asarray([[1.0, 0.2, 0.0], [1.0, 0.0, 0.2], [0.9, 0.3, 0.3]], dtype=np.float32)
    themes = [("bostad", "ekonomi"), ("bostad",), ("vantetider", "vard_och_stod")]
    grouper = StatementGrouper(
        n_neighbors=2, lexical_weight=0.0, context_weight=0.0, min_similarity=-1.0, theme_weight=0.1, theme_penalty=0.075
    )
    dense = grouper.features(vectors)
    plain = dict(((a, b), s) for a, b, s in zip(*grouper.edges(dense, texts)))
    moved = dict(((a, b), s) for a, b, s in zip(*grouper.edges(dense, texts, themes=themes)))
    assert moved[(0, 1)] == pytest.approx(plain[(0, 1)] + grouper.theme_weight * 0.5)
    assert moved[(0, 2)] == pytest.approx(plain[(0, 2)] - grouper.theme_penalty)
    off = StatementGrouper(n_neighbors=2, lexical_weight=0.0, context_weight=0.0, min_similarity=-1.0, theme_weight=0.0,
                           theme_penalty=0.0)  # fmt: skip
    assert dict(((a, b), s) for a, b, s in zip(*off.edges(dense, texts, themes=themes))) == pytest.approx(plain)
    # an edge the penalty takes below `min_similarity` is dropped
    strict = StatementGrouper(
        n_neighbors=2, lexical_weight=0.0, context_weight=0.0, min_similarity=plain[(0, 2)] - 0.01, theme_penalty=0.075
    )
    assert (0, 2) in plain and (0, 2) not in dict(((a, b), s) for a, b, s in zip(*strict.edges(dense, texts, themes=themes)))


def test_added_statements_that_join_an_issue_bring_their_neighbours():
    """An added statement linked only to other added statements joins the issue they join:
    a new report's statements on an old problem do not outweigh it by their links to each other."""
    labels = np.asarray([0, 0, 0, -1, -1, -1], dtype=np.int64)
    added = np.asarray([3, 4, 5])
    # 3 is close to issue 0; 4 is close to 3 and a little to 5; 5 to nothing grouped
    starts = np.asarray([3, 3, 4, 4, 5])
    ends = np.asarray([0, 1, 3, 5, 4])
    sims = np.asarray([0.5, 0.4, 0.6, 0.2, 0.2])
    left = StatementGrouper._join_groups(labels, added, starts, ends, sims)
    assert labels.tolist() == [0, 0, 0, 0, 0, 0] and left == []
    # without a first link into the issue nothing joins
    labels = np.asarray([0, 0, 0, -1, -1, -1], dtype=np.int64)
    assert StatementGrouper._join_groups(labels, added, starts[2:], ends[2:], sims[2:]) == [3, 4, 5]
    assert labels.tolist() == [0, 0, 0, -1, -1, -1]


def test_tfidf_rows_from_kept_frequencies_are_the_fitted_ones(demo_db):
    """An assignment computes TF-IDF rows of the added statements and their neighbours from
    the kept document frequencies, without reading every text: the same vectors as fitting."""
    texts = list({s["text_hash"]: s["text"] for s in Store(demo_db, readonly=True).statements()}.values())
    grouper = StatementGrouper()
    fitted = grouper.lexical(texts)
    assert grouper.frequencies_ == {"n": len(texts), "df": dict(grouper.document_frequencies(texts))}
    rows = [3, 40, 41, 200, 40]
    partial = grouper.lexical(texts, np.asarray(rows), grouper.frequencies_)
    assert partial.shape[0] == len(texts) and partial[[0, 1, 2]].nnz == 0
    chosen = sorted(set(rows))
    assert np.allclose((fitted[chosen] @ fitted[chosen].T).toarray(), (partial[chosen] @ partial[chosen].T).toarray())
    assert np.allclose(np.asarray(partial[chosen].multiply(partial[chosen]).sum(axis=1)).ravel(), 1.0)


def test_pair_similarities_in_chunks_are_the_dot_products():
    from scipy import sparse

    rng = np.random.default_rng(0)
    matrix = sparse.random(50, 30, density=0.2, format="csr", random_state=1)
    starts, ends = rng.integers(0, 50, size=1000), rng.integers(0, 50, size=1000)
    full = (matrix @ matrix.T).toarray()[starts, ends]
    assert np.allclose(pair_similarities(matrix, starts, ends, chunk=7), full)
    assert np.allclose(pair_similarities(matrix, starts, ends), full)


def test_statements_carry_their_own_themes_and_issues_count_them(demo_store):
    """A statement is themed on its own text with its passage as setting, so a passage listing
    several problems has statements of several themes; an issue's themes are its statements'."""
    statements = demo_store.statements()
    assert statements and all(s["themes"] for s in statements)
    mains: dict[int, set] = {}
    for s in statements:
        mains.setdefault(s["passage_id"], set()).add(s["themes"][0])
    assert any(len(themes) >= 2 for themes in mains.values())
    for issue in demo_store.issues():
        counts = Counter(s["themes"][0] for s in statements if s["issue_id"] == issue["id"])
        assert set(issue["themes"]) == set(counts)
        assert counts[issue["themes"][0]] == max(counts.values())


def test_a_store_made_before_statement_themes_gets_the_column(demo_db, tmp_path):
    old = tmp_path / "old.db"
    shutil.copy(demo_db, old)
    with sqlite3.connect(old) as conn:
        conn.execute("ALTER TABLE statements DROP COLUMN themes")
    with Store(old, readonly=True) as store:  # read as it is: no themes yet
        assert store.statements() and all(s["themes"] == [] for s in store.statements())
    with Store(old) as store:
        assert store.statements() and all(s["themes"] == [] for s in store.statements())
        store.save_recurring([dict(s, themes=["bostad"]) for s in store.statements()], store.issues())
        assert {tuple(s["themes"]) for s in store.statements()} == {("bostad",)}


def test_the_users_actor_file_names_statement_and_issue_actors(demo_db, tmp_path, monkeypatch):
    """An actor file of the user's (`--actors`) is read for every statement (the lists
    changed), its actors reach the statements and issues that name them, and its names are
    kept for naming issues again when the explorer reapplies corrections."""
    db = tmp_path / "actors.db"
    shutil.copy(demo_db, db)
    own = tmp_path / "aktorer.yaml"
    own.write_text("Socialstyrelsen:\n  - Socialstyrelsen\n  - Socialstyrelsens\n", encoding="utf-8")
    monkeypatch.setattr(recurring_stage, "ActorMatcher", _CountingMatcher)
    _CountingMatcher.read = []
    with Store(db) as store:
        embedder = load_embedder(store.get_meta(MODEL_META_KEY))
        stage = RecurringStage(actor_files=(own,))
        assert stage.run(AnalysisInput(store, embedder, store.passages(), lambda *_: None))
        statements = store.statements()
        assert sorted(_CountingMatcher.read) == sorted({s["text"] for s in statements})
        naming = [s for s in statements if "Socialstyrelsen" in s["text"]]
        assert naming and all("Socialstyrelsen" in s["actors"] for s in naming)
        issues = {i["id"]: i for i in store.issues()}
        grouped = [s for s in naming if s["issue_id"]]
        assert grouped and all("Socialstyrelsen" in issues[s["issue_id"]]["actors"] for s in grouped)
        assert "Socialstyrelsen" in json.loads(store.get_meta(ACTOR_WORDS_KEY))
        before = [(i["id"], i["label"], i["actors"]) for i in store.issues()]
        reassemble(store)  # the explorer's path: no actor files at hand, the kept ones count
        assert [(i["id"], i["label"], i["actors"]) for i in store.issues()] == before


def test_a_store_made_before_statement_actors_reads_and_regroups(demo_db, tmp_path):
    """Statements stored without their actors read as not known (None), issues then count
    their passages' actors, and the next grouping finds them."""
    old = tmp_path / "old-actors.db"
    shutil.copy(demo_db, old)
    with sqlite3.connect(old) as conn:
        conn.execute("ALTER TABLE statements DROP COLUMN actors")
    with Store(old, readonly=True) as store:
        assert store.statements() and all(s["actors"] is None for s in store.statements())
    with Store(old) as store:
        assert all(s["actors"] is None for s in store.statements())
        reassemble(store)
        passages = {p.id: p for p in store.passages()}
        statements = store.statements()
        for issue in store.issues():
            lent = {a for s in statements if s["issue_id"] == issue["id"] for a in passages[s["passage_id"]].actors}
            assert set(issue["actors"]) == lent
        embedder = load_embedder(store.get_meta(MODEL_META_KEY))
        assert RecurringStage(regroup=True).run(AnalysisInput(store, embedder, store.passages(), lambda *_: None))
        matcher = ActorMatcher()
        assert all(s["actors"] == matcher.find(s["text"]) for s in store.statements())


def test_at_most_so_many_neighbours_come_from_a_statements_own_report():
    """A report's style and subject make its statements each other's nearest neighbours; with
    `own_report_neighbors` the graph keeps at most that many of them per statement and fills
    up with the nearest statements of other reports, in order of similarity."""
    rng = np.random.default_rng(3)
    base = rng.normal(size=16)
    own = [base + 0.1 * rng.normal(size=16) for _ in range(6)]  # report a: close to each other
    other = [base + 0.6 * rng.normal(size=16) for _ in range(6)]  # report b: further away
    vectors = np.asarray(own + other, dtype=np.float32)
    texts = [f"påstående {i}" for i in range(12)]
    reports = ["a"] * 6 + ["b"] * 6
    plain = StatementGrouper(n_neighbors=4, candidates=3, lexical_weight=0.0, context_weight=0.0, min_similarity=-1.0,
                             actor_weight=0.0, actor_penalty=0.0)  # fmt: skip
    capped = StatementGrouper(n_neighbors=4, candidates=3, lexical_weight=0.0, context_weight=0.0, min_similarity=-1.0,
                              actor_weight=0.0, actor_penalty=0.0, own_report_neighbors=1)  # fmt: skip
    dense = plain.features(vectors)
    starts, ends, _ = plain.edges(dense, texts, reports=reports)
    assert all(reports[e] == "a" for s, e in zip(starts, ends) if s == 0)  # its own report crowds it
    starts, ends, sims = capped.edges(dense, texts, reports=reports)
    for row in range(12):
        mine = [(e, w) for s, e, w in zip(starts.tolist(), ends.tolist(), sims.tolist()) if s == row]
        assert len(mine) == 4
        assert sum(reports[e] == reports[row] for e, _ in mine) <= 1
        # the others are the nearest of the other report, best first
        foreign = [e for e, _ in mine if reports[e] != reports[row]]
        ranked = [j for j in np.argsort(-(dense @ dense[row]), kind="stable") if reports[j] != reports[row]]
        assert foreign == ranked[: len(foreign)]
    # without report keys the cap has nothing to count: the plain graph
    assert [a.tolist() for a in capped.edges(dense, texts)] == [a.tolist() for a in plain.edges(dense, texts)]


def test_an_added_report_with_a_new_problem_gets_a_new_issue():
    """Assignment joins an added statement to the old issue it is linked to, and the added
    statements of a problem no issue holds form an issue of their own (numbered after the
    old ones), at the grouping's own resolution: the subgraph of unplaced statements is split
    under the whole graph's modularity (before, Louvain on those few statements alone shattered
    them into single, ungrouped statements); the old issues keep their members."""
    rng = np.random.default_rng(5)
    axes = np.eye(8, dtype=np.float32)

    def near(axis: int, n: int) -> list:
        return [axes[axis] + 0.15 * rng.normal(size=8) for _ in range(n)]

    vectors = np.asarray(near(0, 20) + near(1, 20) + near(2, 5) + near(0, 1) + near(3, 20), dtype=np.float32)
    reports = ["a", "b"] * 20 + ["c"] * 6 + ["a", "b"] * 10
    previous = np.asarray([0] * 20 + [1] * 20 + [-2] * 6 + [2] * 20)
    texts = [f"påstående {i}" for i in range(len(vectors))]
    grouper = StatementGrouper(lexical_weight=0.0, context_weight=0.0, actor_weight=0.0, actor_penalty=0.0)
    labels = grouper.assign(vectors, texts, previous, reports=reports)
    assert labels[:40].tolist() == previous[:40].tolist() and labels[46:].tolist() == previous[46:].tolist()
    assert labels[45] == 0  # the added statement on an old problem joins its issue
    assert labels[40:45].tolist() == [3] * 5  # the new problem: a new issue


def test_an_actor_a_researcher_adds_to_a_passage_reaches_its_issues(demo_db, tmp_path):
    db = tmp_path / "actor-added.db"
    shutil.copy(demo_db, db)
    with Store(db) as store:
        statement = next(s for s in store.statements() if s["issue_id"] and "Polisen" not in s["actors"])
        passage = next(p for p in store.passages() if p.id == statement["passage_id"])
        issue = next(i for i in store.issues() if i["id"] == statement["issue_id"])
        assert "Polisen" not in issue["actors"]
        store.set_correction(passage.text_hash, "actor:Polisen", APPLIES)
        assert store.actor_additions() == {passage.text_hash: ["Polisen"]}
        reassemble(store)
        assert "Polisen" in next(i for i in store.issues() if i["id"] == statement["issue_id"])["actors"]
