"""Swedish display names for the codes stored in the database."""
from __future__ import annotations

import logging

from systemfel.base.names import KIND_SV, LEVEL_SV, NO_VALUE, kind_sv, level_sv, ocr_note
from systemfel.models.themes import Codebook

log = logging.getLogger(__name__)

__all__ = ["KIND_SV", "LEVEL_SV", "NO_VALUE", "ThemeNamer", "kind_sv", "level_sv", "ocr_note"]

def _codebook_themes() -> list:
    try:
        codebook = Codebook.load()
    except Exception as exc:  # noqa: BLE001 - names are a nicety, never a reason to fail a page
        log.warning("could not load the theme codebook: %s", exc)
        return []
    return [t for t in getattr(codebook, "themes", codebook) if getattr(t, "slug", None)]


def load_theme_names() -> dict[str, str]:
    """slug -> Swedish theme name from the codebook; empty when the codebook cannot be read.

    Callers fall back to the slug, so the explorer still works on a database whose
    themes came from another codebook.
    """
    return {t.slug: getattr(t, "name", None) or t.slug for t in _codebook_themes()}


def load_theme_descriptions() -> dict[str, str]:
    """slug -> what the theme covers, as the codebook describes it (may be empty)."""
    return {t.slug: getattr(t, "description", "") or "" for t in _codebook_themes()}


class ThemeNamer:
    """Turns theme slugs and cluster ids into the names users read."""

    def __init__(self, theme_names: dict[str, str], clusters: list[dict] | None = None):
        self.theme_names = dict(theme_names)
        self.clusters = {c["id"]: c for c in clusters or []}

    def theme(self, slug: str | None) -> str:
        if not slug:
            return NO_VALUE
        return self.theme_names.get(slug, slug)

    def themes(self, slugs: list[str] | None) -> str:
        return ", ".join(self.theme(s) for s in slugs or []) or NO_VALUE

    def cluster(self, cluster_id: int | None) -> str:
        if cluster_id is None:
            return NO_VALUE
        cluster = self.clusters.get(cluster_id)
        if cluster is None:
            return f"Kluster {cluster_id}"
        return f"Kluster {cluster_id}: {cluster['label']}"
