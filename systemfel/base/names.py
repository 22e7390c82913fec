"""Swedish names of the stored codes (kind, level), shared by the explorer, exports and the
QDA exchange so a code reads the same wherever a user meets it."""
from __future__ import annotations

KIND_SV = {"deficiency": "Brist", "good_example": "Gott exempel", "background": "Bakgrund"}
LEVEL_SV = {"handlaggare": "Handläggarnivå", "lokal": "Lokal nivå", "central": "Central nivå"}
NO_VALUE = "–"


def ocr_note(passage) -> str:
    """'OCR-läst, säkerhet 93 %' for a passage read from a scan; '' for a text layer."""
    if not getattr(passage, "ocr", False):
        return ""
    confidence = passage.ocr_confidence
    return "OCR-läst" + (f", säkerhet {confidence:.0f} %" if confidence is not None else "")


def kind_sv(kind: str | None) -> str:
    return KIND_SV.get(kind or "", kind or NO_VALUE)


def level_sv(level: str | None) -> str:
    return LEVEL_SV.get(level or "", level or NO_VALUE)
