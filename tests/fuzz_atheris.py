"""Coverage-guided fuzzing with atheris: the PDF reader and the text cleaners.

    .venv/bin/python tests/fuzz_atheris.py pdf  -runs=2000
    .venv/bin/python tests/fuzz_atheris.py text -runs=20000

A finding is any exception other than IngestError from the reader, or any exception at
all from the text functions; atheris then stops and writes the input to crash-*.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["ingest", "nlp.pii", "systemfel.base.textnorm"]):
    from systemfel.ingest import read_document
    from systemfel.ingest.cleanup import clean_text
    from systemfel.ingest.errors import IngestError
    from systemfel.nlp.pii import PiiDetector
    from systemfel.base.textnorm import normalize_for_match

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEED_PDF = sorted(CORPUS.glob("*.pdf"), key=lambda p: p.stat().st_size)[0].read_bytes()
WORKDIR = Path(tempfile.mkdtemp(prefix="fuzz-"))
DETECTOR = PiiDetector()


def fuzz_pdf(data: bytes) -> None:
    """Splice fuzzer bytes into a real report so the parser gets past the header."""
    fdp = atheris.FuzzedDataProvider(data)
    at = fdp.ConsumeIntInRange(0, len(SEED_PDF))
    cut = fdp.ConsumeIntInRange(0, 256)
    document = SEED_PDF[:at] + fdp.ConsumeBytes(512) + SEED_PDF[at + cut :]
    path = WORKDIR / "input.pdf"
    path.write_bytes(document)
    try:
        read_document(path)
    except IngestError:
        pass


def fuzz_text(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(4096)
    clean_text(text)
    normalize_for_match(text)
    masked, counts = DETECTOR.mask(text)
    assert all(n > 0 for n in counts.values())
    assert isinstance(masked, str)


def main() -> None:
    target = sys.argv.pop(1) if len(sys.argv) > 1 and sys.argv[1] in ("pdf", "text") else "text"
    atheris.Setup(sys.argv, fuzz_pdf if target == "pdf" else fuzz_text)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
