"""Themes from a user-editable codebook: which known kinds of systemfel a passage describes.

Each theme is represented by its description and a handful of example phrases. A passage is
scored against a theme by dense similarity to those texts, plus lexical cue evidence (the
word stems that are typical of one theme rather than of all themes), plus its heading:
reports often file deficiencies under a heading that names the theme ("Bemötande",
"Samverkan/SIP"), plus similarity to labelled report sentences (models/labelled.py): how
reports really write about a theme, which the codebook's general phrases cannot say.
The main theme comes first; a second always follows (passages often
describe two problems at once), a third when it scores close to the main one.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

from systemfel.models.embed.base import Embedder, l2_normalise
from systemfel.models.labelled import LabelledExample
from systemfel.models.text import SwedishAnalyzer
from systemfel.base.records import StoredPassage, ThemeScore
from systemfel.base.yamlerror import describe_yaml_error

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

    def to_rows(self) -> list[dict]:
        """The themes as plain rows, the shape `from_dict` reads back (kept in the store)."""
        return [asdict(t) for t in self.themes]

    def fingerprint(self) -> str:
        """Changes whenever anything that affects theme assignment changes."""
        payload = json.dumps([asdict(t) for t in self.themes], ensure_ascii=False, sort_keys=True)
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()


@dataclass
class ThemeEvidence:
    """The parts of the theme scores of some passages, computed once and combined with any
    weights (the leave-one-report-out evaluation tries many)."""

    dense: np.ndarray  # (n, themes) passage vs codebook texts
    sentence: np.ndarray | None  # (n, themes) best sentence vs codebook texts
    lexical: np.ndarray  # (n, themes) cue stems
    heading: np.ndarray | None  # (n, themes) theme name in the heading
    labelled: np.ndarray  # (n, labelled examples) similarity to each labelled example

    def rows(self, index: np.ndarray) -> "ThemeEvidence":
        """The evidence of some passages only."""
        def pick(matrix: np.ndarray | None) -> np.ndarray | None:
            return None if matrix is None else matrix[index]

        return ThemeEvidence(pick(self.dense), pick(self.sentence), pick(self.lexical), pick(self.heading), pick(self.labelled))


class ThemeAssigner:
    """Ranks codebook themes for passages.

    dense score of a theme = mean of the `top_examples` highest cosine similarities between
    the passage and the theme's texts (1: the best-matching phrase decides). When sentence
    vectors are given, it is blended (`sentence_weight`) with that of the passage's
    best-matching sentence. Added to it: `lexical_weight` times the share of a theme's
    distinctive cue stems found in the passage (idf-weighted across themes),
    `heading_weight` times the share of the theme name's stems found in the heading, and
    `labelled_weight` times the mean of the `labelled_top` highest similarities to the
    theme's labelled examples (a theme without any keeps its dense score there, so it is
    neither favoured nor ruled out). `min_themes` themes are always returned; more, up to
    `max_themes`, when their score is at least `secondary_ratio` of the main theme's.

    A passage often packs several problems (a county paragraph lists three to five), so a
    statement inside it is themed too: its score is `part_weight` times its own and the rest
    its passage's (`owners` in `predict`), so it keeps its passage's setting but can say what
    it alone is about.

    The default weights are those `systemfel eval` selects on the four dev reports; its
    leave-one-report-out line shows what that selection is worth on a report it has not seen.
    """

    def __init__(
        self,
        codebook: Codebook,
        embedder: Embedder,
        *,
        labelled: Sequence[LabelledExample] = (),
        top_examples: int = 1,
        lexical_weight: float = 0.1,
        heading_weight: float = 0.1,
        sentence_weight: float = 0.5,
        labelled_weight: float = 0.3,
        labelled_top: int = 3,
        secondary_ratio: float = 0.95,
        part_weight: float = 0.5,
        min_themes: int = 2,
        max_themes: int = 3,
        analyzer: SwedishAnalyzer | None = None,
    ):
        self.codebook = codebook
        self.embedder = embedder
        self.labelled = labelled
        self.top_examples = top_examples
        self.lexical_weight = lexical_weight
        self.heading_weight = heading_weight
        self.sentence_weight = sentence_weight
        self.labelled_weight = labelled_weight
        self.labelled_top = labelled_top
        self.secondary_ratio = secondary_ratio
        self.part_weight = part_weight
        self.min_themes = min_themes
        self.max_themes = max_themes
        self.analyzer = analyzer or SwedishAnalyzer()

    # ------------------------------------------------------------------ fit
    def fit(self) -> "ThemeAssigner":
        """Embed each theme's texts and the labelled examples, and collect the cue stems."""
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
        self._fit_labelled()
        return self

    def _fit_labelled(self) -> None:
        column = {slug: i for i, slug in enumerate(self.codebook.slugs)}
        usable = [e for e in self.labelled if any(t in column for t in e.themes)]
        if len(usable) < len(self.labelled):
            log.info("%d labelled examples name no theme of this codebook; left out", len(self.labelled) - len(usable))
        self.labelled_membership_ = np.zeros((len(usable), len(column)), dtype=bool)
        for row, example in enumerate(usable):
            for slug in example.themes:
                if slug in column:
                    self.labelled_membership_[row, column[slug]] = True
        self.labelled_docs_ = np.asarray([e.doc for e in usable], dtype=object)
        self.labelled_vectors_ = (
            self.embedder.embed_passages([e.text for e in usable]) if usable
            else np.zeros((0, self.embedder.dim), dtype=np.float32)
        )  # fmt: skip

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

    @staticmethod
    def _best_of_sentences(passage_values: np.ndarray, sentence_values: np.ndarray, owner: np.ndarray) -> np.ndarray:
        """Per passage, the column-wise maximum over its sentences' rows (its own row where it
        has no sentences)."""
        if not len(sentence_values):
            return passage_values
        best = np.full_like(passage_values, -np.inf)
        np.maximum.at(best, np.asarray(owner), sentence_values)
        return np.where(np.isfinite(best), best, passage_values)

    def sentence_scores(self, vectors: np.ndarray, sentences: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """(n_passages, n_themes) dense score of each passage's best sentence for each theme
        (the passage's own score where it has no sentence vectors)."""
        sentence_vectors, owner = sentences
        sentence_scores = self.dense_scores(sentence_vectors) if len(sentence_vectors) else sentence_vectors
        return self._best_of_sentences(self.dense_scores(vectors), sentence_scores, owner)

    def labelled_similarity(
        self, vectors: np.ndarray, sentences: tuple[np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """(n_passages, n_labelled) similarity to each labelled example: the mean of the whole
        passage's and its best sentence's (a labelled example is one sentence)."""
        passage = l2_normalise(vectors) @ self.labelled_vectors_.T
        if sentences is None or not len(sentences[0]):
            return passage
        sentence_vectors, owner = sentences
        best = self._best_of_sentences(passage, l2_normalise(sentence_vectors) @ self.labelled_vectors_.T, owner)
        return 0.5 * passage + 0.5 * best

    def labelled_scores(self, similarity: np.ndarray, fallback: np.ndarray, exclude_docs: Collection[str] = ()) -> np.ndarray:
        """(n_passages, n_themes) mean of the `labelled_top` highest similarities to each theme's
        labelled examples, leaving out those from `exclude_docs`; `fallback` where a theme has none."""
        out = fallback.copy()
        keep = ~np.isin(self.labelled_docs_, list(exclude_docs))
        for column in range(out.shape[1]):
            members = self.labelled_membership_[:, column] & keep
            if members.any():
                best = -np.sort(-similarity[:, members], axis=1)[:, : self.labelled_top]
                out[:, column] = best.mean(axis=1)
        return out

    def evidence(
        self,
        texts: list[str],
        vectors: np.ndarray,
        headings: list[str] | None = None,
        sentences: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> ThemeEvidence:
        """Everything the scores are made of, for `combine`."""
        return ThemeEvidence(
            dense=self.dense_scores(vectors),
            sentence=self.sentence_scores(vectors, sentences) if sentences is not None else None,
            lexical=self.lexical_scores(texts),
            heading=self.heading_scores(headings) if headings is not None else None,
            labelled=self.labelled_similarity(vectors, sentences),
        )

    def combine(self, evidence: ThemeEvidence, exclude_docs: Collection[str] = ()) -> np.ndarray:
        """(n_passages, n_themes) score from the evidence with the current weights; labelled
        examples from `exclude_docs` are not used (evaluation on those reports)."""
        scores = evidence.dense
        if self.sentence_weight and evidence.sentence is not None:
            # a passage often packs several problems; a theme one sentence is about counts
            scores = (1 - self.sentence_weight) * scores + self.sentence_weight * evidence.sentence
        if self.lexical_weight:
            scores = scores + self.lexical_weight * evidence.lexical
        if self.heading_weight and evidence.heading is not None:
            scores = scores + self.heading_weight * evidence.heading
        if self.labelled_weight and len(self.labelled_docs_):
            fallback = evidence.dense if evidence.sentence is None else 0.5 * (evidence.dense + evidence.sentence)
            scores = scores + self.labelled_weight * self.labelled_scores(evidence.labelled, fallback, exclude_docs)
        return scores

    def score_matrix(
        self,
        texts: list[str],
        vectors: np.ndarray,
        headings: list[str] | None = None,
        sentences: tuple[np.ndarray, np.ndarray] | None = None,
        exclude_docs: Collection[str] = (),
    ) -> np.ndarray:
        """(n_passages, n_themes) combined score; columns follow `codebook.slugs`."""
        return self.combine(self.evidence(texts, vectors, headings, sentences), exclude_docs)

    def rank(self, scores: np.ndarray) -> list[list[ThemeScore]]:
        """Ranked themes per row of a score matrix, main theme first."""
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

    def predict(
        self,
        texts: list[str],
        vectors: np.ndarray,
        headings: list[str] | None = None,
        sentences: tuple[np.ndarray, np.ndarray] | None = None,
        exclude_docs: Collection[str] = (),
        owners: np.ndarray | None = None,
    ) -> list[list[ThemeScore]]:
        """Ranked themes per passage, main theme first. `headings` (the passages' heading paths
        as text) are optional but help: reports often file deficiencies under a theme heading.
        `sentences` (sentence vectors and the index of the passage each belongs to, as from
        `models.vectors.embed_sentences`) let one sentence's theme count. `owners` gives for
        each text that is a part of another (a statement of a passage) that passage's row, -1
        for the others (`mix_parts`)."""
        if len(texts) != len(vectors) or (headings is not None and len(headings) != len(texts)):
            raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors / headings")
        if not len(texts):
            return []
        scores = self.score_matrix(texts, vectors, headings, sentences, exclude_docs)
        return self.rank(scores if owners is None else self.mix_parts(scores, owners))

    def mix_parts(self, scores: np.ndarray, owners: np.ndarray) -> np.ndarray:
        """Scores with each part's row blended with its owner's row (`part_weight` its own)."""
        owners = np.asarray(owners, dtype=np.int64)
        parts = np.flatnonzero(owners >= 0)
        mixed = scores.copy()
        mixed[parts] = self.part_weight * scores[parts] + (1 - self.part_weight) * scores[owners[parts]]
        return mixed


def statement_units(passages: list[StoredPassage], statements: list[dict]) -> tuple[list[StoredPassage], np.ndarray]:
    """The statements of the passages as texts of their own, before the passages, and each
    unit's owner row for `ThemeAssigner.predict` (-1 for a passage): what the build themes and
    what `systemfel eval` scores a gold key on (its statement, or its passage when it spans
    several). A statement unit's id is minus its statement's `id` (passage ids are positive)."""
    row_of = {p.id: i for i, p in enumerate(passages)}
    held = [s for s in statements if s["passage_id"] in row_of]
    units = [
        replace(passages[row_of[s["passage_id"]]], id=-int(s["id"]), text=s["text"], text_hash=s["text_hash"])
        for s in held
    ]  # fmt: skip
    owners = [len(held) + row_of[s["passage_id"]] for s in held] + [-1] * len(passages)
    return units + list(passages), np.asarray(owners, dtype=np.int64)
