"""Hostile input: mutated PDFs and odd Unicode find no crash and no hang."""
from __future__ import annotations

import json
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
@pytest.mark.parametrize("target, runs", [("text", 5000), ("pdf", 30)])
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


# ------------------------------------------------------------------ issue 19: nothing crashes
ALIAS_BOMB = "\n".join(
    ["a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
       f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]" for i in range(8)]
    + ["org: *i"]
) + "\n"


def _cli(*args: str, prefix: tuple[str, ...] = (), timeout: int = 600):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    return subprocess.run(
        [*prefix, sys.executable, "-m", "systemfel.cli", *args], capture_output=True, text=True, timeout=timeout,
        env=os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}, cwd=ROOT,
    )  # fmt: skip


def _two_reports(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        _report(folder / "forsta.pdf", "Klienten väntade i fyra månader på Försäkringskassans beslut om "
                                       "sjukersättning och saknade all inkomst under tiden."),
        _report(folder / "andra.pdf", "Socialtjänsten avslog ansökan om ekonomiskt bistånd utan att "
                                      "klienten fick veta hur ett överklagande går till."),
    ]


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    """332 bytes that expand to a billion strings (item 4): refused, not expanded."""
    from systemfel.ingest.metadata import load_sidecar

    pdf = tmp_path / "bomb.pdf"
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB, encoding="utf-8")
    warnings: list[str] = []
    with deadline(10):
        assert load_sidecar(pdf, warnings) is None
    assert warnings and "alias" in warnings[0].lower()


def test_hostile_sidecars_never_stop_the_batch(tmp_path):
    """Alias bomb, a non-string key, a list as a value, a field of a megabyte (items 4 and 5):
    each report is stored, each sidecar problem is a Swedish warning."""
    from systemfel.pipeline import BuildOptions, build
    from systemfel.store import Store

    folder = tmp_path / "in"
    pdfs = _two_reports(folder) + [
        _report(folder / "tredje.pdf", "Kronofogden utmätte lönen trots att klienten saknade pengar till hyran."),
        _report(folder / "fjarde.pdf", "Psykiatrin skrev ut klienten utan att någon samordnad plan fanns."),
    ]
    (folder / "forsta.yaml").write_text(ALIAS_BOMB, encoding="utf-8")
    (folder / "andra.yaml").write_text("2025: yes\norg: PO Provkommun\n", encoding="utf-8")
    (folder / "tredje.yaml").write_text("org: [a, b]\ntitle: {x: 1}\n", encoding="utf-8")
    (folder / "fjarde.yaml").write_text("title: " + "x" * 1_000_000 + "\n", encoding="utf-8")
    db = tmp_path / "store.db"
    with deadline(300), Store(db) as store:
        summary = build(store, [folder], options=BuildOptions(analyse=False, workers=0))
        docs = {d.file: d for d in store.documents()}
    assert [f.status for f in summary.files] == ["new"] * 4, [f.message for f in summary.files]
    assert {p.name for p in pdfs} == set(docs)
    assert docs["andra.pdf"].meta.org == "PO Provkommun"
    assert all(len(d.meta.title) <= 300 and len(d.meta.org) <= 300 for d in docs.values())
    warned = {Path(f.path).name: f.warnings for f in summary.files}
    assert all(warned[name] for name in ("forsta.pdf", "andra.pdf", "tredje.pdf", "fjarde.pdf")), warned


def test_an_unexpected_error_in_one_file_does_not_stop_a_build_in_process(tmp_path, monkeypatch):
    """--workers 0 reads in the build's own process: one file that raises is reported, the rest stored."""
    from systemfel.pipeline import BuildOptions, FileReader, build
    from systemfel.store import Store

    pdfs = _two_reports(tmp_path / "in")
    real_read = FileReader.read

    def read(self, path, sha256, *rest):
        if path.name == "andra.pdf":
            raise TypeError("'<' not supported between instances of 'int' and 'str'")
        return real_read(self, path, sha256, *rest)

    monkeypatch.setattr(FileReader, "read", read)
    with Store(tmp_path / "store.db") as store:
        summary = build(store, pdfs, options=BuildOptions(analyse=False, workers=0))
    assert [f.status for f in summary.files] == ["new", "failed"]
    assert "Oväntat fel" in summary.files[1].message


def test_a_file_name_that_is_not_utf8_is_stored_with_the_rest(tmp_path):
    """Latin-1 bytes in a file name (item 6): the whole batch is stored and summarised."""
    import os

    folder = tmp_path / "in"
    good = _two_reports(folder)
    latin = os.fsdecode(bytes(folder) + b"/r\xe5pport-\xf6rebro.pdf")
    Path(latin).write_bytes(good[0].read_bytes().replace(b"Brister", b"Bristen"))
    result = _cli("build", str(folder), "--db", str(tmp_path / "store.db"), "--no-analysis", "--workers", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "3 filer: 3 klara" in result.stdout
    listing = _cli("documents", "--db", str(tmp_path / "store.db"), "--json")
    files = sorted(json.loads(line)["file"] for line in listing.stdout.splitlines())
    assert files == ["andra.pdf", "forsta.pdf", "råpport-örebro.pdf"]


def _can_unshare() -> bool:
    import shutil
    import subprocess

    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True)
    return probe.returncode == 0


needs_mount = pytest.mark.skipif(not _can_unshare(), reason="needs root to mount a private file system")


@needs_mount
def test_a_full_disk_during_a_build_is_explained_and_the_store_stays_intact(tmp_path):
    """The store lies on a file system of 400 KB (item 7): a Swedish message, exit 1, and
    what was stored before the disk filled stays readable."""
    import shutil
    import sqlite3

    from tests.conftest import CORPUS

    disk = tmp_path / "disk"
    disk.mkdir()
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    script = (f"mount -t tmpfs -o size=400k tmpfs {disk} && "
              f"\"$0\" -m systemfel.cli build {corpus} --db {disk}/store.db --no-analysis --workers 1; "
              f"code=$?; cp {disk}/store.db* {tmp_path}/ 2>/dev/null; exit $code")  # fmt: skip
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    result = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script, sys.executable],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env=os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 1, (result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    assert "disken är full" in result.stderr.lower() or "disken är full" in result.stdout.lower()
    conn = sqlite3.connect(tmp_path / "store.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def _read_only_copy_script(db: Path, folder: Path, command: str) -> list[str]:
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && {command}"]  # fmt: skip


@needs_mount
def test_a_store_on_a_read_only_file_system_can_be_read(tmp_path):
    """Item 8: documents, export and search work on a store in a read-only folder, and say so."""
    import os
    import subprocess
    import sys

    from systemfel.pipeline import BuildOptions, build
    from systemfel.store import Store
    from tests.conftest import ROOT

    folder = tmp_path / "ro"
    pdfs = _two_reports(tmp_path / "in")
    db = folder / "store.db"
    with Store(db) as store:
        build(store, pdfs, options=BuildOptions(analyse=False, workers=0))
    before = sorted(p.name for p in folder.iterdir())
    command = f"\"$0\" -m systemfel.cli documents --db {db} && \"$0\" -m systemfel.cli export passages --db {db}"
    result = subprocess.run(
        [*_read_only_copy_script(db, folder, command), sys.executable], capture_output=True, text=True,
        timeout=600, cwd=ROOT, env=os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "forsta.pdf" in result.stdout and "sjukersättning" in result.stdout
    assert "skrivskydd" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == before


@pytest.mark.parametrize("name", ["a#b.db", "what?.db", "100%.db", "x%20y#z?mode=rw.db"])
def test_store_paths_with_uri_characters(tmp_path, name):
    """Item 9: '#', '?' and '%' in the path: opened read-only where asked, no stray files."""
    import sqlite3

    from systemfel.store import Store

    db = tmp_path / name
    with Store(db) as store:
        store.set_meta("probe", "1")
    before = sorted(p.name for p in tmp_path.iterdir())
    with Store(db, readonly=True) as store:
        assert store.get_meta("probe") == "1"
        with pytest.raises(sqlite3.OperationalError):
            store.conn.execute("INSERT INTO meta(key, value) VALUES ('x', 'y')")
    side_files = {f"{name}-wal", f"{name}-shm"}  # SQLite's own, beside the database
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in side_files) == before


# ------------------------------------------------------------------ issue 19: abuse and wrong use
def _store_with_texts(db: Path, texts: list[str]) -> None:
    from systemfel.base.records import DocumentMeta
    from systemfel.store import Store

    passages = [Passage(text=t, page=1, heading_path=["=Rubrik"], block_kind="paragraph", seq=i)
                for i, t in enumerate(texts)]  # fmt: skip
    with Store(db) as store:
        store.replace_document(path="/x/rapport.pdf", sha256="0" * 64, meta=DocumentMeta(org="@PO Provkommun"),
                               pages=1, blocks=[], passages=passages)  # fmt: skip


@pytest.mark.parametrize("what, fmt", [("passages", "csv"), ("figures", "csv")])
def test_cli_csv_exports_never_hold_a_formula(tmp_path, capsys, what, fmt):
    """Item 11: cells starting with =, +, -, @ are neutralised as in the explorer's downloads."""
    import csv
    import io

    from systemfel.base.spreadsheet import FORMULA_START
    from systemfel.cli import main

    db = tmp_path / "store.db"
    _store_with_texts(db, ['=HYPERLINK("http://example.invalid","klicka")', "+1+1", "-2+3", "@SUM(A1)"])
    assert main(["export", what, "--db", str(db), "--format", fmt]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_START)]
    if what == "passages":
        assert "'=HYPERLINK(\"http://example.invalid\",\"klicka\")" in cells and "'@PO Provkommun" in cells


def test_a_very_long_query_is_refused_at_once(tmp_path):
    """Item 12: 20,000 characters took 42 s; now a Swedish message and exit 2 at once."""
    db = tmp_path / "store.db"
    _store_with_texts(db, ["Klienten väntade länge på beslut."])
    with deadline(60):
        result = _cli("search", "väntetid " * 2500, "--db", str(db))
    assert result.returncode == 2
    assert "för lång" in result.stderr and "Traceback" not in result.stderr


def test_a_symlinked_store_takes_the_same_lock(tmp_path):
    """Item 13: a build through a symlink sees a build through the real path."""
    from filelock import FileLock

    from systemfel.pipeline import BuildError, BuildOptions, build
    from systemfel.store import Store

    real = tmp_path / "real.db"
    Store(real).close()
    link = tmp_path / "link.db"
    link.symlink_to(real)
    with FileLock(str(real) + ".lock"):
        with Store(link) as store, pytest.raises(BuildError):
            build(store, [], options=BuildOptions(analyse=False, workers=0))


@pytest.mark.parametrize(
    "option, value",
    [("--wait", "-1"), ("--max-pages", "-1"), ("--max-pages", "0"), ("--timeout", "0"), ("--timeout", "-5"),
     ("--workers", "-1"), ("--timeout", "nan"), ("--wait", "inf")],
)  # fmt: skip
def test_numeric_build_options_are_checked(tmp_path, option, value):
    """Item 14: a negative or zero limit is wrong use (exit 2, Swedish), never 'no limit'."""
    result = _cli("build", str(tmp_path), "--db", str(tmp_path / "x.db"), option, value, "--no-analysis")
    assert result.returncode == 2, result.stderr[-500:]
    assert "fel:" in result.stderr and option in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("args", [["search", "x", "--k", "0"], ["search", "x", "--k", "-3"],
                                  ["app", "--port", "0"], ["app", "--port", "70000"]])  # fmt: skip
def test_other_numeric_options_are_checked(tmp_path, args):
    result = _cli(*args, "--db", str(tmp_path / "x.db"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{args[-2]}: " in result.stderr and ("heltal" in result.stderr or "mellan" in result.stderr)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_worker_processes_end_with_a_killed_build(tmp_path):
    """Item 15: after kill -9 of a build its reader processes exit at once, not 15 s later."""
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import CORPUS, ROOT, spawned_workers
    from tests.test_faults import _stored_documents

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    proc = subprocess.Popen(
        [sys.executable, "-m", "systemfel.cli", "build", str(corpus), "--db", str(tmp_path / "x.db"),
         "--no-analysis", "--workers", "2"],
        env=os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers: list[int] = []
    try:
        limit = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < limit and proc.poll() is None:
            time.sleep(0.2)
            workers = spawned_workers(proc.pid)
        assert len(workers) >= 2, "the build started its reader processes"
        while not _stored_documents(tmp_path / "x.db") and time.monotonic() < limit + 300 and proc.poll() is None:
            time.sleep(0.2)  # the workers are past starting up: they have read a report
        assert proc.poll() is None, "the build is still reading when it is killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        limit = time.monotonic() + 3
        while any(_alive(p) for p in workers) and time.monotonic() < limit:
            time.sleep(0.1)
        assert not [p for p in workers if _alive(p)]
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
