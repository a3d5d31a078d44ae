"""The Store contract: atomic writes, consistent reads, releases, dumps and clear errors."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from sinlod.errors import InputError, QueryError, StoreError
from sinlod.store import FileInfo, ReleaseInfo, Store, current_fingerprints
from sinlod.store.layout import KEEP_SNAPSHOTS

BASE = "https://w3id.org/sinlod/"
G = BASE + "graph/projects"
H = BASE + "graph/people"
P = ox.NamedNode("https://example.org/p")
TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def triples(n: int, version: str = "v1") -> list[ox.Triple]:
    return [
        ox.Triple(ox.NamedNode(f"https://example.org/s/{i}"), P, ox.Literal(version))
        for i in range(n)
    ]


def count(store: Store, graph: str) -> int:
    result = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    assert isinstance(result, ox.QuerySolutions)
    return int(next(iter(result))["n"].value)


def data_quads(store: Store) -> list[str]:
    """Every quad outside the release log, as N-Quads lines."""
    skip = ox.NamedNode(BASE + "graph/releases")
    return sorted(str(q) for q in store.oxigraph if q.graph_name != skip)


@pytest.fixture(params=["disk", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "memory":
        return Store.in_memory()
    return Store.open(tmp_path / "store")


# -- basics, on disk and in memory ---------------------------------------------------------------


def test_replace_graphs_publishes_and_records_a_release(store: Store) -> None:
    assert store.release_id is None
    info = ReleaseInfo(
        agent="alice",
        files=[FileInfo("records/projects.csv", "ab" * 32, graph=G, fingerprint="f1")],
        conforms=True,
    )
    release = store.replace_graphs({G: triples(3), H: triples(2)}, release=info)
    assert store.release_id == release.id
    assert count(store, G) == 3 and count(store, H) == 2
    assert store.graph_names() == [H, G]  # the release log is beside the data, not in it
    assert release.graphs == {G: 3, H: 2}
    assert release.changed == (H, G)
    [read] = store.releases()
    assert read == release
    assert read.agent == "alice" and read.conforms is True and read.files == tuple(info.files)
    assert store.last_modified is not None


def test_union_default_graph_and_dataset_restrictions(store: Store) -> None:
    store.replace_graphs({G: triples(3), H: triples(2, "v2")})
    assert len(list(store.query(f"SELECT * {{ ?s <{P.value}> ?o }}"))) == 5  # type: ignore[arg-type]
    only_h = store.query("SELECT * { ?s ?p ?o }", default_graph=[H])
    assert len(list(only_h)) == 2  # type: ignore[arg-type]
    no_union = store.query("SELECT * { ?s ?p ?o }", union_default_graph=False)
    assert list(no_union) == []  # type: ignore[call-overload]


def test_each_write_changes_release_id(store: Store) -> None:
    store.replace_graphs({G: triples(1)})
    first = store.release_id
    store.update(f"INSERT DATA {{ GRAPH <{H}> {{ <https://example.org/x> <{P.value}> 1 }} }}")
    assert store.release_id not in (None, first)
    last = store.releases()[-1]
    assert last.changed is None  # an update may touch any graph
    assert last.graphs[H] == 1


def test_empty_content_removes_the_graph(store: Store) -> None:
    store.replace_graphs({G: triples(2), H: triples(1)})
    store.replace_graphs({G: []})
    assert G not in store.graph_names() and count(store, H) == 1


def test_failure_part_way_leaves_the_previous_state(store: Store) -> None:
    store.replace_graphs({G: triples(5)})
    before, release_id = data_quads(store), store.release_id

    def broken() -> object:
        yield from triples(3, "v2")
        raise RuntimeError("source went away")

    with pytest.raises(RuntimeError, match="source went away"):
        store.replace_graphs({G: broken()})  # type: ignore[dict-item]
    assert data_quads(store) == before and store.release_id == release_id
    assert len(store.releases()) == 1


def test_query_parse_error_is_a_query_error_with_the_parser_message(store: Store) -> None:
    with pytest.raises(QueryError) as info:
        store.query("SELECT ?x WHERE { ?s ?p ?o }  LIMIT x")
    assert str(info.value) == "error at 1:37: expected one of HAVING, OFFSET, VALUES, ['0'..='9']"


def test_bad_update_leaves_the_store_unchanged(store: Store) -> None:
    store.replace_graphs({G: triples(2)})
    before, release_id = data_quads(store), store.release_id
    with pytest.raises(QueryError) as info:
        store.update("INSERT DATA { <a> }")
    assert str(info.value) == "error at 1:20: expected GRAPH"
    assert data_quads(store) == before and store.release_id == release_id


def test_same_content_twice_changes_only_the_release_log(store: Store) -> None:
    """Guarantee (3) at the store level: the data quads are identical, one more release."""
    store.replace_graphs({G: triples(4), H: triples(1)})
    before = data_quads(store)
    store.replace_graphs({G: triples(4), H: triples(1)})
    assert data_quads(store) == before
    assert len(store.releases()) == 2


def test_fingerprints_follow_the_release_log(store: Store) -> None:
    src = [FileInfo("a.csv", "00" * 32, graph=G, fingerprint="fa")]
    store.replace_graphs({G: triples(1)}, release=ReleaseInfo(agent="a", files=src))
    assert current_fingerprints(store.releases()) == {G: "fa"}
    store.replace_graphs({G: triples(2)})  # no fingerprint: forget it
    assert current_fingerprints(store.releases()) == {}
    store.replace_graphs({G: triples(1)}, release=ReleaseInfo(agent="a", files=src))
    store.update("CLEAR DEFAULT")  # changes nothing: no release, the fingerprint holds
    assert current_fingerprints(store.releases()) == {G: "fa"}
    store.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")  # an update may change anything
    assert current_fingerprints(store.releases()) == {}


def test_stats(store: Store) -> None:
    org = ox.NamedNode(BASE + "id/organisation/drift")
    data = [
        ox.Triple(org, TYPE, ox.NamedNode(BASE + "def/Organisation")),
        ox.Triple(org, TYPE, ox.NamedNode(BASE + "def/Hub")),
        ox.Triple(org, P, ox.NamedNode("http://www.wikidata.org/entity/Q42")),
        ox.Triple(org, P, ox.NamedNode("http://data.europa.eu/nuts/code/NL33")),
        ox.Triple(
            org, P, ox.NamedNode("http://publications.europa.eu/resource/authority/country/NLD")
        ),
        ox.Triple(org, P, ox.NamedNode("https://sws.geonames.org/2747891/")),
    ]
    onto = [
        ox.Triple(
            ox.NamedNode(BASE + "def/Hub"),
            TYPE,
            ox.NamedNode("http://www.w3.org/2002/07/owl#Class"),
        )
    ]
    store.replace_graphs({G: data, BASE + "graph/ontology": onto})
    stats = store.stats()
    assert stats.graphs[G] == 6 and stats.graphs[BASE + "graph/ontology"] == 1
    assert stats.classes == {BASE + "def/Hub": 1, BASE + "def/Organisation": 1}
    assert stats.links == {
        "NUTS": 1,
        "EU authority tables": 1,
        "Wikidata": 1,
        "CORDIS": 0,
        "GeoNames": 1,
    }
    assert stats.release_id == store.release_id


def test_dump_restore_round_trip_is_exact(store: Store, tmp_path: Path) -> None:
    bnode = ox.BlankNode()
    store.replace_graphs(
        {G: triples(3) + [ox.Triple(bnode, P, ox.Literal("x", language="en"))], H: triples(1)}
    )
    store.update(f"INSERT DATA {{ <https://example.org/d> <{P.value}> 'in default' }}")
    before = sorted(map(str, store.oxigraph))
    log = sorted(map(str, store.release_log()))
    assert log and all(line.endswith(f"<{BASE}graph/releases>") for line in log)
    for name in ("backup.nq", "backup.nq.gz"):
        assert store.dump(tmp_path / name) == len(before) + len(log)
        # Into an empty store (restore into published data is a release: tests/test_history.py)
        other = Store.open(tmp_path / ("restored-" + name))
        assert other.restore(tmp_path / name) == len(before) + len(log)
        after = sorted(map(str, other.oxigraph))
        assert _without_bnode_labels(after) == _without_bnode_labels(before)  # no log in the data
        assert sorted(map(str, other.release_log())) == log
        assert other.releases() == store.releases()
        assert BASE + "graph/releases" not in other.graph_names()


def _without_bnode_labels(lines: list[str]) -> list[str]:
    import re

    return sorted(re.sub(r"_:\w+", "_:b", line) for line in lines)


def test_dump_one_graph(store: Store) -> None:
    store.replace_graphs({G: triples(3), H: triples(1)})
    out = io.BytesIO()
    assert store.dump(out, graph=G, format=ox.RdfFormat.N_TRIPLES) == 3
    assert out.getvalue().count(b"\n") == 3 and f"<{G}>".encode() not in out.getvalue()
    quads = io.BytesIO()
    assert store.dump(quads, graph=H) == 1
    assert quads.getvalue().decode().strip().endswith(f"<{H}> .")


def test_dump_errors(store: Store) -> None:
    with pytest.raises(InputError) as info:
        store.dump(io.BytesIO(), graph=BASE + "graph/nothing")
    assert str(info.value) == "no graph <https://w3id.org/sinlod/graph/nothing> in the store"
    with pytest.raises(InputError) as info:
        store.dump(io.BytesIO(), format=ox.RdfFormat.TURTLE)
    assert str(info.value) == "Turtle holds one graph; choose a graph or use N-Quads or TriG"


def test_restore_of_a_broken_dump_changes_nothing(store: Store, tmp_path: Path) -> None:
    store.replace_graphs({G: triples(2)})
    before, release_id = data_quads(store), store.release_id
    broken = tmp_path / "broken.nq"
    broken.write_text(
        f'<https://e/a> <https://e/p> "1" <{G}> .\n<https://e/b> <https://e/p> oops .\n'
    )
    with pytest.raises(InputError) as info:
        store.restore(broken)
    assert info.value.location is not None and info.value.location.row == 2
    assert data_quads(store) == before and store.release_id == release_id


# -- on disk: the snapshot directory -------------------------------------------------------------


def test_reopen_sees_the_published_release(tmp_path: Path) -> None:
    path = tmp_path / "store"
    writer = Store.open(path)
    release = writer.replace_graphs({G: triples(3)})
    reader = Store.open(path, read_only=True)
    assert reader.release_id == release.id and count(reader, G) == 3
    assert reader.releases() == [release]
    assert (path / "FORMAT").read_text() == "sinlod-store 2\n"
    assert (path / "CURRENT").read_text() == release.id + "\n"


def test_refresh_picks_up_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "store"
    reader = Store.open(path, read_only=True)  # nothing published yet: an empty store
    assert reader.release_id is None and reader.graph_names() == []
    assert reader.refresh() is False
    writer = Store.open(path)
    writer.replace_graphs({G: triples(1)})
    assert reader.refresh() is True
    assert reader.release_id == writer.release_id and count(reader, G) == 1
    assert reader.refresh() is False


def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    Store.open(tmp_path / "store").replace_graphs({G: triples(1)})
    reader = Store.open(tmp_path / "store", read_only=True)
    with pytest.raises(StoreError) as info:
        reader.replace_graphs({G: []})
    assert str(info.value) == f"{tmp_path / 'store'}: opened read-only"


def test_old_snapshots_are_pruned_unless_a_reader_holds_them(tmp_path: Path) -> None:
    path = tmp_path / "store"
    writer = Store.open(path)
    writer.replace_graphs({G: triples(1)})
    old_reader = Store.open(path, read_only=True)
    pinned = old_reader.release_id
    for i in range(KEEP_SNAPSHOTS + 3):
        writer.replace_graphs({G: triples(i + 2)})
    snapshots = sorted(p.name for p in (path / "snapshots").iterdir() if p.is_dir())
    assert pinned in snapshots
    assert len(snapshots) == KEEP_SNAPSHOTS + 2  # the kept ones, the current one, the pinned one
    assert count(old_reader, G) == 1  # still readable
    old_reader.close()
    writer.replace_graphs({G: triples(1)})
    assert pinned not in {p.name for p in (path / "snapshots").iterdir()}


def test_a_second_writer_waits_for_the_lock_then_gives_up(tmp_path: Path) -> None:
    path = tmp_path / "store"
    Store.open(path)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(path / "write.lock")], stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        impatient = Store.open(path, lock_timeout=0.2)
        with pytest.raises(StoreError) as info:
            impatient.replace_graphs({G: triples(1)})
        assert str(info.value) == (
            f"{path}: store is locked by another writer (pid {holder.pid}); "
            "try again when it has finished"
        )
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    Store.open(path, lock_timeout=5).replace_graphs({G: triples(1)})


_HOLD_LOCK = """
import fcntl, os, sys, time
f = open(sys.argv[1], "a+")
fcntl.flock(f.fileno(), fcntl.LOCK_EX)
f.truncate(0); f.write(str(os.getpid())); f.flush()
print("locked", flush=True)
time.sleep(60)
"""


def test_concurrent_writers_in_threads_both_land(tmp_path: Path) -> None:
    path = tmp_path / "store"
    Store.open(path)
    errors: list[BaseException] = []

    def publish(graph: str) -> None:
        try:
            Store.open(path).replace_graphs({graph: triples(10)})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=publish, args=(BASE + f"graph/t{i}",)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    final = Store.open(path, read_only=True)
    assert [count(final, BASE + f"graph/t{i}") for i in range(4)] == [10] * 4
    assert len(final.releases()) == 4


# -- guarantee (4): clear errors for what is not a store we can read ------------------------------


def test_a_regular_file_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "store"
    path.write_text("hello")
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert str(info.value) == f"{path}: is a file, not a store directory"


def test_a_directory_with_other_content_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("garbage")
    with pytest.raises(StoreError) as info:
        Store.open(tmp_path)
    assert str(info.value) == (
        f"{tmp_path}: not a sinlod store (no FORMAT file); "
        "choose an empty or new directory for --store"
    )


def test_a_store_from_a_newer_sinlod_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store"
    Store.open(path).replace_graphs({G: triples(1)})
    (path / "FORMAT").write_text("sinlod-store 3\n")
    with pytest.raises(StoreError) as info:
        Store.open(path, read_only=True)
    assert str(info.value) == (
        f"{path}: store format 3 was written by a newer sinlod; "
        "this version reads format 2. Upgrade sinlod to open it."
    )


def test_a_garbled_format_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store"
    Store.open(path)
    (path / "FORMAT").write_bytes(b"\x00\x01garbage")
    with pytest.raises(StoreError, match=r"corrupt store: FORMAT file says"):
        Store.open(path)


def test_current_pointing_nowhere_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store"
    Store.open(path)
    (path / "CURRENT").write_text("000009-deadbeef\n")
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert str(info.value) == (
        f"{path}: corrupt store: CURRENT names snapshot '000009-deadbeef', "
        "which does not exist (restore from a dump)"
    )


def test_a_damaged_snapshot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store"
    release = Store.open(path).replace_graphs({G: triples(1)})
    snapshot = path / "snapshots" / release.id
    for f in snapshot.iterdir():
        if f.name.startswith(("CURRENT", "MANIFEST")):
            f.write_text("garbage")
    with pytest.raises(StoreError, match=rf"^{path}: corrupt store: snapshot {release.id} cannot"):
        Store.open(path)


# -- guarantee (1): a killed publish leaves the previous state ------------------------------------

_PUBLISH_BIG = """
import sys
from pathlib import Path
from sinlod.store import Store
Store.open(Path(sys.argv[1])).replace_graphs({sys.argv[2]: Path(sys.argv[3])})
print("finished", flush=True)
"""


def test_killed_publish_leaves_previous_release_intact(tmp_path: Path) -> None:
    path = tmp_path / "store"
    writer = Store.open(path)
    previous = writer.replace_graphs({G: triples(50), H: triples(5)})
    before = data_quads(writer)
    big = tmp_path / "big.nt"
    with big.open("w") as f:
        for i in range(300_000):
            f.write(f'<https://example.org/big/{i}> <https://example.org/p> "value {i}" .\n')

    proc = subprocess.Popen([sys.executable, "-c", _PUBLISH_BIG, str(path), G, str(big)])
    building = path / "snapshots"
    deadline = time.monotonic() + 60
    while not any(p.name.startswith("building-") for p in building.iterdir()):
        assert proc.poll() is None, "the publish ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(0.3)  # well into the bulk load of 300k triples
    assert proc.poll() is None, "the publish finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    reopened = Store.open(path)
    assert reopened.release_id == previous.id
    assert reopened.releases() == [previous]
    assert data_quads(reopened) == before
    assert count(reopened, G) == 50
    assert not any(p.name.startswith("building-") for p in building.iterdir())  # cleaned up
    reopened.replace_graphs({G: big})  # and the store still takes the next publish
    assert count(reopened, G) == 300_000


# -- guarantee (2): readers see the old graph or the new one, never a mix -------------------------


@pytest.mark.parametrize("reader_kind", ["same object", "other object"])
def test_readers_never_see_half_a_publish(tmp_path: Path, reader_kind: str) -> None:
    path = tmp_path / "store"
    writer = Store.open(path)
    size = 2000
    writer.replace_graphs({G: triples(size, "v0")})
    reader = writer if reader_kind == "same object" else Store.open(path, read_only=True)
    seen: list[tuple[int, int]] = []
    stop = threading.Event()
    query = (
        "SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?o) AS ?versions) "
        f"WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}"
    )

    def read() -> None:
        while not stop.is_set():
            reader.refresh()
            row = next(iter(reader.query(query)))  # type: ignore[call-overload]
            seen.append((int(row["n"].value), int(row["versions"].value)))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for version in range(1, 8):
            writer.replace_graphs({G: triples(size, f"v{version}")})
    finally:
        stop.set()
        thread.join()
    assert len(seen) > 10
    assert set(seen) == {(size, 1)}
    assert count(reader, G) == size


def test_replacing_from_a_missing_file(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        store.replace_graphs({G: tmp_path / "gone.nt"})
    assert str(info.value) == f"{tmp_path / 'gone.nt'}: no such file"
    assert store.release_id is None


def test_bulk_load_syntax_error_names_file_and_line(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "bad.nt"
    bad.write_text('<https://e/a> <https://e/p> "1" .\n<https://e/a> <https://e/p> .\n')
    with pytest.raises(InputError) as info:
        store.replace_graphs({G: bad})
    assert info.value.location is not None
    assert (info.value.location.file, info.value.location.row) == (str(bad), 2)
    assert store.release_id is None and store.graph_names() == []


def test_a_writer_with_a_stale_view_builds_on_the_latest_release(tmp_path: Path) -> None:
    """No lost update: each write starts from what CURRENT names, not from the writer's view."""
    path = tmp_path / "store"
    first, second = Store.open(path), Store.open(path)
    first.replace_graphs({G: triples(2)})
    second.replace_graphs({H: triples(3)})  # second has not refreshed since the first write
    final = Store.open(path, read_only=True)
    assert (count(final, G), count(final, H)) == (2, 3)
    assert len(final.releases()) == 2


def test_replacing_most_of_the_store_rebuilds_and_keeps_the_rest(store: Store) -> None:
    """Above 10k quads and half the store, a write starts from empty and copies what it keeps."""
    from sinlod.store.writing import cheaper_to_rebuild

    bnode = ox.BlankNode()
    store.replace_graphs({G: triples(12_000), H: [ox.Triple(bnode, P, ox.Literal("kept"))]})
    store.update(f"INSERT DATA {{ <https://example.org/d> <{P.value}> 'default graph' }}")
    assert cheaper_to_rebuild(store.oxigraph, [ox.NamedNode(G)])
    assert not cheaper_to_rebuild(store.oxigraph, [ox.NamedNode(H)])
    kept = sorted(str(q) for q in store.oxigraph if q.graph_name != ox.NamedNode(G))
    release = store.replace_graphs({G: triples(11_000, "v2")})
    assert count(store, G) == 11_000 and release.graphs == {G: 11_000, H: 1}
    now = [q for q in store.oxigraph if q.graph_name != ox.NamedNode(G)]
    releases_graph = ox.NamedNode(BASE + "graph/releases")
    assert sorted(str(q) for q in now if q.graph_name != releases_graph) == sorted(
        line for line in kept if f"<{releases_graph.value}>" not in line
    )  # blank node labels too: copied quads keep their blank nodes
    assert len(store.releases()) == 3


_READ_LOOP = """
import json, sys, time
from pathlib import Path
from sinlod.store import Store
store = Store.open(Path(sys.argv[1]), read_only=True)
query = sys.argv[2]
print("ready", flush=True)
seen = set()
deadline = time.monotonic() + 60
while time.monotonic() < deadline and not Path(sys.argv[3]).exists():
    store.refresh()
    row = next(iter(store.query(query)))
    seen.add((int(row["n"].value), int(row["versions"].value), store.release_id))
print(json.dumps(sorted(seen)), flush=True)
"""


def test_a_reader_process_never_sees_half_a_publish(tmp_path: Path) -> None:
    """Guarantee (2) across processes: the reader has its own handles and refreshes by CURRENT."""
    path = tmp_path / "store"
    writer = Store.open(path)
    size = 2000
    writer.replace_graphs({G: triples(size, "v0")})
    query = (
        "SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?o) AS ?versions) "
        f"WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}"
    )
    done = tmp_path / "done"
    reader = subprocess.Popen(
        [sys.executable, "-c", _READ_LOOP, str(path), query, str(done)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None
    try:
        assert reader.stdout.readline() == "ready\n"
        ids = {writer.release_id}
        for version in range(1, 8):
            ids.add(writer.replace_graphs({G: triples(size, f"v{version}")}).id)
        done.touch()
        seen = json.loads(reader.stdout.readline())
    finally:
        reader.wait(timeout=60)
        reader.stdout.close()
    assert {(n, versions) for n, versions, _ in seen} == {(size, 1)}
    assert {release for _, _, release in seen} <= ids and len(seen) >= 2


# -- the release log beside the data ------------------------------------------------------------

PROV = "http://www.w3.org/ns/prov#"


def test_queries_stats_and_graphs_never_see_the_release_log(store: Store) -> None:
    release = store.replace_graphs({G: triples(2)}, release=ReleaseInfo("alice", comment="why"))
    store.update(f"INSERT DATA {{ <https://example.org/d> <{P.value}> 1 }}")
    assert list(store.query("SELECT DISTINCT ?t { ?s a ?t }")) == []  # type: ignore[call-overload]
    for query in (
        f"ASK {{ ?r <{PROV}startedAtTime> ?t }}",
        f"ASK {{ GRAPH ?g {{ ?r <{PROV}startedAtTime> ?t }} }}",
    ):
        assert not bool(store.query(query)), query
    assert not bool(
        store.query(f"ASK {{ ?r <{PROV}startedAtTime> ?t }}", union_default_graph=False)
    )
    assert store.graph_names() == [G]
    assert store.stats().graphs == {G: 2, "(default graph)": 1}
    assert len(store.oxigraph) == 3
    # ... and yet it is all there, beside the data, and in a dump of it alone
    assert [r.comment for r in store.releases()] == ["why", None]
    assert store.releases()[0] == release
    log = store.release_log()
    assert bool(
        log.query(f"ASK {{ GRAPH <{BASE}graph/releases> {{ ?r <{PROV}startedAtTime> ?t }} }}")
    )
    out = io.BytesIO()
    assert store.dump(out, graph=BASE + "graph/releases") == len(log)
    assert len(list(ox.parse(out.getvalue(), ox.RdfFormat.N_QUADS))) == len(log)


def test_no_write_may_use_the_release_log_graph_name(store: Store) -> None:
    from sinlod.errors import ReleaseLogProtected

    store.replace_graphs({G: triples(1)})
    before = store.release_id
    with pytest.raises(ReleaseLogProtected, match="release log"):
        store.replace_graphs({BASE + "graph/releases": triples(1)})
    quad = f"GRAPH <{BASE}graph/releases> {{ <https://example.org/x> <{P.value}> 1 }}"
    insert = f"INSERT DATA {{ {quad} }}"
    with pytest.raises(ReleaseLogProtected):
        store.update(insert)
    assert store.release_id == before and len(store.releases()) == 1
    store.update("DROP ALL")  # reaches every graph of the data, never the log
    assert store.graph_names() == [] and len(store.releases()) == 2


def _format_1_store(path: Path) -> list[ox.Quad]:
    """A store as format 1 wrote it: the release log as a graph inside the data snapshot."""
    import gc

    writer = Store.open(path)
    writer.replace_graphs({G: triples(2)}, release=ReleaseInfo("old sinlod", comment="before"))
    name, log = writer.release_id, list(writer.release_log())
    writer.close()
    del writer
    gc.collect()
    assert name is not None
    data = ox.Store(str(path / "snapshots" / name))
    data.extend(log)
    data.flush()
    del data
    gc.collect()
    (path / "snapshots" / (name + ".releases")).unlink()  # the pointer to its log
    (path / "FORMAT").write_text("sinlod-store 1\n")
    return log


def test_a_format_1_store_is_read_and_a_writer_moves_its_log_out(tmp_path: Path) -> None:
    path = tmp_path / "store"
    log = _format_1_store(path)
    reader = Store.open(path, read_only=True)
    [old] = reader.releases()  # read from the graph inside the data
    assert old.agent == "old sinlod" and old.comment == "before"
    assert reader.graph_names() == [G, BASE + "graph/releases"]  # until a writer migrates it
    assert (path / "FORMAT").read_text() == "sinlod-store 1\n"  # a reader changes nothing
    reader.close()

    writer = Store.open(path)
    assert (path / "FORMAT").read_text() == "sinlod-store 2\n"
    assert writer.graph_names() == [G] and count(writer, G) == 2
    assert not bool(writer.query(f"ASK {{ ?r <{PROV}startedAtTime> ?t }}"))
    assert writer.releases() == [old]  # the migration records no release
    assert sorted(map(str, writer.release_log())) == sorted(map(str, log))
    new = writer.replace_graphs({H: triples(1)})
    assert Store.open(path, read_only=True).releases() == [old, new]


def test_a_damaged_release_log_is_a_store_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "store"
    release = Store.open(path).replace_graphs({G: triples(1)})
    [log] = (path / "snapshots").glob("releases-*.nq")
    log.write_bytes(log.read_bytes()[:-40] + b"<broken" + b" " * 33)  # same length
    reader = Store.open(path, read_only=True)
    assert count(reader, G) == 1  # the data is fine and still served
    with pytest.raises(StoreError, match=f"corrupt release log of {release.id}"):
        reader.releases()
    log.write_bytes(b"")
    with pytest.raises(StoreError, match=f"{log.name} is shorter than its log"):
        Store.open(path, read_only=True).releases()


def log_files(path: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in (path / "snapshots").glob("releases-*.nq")}


def test_a_write_appends_its_release_to_the_log_file(tmp_path: Path) -> None:
    """Writes cost the same however long the log is: each appends to one file, and every
    snapshot reads its own prefix of it."""
    path = tmp_path / "store"
    store = Store.open(path)
    first = store.replace_graphs({G: triples(1)})
    [(name, size)] = log_files(path).items()
    old = Store.open(path, read_only=True)  # pins the first snapshot
    second = store.replace_graphs({H: triples(1)})
    [(same, bigger)] = log_files(path).items()
    assert same == name and bigger > size
    assert old.releases() == [first]  # its prefix: the second release is not in its log
    assert Store.open(path, read_only=True).releases() == [first, second]
    old.close()


def test_after_a_failed_write_the_next_starts_a_new_log_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sinlod.store.layout import StoreDirectory

    path = tmp_path / "store"
    store = Store.open(path)
    first = store.replace_graphs({G: triples(1)})

    def fail(self: StoreDirectory, name: str) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(StoreDirectory, "commit", fail)  # after the release was appended
        with pytest.raises(StoreError, match="No space left"):
            store.replace_graphs({H: triples(1)})
    assert store.releases() == [first]
    assert Store.open(path, read_only=True).releases() == [first]
    third = store.replace_graphs({H: triples(2)})  # the file holds a stray release: a new file
    assert Store.open(path, read_only=True).releases() == [first, third]
    assert len(log_files(path)) == 2
    for _ in range(KEEP_SNAPSHOTS + 1):
        store.replace_graphs({H: triples(3)})
    assert len(log_files(path)) == 1  # the first file is pruned with the snapshots naming it
    assert len(Store.open(path, read_only=True).releases()) == KEEP_SNAPSHOTS + 3
