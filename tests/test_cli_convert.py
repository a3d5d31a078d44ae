"""``sinlod convert``: exit codes, the full stderr, and what ends up in the output."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from tests.conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures"

BAD_PROJECTS_STDERR = """\
records/bad/projects.csv:1 column "colour": unknown to the mapping \
mappings/projects.csv-metadata.json (its columns: id, title, start, signed, budget, participants, \
open, topics, keywords, status, coordinator)
records/bad/projects.csv:2 column "start": expected a date (YYYY-MM-DD, YYYY-MM or YYYY), got \
"next spring"
records/bad/projects.csv:3 column "id": expected a unique id, got "sic" again (first at \
records/bad/projects.csv:2)
records/bad/projects.csv:4 column "title": expected a value (the column is required), got nothing
records/bad/projects.csv:4 column "coordinator": refers to "nobody", but organisations has no \
record with id "nobody"
records/bad/projects.csv:4 column "participants": expected a non-negative integer, got "many"
6 problems in 1 file
"""


@pytest.fixture(autouse=True)
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where a steward would: paths on the command line are relative."""
    monkeypatch.chdir(FIXTURES)
    monkeypatch.delenv("SINLOD_CONFIG", raising=False)


def test_convert_to_stdout_as_turtle() -> None:
    result = run_cli(["convert", "records/good", "--mappings", "mappings"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    triples = list(ox.parse(result.stdout_bytes, format=ox.RdfFormat.TURTLE))
    assert len(triples) == 40


def test_convert_to_file_reports_the_count(tmp_path: Path) -> None:
    out = tmp_path / "dataset.nq"
    result = run_cli(["convert", "records/good", "--mappings", "mappings", "-o", str(out)])
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "",
        f"40 triples written to {out}\n",
    )
    quads = list(ox.parse(path=str(out), format=ox.RdfFormat.N_QUADS))
    assert {q.graph_name.value for q in quads} == {  # type: ignore[union-attr]
        "https://w3id.org/sinlod/graph/sinlod/organisations",
        "https://w3id.org/sinlod/graph/sinlod/projects",
        "https://w3id.org/sinlod/graph/sinlod/involvements",
    }


def test_dataset_names_the_graphs(tmp_path: Path) -> None:
    """``--dataset`` names each source's graph as ``publish --dataset`` will (issue 11)."""
    out = tmp_path / "dataset.nq"
    args = ["convert", "records/good", "--mappings", "mappings", "-o", str(out), "-q"]
    assert run_cli([*args, "--dataset", "steward"]).exit_code == 0
    quads = list(ox.parse(path=str(out), format=ox.RdfFormat.N_QUADS))
    assert {q.graph_name.value for q in quads} == {  # type: ignore[union-attr]
        "https://w3id.org/sinlod/graph/steward/organisations",
        "https://w3id.org/sinlod/graph/steward/projects",
        "https://w3id.org/sinlod/graph/steward/involvements",
    }
    bad = run_cli([*args, "--dataset", "releases"])
    assert bad.exit_code == 2 and "is sinlod's own graph name" in bad.stderr


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    out = tmp_path / "d.ttl"
    result = run_cli(["convert", "records/good", "--mappings", "mappings", "-o", str(out), "-q"])
    assert (result.exit_code, result.output) == (0, "")


def test_record_problems_exit_1_with_every_problem_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "dataset.nt"
    out.write_text("previous\n", encoding="utf-8")
    result = run_cli(["convert", "records/bad", "--mappings", "mappings", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == BAD_PROJECTS_STDERR
    assert out.read_text(encoding="utf-8") == "previous\n"


def test_max_errors(tmp_path: Path) -> None:
    result = run_cli(["convert", "records/bad", "--mappings", "mappings", "--max-errors", "1"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "1 problem in 1 file (stopped at --max-errors)"


def test_errors_as_json_lines() -> None:
    result = run_cli(
        ["convert", "records/bad", "--mappings", "mappings", "--format-errors", "json"]
    )
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert json.loads(lines[1]) == {
        "file": "records/bad/projects.csv",
        "row": 2,
        "column": "start",
        "sheet": None,
        "value": "next spring",
        "message": 'expected a date (YYYY-MM-DD, YYYY-MM or YYYY), got "next spring"',
    }
    assert lines[-1] == "6 problems in 1 file"


@pytest.mark.parametrize(
    "args,stderr",
    [
        (["records/nope.csv"], "Error: records/nope.csv: no such file or directory\n"),
        (
            ["records/readers/bom.csv"],
            'Error: records/readers/bom.csv: no mapping for table "bom" in mappings '
            "(tables: involvements, organisations, projects); "
            "use --mappings DIR or --mapping FILE\n",
        ),
        (
            ["records/good", "-o", "out.txt"],
            'Error: cannot tell the output format from "out.txt"; '
            "use --format ttl|nt|nq|jsonld|rdf|trig\n",
        ),
        (
            ["records/readers/notes.txt"],
            "Error: records/readers/notes.txt: unknown file format .txt; sinlod reads "
            ".csv, .json, .jsonl, .ndjson, .tsv, .xlsx, .yaml, .yml\n",
        ),
    ],
)
def test_usage_and_input_errors_exit_2(args: list[str], stderr: str) -> None:
    result = run_cli(["convert", *args, "--mappings", "mappings"])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", stderr)


def test_malformed_mapping_exits_2(tmp_path: Path) -> None:
    mapping = tmp_path / "projects.csv-metadata.json"
    mapping.write_text('{"url": "projects.csv",}', encoding="utf-8")
    result = run_cli(["convert", "records/good/projects.csv", "--mapping", str(mapping)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {mapping}:1: mapping is not valid JSON (column 24): "
        "Expecting property name enclosed in double quotes\n"
    )


def test_encoding_and_delimiter_options(tmp_path: Path) -> None:
    mapping = tmp_path / "places.json"
    mapping.write_text(
        '{"url": "places.csv", "tableSchema": {"aboutUrl": "id/place/{id}", "columns": '
        '[{"name": "id", "suppressOutput": true}, '
        '{"name": "name", "propertyUrl": "skos:prefLabel"}]}}',
        encoding="utf-8",
    )
    records = tmp_path / "places.csv"
    records.write_bytes("id|name\nmuc|München\n".encode("latin-1"))
    args = ["convert", str(records), "--mapping", str(mapping), "--format", "nt"]
    failed = run_cli(args)
    assert failed.exit_code == 2
    assert failed.stderr == (
        f"Error: {records}:2: not valid UTF-8 text (byte 0xfc); "
        "use --encoding to name the file's encoding, e.g. --encoding latin-1\n"
    )
    result = run_cli([*args, "--encoding", "latin-1", "--delimiter", "|"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "<https://w3id.org/sinlod/id/place/muc> "
        '<http://www.w3.org/2004/02/skos/core#prefLabel> "München" .\n'
    )


def test_help_shows_an_example() -> None:
    result = run_cli(["convert", "--help"])
    assert result.exit_code == 0
    assert "sinlod convert data/records -o var/dataset.nq" in result.stdout
