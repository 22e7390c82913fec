"""Themes from a user-editable codebook: which known kinds of systemfel a passage describes.

Each theme is represented by its description and a handful of example phrases. A passage is
scored against a theme by dense similarity to those texts, plus lexical cue evidence (the
word stems that are typical of one theme rather than of all themes), plus its heading:
reports often file deficiencies under a heading that names the theme ("Bemötande",
"Samverkan/SIP"). The main theme comes first; a second always follows (passages often
describe two problems at once), a third when it scores close to the main one.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import yaml

from models.embed.base import Embedder, l2_normalise
from models.text import SwedishAnalyzer
from systemfel.records import ThemeScore
from systemfel.yamlerror import describe_yaml_error

log = logging.getLogger(__name__)

DEFAULT_CODEBOOK = Path(__file__).resolve().parent / "data" / "codebook.yaml"


class CodebookError(Exception):
    """A codebook file that cannot be used, explained in Swedish for the user."""


@dataclass
class Theme:
    slug: str
    name: str
    description: str = ""
    examples: list[str] = field(default_factory=list)

    def texts(self) -> list[str]:
        """What represents the theme: its name and description, then each example phrase."""
        head = f"{self.name}: {self.description}" if self.description else self.name
        return [head, *self.examples]


@dataclass
class Codebook:
    themes: list[Theme]

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Codebook":
        """The codebook in a YAML file (`themes:` list of slug/name/description/examples); default if None."""
        path = Path(path) if path is not None else DEFAULT_CODEBOOK
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CodebookError(f"Temafilen {path} finns inte.") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise CodebookError(f"Kan inte läsa temafilen {path}: {exc}") from exc
        except yaml.YAMLError as exc:
            raise CodebookError(f"Temafilen {path} är inte giltig YAML: {describe_yaml_error(exc)}.") from exc
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data, source: str = "temafilen") -> "Codebook":
        rows = data.get("themes") if isinstance(data, dict) else data
        if not isinstance(rows, list) or not rows:
            raise CodebookError(f"{source} måste innehålla en lista 'themes' med minst ett tema.")
        themes: list[Theme] = []
        for number, row in enumerate(rows, 1):
            if not isinstance(row, dict) or not str(row.get("slug") or "").strip():
                raise CodebookError(f"{source}: tema nummer {number} saknar 'slug' (kort id, t.ex. 'bostad').")
            examples = row.get("examples") or []
            if not isinstance(examples, list):
                raise CodebookError(f"{source}: 'examples' för temat {row['slug']} måste vara en lista.")
            slug = str(row["slug"]).strip()
            themes.append(
                Theme(
                    slug=slug,
                    name=str(row.get("name") or slug).strip(),
                    description=str(row.get("description") or "").strip(),
                    examples=[str(e).strip() for e in examples if str(e).strip()],
                )
            )
        slugs = [t.slug for t in themes]
        duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
        if duplicates:
            raise CodebookError(f"{source}: temat {', '.join(duplicates)} finns mer än en gång.")
        return cls(themes)

    @property
    def slugs(self) -> list[str]:
        return [t.slug for t in self.themes]

    @property
    def names(self) -> dict[str, str]:
        """Swedish display name of each slug."""
        return {t.slug: t.name for t in self.themes}

    def fingerprint(self) -> str:
        """Changes whenever anything that affects theme assignment changes."""
        payload = json.dumps([asdict(t) for t in self.themes], ensure_ascii=False, sort_keys=True)
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()


class ThemeAssigner:
    """Ranks codebook themes for passages.

    dense score of a theme = mean of the `top_examples` highest cosine similarities between
    the passage and the theme's texts (1: the best-matching phrase decides). The lexical score adds `lexical_weight` times the
    share of a theme's distinctive cue stems found in the passage (idf-weighted across themes),
    and `heading_weight` times the share of the theme name's stems found in the heading. When
    sentence vectors are given, the dense score is blended (`sentence_weight`) with that of
    the passage's best-matching sentence. `min_themes` themes are always returned; more, up to `max_themes`, when their score is at
    least `secondary_ratio` of the main theme's.

    The default weights are those `systemfel eval` selects on the four dev reports; its
    leave-one-report-out line shows what that selection is worth on a report it has not seen.
    """

    def __init__(
        self,
        codebook: Codebook,
        embedder: Embedder,
        *,
        top_examples: int = 1,
        lexical_weight: float = 0.1,
        heading_weight: float = 0.1,
        sentence_weight: float = 0.5,
        secondary_ratio: float = 0.95,
        min_themes: int = 2,
        max_themes: int = 3,
        analyzer: SwedishAnalyzer | None = None,
    ):
        self.codebook = codebook
        self.embedder = embedder
        self.top_examples = top_examples
        self.lexical_weight = lexical_weight
        self.heading_weight = heading_weight
        self.sentence_weight = sentence_weight
        self.secondary_ratio = secondary_ratio
        self.min_themes = min_themes
        self.max_themes = max_themes
        self.analyzer = analyzer or SwedishAnalyzer()

    # ------------------------------------------------------------------ fit
    def fit(self) -> "ThemeAssigner":
        """Embed each theme's texts and collect its cue stems."""
        texts, owners = [], []
        for index, theme in enumerate(self.codebook.themes):
            for text in theme.texts():
                texts.append(text)
                owners.append(index)
        self.example_vectors_ = self.embedder.embed_passages(texts)
        self.example_owner_ = np.asarray(owners)
        self.theme_vectors_ = l2_normalise(
            np.vstack([self.example_vectors_[self.example_owner_ == i].mean(axis=0) for i in range(len(self.codebook.themes))])
        )
        self._fit_cues()
        return self

    def _fit_cues(self) -> None:
        stems_per_theme = [set(self.analyzer.stems(" ".join(t.texts()))) for t in self.codebook.themes]
        n_themes = len(stems_per_theme)
        document_frequency: dict[str, int] = {}
        for stems in stems_per_theme:
            for s in stems:
                document_frequency[s] = document_frequency.get(s, 0) + 1
        self.cue_weights_: list[dict[str, float]] = []
        for stems in stems_per_theme:
            weights = {s: math.log(1 + n_themes / document_frequency[s]) for s in stems if not s.isdigit()}
            self.cue_weights_.append(weights)
        self.name_stems_ = [set(self.analyzer.stems(t.name)) for t in self.codebook.themes]

    # -------------------------------------------------------------- predict
    def dense_scores(self, vectors: np.ndarray) -> np.ndarray:
        """(n_passages, n_themes) dense score."""
        similarity = l2_normalise(vectors) @ self.example_vectors_.T
        out = np.empty((similarity.shape[0], len(self.codebook.themes)), dtype=np.float32)
        for i in range(len(self.codebook.themes)):
            own = np.sort(similarity[:, self.example_owner_ == i], axis=1)[:, ::-1]
            out[:, i] = own[:, : self.top_examples].mean(axis=1)
        return out

    def lexical_scores(self, texts: list[str]) -> np.ndarray:
        """(n_passages, n_themes) share of each theme's cue weight present in the passage, 0..1."""
        out = np.zeros((len(texts), len(self.codebook.themes)), dtype=np.float32)
        for row, text in enumerate(texts):
            stems = set(self.analyzer.stems(text))
            for col, weights in enumerate(self.cue_weights_):
                if weights:
                    found = sum(w for s, w in weights.items() if s in stems)
                    # square root: a few cue words are strong evidence, more add less
                    out[row, col] = math.sqrt(found / sum(weights.values()))
        return out

    def heading_scores(self, headings: list[str]) -> np.ndarray:
        """(n_passages, n_themes) share of each theme name's stems present in the heading, 0..1."""
        out = np.zeros((len(headings), len(self.codebook.themes)), dtype=np.float32)
        cache: dict[str, np.ndarray] = {}
        for row, heading in enumerate(headings):
            if heading not in cache:
                stems = set(self.analyzer.stems(heading or ""))
                cache[heading] = np.asarray(
                    [len(stems & names) / len(names) if names else 0.0 for names in self.name_stems_], dtype=np.float32
                )
            out[row] = cache[heading]
        return out

    def sentence_scores(self, vectors: np.ndarray, sentences: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """(n_passages, n_themes) dense score of each passage's best sentence for each theme
        (the passage's own score where it has no sentence vectors)."""
        sentence_vectors, owner = sentences
        passage_scores = self.dense_scores(vectors)
        if not len(sentence_vectors):
            return passage_scores
        best = np.full_like(passage_scores, -np.inf)
        np.maximum.at(best, np.asarray(owner), self.dense_scores(sentence_vectors))
        return np.where(np.isfinite(best), best, passage_scores)

    def score_matrix(
        self,
        texts: list[str],
        vectors: np.ndarray,
        headings: list[str] | None = None,
        sentences: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """(n_passages, n_themes) combined score; columns follow `codebook.slugs`."""
        scores = self.dense_scores(vectors)
        if self.sentence_weight and sentences is not None:
            # a passage often packs several problems; a theme one sentence is about counts
            scores = (1 - self.sentence_weight) * scores + self.sentence_weight * self.sentence_scores(vectors, sentences)
        if self.lexical_weight:
            scores = scores + self.lexical_weight * self.lexical_scores(texts)
        if self.heading_weight and headings is not None:
            scores = scores + self.heading_weight * self.heading_scores(headings)
        return scores

    def predict(
        self,
        texts: list[str],
        vectors: np.ndarray,
        headings: list[str] | None = None,
        sentences: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> list[list[ThemeScore]]:
        """Ranked themes per passage, main theme first. `headings` (the passages' heading paths
        as text) are optional but help: reports often file deficiencies under a theme heading.
        `sentences` (sentence vectors and the index of the passage each belongs to, as from
        `models.vectors.embed_sentences`) let one sentence's theme count."""
        if len(texts) != len(vectors) or (headings is not None and len(headings) != len(texts)):
            raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors / headings")
        if not len(texts):
            return []
        scores = self.score_matrix(texts, vectors, headings, sentences)
        slugs = self.codebook.slugs
        ranked: list[list[ThemeScore]] = []
        for row in scores:
            order = np.argsort(-row, kind="stable")[: self.max_themes]
            best = float(row[order[0]])
            ranked.append(
                [ThemeScore(slugs[i], round(float(row[i]), 4)) for n, i in enumerate(order)
                 if n < self.min_themes or float(row[i]) >= self.secondary_ratio * best]
            )  # fmt: skip
        return ranked
