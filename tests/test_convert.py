"""The conversion pipeline: sources + mappings → graphs, errors, formats, atomic output."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinlod.config import Settings
from sinlod.convert import convert, convert_to_file, expand_sources, output_format
from sinlod.errors import ConversionFailed, InputError

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://w3id.org/sinlod/"
DEF = BASE + "def/"


@pytest.fixture
def here(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from tests/fixtures, so paths in messages are short and relative as a user types."""
    monkeypatch.chdir(FIXTURES)
    return FIXTURES


def messages(exc: ConversionFailed) -> list[str]:
    return [str(e) for e in exc.errors]


def test_good_records_convert_into_one_graph_per_file(here: Path, settings: Settings) -> None:
    result = convert(["records/good"], settings, mappings_dir=Path("mappings"))
    assert list(result.graphs) == [
        BASE + "graph/sinlod/organisations",
        BASE + "graph/sinlod/projects",
        BASE + "graph/sinlod/involvements",
    ]
    assert result.triple_count() == 40
    assert [p.name for p in result.sources] == [
        "involvements.csv",
        "organisations.csv",
        "projects.csv",
    ]
    quads = list(result.quads())
    assert len(quads) == 40
    assert quads[0].graph_name == ox.NamedNode(BASE + "graph/sinlod/organisations")
    where = result.source_map.locate(
        f"<{BASE}id/project/sic>",
        f"<{DEF}startDate>",
        f'"2016-02"^^<{ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYearMonth").value}>',
    )
    assert [str(w) for w in where] == ['records/good/projects.csv:2 column "start"']


def test_base_iri_setting_changes_minted_iris(here: Path) -> None:
    settings = Settings.load(env={}, base_iri="http://localhost:8000/")
    result = convert(["records/good/organisations.csv"], settings, mappings_dir=Path("mappings"))
    subjects = {
        t.subject.value for t in result.graphs["http://localhost:8000/graph/sinlod/organisations"]
    }
    assert "http://localhost:8000/id/organisation/drift" in subjects


def test_every_problem_of_a_file_is_reported(here: Path, settings: Settings) -> None:
    with pytest.raises(ConversionFailed) as info:
        convert(["records/bad"], settings, mappings_dir=Path("mappings"))
    columns = "id, title, start, signed, budget, participants, open, topics, keywords, status, "
    columns += "coordinator"
    assert messages(info.value) == [
        f'records/bad/projects.csv:1 column "colour": unknown to the mapping '
        f"mappings/projects.csv-metadata.json (its columns: {columns})",
        'records/bad/projects.csv:2 column "start": expected a date (YYYY-MM-DD, YYYY-MM or YYYY), '
        'got "next spring"',
        'records/bad/projects.csv:3 column "id": expected a unique id, got "sic" again '
        "(first at records/bad/projects.csv:2)",
        'records/bad/projects.csv:4 column "title": expected a value (the column is required), '
        "got nothing",
        'records/bad/projects.csv:4 column "coordinator": refers to "nobody", '
        'but organisations has no record with id "nobody"',
        'records/bad/projects.csv:4 column "participants": expected a non-negative integer, '
        'got "many"',
    ]
    assert not info.value.truncated


def test_max_errors_stops_early(here: Path, settings: Settings) -> None:
    with pytest.raises(ConversionFailed) as info:
        convert(["records/bad"], settings, mappings_dir=Path("mappings"), max_errors=2)
    assert len(info.value.errors) == 2
    assert info.value.truncated
    assert str(info.value) == "2 problems in the records (stopped at --max-errors)"


def test_references_work_in_any_order_and_across_files(here: Path, settings: Settings) -> None:
    sources = [
        "records/good/involvements.csv",
        "records/good/projects.csv",
        "records/good/organisations.csv",
    ]
    result = convert(sources, settings, mappings_dir=Path("mappings"))
    assert result.triple_count() == 40


def test_reference_to_a_table_not_in_the_run(here: Path, settings: Settings) -> None:
    with pytest.raises(ConversionFailed) as info:
        convert(["records/good/involvements.csv"], settings, mappings_dir=Path("mappings"))
    assert messages(info.value) == [
        'records/good/involvements.csv column "project": refers to table projects, which is not '
        "in this conversion (add its records file)",
        'records/good/involvements.csv column "agent": refers to table organisations, which is '
        "not in this conversion (add its records file)",
    ]
    with pytest.raises(ConversionFailed) as info:
        convert(
            ["records/good/involvements.csv"], settings, mappings_dir=Path("mappings"), max_errors=1
        )
    assert (len(info.value.errors), info.value.truncated) == (1, True)
    result = convert(
        ["records/good/involvements.csv"],
        settings,
        mappings_dir=Path("mappings"),
        check_references=False,
    )
    assert result.triple_count() == 11


def test_reference_checked_after_the_target_table_arrives(
    here: Path, settings: Settings, tmp_path: Path
) -> None:
    """Projects and involvements refer to each other's tables only one way, but a cycle
    (a table referring to itself) must still be checked at the end."""
    mapping = tmp_path / "parts.json"
    mapping.write_text(
        '{"url": "parts.csv", "tableSchema": {"aboutUrl": "id/part/{id}", "primaryKey": "id",'
        ' "foreignKeys": [{"columnReference": "parent", "reference": '
        '{"resource": "parts.csv", "columnReference": "id"}}],'
        ' "columns": [{"name": "id"}, {"name": "parent", "propertyUrl": "dct:isPartOf",'
        ' "valueUrl": "id/part/{parent}"}]}}',
        encoding="utf-8",
    )
    records = tmp_path / "parts.csv"
    records.write_text("id,parent\nwheel,car\ncar,\nbolt,nut\n", encoding="utf-8")
    with pytest.raises(ConversionFailed) as info:
        convert([records], settings, mapping_files=[mapping])
    assert [e.message for e in info.value.errors] == [
        'refers to "nut", but parts has no record with id "nut"'
    ]
    assert info.value.errors[0].location is not None
    assert info.value.errors[0].location.row == 4


def test_no_mapping_for_a_file(here: Path, settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "unknown.csv").write_text("id\nx\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        convert([tmp_path / "unknown.csv"], settings, mappings_dir=Path("mappings"))
    assert str(info.value) == (
        f'{tmp_path / "unknown.csv"}: no mapping for table "unknown" in mappings '
        "(tables: involvements, organisations, projects); use --mappings DIR or --mapping FILE"
    )


def test_missing_inputs_are_input_errors(here: Path, settings: Settings) -> None:
    with pytest.raises(InputError, match="^records/nope.csv: no such file or directory$"):
        convert(["records/nope.csv"], settings, mappings_dir=Path("mappings"))
    with pytest.raises(InputError, match="^records/\\*.nope: no files match$"):
        convert(["records/*.nope"], settings, mappings_dir=Path("mappings"))
    with pytest.raises(InputError, match="^nowhere: no such mappings directory$"):
        convert(["records/good"], settings, mappings_dir=Path("nowhere"))
    with pytest.raises(InputError, match="^records/readers/notes.txt: unknown file format .txt"):
        convert(["records/readers/notes.txt"], settings, mappings_dir=Path("mappings"))


def test_malformed_mapping_json_is_an_input_error(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "projects.csv-metadata.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="mapping is not valid JSON"):
        convert([FIXTURES / "records/good/projects.csv"], settings, mapping_files=[bad])


def test_globs_directories_and_repeats(here: Path) -> None:
    sources = expand_sources(["records/good/*.csv", "records/good", "records/good/projects.csv"])
    assert [s.display for s in sources] == [
        "records/good/involvements.csv",
        "records/good/organisations.csv",
        "records/good/projects.csv",
    ]


def test_malformed_record_file_is_reported_and_other_files_still_checked(
    settings: Settings, tmp_path: Path
) -> None:
    mapping = tmp_path / "m.json"
    mapping.write_text(
        '{"tables": [{"url": "a.json", "tableSchema": {"aboutUrl": "id/a/{id}", '
        '"columns": [{"name": "id"}, {"name": "n", "datatype": "integer"}]}},'
        '{"url": "b.yaml", "tableSchema": {"aboutUrl": "id/b/{id}", '
        '"columns": [{"name": "id"}]}}]}',
        encoding="utf-8",
    )
    (tmp_path / "a.json").write_text('[{"id": "x", "n": "one"},\n{"id": }]', encoding="utf-8")
    (tmp_path / "b.yaml").write_text("- id: y\n  extra: 1\n", encoding="utf-8")
    with pytest.raises(ConversionFailed) as info:
        convert([tmp_path / "a.json", tmp_path / "b.yaml"], settings, mapping_files=[mapping])
    assert [(e.location.row, e.location.column, e.message) for e in info.value.errors] == [  # type: ignore[union-attr]
        (1, "n", 'expected an integer, got "one"'),
        (2, None, "not valid JSON: Expecting value (column 8)"),
        (1, "extra", f"unknown to the mapping {mapping} (its columns: id)"),
    ]


def test_xlsx_sheets_pair_with_mappings_by_sheet_name(
    here: Path, settings: Settings, tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    orgs = book.active
    orgs.title = "organisations"
    orgs.append(["id", "name", "founded", "homepage"])
    orgs.append(["drift", "DRIFT", 2004, None])
    projects = book.create_sheet("projects")
    projects.append(["id", "title", "start", "coordinator"])
    projects.append(["sic", "SIC", "soon", "drift"])
    path = tmp_path / "all.xlsx"
    book.save(path)
    with pytest.raises(ConversionFailed) as info:
        convert([path], settings, mappings_dir=Path("mappings"))
    located = [str(e) for e in info.value.errors if e.location and e.location.row == 2]
    assert located == [
        f'{path}[projects]:2 column "start": expected a date (YYYY-MM-DD, YYYY-MM or YYYY), '
        'got "soon"'
    ]
    result = convert([path], settings, mappings_dir=Path("mappings"), sheet="organisations")
    assert list(result.graphs) == [BASE + "graph/sinlod/all"]
    assert result.triple_count() == 3


def test_same_records_give_byte_identical_sorted_n_triples(
    here: Path, settings: Settings, tmp_path: Path
) -> None:
    outputs = []
    for name in ("one.nt", "two.nt"):
        convert_to_file(
            ["records/good"], settings, tmp_path / name, None, mappings_dir=Path("mappings")
        )
        outputs.append(sorted((tmp_path / name).read_bytes().splitlines()))
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) == 40
    assert not any(b"_:" in line for line in outputs[0])  # no blank nodes


@pytest.mark.parametrize(
    "name,fmt",
    [("o.ttl", None), ("o.nt", None), ("o.nq", None), ("o.jsonld", None), ("o.rdf", None),
     ("o.out", "trig")],
)  # fmt: skip
def test_every_output_format_parses_back_to_the_same_triples(
    here: Path, settings: Settings, tmp_path: Path, name: str, fmt: str | None
) -> None:
    out = tmp_path / name
    count = convert_to_file(["records/good"], settings, out, fmt, mappings_dir=Path("mappings"))
    assert count == 40
    parsed = list(ox.parse(path=str(out), format=output_format(out, fmt)))
    assert len({(q.subject, q.predicate, q.object) for q in parsed}) == 40


def test_output_format_from_extension_or_option() -> None:
    assert output_format(Path("x.ttl"), None) == ox.RdfFormat.TURTLE
    assert output_format(None, None) == ox.RdfFormat.TURTLE
    assert output_format(Path("x.ttl"), "nq") == ox.RdfFormat.N_QUADS
    with pytest.raises(InputError) as info:
        output_format(Path("x.txt"), None)
    assert (
        str(info.value)
        == 'cannot tell the output format from "x.txt"; use --format ttl|nt|nq|jsonld|rdf|trig'
    )


def test_failed_conversion_leaves_the_existing_output_untouched(
    here: Path, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "dataset.nt"
    out.write_text("previous\n", encoding="utf-8")
    with pytest.raises(ConversionFailed):
        convert_to_file(["records/bad"], settings, out, None, mappings_dir=Path("mappings"))
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset.nt"]  # no temp file left


def test_stream_output_gets_nothing_on_failure(here: Path, settings: Settings) -> None:
    sink = io.BytesIO()
    with pytest.raises(ConversionFailed):
        convert_to_file(["records/bad"], settings, sink, "nt", mappings_dir=Path("mappings"))
    assert sink.getvalue() == b""
    convert_to_file(["records/good"], settings, sink, "nt", mappings_dir=Path("mappings"))
    assert sink.getvalue().count(b"\n") == 40


# -- hypothesis ---------------------------------------------------------------------------------

ROUNDTRIP_MAPPING = """{
  "url": "items.csv",
  "tableSchema": {
    "aboutUrl": "id/item/{id}",
    "primaryKey": "id",
    "columns": [
      {"name": "id", "suppressOutput": true},
      {"name": "label", "propertyUrl": "skos:prefLabel", "lang": "en"},
      {"name": "count", "propertyUrl": "sinlod:memberCount", "datatype": "nonNegativeInteger"},
      {"name": "start", "propertyUrl": "sinlod:startDate", "datatype": "sinlod:partialDate"},
      {"name": "tags", "propertyUrl": "schema:keywords", "separator": ";"}
    ]
  }
}"""

slugs = st.from_regex(r"[a-z0-9][a-z0-9-]{0,15}", fullmatch=True)
labels = (
    st.text(
        st.characters(
            blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n\x85\u2028\u2029"
        ),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(bool)
)
dates = st.dates(min_value=__import__("datetime").date(1000, 1, 1)).flatmap(
    lambda d: st.sampled_from([d.isoformat(), d.isoformat()[:7], d.isoformat()[:4]])
)
tags = st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), max_size=3, unique=True)
rows = st.lists(
    st.tuples(slugs, labels, st.integers(0, 10**12), dates, tags),
    min_size=1,
    max_size=8,
    unique_by=lambda r: r[0],
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=rows)
def test_random_valid_records_round_trip(
    tmp_path_factory: pytest.TempPathFactory, data: list
) -> None:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("rt")
    (folder / "items.json").write_text(ROUNDTRIP_MAPPING, encoding="utf-8")
    with (folder / "items.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "label", "count", "start", "tags"])
        for key, label, count, start, tag_list in data:
            writer.writerow([key, label, count, start, ";".join(tag_list)])
    out = folder / "out.nt"
    convert_to_file(
        [folder / "items.csv"],
        Settings.load(env={}),
        out,
        None,
        mapping_files=[folder / "items.json"],
    )
    graph: dict[str, dict[str, set[str]]] = {}
    for triple in ox.parse(path=str(out), format=ox.RdfFormat.N_TRIPLES):
        key = triple.subject.value.rsplit("/", 1)[1]
        graph.setdefault(key, {}).setdefault(triple.predicate.value, set()).add(triple.object.value)
    expected = {
        key: {
            "http://www.w3.org/2004/02/skos/core#prefLabel": {label},
            DEF + "memberCount": {str(count)},
            DEF + "startDate": {start},
            **({"https://schema.org/keywords": set(tag_list)} if tag_list else {}),
        }
        for key, label, count, start, tag_list in data
    }
    assert graph == expected


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.binary(max_size=400),
    suffix=st.sampled_from([".csv", ".json", ".jsonl", ".yaml", ".xlsx"]),
)
def test_arbitrary_bytes_only_ever_give_sinlod_errors(
    tmp_path_factory: pytest.TempPathFactory, content: bytes, suffix: str
) -> None:
    folder = tmp_path_factory.mktemp("junk")
    (folder / "items.json").write_text(ROUNDTRIP_MAPPING, encoding="utf-8")
    path = folder / f"items{suffix}"
    path.write_bytes(content)
    try:
        convert([path], Settings.load(env={}), mapping_files=[folder / "items.json"])
    except (InputError, ConversionFailed):
        pass
