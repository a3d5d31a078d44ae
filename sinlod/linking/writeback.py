"""Write accepted link suggestions back into the steward's CSV records, as a column.

The mapping then turns the column into links as it does for codes a steward typed (the shipped
``places.csv`` has ``nuts`` and ``country`` columns with ``valueUrl`` templates). Only empty
cells are filled: a code a person wrote is never overwritten, and a column that does not exist
yet is added at the end. Each row is found through the conversion's source map (the row a thing
came from), so nothing depends on how the thing's IRI was minted.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from sinlod.errors import InputError
from sinlod.linking.suggest import Suggestion
from sinlod.records.from_csv import sniff_delimiter
from sinlod.sourcemap import SourceMap


def write_back(
    accepted: Iterable[Suggestion],
    source_map: SourceMap,
    column: str,
    namespace: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> dict[Path, int]:
    """Fill ``column`` of each accepted thing's CSV row with its code; cells written per file.

    A file is read and written back in ``encoding`` (default UTF-8, a byte-order mark read and
    dropped) with ``delimiter`` (default: sniffed from the header as the CSV reader does): the
    source options the records were read with, so a latin-1 file stays latin-1.

    Raises ``InputError`` when a thing's row is not in a CSV file (XLSX, JSON, RDF), naming it:
    those formats are not rewritten.
    """
    by_file: dict[Path, dict[int, str]] = defaultdict(dict)
    for s in accepted:
        if s.target_iri is None:
            continue
        rows = [loc for loc in source_map.locate(f"<{s.subject}>") if loc.row is not None]
        if not rows:
            raise InputError(f"{s.subject}: no source row known, cannot write its link back")
        where = rows[0]
        path = Path(where.file)
        if path.suffix.lower() != ".csv" or where.sheet is not None:
            raise InputError(
                f"{where.file}: --accept writes links back into CSV records only; "
                "add them to this file by hand"
            )
        assert where.row is not None
        by_file[path][where.row] = s.target_iri[len(namespace) :]
    return {
        path: _fill(path, cells, column, encoding, delimiter)
        for path, cells in sorted(by_file.items())
    }


def _fill(
    path: Path, cells: dict[int, str], column: str, encoding: str | None, delimiter: str | None
) -> int:
    """Set ``column`` in the records that start on the given lines, where it is empty."""
    try:
        text = path.read_text(encoding=encoding or "utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    except (LookupError, UnicodeDecodeError) as exc:  # the reader accepted it: changed since
        raise InputError(f"{path}: cannot read as {encoding or 'UTF-8'} text: {exc}") from exc
    if delimiter is None:
        delimiter = sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    start = 1
    for record in reader:
        records.append((start, record))
        start = reader.line_num + 1
    if not records:
        raise InputError(f"{path}: empty file, expected a header row")
    header = records[0][1]
    if column not in header:
        header.append(column)
    index = header.index(column)
    written = 0
    for line, record in records[1:]:
        code = cells.get(line)
        if code is None:
            continue
        record.extend([""] * (len(header) - len(record)))
        if not record[index].strip():
            record[index] = code
            written += 1
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    for _, record in records:
        if len(record) < len(header) and record:
            record.extend([""] * (len(header) - len(record)))
        writer.writerow(record)
    try:
        data = out.getvalue().encode(encoding or "utf-8")  # before the file is opened for writing
    except UnicodeEncodeError as exc:
        raise InputError(f"{path}: a code cannot be written in {encoding}: {exc}") from exc
    path.write_bytes(data)
    return written
