"""Source readers, one per format. Each yields ``Record``s that remember where they came from.

``read_records`` picks the reader by the file's suffix. A reader raises ``InputError`` when the
file cannot be read at all (missing, undecodable, not a workbook) and ``RecordError`` with the
parser's line and column when the file's syntax is broken part-way; problems with one row that
do not stop reading (a row with more cells than the header) travel on ``Record.problems``.

An empty file (no bytes, only a byte-order mark, only whitespace; for XLSX a sheet without a
non-empty row) is an ``InputError`` that says so. ``table_names`` checks this when a conversion
is planned, before any record is read: otherwise the table would read as having no rows, and
the user would see every reference to its rows fail instead of the one thing that is wrong.
"""

from __future__ import annotations

import codecs
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sinlod.errors import InputError, RecordError, SourceLocation


@dataclass(frozen=True)
class Record:
    """One row of a table: its values by column name, and where the row is in its file.

    ``values`` keep the source's column order. A value is the cell's text as written (numbers and
    dates from typed formats such as XLSX, JSON or YAML are turned into their canonical text), or
    ``None`` for an empty cell. ``columns`` is the header of the table the row belongs to (for
    JSON and YAML, the keys of this record). ``problems`` are faults of the row found while
    reading it, reported together with the mapping's findings.
    """

    values: dict[str, str | None]
    location: SourceLocation
    columns: tuple[str, ...] = field(default=())
    problems: tuple[RecordError, ...] = field(default=())

    def cell(self, column: str) -> SourceLocation:
        return self.location.at(column)


#: Suffix → reader kind. Directories given to ``convert`` contribute exactly these files.
SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".yaml": "yaml",
    ".yml": "yaml",
}


#: What each reader expects a file to begin with, for the message about an empty file.
EXPECTED: dict[str, str] = {
    "csv": "a header row",
    "xlsx": "an XLSX workbook",
    "json": "a JSON array of objects",
    "jsonl": "one JSON object per line",
    "yaml": "a YAML list of records",
}


def format_of(path: Path, display_name: str | None = None) -> str:
    """The reader kind for ``path``, or ``InputError`` naming the suffixes sinlod reads."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(SUFFIXES))
        shown = path.suffix or "(none)"
        raise InputError(
            f"{display_name or path}: unknown file format {shown!s}; sinlod reads {known}"
        )
    return kind


def read_records(
    path: Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    display_name: str | None = None,
) -> Iterator[Record]:
    """Yield the records of one source file, chosen by suffix.

    ``display_name`` is how messages name the file (the path as the user wrote it). ``sheet``
    picks one XLSX sheet (default: every sheet, each record's location names its sheet);
    ``encoding`` and ``delimiter`` apply to CSV. Raises ``InputError`` for an unknown suffix or an
    unreadable file and ``RecordError`` for broken syntax.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); p = Path(d, "people.csv")
    >>> _ = p.write_text("id,name\\nada,Ada\\n", encoding="utf-8")
    >>> [(r.values, r.location.row) for r in read_records(p, display_name="people.csv")]
    [({'id': 'ada', 'name': 'Ada'}, 2)]
    """
    name = display_name or str(path)
    kind = format_of(path, name)
    check_not_empty(path, name, encoding=None if kind == "xlsx" else encoding)
    if kind == "csv":
        from sinlod.records.from_csv import read_csv

        if delimiter is None and path.suffix.lower() == ".tsv":
            delimiter = "\t"
        return read_csv(path, name, encoding=encoding, delimiter=delimiter)
    if kind == "xlsx":
        from sinlod.records.from_xlsx import read_xlsx

        return read_xlsx(path, name, sheet=sheet)
    if kind == "json":
        from sinlod.records.from_json import read_json

        return read_json(path, name, encoding=encoding)
    if kind == "jsonl":
        from sinlod.records.from_json import read_jsonl

        return read_jsonl(path, name, encoding=encoding)
    from sinlod.records.from_yaml import read_yaml

    return read_yaml(path, name, encoding=encoding)


def table_names(
    path: Path,
    *,
    sheet: str | None = None,
    display_name: str | None = None,
    encoding: str | None = None,
) -> list[str]:
    """The tables a file holds: its stem, or for XLSX its sheet names (or just ``sheet``).

    Raises ``InputError`` for an empty file or, for XLSX, an empty sheet among those chosen
    (see ``check_not_empty``): a conversion plans with this, before it reads any record.
    """
    name = display_name or str(path)
    kind = format_of(path, name)
    check_not_empty(path, name, encoding=None if kind == "xlsx" else encoding)
    if kind == "xlsx":
        from sinlod.records.from_xlsx import check_sheets_not_empty, sheet_names

        names = sheet_names(path, name)
        if sheet is not None and sheet not in names:
            raise InputError(f'{name}: no sheet "{sheet}"; the workbook has: {", ".join(names)}')
        chosen = names if sheet is None else [sheet]
        check_sheets_not_empty(path, name, chosen, whole_workbook=sheet is None)
        return chosen
    return [path.stem]


#: How much of a file ``check_not_empty`` reads at a time; a file with content stops at the first.
_CHUNK = 1 << 16


def check_not_empty(path: Path, display_name: str, *, encoding: str | None = None) -> None:
    """``InputError`` "FILE: empty file, expected ..." when the file holds no content at all.

    Empty means no bytes, only a UTF-8 byte-order mark, or only whitespace (decoded with
    ``encoding``, UTF-8 by default, so a UTF-16 file of spaces is empty too). Reads only until
    the first character that is not whitespace. A file that cannot be opened raises the same
    ``InputError`` as the readers do.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp(), "events.csv")
    >>> _ = p.write_bytes(b"\\xef\\xbb\\xbf \\r\\n")
    >>> check_not_empty(p, "records/events.csv")
    Traceback (most recent call last):
    ...
    sinlod.errors.InputError: records/events.csv: empty file, expected a header row
    """
    kind = format_of(path, display_name)
    try:
        decoder = codecs.getincrementaldecoder(encoding or "utf-8-sig")(errors="replace")
    except LookupError as exc:
        raise InputError(f"unknown encoding {encoding!r} (see --encoding)") from exc
    with readable(display_name), path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            if decoder.decode(chunk).replace("\ufeff", "").strip():
                return
        if decoder.decode(b"", final=True).replace("\ufeff", "").strip():
            return
    raise InputError(f"{display_name}: empty file, expected {EXPECTED[kind]}")


@contextlib.contextmanager
def readable(display_name: str) -> Iterator[None]:
    """Turn the ways opening a file fails into ``InputError`` messages that name the file."""
    try:
        yield
    except FileNotFoundError as exc:
        raise InputError(f"{display_name}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{display_name}: is a directory, not a record file") from exc
    except OSError as exc:
        raise InputError(f"{display_name}: cannot read: {exc.strerror}") from exc


def read_bytes(path: Path, display_name: str) -> bytes:
    """The whole file, or ``InputError`` that says why it cannot be read."""
    with readable(display_name):
        return path.read_bytes()


def decode(data: bytes, display_name: str, encoding: str | None) -> str:
    """Text of ``data`` (UTF-8 with or without BOM unless ``encoding`` says otherwise)."""
    enc = encoding or "utf-8-sig"
    try:
        return data.decode(enc)
    except LookupError as exc:
        raise InputError(f"unknown encoding {encoding!r} (see --encoding)") from exc
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise InputError(
            f"{display_name}:{line}: not valid {encoding or 'UTF-8'} text (byte 0x{byte}); "
            "use --encoding to name the file's encoding, e.g. --encoding latin-1"
        ) from exc


def scalar_text(value: object) -> str | None:
    """Canonical text of a typed value from JSON, YAML or XLSX (None stays None)."""
    import datetime as dt

    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None
