"""``sinlod diff``, ``rollback``, ``restore``, ``--message`` and ``--release`` (issue 11): exact
outputs and exit codes, and the resulting state checked through the library."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from sinlod.store import Store
from sinlod.store.layout import KEEP_SNAPSHOTS
from tests.conftest import run_cli

BASE = "https://w3id.org/sinlod/"
GRAPH = BASE + "graph/sinlod/places"
LOG = ox.NamedNode(BASE + "graph/releases")
PLACE = """\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix sinlod: <https://w3id.org/sinlod/def/> .
<https://w3id.org/sinlod/id/document/doc-a> a sinlod:Document ; skos:prefLabel "Document A"@en ;
    dct:title "Document A" ; dct:source <https://w3id.org/sinlod/id/document/doc-a> .
<https://w3id.org/sinlod/id/place/bruges> a sinlod:Place ; skos:prefLabel "{label}"@en ;
    dct:source <https://w3id.org/sinlod/id/document/doc-a> .
"""
PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
BRUGES = "https://w3id.org/sinlod/id/place/bruges"


def publish(tmp_path: Path, store: Path, label: str, *more: str) -> str:
    """Publish places.ttl with Bruges labelled ``label``; the new release's id."""
    (tmp_path / "places.ttl").write_text(PLACE.replace("{label}", label))
    args = ["publish", str(tmp_path / "places.ttl"), "--store", str(store), "--no-ontology"]
    result = run_cli([*args, *more])
    assert result.exit_code == 0, result.output
    return Store.open(store, read_only=True).release_id or ""


def data(store: Path, release: str | None = None) -> set[ox.Quad]:
    """The data of the current release (or ``release``) as ``sinlod dump`` writes it."""
    args = ["dump", "--store", str(store)] + (["--release", release] if release else [])
    result = run_cli(args)
    assert result.exit_code == 0, result.output
    quads = ox.parse(result.stdout_bytes, ox.RdfFormat.N_QUADS)
    return {q for q in quads if q.graph_name != LOG}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def two(tmp_path: Path, store: Path) -> tuple[str, str]:
    first = publish(tmp_path, store, "Bruges", "--message", "first load")
    second = publish(tmp_path, store, "Brugge", "-m", "the Dutch name")
    return first, second


def test_message_is_in_the_releases_table_and_json(store: Path, two: tuple[str, str]) -> None:
    table = run_cli(["releases", "--store", str(store)]).stdout.splitlines()
    assert table[2].startswith(two[0]) and table[2].endswith("conforms    kept  first load")
    assert table[3].startswith(two[1]) and table[3].endswith("kept  the Dutch name")
    listed = json.loads(run_cli(["releases", "--store", str(store), "--format", "json"]).stdout)
    assert [r["comment"] for r in listed] == ["first load", "the Dutch name"]


def test_diff_human_by_default_the_last_two_releases(store: Path, two: tuple[str, str]) -> None:
    result = run_cli(["diff", "--store", str(store)])
    assert result.exit_code == 0
    assert result.stdout == (
        f"From release {two[0]} to release {two[1]}: 1 triples added, 1 removed\n"
        f"  +1 -1  <{GRAPH}> (7 -> 7)\n"
        "things: 0 added, 0 removed, 1 changed\n"
        f"  ~ <{BRUGES}>: skos:prefLabel\n"
    )


def test_diff_nq_json_and_a_patch_that_applies_exactly(store: Path, two: tuple[str, str]) -> None:
    old, new = two
    args = ["diff", old[:6], new, "--store", str(store)]
    nq = run_cli([*args, "--format", "nq"])
    assert nq.stdout == (
        f'- <{BRUGES}> <{PREF_LABEL}> "Bruges"@en <{GRAPH}> .\n'
        f'+ <{BRUGES}> <{PREF_LABEL}> "Brugge"@en <{GRAPH}> .\n'
    )
    body = json.loads(run_cli([*args, "--format", "json"]).stdout)
    assert (body["from"], body["to"], body["added"], body["removed"]) == (old, new, 1, 1)
    assert body["things"] == [{"iri": BRUGES, "change": "changed", "properties": [PREF_LABEL]}]
    patch = run_cli([*args, "--format", "patch"]).stdout.splitlines()
    assert patch[:3] == [f"H id <{BASE}release/{new}> .", f"H prev <{BASE}release/{old}> .", "TX ."]
    assert patch[-1] == "TC ."
    result = data(store, old)
    for line in patch[3:-1]:
        op, _, row = line.partition(" ")
        (quad,) = ox.parse(row.encode(), ox.RdfFormat.N_QUADS)
        if op == "A":
            result.add(quad)
        else:
            result.remove(quad)
    assert result == data(store, new)


def test_rollback_is_a_new_release_with_the_old_data(store: Path, two: tuple[str, str]) -> None:
    old, new = two
    before = data(store, old)
    result = run_cli(["rollback", old[:6], "--store", str(store), "-m", "keep the English name"])
    assert result.exit_code == 0, result.output
    reopened = Store.open(store, read_only=True)
    rolled = reopened.release_id
    assert rolled not in (old, new)
    assert result.stdout == (
        f"Rolled back: release {rolled} has the data of release {old} (+1 -1 triples);"
        " 3 releases in the log.\n"
    )
    assert data(store) == before
    log = reopened.releases()
    assert [r.id for r in log] == [old, new, rolled]
    assert log[-1].comment == f"keep the English name (rollback to release {old})"
    again = run_cli(["rollback", old, "--store", str(store)])
    assert again.exit_code == 0
    assert again.stdout == f"Nothing to do: the data already is release {old}'s; no release.\n"
    assert len(Store.open(store, read_only=True).releases()) == 3
    current = run_cli(["rollback", rolled or "", "--store", str(store), "--format", "json"])
    assert json.loads(current.stdout)["release"] is None


def test_after_a_rollback_the_old_sources_are_unchanged(
    tmp_path: Path, store: Path, two: tuple[str, str]
) -> None:
    """The rollback release names the file each graph came from then, with its fingerprint."""
    assert run_cli(["rollback", two[0], "--store", str(store)]).exit_code == 0
    [source] = Store.open(store, read_only=True).releases()[-1].files
    assert (source.path, source.graph) == (str(tmp_path / "places.ttl"), GRAPH)
    (tmp_path / "places.ttl").write_text(PLACE.replace("{label}", "Bruges"))
    args = ["publish", str(tmp_path / "places.ttl"), "--store", str(store), "--no-ontology"]
    again = run_cli(args)
    assert again.exit_code == 0 and again.stdout.startswith("Nothing changed"), again.output
    assert len(Store.open(store, read_only=True).releases()) == 3
    (tmp_path / "places.ttl").write_text(PLACE.replace("{label}", "Brugge"))
    assert run_cli(args).stdout.startswith("Published release")


def test_query_and_dump_read_a_kept_release(
    tmp_path: Path, store: Path, two: tuple[str, str]
) -> None:
    ask = f'ASK {{ <{BRUGES}> <{PREF_LABEL}> "Bruges"@en }}'
    then = run_cli(["query", ask, "--store", str(store), "--release", two[0]])
    now = run_cli(["query", ask, "--store", str(store)])
    assert json.loads(then.stdout)["boolean"] is True
    assert json.loads(now.stdout)["boolean"] is False
    out = tmp_path / "first.nq"
    dumped = run_cli(["dump", "--store", str(store), "--release", two[0], "-o", str(out)])
    assert dumped.exit_code == 0
    text = out.read_text()
    assert '"Bruges"@en' in text and '"Brugge"@en' not in text
    assert "the Dutch name" not in text and "first load" in text  # its log as it was then


def test_pruned_and_unknown_releases_exit_2_naming_the_kept_ones(
    tmp_path: Path, store: Path, two: tuple[str, str]
) -> None:
    for n in range(KEEP_SNAPSHOTS):
        publish(tmp_path, store, f"Bruges {n}")
    kept = Store.open(store, read_only=True).kept_releases()
    assert two[0] not in kept
    expected = (
        f"Error: release {two[0]}: its data was pruned (only the newest snapshots are kept);"
        f" releases that can be read: {', '.join(kept)}\n"
    )
    for args in (["diff", two[0]], ["rollback", two[0]], ["dump", "--release", two[0]]):
        result = run_cli([*args, "--store", str(store)])
        assert result.exit_code == 2, args
        assert result.stderr == expected
    unknown = run_cli(["query", "ASK {}", "--release", "nope", "--store", str(store)])
    assert unknown.exit_code == 2
    assert unknown.stderr == (
        f"Error: no release 'nope' in the release log; releases that can be read: "
        f"{', '.join(kept)}\n"
    )
    table = run_cli(["releases", "--store", str(store)]).stdout.splitlines()
    assert "pruned" in table[2].split() and "kept" in table[-1].split()


def test_restore_into_published_data_is_recorded(
    tmp_path: Path, store: Path, two: tuple[str, str]
) -> None:
    backup = tmp_path / "first.nq.gz"
    assert (
        run_cli(["dump", "--store", str(store), "--release", two[0], "-o", str(backup)]).exit_code
        == 0
    )
    result = run_cli(["restore", str(backup), "--store", str(store), "-m", "undo"])
    assert result.exit_code == 0, result.output
    reopened = Store.open(store, read_only=True)
    restored = reopened.release_id
    quads = len(gzip.decompress(backup.read_bytes()).splitlines())  # data and the log then
    assert result.stdout == (
        f"Restored {quads} quads into {store} as release {restored}; 3 releases in the log.\n"
    )
    log = reopened.releases()
    assert [r.id for r in log] == [*two, restored]
    assert log[-1].comment == "undo (restore from first.nq.gz)"
    assert [f.role for f in log[-1].files] == ["dump"]
    assert data(store) == data(store, two[0])
    again = run_cli(["restore", str(backup), "--store", str(store)])
    assert (
        again.stdout == "Nothing changed: the store already holds the dump's data and releases.\n"
    )
    empty = tmp_path / "empty"
    fresh = run_cli(["restore", str(backup), "--store", str(empty)])
    fresh_id = Store.open(empty, read_only=True).release_id
    assert fresh.stdout.endswith(f" quads into {empty} (snapshot {fresh_id}).\n")
    assert [r.id for r in Store.open(empty, read_only=True).releases()] == [two[0]]
