"""Where a YAML file went wrong, in words a user can act on (PyYAML's own text is English)."""
from __future__ import annotations

import yaml


def describe_yaml_error(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"rad {mark.line + 1}, kolumn {mark.column + 1}" if mark is not None else "okänd plats"
    problem = getattr(exc, "problem", None) or "felaktig syntax"
    return f"{where} ({problem})"
