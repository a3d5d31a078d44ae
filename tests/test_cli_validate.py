"""``sinlod validate``: exit codes, exact messages and each output format.

Runs in ``tests/fixtures/validate`` (so files show as ``records/projects.csv``) with a settings
file pointing at that folder's tiny shapes, ontology, vocabulary, reference snapshot and mappings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from tests.conftest import FIXTURES, run_cli

VALIDATE = FIXTURES / "validate"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SINLOD_CONFIG", "SINLOD_SHAPES_DIR", "SINLOD_ONTOLOGY_DIR", "SINLOD_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(VALIDATE)
    path = tmp_path / "sinlod.toml"
    path.write_text(
        "[sinlod]\n"
        + "".join(
            f'{key} = "{VALIDATE / folder}"\n'
            for key, folder in [
                ("shapes_dir", "shapes"),
                ("ontology_dir", "ontology"),
                ("data_dir", "data"),
                ("mappings_dir", "mappings"),
            ]
        ),
        encoding="utf-8",
    )
    return path


def validate(config: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli(["--config", str(config), "validate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_violations_in_records_exit_1_with_cells_named(config: Path) -> None:
    code, out, err = validate(config, "records/projects.csv")
    assert (code, err) == (1, "")
    assert out == (
        "records/projects.csv\n"
        "  p09 (<https://w3id.org/sinlod/id/project/p09>)\n"
        "    records/projects.csv:10 property dct:description: Warning:"
        " A project should have a description\n"
        "  p10 (<https://w3id.org/sinlod/id/project/p10>)\n"
        '    records/projects.csv:11 column "start": Violation:'
        ' Project start must be a date (YYYY-MM-DD) (got "2010-10")\n'
        "  sic (<https://w3id.org/sinlod/id/project/sic>)\n"
        '    records/projects.csv:12 column "end": Violation:'
        ' Project end date must not be before its start date (got "2015")\n'
        "\n"
        "2 violations, 1 warning, 0 infos\n"
    )


def test_conforming_records_exit_0(config: Path) -> None:
    assert validate(config, "records/conforming.csv") == (
        0,
        "0 violations, 0 warnings, 0 infos\n",
        "",
    )


def test_conforming_rdf_exit_0(config: Path) -> None:
    assert validate(config, "rdf/conforming.ttl")[0] == 0


def test_warnings_pass_unless_strict(config: Path) -> None:
    assert validate(config, "rdf/warning-only.ttl")[0] == 0
    assert validate(config, "--strict", "rdf/warning-only.ttl")[0] == 1


def test_quiet_prints_only_the_summary(config: Path) -> None:
    assert validate(config, "-q", "records/projects.csv") == (
        1,
        "2 violations, 1 warning, 0 infos\n",
        "",
    )


def test_unreadable_rdf_exit_2(config: Path) -> None:
    assert validate(config, "rdf/bad-syntax.ttl") == (
        2,
        "",
        "Error: rdf/bad-syntax.ttl:4: not valid Turtle: Parser error at line 4 between columns"
        " 1 and 39: A dot is expected at the end of statements\n",
    )


def test_missing_file_exit_2(config: Path) -> None:
    code, _, err = validate(config, "records/nothing.csv")
    assert code == 2
    assert "Path 'records/nothing.csv' does not exist." in err


def test_conversion_problems_are_reported_like_convert_exit_1(config: Path) -> None:
    assert validate(config, "records/bad-date.csv") == (
        1,
        "",
        'records/bad-date.csv:2 column "start": expected a date (YYYY-MM-DD, YYYY-MM or YYYY),'
        ' got "next spring"\n'
        "1 problem in 1 file\n",
    )


def test_format_json(config: Path) -> None:
    code, out, _ = validate(config, "--format", "json", "records/projects.csv")
    data = json.loads(out)
    assert code == 1
    assert data["counts"] == {"Violation": 2, "Warning": 1, "Info": 0}
    assert data["findings"][2]["locations"] == [
        {"file": "records/projects.csv", "row": 12, "column": "end", "sheet": None}
    ]


def test_engine_option_gives_the_same_report(config: Path) -> None:
    """``--engine pyshacl`` (the reference) and the default fast engine print the same JSON."""
    fast = validate(config, "--format", "json", "records/projects.csv")
    reference = validate(config, "--engine", "pyshacl", "--format", "json", "records/projects.csv")
    assert fast == reference
    assert fast[0] == 1


def test_unknown_engine_is_a_usage_error(config: Path) -> None:
    code, _, err = validate(config, "--engine", "rust", "records/projects.csv")
    assert code == 2
    assert "Invalid value for '--engine': 'rust' is not one of 'fast', 'pyshacl'." in err


def test_format_sarif(config: Path) -> None:
    code, out, _ = validate(config, "--format", "sarif", "records/projects.csv")
    sarif = json.loads(out)
    assert code == 1
    assert sarif["version"] == "2.1.0"
    last = sarif["runs"][0]["results"][2]
    assert last["ruleId"] == "shapes:ProjectShape/sinlod:endDate/sh:SPARQLConstraintComponent"
    assert last["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "records/projects.csv"},
        "region": {"startLine": 12},
    }


def test_format_ttl(config: Path) -> None:
    code, out, _ = validate(config, "--format", "ttl", "records/projects.csv")
    store = ox.Store()
    store.load(out, format=ox.RdfFormat.TURTLE)
    assert code == 1
    count = store.query(
        "PREFIX sh: <http://www.w3.org/ns/shacl#> "
        "SELECT (COUNT(?r) AS ?n) WHERE { ?x a sh:ValidationReport ; sh:result ?r }"
    )
    assert isinstance(count, ox.QuerySolutions)
    assert [row[0].value for row in count] == ["3"]


def test_context_store_resolves_references(config: Path, tmp_path: Path) -> None:
    from sinlod.store import ReleaseInfo, Store

    with Store.open(tmp_path / "store") as store:
        graphs: dict[str, list[ox.Triple]] = {}
        for quad in ox.parse(path=VALIDATE / "published.trig"):
            assert isinstance(quad.graph_name, ox.NamedNode)
            graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
        store.replace_graphs(graphs, release=ReleaseInfo(agent="test"))

    assert validate(config, "rdf/refers-to-store.ttl")[0] == 1
    assert validate(config, "--context", str(tmp_path / "store"), "rdf/refers-to-store.ttl") == (
        0,
        "0 violations, 0 warnings, 0 infos\n",
        "",
    )


def test_help_shows_an_example(config: Path) -> None:
    out = run_cli(["validate", "--help"]).output
    assert "sinlod validate --format sarif data/records > validation.sarif" in out


def test_records_without_a_mapping_exit_2(config: Path, tmp_path: Path) -> None:
    (tmp_path / "unmapped.csv").write_text("id\nx\n", encoding="utf-8")
    code, out, err = validate(config, str(tmp_path / "unmapped.csv"))
    assert (code, out) == (2, "")
    assert err.startswith(f'Error: {tmp_path / "unmapped.csv"}: no mapping for table "unmapped"')


def test_mapping_option(config: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.csv").write_text("id,title,description,start,end\nx,X,Y,2020,2021\n")
    mapping = (VALIDATE / "mappings" / "projects.csv-metadata.json").read_text()
    (tmp_path / "m.json").write_text(mapping.replace('"projects.csv"', '"mine.csv"'))
    code, out, _ = validate(
        config, "--mapping", str(tmp_path / "m.json"), str(tmp_path / "mine.csv")
    )
    assert code == 1
    assert (
        f'{tmp_path / "mine.csv"}:2 column "start": Violation: Project start must be a date' in out
    )


def test_cut_short_conversion_names_no_option_validate_lacks(config: Path, tmp_path: Path) -> None:
    """Validation converts with convert's default limit (100 problems) and no --max-errors to
    raise it: the last line says where it stopped, not which option to use."""
    rows = "".join(f"p{i},P{i},A project,next spring,2019\n" for i in range(150))
    (tmp_path / "bad-date.csv").write_text("id,title,description,start,end\n" + rows)
    code, out, err = validate(config, str(tmp_path / "bad-date.csv"))
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert len(lines) == 101
    assert lines[0].endswith(
        'column "start": expected a date (YYYY-MM-DD, YYYY-MM or YYYY), got "next spring"'
    )
    assert lines[-1] == "100 problems in 1 file (stopped at 100)"
    assert "--max-errors" not in run_cli(["validate", "--help"]).output
