"""The code book handed to QDA tools: themes (with their recurring issues), kinds of passage,
levels and actors, each code with a stable GUID and its Swedish name and description.

GUIDs are derived from what a code means (uuid5 of a key such as "theme:vantetider"), so two
exports of the same store name every code, source and selection alike, and an import can
recognise our codes by GUID before it falls back to names.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from systemfel.base.names import KIND_SV as KIND_NAMES
from systemfel.base.names import LEVEL_SV as LEVEL_NAMES
from systemfel.base.records import LEVELS, PASSAGE_KINDS

GUID_NAMESPACE = uuid.UUID("0f6b7a52-3c1e-5d0a-9b7e-5e1f7c0d2a16")

KIND_DESCRIPTIONS = {
    "deficiency": "Stycket beskriver en brist eller ett systemfel som rapporten tar upp.",
    "good_example": "Stycket beskriver något som fungerar bra, ett gott exempel.",
    "background": "Stycket ger bakgrund: verksamheten, metoden, statistik eller annat som inte är en brist.",
}
LEVEL_DESCRIPTIONS = {
    "handlaggare": "Bristen uppstår i mötet mellan klienten och handläggaren (bemötande, enskilda beslut).",
    "lokal": "Bristen ligger hos en kommun, mottagning eller ett kontor: dess rutiner, resurser och organisation.",
    "central": "Bristen ligger på nationell nivå: lagstiftning, regler, nationella myndigheter.",
}

# The groups at the top of the code book; they hold codes and are not codable themselves.
GROUPS = {
    "theme": ("Teman", "Kodbokens teman. Under ett tema ligger dess återkommande systemfel, när sådana finns."),
    "kind": ("Typ av stycke", "Vad stycket är: brist, gott exempel eller bakgrund."),
    "level": ("Nivå", "På vilken nivå bristen uppstår."),
    "actor": ("Aktörer", "Myndigheter och verksamheter som stycket handlar om."),
}


def guid(key: str) -> str:
    """A stable GUID for one thing in an export (a code, a source, a selection, ...): the
    RFC 4122 name-based (SHA-1) UUID of `key`, as uuid.uuid5 makes it, without its objects."""
    digest = bytearray(hashlib.sha1(GUID_NAMESPACE.bytes + key.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def slugify(name: str) -> str:
    """A theme id from a code's name: lower-case ASCII words joined by underscores."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_") or "kod"


def match_key(name: str) -> str:
    """How names are compared when a tool has replaced our GUIDs: case and spacing folded."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


@dataclass(frozen=True)
class Code:
    """One code: `category` is theme/kind/level/actor/recurring (or "group" for a heading),
    `value` what it stands for in the store (slug, kind, level, actor name, issue id)."""

    category: str
    value: str
    name: str
    description: str = ""
    children: tuple["Code", ...] = ()
    parent_value: str | None = None  # a recurring issue's theme

    @property
    def key(self) -> str:
        return f"{self.category}:{self.value}"

    @property
    def guid(self) -> str:
        return guid("code:" + self.key)

    @property
    def codable(self) -> bool:
        return self.category != "group"


@dataclass(frozen=True)
class StatementSpan:
    """Where a recurring issue is stated: a passage, and a span inside its text (None: all of it)."""

    passage_id: int
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class RecurringIssue:
    """A specific recurring problem as a child code of its theme."""

    id: str
    label: str
    theme: str | None  # slug of the theme it nests under; None puts it under "Teman" itself
    description: str = ""
    statements: tuple[StatementSpan, ...] = ()


def recurring_issues_from_records(
    issues: Iterable[Mapping], passage_texts: Mapping[int, str]
) -> list[RecurringIssue]:
    """Recurring issues as `systemfel export recurring` writes them (issue 12: one dict per issue
    with `id`, `label`, `themes`, `status`, `passage_ids` and `quotes` of `{passage_id, text}`),
    turned into child codes of their first theme. A quote found inside its passage codes that
    statement; otherwise the whole passage is coded."""
    out: list[RecurringIssue] = []
    for issue in issues:
        themes = list(issue.get("themes") or [])
        spans: list[StatementSpan] = []
        quoted: set[int] = set()
        for quote in issue.get("quotes") or []:
            pid = int(quote["passage_id"])
            text = passage_texts.get(pid)
            if text is None:
                continue
            quoted.add(pid)
            start = text.find(quote.get("text") or "\0") if quote.get("text") else -1
            if start > 0 or (start == 0 and len(quote["text"]) < len(text)):
                spans.append(StatementSpan(pid, start, start + len(quote["text"])))
            else:
                spans.append(StatementSpan(pid))
        unquoted = [int(p) for p in issue.get("passage_ids") or [] if int(p) not in quoted]
        spans += [StatementSpan(p) for p in unquoted if p in passage_texts]
        parts = [issue.get("description") or ""]
        if issue.get("status"):
            parts.append(f"Status: {issue['status']}.")
        if issue.get("first_year") and issue.get("last_year"):
            parts.append(f"Rapporterat {issue['first_year']}–{issue['last_year']}.")
        out.append(
            RecurringIssue(
                id=str(issue["id"]),
                label=str(issue.get("label") or issue["id"]),
                theme=themes[0] if themes else None,
                description=" ".join(p for p in parts if p).strip(),
                statements=tuple(spans),
            )
        )
    return out


@dataclass
class CodeBook:
    """The whole tree, and look-ups from GUID or name back to what a code means."""

    roots: list[Code]
    by_guid: dict[str, Code] = field(default_factory=dict)

    by_key: dict[str, Code] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for code in self.walk():
            self.by_guid[code.guid] = code
            self.by_key[code.key] = code

    def walk(self) -> Iterable[Code]:
        stack = list(reversed(self.roots))
        while stack:
            code = stack.pop()
            yield code
            stack.extend(reversed(code.children))

    def code(self, category: str, value: str) -> Code:
        return self.by_key[f"{category}:{value}"]

    def find(self, code_guid: str, name: str, group: str = "") -> Code | None:
        """Our code for a code in an imported project: by GUID, else by its name (or a theme's id).
        A name two of our codes share (an actor and a recurring issue's label, say) is settled by
        the group the code sits under in the project (`group`: its top code's name); else not guessed."""
        if code_guid in self.by_guid:
            return self.by_guid[code_guid]
        wanted = match_key(name)
        matches = [c for c in self.walk() if c.codable and wanted in (match_key(c.name), match_key(c.value))]
        if len(matches) > 1:
            categories = {cat for cat, (title, _) in GROUPS.items() if match_key(title) == match_key(group)}
            if "theme" in categories:
                categories.add("recurring")
            matches = [c for c in matches if c.category in categories] or matches
        if len(matches) > 1:
            matches = [c for c in matches if c.category != "recurring"] or matches
        return matches[0] if len(matches) == 1 else None


def make_code_book(
    themes: Sequence[tuple[str, str, str]],
    actors: Sequence[tuple[str, str]],
    recurring: Sequence[RecurringIssue] = (),
) -> CodeBook:
    """The code tree from (slug, name, description) themes, (name, description) actors and
    recurring issues (each a child of its theme)."""
    by_theme: dict[str | None, list[Code]] = {}
    for issue in recurring:
        by_theme.setdefault(issue.theme, []).append(
            Code("recurring", issue.id, issue.label, issue.description, parent_value=issue.theme)
        )
    known = {slug for slug, _, _ in themes}
    theme_codes = [
        Code("theme", slug, name, description, tuple(by_theme.get(slug, ()))) for slug, name, description in themes
    ]
    # an issue whose theme the code book lacks still gets a place: directly under "Teman"
    theme_codes += [c for slug, codes in by_theme.items() if slug not in known for c in codes]
    groups = {
        "theme": theme_codes,
        "kind": [Code("kind", k, KIND_NAMES[k], KIND_DESCRIPTIONS[k]) for k in PASSAGE_KINDS],
        "level": [Code("level", lv, LEVEL_NAMES[lv], LEVEL_DESCRIPTIONS[lv]) for lv in LEVELS],
        "actor": [Code("actor", name, name, description) for name, description in actors],
    }
    roots = [
        Code("group", category, GROUPS[category][0], GROUPS[category][1], tuple(codes))
        for category, codes in groups.items()
        if codes
    ]
    return CodeBook(roots)
