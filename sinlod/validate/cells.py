"""One records file checked for a person looking at it: its cells as a grid, and every problem.

The workbench (``/validate`` on the server) shows a steward's spreadsheet with each cell that a
finding names highlighted. It needs two things the CLI does not: the table itself (``read_grid``,
through the same record readers, so row numbers are the ones findings carry) and conversion
problems as findings (``check_file``), so that one report, rendered by ``render``, holds both
and downloads as SARIF, JSON or Turtle exactly as ``sinlod validate`` writes them.

``check_file`` finds what ``sinlod validate FILE`` finds: when the records do not convert, the
conversion problems (the CLI lists them and stops there); otherwise the SHACL findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sinlod.config import Settings
from sinlod.convert import SourceOptions
from sinlod.errors import ConversionFailed, RecordError, SourceLocation
from sinlod.records import Record, read_records
from sinlod.validate.findings import Finding, Report

#: The constraint a conversion problem is reported under (no SHACL component: the value never
#: became a triple). A URN, so the Turtle report names it without inventing a term.
CONVERSION = "urn:sinlod:conversion-problem"


@dataclass
class Grid:
    """One table of a file as it is seen: its header and its rows, each with the row number
    (the line an editor shows, the number findings carry)."""

    sheet: str | None
    header_row: int
    columns: list[str]
    rows: list[tuple[int, list[str | None]]] = field(default_factory=list)


def read_grid(path: Path, display_name: str, options: SourceOptions | None = None) -> list[Grid]:
    """The tables of a CSV or XLSX file (one per sheet), through ``sinlod.records``.

    A column that only some rows have (a CSV row longer than its header) is not shown: the
    reader reports it as a problem of the row. A file whose syntax breaks shows the rows before
    the break. Raises ``InputError`` for an unreadable file.
    """
    opts = options or SourceOptions()
    grids: dict[str | None, Grid] = {}
    records = read_records(
        path,
        sheet=opts.sheet,
        encoding=opts.encoding,
        delimiter=opts.delimiter,
        display_name=display_name,
    )
    try:
        _fill(grids, records, path)
    except RecordError:
        pass  # broken syntax: the rows before it are shown; the report names the break
    return list(grids.values())


def _fill(grids: dict[str | None, Grid], records: Iterable[Record], path: Path) -> None:
    for record in records:
        sheet = record.location.sheet
        grid = grids.get(sheet)
        row = record.location.row or 0
        if grid is None:
            columns = list(record.columns or record.values)
            header = 1 if sheet is None else _header_row(path, sheet)
            grid = grids[sheet] = Grid(sheet, header, columns)
        grid.rows.append((row, [record.values.get(c) for c in grid.columns]))


def _header_row(path: Path, sheet: str) -> int:
    """The sheet row holding the header: its first row with a value (as the XLSX reader takes
    it), so that blank rows between the header and the data do not shift it."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for number, row in enumerate(book[sheet].iter_rows(values_only=True), start=1):
            if any(v is not None and v != "" for v in row):
                return number
        return 1
    finally:
        book.close()


def conversion_findings(error: ConversionFailed) -> list[Finding]:
    """Each problem of a failed conversion as a ``Violation`` finding at its cell.

    The focus is a blank node per problem (there is no resource yet); ``value`` is the cell's
    text as an N-Triples literal, as SHACL findings carry theirs.
    """
    return [_conversion_finding(n, e) for n, e in enumerate(error.errors)]


def _conversion_finding(n: int, error: RecordError) -> Finding:
    value = getattr(error, "value", None)
    return Finding(
        severity="Violation",
        message=error.message,
        focus=f"_:problem{n}",
        path=None,
        value=None if value is None else _literal(value),
        source_shape=None,
        constraint=CONVERSION,
        locations=(error.location,) if error.location is not None else (),
    )


def _literal(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def check_file(
    paths: Sequence[Path],
    settings: Settings,
    options: SourceOptions | None = None,
) -> Report:
    """What ``sinlod validate PATHS`` finds, as one report: the conversion problems when the
    records do not convert, else the SHACL findings (conversion problems first: the CLI stops at
    them too). Raises ``InputError`` for unreadable input or a file no mapping reads."""
    from sinlod.validate.run import validate

    try:
        return validate(list(paths), settings, options=options)
    except ConversionFailed as failed:
        return Report.of(conversion_findings(failed))


def relocated(report: Report, folder: Path, prefix: str = "") -> Report:
    """The report with ``folder/`` taken off file names (and messages): a file checked in a
    temporary folder is named as its owner called it."""
    here = str(folder).rstrip("/") + "/"

    def place(loc: SourceLocation) -> SourceLocation:
        name = loc.file[len(here) :] if loc.file.startswith(here) else loc.file
        return SourceLocation(prefix + name, loc.row, loc.column, loc.sheet)

    findings = [
        Finding(
            f.severity,
            f.message.replace(here, prefix),
            f.focus,
            f.path,
            f.value,
            f.source_shape,
            f.constraint,
            tuple(place(loc) for loc in f.locations),
        )
        for f in report.findings
    ]
    return Report.of(findings, report.prefixes, engine=report.engine)
