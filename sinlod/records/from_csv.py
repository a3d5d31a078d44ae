"""CSV (and TSV) records: header row first, delimiter sniffed from it, UTF-8 with or without BOM.

Read as a stream, so memory does not grow with the number of rows. ``row`` in each location is
the physical line where the record starts, as an editor shows it (the header is line 1), which
stays right when a quoted cell spans several lines.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from sinlod.errors import InputError, RecordError, SourceLocation
from sinlod.records import Record, readable

#: Delimiters considered when none is given; the one seen most often in the header wins.
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(header_line: str) -> str:
    """The delimiter a header line most likely uses; a comma when nothing else is seen.

    >>> sniff_delimiter("id;name;start"), sniff_delimiter("id"), sniff_delimiter("a\\tb")
    (';', ',', '\\t')
    """
    counts = [(header_line.count(d), -i, d) for i, d in enumerate(CANDIDATE_DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","


def read_csv(
    path: Path, display_name: str, *, encoding: str | None = None, delimiter: str | None = None
) -> Iterator[Record]:
    """Yield one ``Record`` per non-blank data row. See ``sinlod.records.read_records``."""
    if delimiter is not None and len(delimiter) != 1:
        raise InputError(f"--delimiter must be one character, got {delimiter!r}")
    stream = _open(path, display_name, encoding)
    try:
        with stream:
            yield from _rows(stream, display_name, delimiter)
    except UnicodeDecodeError as exc:
        line, byte = _first_bad_line(path, encoding or "utf-8-sig")
        raise InputError(
            f"{display_name}:{line}: not valid {encoding or 'UTF-8'} text (byte 0x{byte}); "
            "use --encoding to name the file's encoding, e.g. --encoding latin-1"
        ) from exc


def _first_bad_line(path: Path, encoding: str) -> tuple[int, str]:
    """Line and byte of the first undecodable text (the stream decodes in chunks, so the
    error it raises does not say where in the file the bad byte is)."""
    with open(path, "rb") as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as exc:
                return number, line[exc.start : exc.start + 1].hex()
    return 1, "??"


def _open(path: Path, display_name: str, encoding: str | None) -> TextIO:
    try:
        with readable(display_name):
            return open(path, encoding=encoding or "utf-8-sig", newline="")  # noqa: SIM115
    except LookupError as exc:
        raise InputError(f"unknown encoding {encoding!r} (see --encoding)") from exc


def _rows(stream: TextIO, name: str, delimiter: str | None) -> Iterator[Record]:
    line = 0
    try:
        first = stream.readline()
        if delimiter is None:
            delimiter = sniff_delimiter(first)
        reader = csv.reader(itertools.chain([first], stream), delimiter=delimiter, strict=False)
        header: tuple[str, ...] | None = None
        width = 0
        for cells in reader:
            start = line + 1
            line = reader.line_num
            if not cells or (len(cells) == 1 and cells[0] == ""):
                continue
            if header is None:
                header = tuple(c.strip() for c in cells)
                width = len(header)
                continue
            yield _record(cells, header, width, SourceLocation(name, start))
    except csv.Error as exc:
        raise RecordError(f"not readable as CSV: {exc}", SourceLocation(name, line + 1)) from exc
    if header is None:  # only blank lines (in an encoding the early check did not know)
        raise InputError(f"{name}: empty file, expected a header row")


def _record(cells: list[str], header: tuple[str, ...], width: int, where: SourceLocation) -> Record:
    values: dict[str, str | None] = dict(zip(header, [c or None for c in cells], strict=False))
    problems: tuple[RecordError, ...] = ()
    if len(cells) > width:
        extra = [c for c in cells[width:] if c != ""]
        if extra:
            problems = (
                RecordError(
                    f"expected at most {width} cells as in the header, got {len(cells)}",
                    where,
                    extra[0],
                ),
            )
    elif len(cells) < width:
        for column in header[len(cells) :]:
            values[column] = None
    return Record(values, where, header, problems)
