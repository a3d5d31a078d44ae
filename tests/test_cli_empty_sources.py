"""An empty source file is reported as empty, by name, before any reference check (issue 10).

Each case is the whole shipped dataset with one table, ``events``, replaced by an empty file in
one format. The other tables refer to events (involvements, practice cases), so a reader that
took the file as a table without rows would make every one of those references fail; instead
``convert``, ``validate`` and ``publish`` each stop with the one input error (exit 2) and
``publish`` writes nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from sinlod.config import PROJECT_ROOT
from sinlod.store import Store
from tests.conftest import run_cli

RECORDS = PROJECT_ROOT / "data" / "records"
BOM = b"\xef\xbb\xbf"


def _workbook(*sheets: tuple[str, list[list[str]]]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        book = openpyxl.Workbook()
        book.remove(book.active)
        for title, rows in sheets:
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
        book.save(path)

    return write


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data) and None


def _quantities_rows() -> list[list[str]]:
    import csv

    with (RECORDS / "quantities.csv").open(encoding="utf-8", newline="") as f:
        return [row for row in csv.reader(f)]


#: (case id, file name replacing events.csv, how to write it, tables moved into that file,
#: the message after "Error: records/").
CASES = [
    ("csv-0-bytes", "events.csv", _bytes(b""), (), "events.csv: empty file, expected a header row"),
    ("csv-bom", "events.csv", _bytes(BOM), (), "events.csv: empty file, expected a header row"),
    (
        "csv-bom-and-blank-lines",
        "events.csv",
        _bytes(BOM + b" \r\n\t\r\n\r\n"),
        (),
        "events.csv: empty file, expected a header row",
    ),
    ("tsv-0-bytes", "events.tsv", _bytes(b""), (), "events.tsv: empty file, expected a header row"),
    (
        "json-0-bytes",
        "events.json",
        _bytes(b""),
        (),
        "events.json: empty file, expected a JSON array of objects",
    ),
    (
        "json-bom-and-newline",
        "events.json",
        _bytes(BOM + b"\n"),
        (),
        "events.json: empty file, expected a JSON array of objects",
    ),
    (
        "jsonl-blank-lines",
        "events.jsonl",
        _bytes(b"\n  \n"),
        (),
        "events.jsonl: empty file, expected one JSON object per line",
    ),
    (
        "yaml-0-bytes",
        "events.yaml",
        _bytes(b""),
        (),
        "events.yaml: empty file, expected a YAML list of records",
    ),
    (
        "yaml-comments-only",
        "events.yaml",
        _bytes(b"# the events will follow\n"),
        (),
        "events.yaml: no YAML document, expected a YAML list of records",
    ),
    (
        "xlsx-0-bytes",
        "events.xlsx",
        _bytes(b""),
        (),
        "events.xlsx: empty file, expected an XLSX workbook",
    ),
    (
        "xlsx-empty-workbook",
        "events.xlsx",
        _workbook(("events", [])),
        (),
        "events.xlsx: empty workbook, expected a sheet with a header row",
    ),
    (
        "xlsx-empty-sheet",
        "tables.xlsx",
        _workbook(("quantities", _quantities_rows()), ("events", [])),
        ("quantities",),
        "tables.xlsx[events]: empty sheet, expected a header row",
    ),
]


@pytest.fixture
def steward(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A steward's folder: a copy of the shipped records, commands run from there."""
    shutil.copytree(RECORDS, tmp_path / "records")
    monkeypatch.chdir(tmp_path)
    for name in ("SINLOD_CONFIG", "SINLOD_MAPPINGS_DIR", "SINLOD_STORE_PATH"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("name", "write", "moved", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
@pytest.mark.parametrize("command", ["convert", "validate", "publish"])
def test_an_empty_source_is_named_before_any_reference_is_checked(
    steward: Path,
    command: str,
    name: str,
    write: Callable[[Path], None],
    moved: tuple[str, ...],
    message: str,
) -> None:
    (steward / "records" / "events.csv").unlink()
    for table in moved:
        (steward / "records" / f"{table}.csv").unlink()
    write(steward / "records" / name)
    args = [command, "records"] + (["--store", "store"] if command == "publish" else [])

    result = run_cli(args)

    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        f"Error: records/{message}\n",
    )
    if command == "publish":
        assert Store.open(steward / "store", read_only=True).releases() == []


def test_the_same_records_with_events_in_place_publish(steward: Path) -> None:
    """The check above is about the empty file: the copy itself publishes."""
    result = run_cli(["publish", "records", "--store", "store", "-q"])
    assert result.exit_code == 0, result.output


def test_an_empty_table_is_not_an_empty_file(steward: Path) -> None:
    """A header without rows, or ``[]``, is a table with no records: no error of its own."""
    (steward / "records" / "events.csv").unlink()
    (steward / "records" / "events.json").write_text("[]\n", encoding="utf-8")
    result = run_cli(["convert", "records", "-o", "out.nq"])
    assert result.exit_code == 1
    assert "empty" not in result.stderr
    assert 'but events has no record with id "sic-conference-cities-regions-2018"' in result.stderr


def test_emptiness_is_judged_in_the_encoding_given(steward: Path) -> None:
    """Blank lines in UTF-16 are an empty file too, with ``convert --encoding utf-16``."""
    for path in (steward / "records").glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        path.write_text(" \n\n" if path.stem == "events" else text, encoding="utf-16")
    result = run_cli(["convert", "records", "--encoding", "utf-16"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: records/events.csv: empty file, expected a header row\n",
    )
