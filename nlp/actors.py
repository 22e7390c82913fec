"""Who a passage is about: canonical actor names from a gazetteer (nlp/data/actors.yaml).

spaCy PhraseMatchers do the matching, one on the lower-cased word form (abbreviations,
multi-word names) and one on lemmas (inflections the lemma table knows: kommunens,
psykiatrins). Swedish compounds are open-ended (öppenvårdspsykiatrin, akutpsykiatrin),
so a gazetteer entry may also name compound heads that any word can end in.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Token

from systemfel.nlp.swedish import SwedishNLP
from systemfel.base.yamlerror import describe_yaml_error

log = logging.getLogger(__name__)

DEFAULT_ACTORS = Path(__file__).resolve().parent / "data" / "actors.yaml"


class ActorFileError(ValueError):
    """An actor file that cannot be used, explained in Swedish."""


@dataclass
class ActorEntry:
    canonical: str
    variants: list[str] = field(default_factory=list)
    compounds: list[str] = field(default_factory=list)
    also: list[str] = field(default_factory=list)


def load_actor_entries(paths: Iterable[str | Path]) -> dict[str, ActorEntry]:
    """Merge actor files in order; a later file adds variants to an existing canonical name."""
    entries: dict[str, ActorEntry] = {}
    for path in paths:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ActorFileError(f"Kan inte läsa aktörsfilen {path}: {exc.strerror or exc}") from exc
        except yaml.YAMLError as exc:
            raise ActorFileError(f"Aktörsfilen {path} är inte giltig YAML: {describe_yaml_error(exc)}.") from exc
        if not isinstance(data, dict):
            raise ActorFileError(f"Aktörsfilen {path} ska vara en lista av namn: varianter.")
        for canonical, spec in data.items():
            canonical = str(canonical).strip()
            if isinstance(spec, list):  # short form: Name: [variant, variant]
                spec = {"variants": spec}
            elif spec is None:
                spec = {}
            if not isinstance(spec, dict):
                raise ActorFileError(f"Aktören {canonical!r} i {path} har ett okänt format.")
            entry = entries.setdefault(canonical, ActorEntry(canonical))
            entry.variants += [str(v) for v in spec.get("variants", []) or []]
            entry.compounds += [str(v).lower() for v in spec.get("compounds", []) or []]
            entry.also += [str(v) for v in spec.get("also", []) or []]
    return entries


def _word_forms(token: Token) -> tuple[str, ...]:
    """The forms a compound head is tested against: word, word without genitive, lemma."""
    lower = token.lower_
    forms = [lower, token.lemma_.lower()]
    if lower.endswith(":s"):
        forms.append(lower[:-2])
    elif lower.endswith("s") and len(lower) > 4:
        forms.append(lower[:-1])
    return tuple(forms)


class ActorMatcher:
    """Finds actors in text and returns their canonical names in order of first mention."""

    def __init__(self, extra_paths: Iterable[str | Path] = (), *, nlp: SwedishNLP | None = None,
                 base_path: str | Path | None = DEFAULT_ACTORS):
        self.nlp = nlp or SwedishNLP()
        paths = ([Path(base_path)] if base_path else []) + [Path(p) for p in extra_paths]
        self.entries = load_actor_entries(paths)
        self._lower = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self._lemma = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        for entry in self.entries.values():
            forms: list[str] = []
            for variant in entry.variants:
                forms += [variant, variant + "s", variant + ":s"]
            self._lower.add(entry.canonical, list(self.nlp.pipe(dict.fromkeys(forms))))
            # lemma patterns only for words the lemma table knows, so "AF" never matches "af"
            lemma_docs = [d for d in self.nlp.pipe(entry.variants) if any(t.lemma_ != t.lower_ for t in d)]
            if lemma_docs:
                self._lemma.add(entry.canonical, lemma_docs)
        self._heads = [(entry.canonical, tuple(entry.compounds)) for entry in self.entries.values() if entry.compounds]

    @property
    def names(self) -> list[str]:
        return list(self.entries)

    def find(self, text: str) -> list[str]:
        return self.find_in_doc(self.nlp(text))

    def find_in_doc(self, doc: Doc) -> list[str]:
        first: dict[str, int] = {}
        for matcher in (self._lower, self._lemma):
            for match_id, start, _end in matcher(doc):
                name = self.nlp.vocab.strings[match_id]
                first[name] = min(first.get(name, start), start)
        if self._heads:
            for token in doc:
                if not token.is_alpha and "-" not in token.text:
                    continue
                forms = _word_forms(token)
                for name, heads in self._heads:
                    if name not in first or token.i < first[name]:
                        if any(form.endswith(head) for form in forms for head in heads):
                            first[name] = min(first.get(name, token.i), token.i)
        ordered = sorted(first, key=lambda n: first[n])
        out: list[str] = []
        for name in ordered:
            for actor in [name, *self.entries[name].also]:
                if actor not in out:
                    out.append(actor)
        return out
