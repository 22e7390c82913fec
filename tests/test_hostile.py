"""Hostile input: mutated PDFs and odd Unicode find no crash and no hang."""
from __future__ import annotations

import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from systemfel.ingest import read_document
from systemfel.ingest.errors import IngestError
from systemfel.base.records import Passage
from tests.conftest import CORPUS

ODD_CHARS = [
    "\u200b",  # zero-width space
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\ufeff",  # byte-order mark
    "\x00",
    "\x07",
    "\u00ad",  # soft hyphen
    "\ufb01",  # fi ligature
    "\U0001f600",
    "\u0301",  # combining acute
    "\ud800",  # lone surrogate
    "ا",
    "\n",
    "\t",
]
odd_text = st.text(alphabet=st.sampled_from(ODD_CHARS) | st.characters(), max_size=400)


@contextmanager
def deadline(seconds: int):
    """Fail instead of hanging: SIGALRM interrupts a stuck call."""

    def on_alarm(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def reader():
    from systemfel.nlp.reader import PassageReader

    return PassageReader()


@pytest.fixture(scope="module")
def pii():
    from systemfel.nlp.pii import PiiDetector

    return PiiDetector()


def _passages(texts):
    return [Passage(text=t, page=1, heading_path=["Brister"], block_kind="paragraph", seq=i) for i, t in enumerate(texts)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(odd_text, min_size=1, max_size=4))
def test_text_pipeline_survives_odd_unicode(reader, pii, texts):
    with deadline(30):
        labels = reader.label(_passages(texts))
        reader.figures(_passages(texts), year=2024)
        for text in texts:
            masked, counts = pii.mask(text)
            assert isinstance(masked, str) and all(n > 0 for n in counts.values())
    assert len(labels) == len(texts)
    assert all(label.kind in ("deficiency", "good_example", "background") for label in labels)


def test_text_pipeline_handles_a_one_megabyte_line(reader, pii):
    line = ("Klienten väntade länge på Försäkringskassan\u200b och fick avslag. " * 20000)[:1_000_000]
    with deadline(240):
        labels = reader.label(_passages([line]))
        masked, _ = pii.mask(line)
    assert labels[0].kind in ("deficiency", "good_example", "background")
    assert len(masked) == len(line)


SMALL_PDF = sorted(CORPUS.glob("*.pdf"), key=lambda p: p.stat().st_size)[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cuts=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=0, max_size=64)), min_size=1, max_size=6),
    truncate=st.one_of(st.none(), st.floats(0.05, 1.0)),
)
def test_mutated_pdfs_parse_or_fail_clearly(tmp_path_factory, cuts, truncate):
    data = bytearray(SMALL_PDF.read_bytes())
    for where, junk in cuts:
        at = int(where * (len(data) - 1))
        data[at : at + len(junk)] = junk
    if truncate is not None:
        data = data[: max(1, int(len(data) * truncate))]
    path = tmp_path_factory.mktemp("fuzz") / "mutated.pdf"
    path.write_bytes(bytes(data))
    with deadline(120):
        try:
            parsed = read_document(path)
        except IngestError as exc:
            assert exc.message and exc.code
            return
    assert parsed.pages >= 0
    assert all(isinstance(p.text, str) for p in parsed.passages)


def test_garbage_with_pdf_header_fails_clearly(tmp_path):
    path = tmp_path / "junk.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 50)
    with pytest.raises(IngestError) as info:
        read_document(path)
    assert info.value.code in ("corrupt", "no_text", "empty")


@pytest.mark.slow
@pytest.mark.parametrize("target, runs", [("text", 5000), ("pdf", 60)])
def test_atheris_finds_no_crash(tmp_path, target, runs):
    """A short coverage-guided run; tests/fuzz_atheris.py runs longer by hand."""
    pytest.importorskip("atheris")
    import subprocess
    import sys

    harness = Path(__file__).resolve().parent / "fuzz_atheris.py"
    result = subprocess.run(
        [sys.executable, str(harness), target, f"-runs={runs}", "-max_total_time=120", f"-artifact_prefix={tmp_path}/"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done" in result.stderr
    assert not list(tmp_path.glob("crash-*"))


# ------------------------------------------------------------------ issue 19: nothing lost
def _report(path: Path, body: str) -> Path:
    from tests.pdfgen import simple_pdf

    return simple_pdf(path, [body], title="Brister och systemfel 2024", author="PO Provkommun")


def test_two_uploads_with_one_name_both_stay(tmp_path):
    """Uploads are stored by content: a second "rapport.pdf" from another organisation is a
    second report, not a replacement of the first (item 10)."""
    import io

    from systemfel.explorer.uploads import save_upload, upload_folder
    from systemfel.pipeline import BuildOptions, build
    from systemfel.store import Store

    first = _report(tmp_path / "a.pdf", "Klienten väntade i fyra månader på Försäkringskassans beslut om "
                                        "sjukersättning och saknade all inkomst under tiden.").read_bytes()
    second = _report(tmp_path / "b.pdf", "Socialtjänsten avslog ansökan om ekonomiskt bistånd utan att "
                                         "klienten fick veta hur ett överklagande går till.").read_bytes()
    db = tmp_path / "db" / "store.db"
    folder = upload_folder(db)
    one = save_upload(folder, "rapport.pdf", first)
    with Store(db) as store:
        build(store, [one], options=BuildOptions(analyse=False, workers=0))
    two = save_upload(folder, "rapport.pdf", io.BytesIO(second))  # streamed, as the explorer does
    again = save_upload(folder, "rapport.pdf", io.BytesIO(first))
    assert one != two and again == one and one.read_bytes() == first and two.read_bytes() == second
    with Store(db) as store:
        summary = build(store, [two, again], options=BuildOptions(analyse=False, workers=0))
        docs = store.documents()
    assert [f.status for f in summary.files] == ["new", "unchanged"]
    assert [d.file for d in docs] == ["rapport.pdf", "rapport.pdf"]
    assert all(d.status == "ok" and d.n_passages >= 1 for d in docs)
    assert not list(folder.glob(".uppladdning-*")), "no half-written files are left"
