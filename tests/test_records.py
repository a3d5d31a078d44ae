"""Source readers: each format yields records with their values and the line a person sees."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinlod.errors import InputError, RecordError, SourceLocation
from sinlod.records import read_records, scalar_text, table_names
from sinlod.records.from_csv import sniff_delimiter

READERS = Path(__file__).parent / "fixtures" / "records" / "readers"


def rows(path: Path, **kw: object) -> list[tuple[int | None, dict[str, str | None]]]:
    return [(r.location.row, r.values) for r in read_records(path, **kw)]  # type: ignore[arg-type]


def test_csv_with_utf8_bom_has_a_clean_first_header() -> None:
    assert rows(READERS / "bom.csv") == [(2, {"id": "ada", "name": "Ada Lovelace"})]


def test_csv_semicolon_delimiter_is_sniffed_and_quotes_respected() -> None:
    assert rows(READERS / "semicolon.csv") == [
        (2, {"id": "drift", "name": "DRIFT", "founded": "2004"}),
        (3, {"id": "aeidl", "name": "AEIDL; Brussels", "founded": "1988"}),
    ]


def test_csv_delimiter_given_explicitly_wins_over_sniffing(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id|name,x\na|b,c\n", encoding="utf-8")
    assert rows(path, delimiter="|") == [(2, {"id": "a", "name,x": "b,c"})]


def test_csv_latin1_needs_encoding() -> None:
    with pytest.raises(InputError) as info:
        list(read_records(READERS / "latin1.csv", display_name="records/latin1.csv"))
    assert str(info.value) == (
        "records/latin1.csv:2: not valid UTF-8 text (byte 0xfc); "
        "use --encoding to name the file's encoding, e.g. --encoding latin-1"
    )
    assert rows(READERS / "latin1.csv", encoding="latin-1") == [
        (2, {"id": "muc", "name": "München"})
    ]


def test_unknown_encoding_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        list(read_records(READERS / "bom.csv", encoding="klingon"))


def test_csv_rows_report_the_line_they_start_on_across_multiline_cells_and_blank_lines() -> None:
    assert rows(READERS / "multiline.csv") == [
        (2, {"id": "a", "name": "A", "note": "first line\nsecond line"}),
        (5, {"id": "b", "name": "B", "note": "plain"}),
    ]


def test_csv_empty_cells_are_none_and_short_rows_are_padded(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,name,x\na,,\nb\n", encoding="utf-8")
    assert rows(path) == [
        (2, {"id": "a", "name": None, "x": None}),
        (3, {"id": "b", "name": None, "x": None}),
    ]


def test_csv_extra_cells_are_a_problem_of_the_row(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,name\na,b,surplus\n", encoding="utf-8")
    (record,) = read_records(path, display_name="t.csv")
    assert [str(p) for p in record.problems] == [
        "t.csv:2: expected at most 2 cells as in the header, got 3"
    ]


@pytest.mark.parametrize(
    "text,expected", [("a;b;c", ";"), ("a\tb", "\t"), ("a", ","), ("a|b", "|")]
)
def test_sniff_delimiter(text: str, expected: str) -> None:
    assert sniff_delimiter(text) == expected


def test_json_array_records_start_lines_and_typed_values() -> None:
    assert rows(READERS / "people.json") == [
        (2, {"id": "ada", "name": "Ada", "born": "1815"}),
        (3, {"id": "grace", "name": "Grace", "tags": "navy;cobol", "active": "true"}),
    ]


def test_json_lines_skip_blank_lines() -> None:
    assert rows(READERS / "people.jsonl") == [
        (1, {"id": "ada", "name": "Ada"}),
        (3, {"id": "grace", "name": "Grace", "score": "1.5"}),
    ]


def test_yaml_list_with_dates_and_lists() -> None:
    assert rows(READERS / "people.yaml") == [
        (2, {"id": "ada", "name": "Ada", "born": "1815-12-10"}),
        (5, {"id": "grace", "name": "Grace", "tags": "navy;cobol"}),
    ]


@pytest.mark.parametrize(
    "name,message",
    [
        (
            "broken-syntax.json",
            "r/broken-syntax.json:2: not valid JSON: Expecting ':' delimiter (column 8)",
        ),
        ("broken-line.jsonl", "r/broken-line.jsonl:2: not valid JSON (column 8): Expecting value"),
        (
            "broken-syntax.yaml",
            "r/broken-syntax.yaml:3: not valid YAML (column 1): did not find expected ',' or ']'",
        ),
    ],
)
def test_malformed_files_report_parser_line_and_column(name: str, message: str) -> None:
    with pytest.raises(RecordError) as info:
        list(read_records(READERS / name, display_name=f"r/{name}"))
    assert str(info.value) == message


def test_json_nested_value_is_a_problem_of_its_cell(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('[{"id": "a", "place": {"city": "Graz"}}, 3]', encoding="utf-8")
    first, second = read_records(path, display_name="x.json")
    assert [str(p) for p in first.problems] == [
        'x.json:1 column "place": expected a flat value (text, number, date or list), got an object'
    ]
    assert [str(p) for p in second.problems] == [
        "x.json:1: expected an object (a record), got a int"
    ]


def test_json_top_level_must_be_an_array(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('\n{"id": "a"}', encoding="utf-8")
    with pytest.raises(RecordError) as info:
        list(read_records(path, display_name="x.json"))
    assert str(info.value) == "x.json:2: expected a JSON array of objects, got '{' (column 1)"


def test_xlsx_two_sheets_each_a_table(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "organisations"
    sheet.append(["id", "name", "founded"])
    sheet.append(["drift", "DRIFT", 2004])
    sheet.append([None, None, None])
    sheet.append(["aeidl", "AEIDL", dt.datetime(1988, 5, 1)])
    people = book.create_sheet("people")
    people.append(["id", "share"])
    people.append(["ada", 0.5])
    book.save(path)

    assert table_names(path) == ["organisations", "people"]
    assert table_names(path, sheet="people") == ["people"]
    assert rows(path, sheet="organisations") == [
        (2, {"id": "drift", "name": "DRIFT", "founded": "2004"}),
        (4, {"id": "aeidl", "name": "AEIDL", "founded": "1988-05-01"}),
    ]
    everything = list(read_records(path, display_name="book.xlsx"))
    assert [r.location for r in everything][-1] == SourceLocation("book.xlsx", 2, None, "people")
    assert everything[-1].values == {"id": "ada", "share": "0.5"}


def test_xlsx_unknown_sheet_names_the_sheets(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "a"
    book.save(path)
    with pytest.raises(InputError) as info:
        table_names(path, sheet="b", display_name="book.xlsx")
    assert str(info.value) == 'book.xlsx: no sheet "b"; the workbook has: a'


def test_xlsx_that_is_not_a_workbook() -> None:
    with pytest.raises(InputError) as info:
        list(read_records(READERS / "broken.xlsx", display_name="r/broken.xlsx"))
    assert str(info.value) == "r/broken.xlsx: not a readable XLSX workbook (File is not a zip file)"


def test_unknown_suffix_and_missing_file() -> None:
    with pytest.raises(InputError) as info:
        read_records(READERS / "notes.txt", display_name="r/notes.txt")
    assert str(info.value) == (
        "r/notes.txt: unknown file format .txt; sinlod reads "
        ".csv, .json, .jsonl, .ndjson, .tsv, .xlsx, .yaml, .yml"
    )
    with pytest.raises(InputError, match="^r/nope.csv: no such file$"):
        list(read_records(READERS / "nope.csv", display_name="r/nope.csv"))


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("t.csv", b"", "a header row"),
        ("t.csv", b"\xef\xbb\xbf", "a header row"),
        ("t.tsv", b"\xef\xbb\xbf\r\n \t\n", "a header row"),
        ("t.json", b" \n", "a JSON array of objects"),
        ("t.jsonl", b"\n\n", "one JSON object per line"),
        ("t.yaml", b"\xef\xbb\xbf", "a YAML list of records"),
        ("t.xlsx", b"", "an XLSX workbook"),
    ],
)
def test_an_empty_file_is_an_input_error_naming_it(
    tmp_path: Path, name: str, data: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    message = f"r/{name}: empty file, expected {expected}"
    with pytest.raises(InputError) as info:
        table_names(path, display_name=f"r/{name}")
    assert str(info.value) == message
    with pytest.raises(InputError) as info:
        list(read_records(path, display_name=f"r/{name}"))
    assert str(info.value) == message


def test_emptiness_is_judged_in_the_files_encoding(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(" \n\n", encoding="utf-16")
    with pytest.raises(InputError, match="^t.csv: empty file, expected a header row$"):
        table_names(path, display_name="t.csv", encoding="utf-16")
    with pytest.raises(InputError, match="^t.csv: empty file, expected a header row$"):
        list(read_records(path, display_name="t.csv", encoding="utf-16"))


def test_content_after_a_long_run_of_blank_lines_is_not_empty(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"\n" * 100_000 + b"id\nada\n")
    assert rows(path) == [(100_002, {"id": "ada"})]


def test_a_header_without_rows_and_an_empty_array_are_empty_tables(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,name\n", encoding="utf-8")
    (tmp_path / "t.json").write_text("[]", encoding="utf-8")
    (tmp_path / "t.yaml").write_text("[]\n", encoding="utf-8")
    for name in ("t.csv", "t.json", "t.yaml"):
        assert rows(tmp_path / name) == []


def test_xlsx_empty_sheet_and_empty_workbook(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "people"
    book.create_sheet("events")
    book.save(path)
    with pytest.raises(InputError) as info:
        table_names(path, display_name="book.xlsx")
    assert str(info.value) == "book.xlsx: empty workbook, expected a sheet with a header row"

    book["people"].append(["id"])
    book["people"].append(["ada"])
    book.save(path)
    with pytest.raises(InputError) as info:
        table_names(path, display_name="book.xlsx")
    assert str(info.value) == "book.xlsx[events]: empty sheet, expected a header row"
    assert table_names(path, sheet="people", display_name="book.xlsx") == ["people"]
    with pytest.raises(InputError) as info:
        list(read_records(path, display_name="book.xlsx"))
    assert str(info.value) == "book.xlsx[events]: empty sheet, expected a header row"


def test_scalar_text() -> None:
    assert scalar_text(2019.0) == "2019"
    assert scalar_text(False) == "false"
    assert scalar_text(dt.datetime(2020, 1, 2, 3, 4)) == "2020-01-02T03:04:00"
    assert scalar_text("") is None


SUFFIXES = [".csv", ".json", ".jsonl", ".yaml", ".xlsx", ".tsv"]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_bytes_never_crash_a_reader(tmp_path: Path, data: bytes, suffix: str) -> None:
    """Garbage gives records or an InputError (RecordError is one), never another exception."""
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(data)
    try:
        for record in read_records(path, display_name=path.name):
            assert record.location.file == path.name
    except InputError:
        pass


def test_doctests() -> None:
    import doctest

    import sinlod.records
    import sinlod.records.from_csv

    for module in (sinlod.records, sinlod.records.from_csv):
        assert doctest.testmod(module).failed == 0
