"""XLSX records: each sheet is a table with its header in the first non-empty row.

Cells keep their typed values' canonical text (a date cell reads as ``2019-05-01``, the number
2019 as ``2019``), so a workbook maps like the CSV it was exported from. ``row`` is the sheet's
own row number, which is what a person sees in a spreadsheet.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sinlod.errors import InputError, SourceLocation
from sinlod.records import Record, scalar_text


def _open(path: Path, display_name: str) -> Any:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.exists():
        raise InputError(f"{display_name}: no such file")
    try:
        with warnings.catch_warnings():
            # openpyxl warns about workbook features it ignores (data validation, styles).
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError) as exc:
        raise InputError(f"{display_name}: not a readable XLSX workbook ({exc})") from exc
    except OSError as exc:
        raise InputError(f"{display_name}: cannot read: {exc.strerror or exc}") from exc


def sheet_names(path: Path, display_name: str) -> list[str]:
    """The workbook's visible sheet names, in workbook order.

    A hidden sheet is not a table: workbooks keep the lists behind their drop-downs there
    (``sinlod init`` writes its templates' lists to a hidden ``_lists`` sheet).
    """
    book = _open(path, display_name)
    try:
        return _visible(book)
    finally:
        book.close()


def _visible(book: Any) -> list[str]:
    return [name for name in book.sheetnames if book[name].sheet_state == "visible"]


def check_sheets_not_empty(
    path: Path, display_name: str, sheets: list[str], *, whole_workbook: bool
) -> None:
    """``InputError`` naming the first of ``sheets`` that has no non-empty row.

    When every sheet of the workbook is empty (``whole_workbook``), the message is about the
    workbook. Reads each sheet only up to its first non-empty row.
    """
    book = _open(path, display_name)
    try:
        empty = [name for name in sheets if _first_row(book[name]) is None]
    finally:
        book.close()
    if whole_workbook and empty and len(empty) == len(sheets):
        raise InputError(f"{display_name}: empty workbook, expected a sheet with a header row")
    if empty:
        raise InputError(f"{display_name}[{empty[0]}]: empty sheet, expected a header row")


def _first_row(ws: Any) -> list[str | None] | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in ws.iter_rows(values_only=True):
            cells = [scalar_text(v) for v in row]
            if any(c is not None for c in cells):
                return cells
    return None


def read_xlsx(path: Path, display_name: str, *, sheet: str | None = None) -> Iterator[Record]:
    """Yield the records of one sheet, or of every sheet in order. See ``read_records``."""
    book = _open(path, display_name)
    try:
        names = _visible(book) if sheet is None else list(book.sheetnames)
        if sheet is not None and sheet not in names:
            raise InputError(
                f'{display_name}: no sheet "{sheet}"; the workbook has: {", ".join(names)}'
            )
        for name in [sheet] if sheet is not None else names:
            yield from _sheet_records(book[name], display_name, name)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise InputError(f"{display_name}: not a readable XLSX workbook ({exc})") from exc
    finally:
        book.close()


def _sheet_records(ws: Any, display_name: str, sheet: str) -> Iterator[Record]:
    header: tuple[str, ...] | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [scalar_text(v) for v in row]
            if not any(c is not None for c in cells):
                continue
            if header is None:
                header = _header(cells)
                continue
            values = dict(zip(header, cells, strict=False))
            for column in header[len(cells) :]:
                values[column] = None
            yield Record(values, SourceLocation(display_name, number, None, sheet), header)
    if header is None:
        raise InputError(f"{display_name}[{sheet}]: empty sheet, expected a header row")


def _header(cells: list[str | None]) -> tuple[str, ...]:
    # Trailing empty header cells are formatting leftovers, not columns.
    while cells and cells[-1] is None:
        cells.pop()
    return tuple((c or "").strip() for c in cells)
