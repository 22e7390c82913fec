"""Why a file could not be read, in a form both code (``code``) and users (``message``) understand."""
from __future__ import annotations

ERROR_CODES = ("empty", "not_pdf", "encrypted", "corrupt", "no_text", "too_large", "too_many_pages")


class IngestError(Exception):
    """A file that cannot be turned into passages; ``message`` is Swedish and shown to users."""

    def __init__(self, code: str, message: str):
        if code not in ERROR_CODES:
            raise ValueError(f"unknown ingest error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.ocr_pages: list = []  # pages OCR read before the file turned out unreadable (OcrPage), to cache

    def __reduce__(self):
        # Keeps the error picklable, so worker processes can hand it back.
        return (type(self), (self.code, self.message))
