"""CLI over the store: publish, releases, query, dump, restore, stats; exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sinlod.store import Store
from tests.conftest import run_cli

BASE = "https://w3id.org/sinlod/"
GOOD = """\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix sinlod: <https://w3id.org/sinlod/def/> .
<https://w3id.org/sinlod/id/document/doc-a> a sinlod:Document ; skos:prefLabel "Document A"@en ;
    dct:title "Document A" ; dct:source <https://w3id.org/sinlod/id/document/doc-a> .
<https://w3id.org/sinlod/id/place/bruges> a sinlod:Place ; skos:prefLabel "Bruges"@en ;
    dct:source <https://w3id.org/sinlod/id/document/doc-a> .
"""
BAD = """\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix sinlod: <https://w3id.org/sinlod/def/> .
<https://w3id.org/sinlod/id/place/ostend> a sinlod:Place ; skos:prefLabel "Ostend"@en .
"""


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def published(tmp_path: Path, store_path: Path) -> Path:
    """A store with good.ttl published (without the ontology, to keep it small)."""
    (tmp_path / "good.ttl").write_text(GOOD)
    result = run_cli(
        ["publish", str(tmp_path / "good.ttl"), "--store", str(store_path), "--no-ontology"]
    )
    assert result.exit_code == 0, result.output
    return store_path


def test_publish_then_nothing_changed(tmp_path: Path, published: Path) -> None:
    store = Store.open(published, read_only=True)
    [release] = store.releases()
    assert "graph/sinlod/good" in " ".join(store.graph_names())
    again = run_cli(
        ["publish", str(tmp_path / "good.ttl"), "--store", str(published), "--no-ontology"]
    )
    assert again.exit_code == 0
    assert again.stdout == "Nothing changed: 1 graphs already published; no release.\n"
    assert Store.open(published, read_only=True).releases() == [release]


def test_publish_output_names_the_release(tmp_path: Path, store_path: Path) -> None:
    (tmp_path / "good.ttl").write_text(GOOD)
    result = run_cli(
        ["publish", str(tmp_path / "good.ttl"), "--store", str(store_path), "--no-ontology"]
    )
    release = Store.open(store_path, read_only=True).release_id
    assert result.stdout == (
        f"Published release {release}: 1 graphs (7 triples), 0 unchanged; 7 triples in the store.\n"
    )
    assert result.stderr == "0 violations, 0 warnings, 0 infos\n"


def test_publish_refuses_violations(tmp_path: Path, published: Path) -> None:
    (tmp_path / "bad.ttl").write_text(BAD)
    before = Store.open(published, read_only=True).release_id
    result = run_cli(["publish", str(tmp_path / "bad.ttl"), "--store", str(published)])
    assert result.exit_code == 1
    assert "ostend" in result.stdout and "Violation" in result.stdout
    assert result.stdout.endswith("1 violation, 0 warnings, 0 infos\n")
    assert result.stderr == (
        "Error: 1 violation; nothing was published (--force publishes anyway)\n"
    )
    assert Store.open(published, read_only=True).release_id == before


def test_publish_force_is_recorded(tmp_path: Path, published: Path) -> None:
    (tmp_path / "bad.ttl").write_text(BAD)
    args = ["publish", str(tmp_path / "bad.ttl"), "--store", str(published), "--no-ontology"]
    result = run_cli([*args, "--force", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["release"]["forced"] is True and data["release"]["violations"] == 1
    assert data["published"] == [BASE + "graph/sinlod/bad"]
    assert Store.open(published, read_only=True).releases()[-1].forced


def test_releases_table_and_json(published: Path) -> None:
    [release] = Store.open(published, read_only=True).releases()
    table = run_cli(["releases", "--store", str(published)])
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "release",
        "ended",
        "(UTC)",
        "agent",
        "graphs",
        "triples",
        "validation",
        "data",
        "why",
    ]
    assert lines[2].startswith(release.id) and lines[2].split()[-2:] == ["conforms", "kept"]
    data = json.loads(run_cli(["releases", "--store", str(published), "--format", "json"]).stdout)
    assert [r["id"] for r in data] == [release.id]
    assert data[0]["kept"] is True and data[0]["comment"] is None
    assert data[0]["graphs"] == {BASE + "graph/sinlod/good": 7}


def test_query_formats(published: Path, tmp_path: Path) -> None:
    q = "SELECT ?l WHERE { <https://w3id.org/sinlod/id/place/bruges> ?p ?l FILTER(isLiteral(?l)) }"
    out = run_cli(["query", q, "--store", str(published)])  # piped: SPARQL JSON
    assert json.loads(out.stdout)["results"]["bindings"] == [
        {"l": {"type": "literal", "value": "Bruges", "xml:lang": "en"}}
    ]
    csv = run_cli(["query", q, "--store", str(published), "--format", "csv"])
    assert csv.stdout_bytes == b"l\r\nBruges\r\n"  # CSV results keep CRLF (RFC 4180)
    table = run_cli(["query", q, "--store", str(published), "--format", "table"])
    assert table.stdout == "l\n---------\nBruges@en\n1 row\n"
    (tmp_path / "q.rq").write_text("ASK { ?s a <https://w3id.org/sinlod/def/Place> }")
    ask = run_cli(["query", "@" + str(tmp_path / "q.rq"), "--store", str(published)])
    assert json.loads(ask.stdout)["boolean"] is True
    construct = "CONSTRUCT WHERE { <https://w3id.org/sinlod/id/place/bruges> a ?c }"
    nt = run_cli(["query", construct, "--store", str(published)])
    assert nt.stdout == (
        "<https://w3id.org/sinlod/id/place/bruges> "
        "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/sinlod/def/Place> .\n"
    )


def test_query_errors_exit_2(published: Path) -> None:
    bad = run_cli(["query", "SELECT ?x WHERE { ?s ?p ?o }  LIMIT x", "--store", str(published)])
    assert bad.exit_code == 2
    assert (
        bad.stderr == "Error: error at 1:37: expected one of HAVING, OFFSET, VALUES, ['0'..='9']\n"
    )
    wrong = run_cli(["query", "ASK {}", "--store", str(published), "--format", "ttl"])
    assert wrong.exit_code == 2
    assert wrong.stderr == (
        "Error: --format ttl is for CONSTRUCT and DESCRIBE; use one of json, xml, csv, tsv\n"
    )
    missing = run_cli(["query", "@nowhere.rq", "--store", str(published)])
    assert missing.exit_code == 2
    assert missing.stderr == "Error: cannot read query file nowhere.rq: No such file or directory\n"


def test_dump_and_restore(published: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup.nq.gz"
    dumped = run_cli(["dump", "--store", str(published), "-o", str(backup)])
    source = Store.open(published, read_only=True)
    total = len(source.oxigraph) + len(source.release_log())  # the dump carries the log too
    assert dumped.exit_code == 0 and dumped.stderr == f"{total} quads written to {backup}\n"
    other = tmp_path / "other"
    restored = run_cli(["restore", str(backup), "--store", str(other)])
    assert restored.exit_code == 0
    copy = Store.open(other, read_only=True)
    assert restored.stdout == (
        f"Restored {total} quads into {other} (snapshot {copy.release_id}).\n"
    )
    original = Store.open(published, read_only=True)
    assert sorted(map(str, copy.oxigraph)) == sorted(map(str, original.oxigraph))
    assert copy.releases() == original.releases()
    one = run_cli(["dump", "--store", str(published), "--graph", BASE + "graph/sinlod/good"])
    assert one.stdout.count("\n") == 7
    assert one.stdout.rstrip().endswith(f"<{BASE}graph/sinlod/good> .")


def test_stats_json(published: Path) -> None:
    result = run_cli(["stats", "--store", str(published), "--format", "json"])
    data = json.loads(result.stdout)
    assert data["graphs"][BASE + "graph/sinlod/good"] == 7
    assert data["classes"] == {BASE + "def/Document": 1, BASE + "def/Place": 1}
    assert set(data["links"]) == {"NUTS", "EU authority tables", "Wikidata", "CORDIS", "GeoNames"}
    human = run_cli(["stats", "--store", str(published)])
    assert "sinlod:Place" in human.stdout and human.exit_code == 0


def test_store_path_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "store"
    path.write_text("not a store")
    result = run_cli(["stats", "--store", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: is a file, not a store directory\n"


def test_store_from_a_newer_sinlod(published: Path) -> None:
    (published / "FORMAT").write_text("sinlod-store 7\n")
    result = run_cli(["releases", "--store", str(published)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {published}: store format 7 was written by a newer sinlod; "
        "this version reads format 2. Upgrade sinlod to open it.\n"
    )


def test_reading_a_store_that_does_not_exist(tmp_path: Path) -> None:
    result = run_cli(["query", "ASK {}", "--store", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {tmp_path / 'none'}: no store here (publish something first)\n"


def test_publish_refusal_as_json(tmp_path: Path, published: Path) -> None:
    (tmp_path / "bad.ttl").write_text(BAD)
    args = ["publish", str(tmp_path / "bad.ttl"), "--store", str(published), "--format", "json"]
    result = run_cli(args)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["conforms"] is False


def test_publish_refusal_quiet_shows_only_the_error(tmp_path: Path, published: Path) -> None:
    (tmp_path / "bad.ttl").write_text(BAD)
    result = run_cli(["publish", str(tmp_path / "bad.ttl"), "--store", str(published), "-q"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: 1 violation; nothing was published (--force publishes anyway)\n"


def test_publish_takes_mappings_option(tmp_path: Path, store_path: Path) -> None:
    """Records whose mapping is not in the mappings_dir setting publish with --mappings DIR."""
    from sinlod.config import PROJECT_ROOT

    steward = PROJECT_ROOT / "tests" / "fixtures" / "linking" / "steward"
    args = ["publish", str(steward / "good"), "--store", str(store_path), "--no-ontology"]
    refused = run_cli(args)
    assert refused.exit_code == 2
    assert 'no mapping for table "sources"' in refused.stderr
    assert not store_path.exists() or Store.open(store_path, read_only=True).releases() == []
    result = run_cli([*args, "--mappings", str(steward / "mappings")])
    assert result.exit_code == 0, result.output
    with Store.open(store_path, read_only=True) as store:
        places = store.query(
            "SELECT (COUNT(?s) AS ?n) { ?s a <https://w3id.org/sinlod/def/Place> }"
        )
        assert int(next(iter(places))["n"].value) == 9
