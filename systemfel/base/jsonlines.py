"""JSON-lines files a user hands us (gold, queries, labelled examples), read with Swedish errors."""
from __future__ import annotations

import json
from pathlib import Path


class JsonLinesError(ValueError):
    """A JSON-lines file that cannot be read, explained in Swedish."""


def read_json_lines(path: str | Path, error: type[Exception] = JsonLinesError) -> list[tuple[int, object]]:
    """(line number, parsed value) for each non-empty line; any problem raises `error` with a
    Swedish message naming the file and the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(f"Filen {path} finns inte.") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path} är inte en UTF-8-textfil.") from exc
    except OSError as exc:
        raise error(f"Kan inte läsa {path}: {exc.strerror or exc}") from exc
    rows: list[tuple[int, object]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise error(f"{path}: rad {number} är inte giltig JSON ({exc.msg}).") from exc
    return rows


def read_jsonl(path: str | Path, error: type[Exception] = JsonLinesError) -> list:
    """The parsed values of a JSON-lines file, for files we ship or generate ourselves."""
    return [value for _, value in read_json_lines(path, error)]
