"""Every real-world PDF in ../shared/pdf-wild goes through `systemfel build`: ingested or reported with its reason."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from systemfel.store import Store
from tests.conftest import ROOT, SHARED

WILD = SHARED / "pdf-wild"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not WILD.is_dir(), reason="../shared/pdf-wild is not beside the project"),
]


def test_build_accounts_for_every_wild_pdf(tmp_path):
    db = tmp_path / "wild.db"
    result = subprocess.run(
        [sys.executable, "-m", "systemfel.cli", "build", str(WILD), "--db", str(db), "--no-analysis", "--timeout", "240"],
        capture_output=True, text=True, timeout=1800, env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 1, "some of these files are broken on purpose, so the build must say so"
    files = sorted(p.name for p in WILD.glob("*.pdf"))
    for name in files:
        assert name in result.stdout, f"{name} missing from the summary"
    with Store(db, readonly=True) as store:
        docs = {d.file: d for d in store.documents()}
    reported_duplicates = {line.split()[1] for line in result.stdout.splitlines() if "Samma innehåll" in line}
    assert set(docs) | reported_duplicates == set(files)
    for name, doc in docs.items():
        assert doc.status in ("ok", "failed")
        if doc.status == "failed":
            assert doc.message, f"{name} failed without a reason"
        else:
            assert doc.n_passages > 0
    expected = {
        "pdfplumber-empty.pdf": "tom",
        "pdfplumber-password-example.pdf": "lösenord",
        "sample-libreoffice-writer-password.pdf": "lösenord",
        "sample-grayscale-image.pdf": "OCR",
    }
    for name, word in expected.items():
        assert docs[name].status == "failed" and word.lower() in docs[name].message.lower(), (name, docs[name].message)
    ok = [d for d in docs.values() if d.status == "ok"]
    assert len(ok) >= 50, "most real-world PDFs have text and must be ingested"
