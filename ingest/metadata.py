"""Who wrote a report, where and when: from CLI overrides, a YAML sidecar, the PDF's info dict or the file name."""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

import yaml

from systemfel.base.records import DocumentMeta
from systemfel.base.yamlerror import describe_yaml_error

log = logging.getLogger(__name__)

SIDECAR_SUFFIXES = (".yaml", ".yml")
META_FIELDS = tuple(f.name for f in fields(DocumentMeta))
MAX_SIDECAR_BYTES = 64 * 1024  # a few fields; anything larger is not a metadata file
MAX_FIELD_CHARS = 300  # organisation, region, title and kind of report, from any source


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases: a sidecar holds a few plain fields, and
    nested aliases expand a few hundred bytes into gigabytes (the "billion laughs")."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent) or getattr(self.peek_event(), "anchor", None):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "alias och ankare (& och *) används inte", event.start_mark)
        return super().compose_node(parent, index)


def _scalar(value) -> str | None:
    """A plain YAML value as text; lists and mappings are not metadata."""
    if value is None or isinstance(value, (list, dict, set, tuple)):
        return None
    return str(value).strip()[:MAX_FIELD_CHARS]

# Swedish counties, keyed by the ASCII spelling file names use: (place, county as written).
COUNTIES = {
    "blekinge": ("Blekinge", "Blekinge län"),
    "dalarna": ("Dalarna", "Dalarnas län"),
    "gotland": ("Gotland", "Gotlands län"),
    "gavleborg": ("Gävleborg", "Gävleborgs län"),
    "halland": ("Halland", "Hallands län"),
    "jamtland": ("Jämtland", "Jämtlands län"),
    "jonkoping": ("Jönköping", "Jönköpings län"),
    "kalmar": ("Kalmar", "Kalmar län"),
    "kronoberg": ("Kronoberg", "Kronobergs län"),
    "norrbotten": ("Norrbotten", "Norrbottens län"),
    "skane": ("Skåne", "Skåne län"),
    "stockholm": ("Stockholm", "Stockholms län"),
    "sodermanland": ("Södermanland", "Södermanlands län"),
    "uppsala": ("Uppsala", "Uppsala län"),
    "varmland": ("Värmland", "Värmlands län"),
    "vasterbotten": ("Västerbotten", "Västerbottens län"),
    "vasternorrland": ("Västernorrland", "Västernorrlands län"),
    "vastmanland": ("Västmanland", "Västmanlands län"),
    "vastra-gotaland": ("Västra Götaland", "Västra Götalands län"),
    "orebro": ("Örebro", "Örebro län"),
    "ostergotland": ("Östergötland", "Östergötlands län"),
}
NATIONAL_ORGS = {"socialstyrelsen": "Socialstyrelsen", "lansstyrelsen": "Länsstyrelsen"}
REPORT_KINDS = {
    "lagesrapport": "lägesrapport",
    "erfarenhetsrapport": "erfarenhetsrapport",
    "arsrapport": "årsrapport",
    "verksamhetsberattelse": "verksamhetsberättelse",
    "systemfel": "brister och systemfel",
    "brister": "brister och systemfel",
}
# Names in Author/Creator that are software or placeholders, not organisations.
NOT_AN_ORG = re.compile(
    r"word|writer|latex|tex\b|reportlab|acrobat|adobe|microsoft|office|pdf|google|indesign|quartz|"
    r"ghostscript|distiller|anonymous|unknown|admin|user|owner|^\W*$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _valid_year(value) -> int | None:
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return year if 1950 <= year <= date.today().year + 1 else None


def load_sidecar(pdf_path: Path, warnings: list[str] | None = None) -> DocumentMeta | None:
    """Read ``<name>.yaml`` next to the PDF; None when there is none or it cannot be read.

    Problems are logged and, when `warnings` is given, added to it in Swedish for the user.
    """
    pdf_path = Path(pdf_path)
    warnings = warnings if warnings is not None else []
    for suffix in SIDECAR_SUFFIXES:
        sidecar = pdf_path.with_suffix(suffix)
        if not sidecar.is_file():
            continue
        try:
            if sidecar.stat().st_size > MAX_SIDECAR_BYTES:
                warnings.append(
                    f"Metadatafilen {sidecar.name} är större än {MAX_SIDECAR_BYTES // 1024} kB och användes inte."
                )
                return None
            data = yaml.load(sidecar.read_text(encoding="utf-8"), Loader=_NoAliasLoader)  # noqa: S506 - safe loader
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            log.warning("cannot read metadata file %s: %s", sidecar, exc)
            reason = describe_yaml_error(exc) if isinstance(exc, yaml.YAMLError) else type(exc).__name__
            warnings.append(f"Metadatafilen {sidecar.name} kunde inte läsas ({reason}) och användes inte.")
            return None
        if not isinstance(data, dict):
            log.warning("metadata file %s is not a mapping; ignored", sidecar)
            warnings.append(f"Metadatafilen {sidecar.name} har inte formen fält: värde och användes inte.")
            return None
        data = {str(key): value for key, value in data.items()}  # "2025: yes" has an int key
        unknown = sorted(set(data) - set(META_FIELDS))
        if unknown:
            log.warning("metadata file %s has unknown fields %s; ignored", sidecar, unknown)
            shown = ", ".join(name[:40] for name in unknown[:10])
            warnings.append(f"Metadatafilen {sidecar.name} har okända fält som inte användes: {shown}.")
        values = {name: _scalar(data.get(name)) for name in META_FIELDS}
        odd = [name for name in META_FIELDS if data.get(name) is not None and values[name] is None]
        if odd:
            warnings.append(f"Metadatafilen {sidecar.name}: fälten {', '.join(odd)} ska vara text och användes inte.")
        long = [name for name in META_FIELDS if isinstance(data.get(name), str) and len(data[name]) > MAX_FIELD_CHARS]
        if long:
            warnings.append(
                f"Metadatafilen {sidecar.name}: fälten {', '.join(long)} kortades till {MAX_FIELD_CHARS} tecken."
            )
        year = values["year"]
        if year is not None and _valid_year(year) is None:
            log.warning("metadata file %s has an invalid year %r; ignored", sidecar, year[:20])
            warnings.append(f"Metadatafilen {sidecar.name} har ett ogiltigt år ({year[:20]}) som inte användes.")
        return DocumentMeta(
            org=values["org"] or "",
            region=values["region"] or "",
            year=_valid_year(year) if year is not None else None,
            title=values["title"] or "",
            report_kind=values["report_kind"] or "",
        )
    return None


def _text(value) -> str:
    """PDF info values come as str, bytes or pdfminer objects."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        for encoding in ("utf-8", "utf-16", "latin-1"):
            try:
                value = value.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    text = str(value)
    if text.startswith("/") or text.startswith("<PDF"):
        return ""
    return unicodedata.normalize("NFC", text.replace("\x00", "")).strip()


@dataclass
class PdfMeta(DocumentMeta):
    """What the PDF says about itself. The year of its CreationDate is kept apart: it is when the
    file was written, a weaker hint than a year in the file name, so resolve() uses it last."""

    created_year: int | None = None


def from_pdf_info(info: dict, cover_title: str = "") -> PdfMeta:
    """Title, organisation (Author, else Creator, when they name one) and year from the PDF info dict."""
    title = _text(info.get("Title"))
    title = re.sub(r"^Microsoft (Word|PowerPoint) - ", "", title)
    if re.search(r"\.(docx?|odt|pdf|pptx?)$", title, re.IGNORECASE) or title.lower() in ("untitled", "namnlös"):
        title = ""
    title = title or cover_title
    org = ""
    for key in ("Author", "Creator"):
        candidate = _text(info.get(key))
        if candidate and not NOT_AN_ORG.search(candidate) and len(candidate) <= 120:
            org = candidate
            break
    in_title = _YEAR.findall(title)
    year = _valid_year(in_title[-1]) if in_title else None
    created = _text(info.get("CreationDate"))
    match = re.match(r"^(?:D:)?(\d{4})", created)
    created_year = _valid_year(match.group(1)) if match else None
    return PdfMeta(org=org, year=year, title=title, created_year=created_year)


def from_file_name(path: Path) -> DocumentMeta:
    """Guess from names like ``po-varmland-2024.pdf`` or ``socialstyrelsen-lagesrapport-2017.pdf``."""
    stem = _ascii(Path(path).stem)
    tokens = [t for t in re.split(r"[^a-z0-9]+", stem) if t]
    years = [_valid_year(t) for t in tokens if _YEAR.fullmatch(t)]
    year = next((y for y in reversed(years) if y), None)
    joined = "-".join(tokens)
    place = region = ""
    for key, (name, county) in sorted(COUNTIES.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"(^|-){key}(-|$)", joined):
            place, region = name, county
            break
    org = ""
    if tokens and tokens[0] in ("po", "personligt") and place:
        org = f"PO {place}"
    for key, name in NATIONAL_ORGS.items():
        if key in tokens:
            org, region = name, region or "Riket"
    kind = next((name for key, name in REPORT_KINDS.items() if key in tokens), "")
    return DocumentMeta(org=org, region=region, year=year, report_kind=kind)


def resolve(
    sidecar: DocumentMeta | None,
    pdf_meta: DocumentMeta | None,
    path: Path,
    overrides: DocumentMeta | None = None,
) -> DocumentMeta:
    """Each field from the first source that has it: overrides, sidecar, PDF metadata, file name.

    The year from the PDF's CreationDate comes after the file name (see PdfMeta)."""
    sources = [s for s in (overrides, sidecar, pdf_meta, from_file_name(Path(path))) if s is not None]
    values = {}
    for name in META_FIELDS:
        values[name] = next((getattr(s, name) for s in sources if getattr(s, name) not in (None, "")), None)
    if values["year"] is None and pdf_meta is not None:
        values["year"] = getattr(pdf_meta, "created_year", None)
    values = {k: (v if v is not None else ("" if k != "year" else None)) for k, v in values.items()}
    values = {k: v[:MAX_FIELD_CHARS] if isinstance(v, str) else v for k, v in values.items()}
    return DocumentMeta(**values)
