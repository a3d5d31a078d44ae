"""JSON records: an array of flat objects, or JSON Lines (one object per line).

Each record's ``row`` is the line where its object starts, found by decoding the array element
by element (``raw_decode``) rather than all at once, so messages point at the object in the file.
Values are scalars; a list of scalars becomes one multi-valued cell joined by ``;`` (the
separator the mappings use), anything nested is an error of that record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sinlod.errors import RecordError, SourceLocation
from sinlod.records import Record, decode, read_bytes, scalar_text

_WS = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()


def read_json(path: Path, display_name: str, *, encoding: str | None = None) -> Iterator[Record]:
    """Yield the objects of a top-level JSON array. See ``read_records``."""
    text = decode(read_bytes(path, display_name), display_name, encoding)
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    if text[pos : pos + 1] != "[":
        found = "nothing" if pos >= len(text) else repr(text[pos])
        raise _syntax(display_name, text, pos, f"expected a JSON array of objects, got {found}")
    pos += 1
    line, counted = 1, 0
    first = True
    while True:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if text[pos : pos + 1] == "]":
            break
        if not first:
            if text[pos : pos + 1] != ",":
                raise _syntax(display_name, text, pos, "expected ',' or ']' between records")
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
        first = False
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise _syntax(display_name, text, exc.pos, f"not valid JSON: {exc.msg}") from exc
        yield _record(value, SourceLocation(display_name, line))
    rest = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    if rest < len(text):
        raise _syntax(display_name, text, rest, "unexpected text after the JSON array")


def read_jsonl(path: Path, display_name: str, *, encoding: str | None = None) -> Iterator[Record]:
    """Yield one record per non-blank line of a JSON Lines file. See ``read_records``."""
    text = decode(read_bytes(path, display_name), display_name, encoding)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = SourceLocation(display_name, number)
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RecordError(
                f"not valid JSON (column {exc.colno}): {exc.msg}", where, line.strip()[:40]
            ) from exc
        yield _record(value, where)


def _syntax(name: str, text: str, pos: int, message: str) -> RecordError:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return RecordError(f"{message} (column {column})", SourceLocation(name, line))


def _record(value: Any, where: SourceLocation) -> Record:
    if not isinstance(value, dict):
        problem = RecordError(
            f"expected an object (a record), got {_kind(value)}", where, json.dumps(value)[:40]
        )
        return Record({}, where, (), (problem,))
    return flat_record(value, where)


def flat_record(value: dict[Any, Any], where: SourceLocation) -> Record:
    """A ``Record`` from a parsed mapping of column → scalar (JSON and YAML share this)."""
    values: dict[str, str | None] = {}
    problems: list[RecordError] = []
    for key, item in value.items():
        column = str(key)
        if isinstance(item, list) and all(not isinstance(x, dict | list) for x in item):
            parts = [t for t in (scalar_text(x) for x in item) if t is not None]
            values[column] = ";".join(parts) if parts else None
        elif isinstance(item, dict | list):
            problems.append(
                RecordError(
                    f"expected a flat value (text, number, date or list), got {_kind(item)}",
                    where.at(column),
                    json.dumps(item, default=str)[:40],
                )
            )
            values[column] = None
        else:
            values[column] = scalar_text(item)
    return Record(values, where, tuple(values), tuple(problems))


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"
