"""The REFI-QDA Project schema (Project-mrt2019.xsd, MIT, by REFI) and validation against it."""
from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

NS = "urn:QDA-XML:project:1.0"
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "Project-mrt2019.xsd"


def q(tag: str) -> str:
    """A tag in the project namespace, as lxml spells it."""
    return f"{{{NS}}}{tag}"


@functools.lru_cache(maxsize=1)
def project_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def schema_errors(root: etree._Element, limit: int = 5) -> list[str]:
    """Why a project document does not validate (empty when it does), at most `limit` lines."""
    schema = project_schema()
    if schema.validate(etree.ElementTree(root)):
        return []
    return [f"rad {e.line}: {e.message}" for e in list(schema.error_log)[:limit]]


def safe_parser() -> etree.XMLParser:
    """No entities expanded, nothing fetched: an imported file is somebody else's."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
