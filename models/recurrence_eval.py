"""B-cubed precision/recall/F1 and found groups for recurring issues against a recurrence gold.

Gold rows are {group, doc, key} (../shared/README.md). For each gold statement, the issues
holding it are found by a quote (statement text) that contains the key, else by its passage
(every issue holding a statement of the passage that covers the key). Its *mates* are the
gold statements sharing an issue with it, itself included (a statement in no issue is alone);
precision = mates in its gold group / mates, recall = mates in its gold group / group size,
averaged over statements. A gold group is *found* when one issue holds at least half of its
statements, from at least two reports (from its one report when the whole group is from one
report), and no more than twice as many gold statements as the group has.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from systemfel.base.textnorm import normalize_for_match


@dataclass
class StatementRef:
    """A statement as the metric sees it: where it is, its text, and the issues holding it."""

    doc: str
    passage_id: int
    text: str
    issues: frozenset = frozenset()


@dataclass
class RecurrenceScore:
    precision: float
    recall: float
    f1: float
    found: float
    n: int
    groups: int
    found_groups: list[str] = field(default_factory=list)
    unmatched: list[dict] = field(default_factory=list)
    by_passage: int = 0
    per_statement: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def locate_gold(gold: Sequence[dict], statements: Sequence[StatementRef], passages: dict[int, tuple[str, str]]):
    """For each gold row: (issues holding it, how it was found: 'quote', 'passage' or None).

    `passages` maps passage id -> (doc, text). A key no statement or passage covers is None.
    """
    normalised = [normalize_for_match(s.text) for s in statements]
    passage_norm = {pid: (doc, normalize_for_match(text)) for pid, (doc, text) in passages.items()}
    by_passage: dict[int, set] = {}
    for s in statements:
        by_passage.setdefault(s.passage_id, set()).update(s.issues)
    out = []
    for row in gold:
        key = normalize_for_match(row["key"])
        quoted = [s for s, text in zip(statements, normalised) if s.doc == row["doc"] and key in text]
        if quoted:
            out.append((frozenset().union(*(s.issues for s in quoted)), "quote"))
            continue
        covering = [pid for pid, (doc, text) in passage_norm.items() if doc == row["doc"] and key in text]
        if covering:
            out.append((frozenset().union(*(by_passage.get(pid, set()) for pid in covering)), "passage"))
        else:
            out.append((None, None))
    return out


def score_recurrence(gold: Sequence[dict], located: Sequence[tuple[frozenset | None, str | None]]) -> RecurrenceScore:
    """B-cubed and found groups from `locate_gold`'s answer; unmatched keys are listed, not scored."""
    rows = [(row, issues, how) for row, (issues, how) in zip(gold, located) if issues is not None]
    unmatched = [row for row, (issues, _) in zip(gold, located) if issues is None]
    group_size: dict[str, int] = {}
    group_docs: dict[str, set] = {}
    for row, _, _ in rows:
        group_size[row["group"]] = group_size.get(row["group"], 0) + 1
        group_docs.setdefault(row["group"], set()).add(row["doc"])
    per_statement = []
    for i, (row, issues, how) in enumerate(rows):
        mates = [j for j, (_, other, _) in enumerate(rows) if j == i or (issues & other)]
        same = sum(rows[j][0]["group"] == row["group"] for j in mates)
        per_statement.append(
            {
                "group": row["group"],
                "doc": row["doc"],
                "key": row["key"],
                "precision": same / len(mates),
                "recall": same / group_size[row["group"]],
                "issues": sorted(issues),
                "by": how,
            }
        )
    n = len(per_statement)
    precision = sum(s["precision"] for s in per_statement) / n if n else 0.0
    recall = sum(s["recall"] for s in per_statement) / n if n else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    found = []
    all_issues = sorted({i for _, issues, _ in rows for i in issues})
    for group, size in sorted(group_size.items()):
        for issue in all_issues:
            held = [row for row, issues, _ in rows if issue in issues]
            mine = [row for row in held if row["group"] == group]
            needed_docs = min(2, len(group_docs[group]))
            if 2 * len(mine) >= size and len({r["doc"] for r in mine}) >= needed_docs and len(held) <= 2 * size:
                found.append(group)
                break
    return RecurrenceScore(
        precision=precision,
        recall=recall,
        f1=f1,
        found=len(found) / len(group_size) if group_size else 0.0,
        n=n,
        groups=len(group_size),
        found_groups=found,
        unmatched=unmatched,
        by_passage=sum(how == "passage" for _, _, how in rows),
        per_statement=per_statement,
    )


def per_statement_mean(per_statement: Sequence[dict]) -> tuple[float, float, float]:
    """(precision, recall, F1) of a list of `per_statement` rows (e.g. assembled across folds)."""
    n = len(per_statement)
    if not n:
        return 0.0, 0.0, 0.0
    precision = sum(s["precision"] for s in per_statement) / n
    recall = sum(s["recall"] for s in per_statement) / n
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)
