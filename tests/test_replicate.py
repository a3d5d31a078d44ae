"""``sinlod replicate``: a replica gets the source's release whole, switched last, and only ever
moves forward; a copy killed midway leaves the replica serving its old release and resumes."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from sinlod.errors import StoreError
from sinlod.store import ReleaseInfo, Store
from sinlod.store.layout import StoreDirectory
from sinlod.store.replicate import replicate, sequence
from tests.conftest import run_cli

BASE = "https://w3id.org/sinlod/"
G = BASE + "graph/projects"
H = BASE + "graph/people"
P = ox.NamedNode("https://example.org/p")


def triples(n: int, version: str) -> list[ox.Triple]:
    return [
        ox.Triple(ox.NamedNode(f"https://example.org/s/{i}"), P, ox.Literal(f"{version} {i}"))
        for i in range(n)
    ]


def publish(path: Path, graphs: dict[str, list[ox.Triple]], comment: str) -> str:
    with Store.open(path) as store:
        store.replace_graphs(graphs, release=ReleaseInfo(agent="test", comment=comment))
        assert store.release_id is not None
        return store.release_id


def content(path: Path) -> tuple[str | None, list[str], list[str], object]:
    """What a reader of the store sees: release, data, release log, Last-Modified."""
    with Store.open(path, read_only=True) as store:
        data = sorted(str(q) for q in store.quads())
        log = [f"{r.id} {r.comment}" for r in store.releases()]
        return store.release_id, data, log, store.last_modified


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source"
    publish(path, {G: triples(20_000, "v1"), H: triples(500, "people")}, "first")
    return path


def test_a_replica_serves_exactly_the_source_release(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "replica"
    done = replicate(source, target)
    assert done.switched and done.previous is None and done.files_copied > 0
    assert content(target) == content(source)  # release id (the ETag's part), data, log, date
    # Idempotent: nothing to copy, nothing switched, the same release.
    again = replicate(source, target)
    assert (again.switched, again.files_copied, again.bytes_copied) == (False, 0, 0)
    assert content(target) == content(source)


def test_a_new_release_reaches_a_serving_replica_only_when_complete(
    source: Path, tmp_path: Path
) -> None:
    target = tmp_path / "replica"
    replicate(source, target)
    first = content(target)
    serving = Store.open(target, read_only=True)  # a server's long-lived reader
    try:
        publish(source, {H: triples(800, "people v2")}, "second")
        staged = replicate(source, target, switch=False)
        assert not staged.switched
        assert not serving.refresh() and serving.release_id == first[0]
        assert content(target) == first  # staged: the files are there, CURRENT is not switched
        done = replicate(source, target)
        assert done.switched and done.files_copied == 0  # the staged copy is used
        assert serving.refresh() and serving.release_id == content(source)[0]
        assert content(target) == content(source)
        assert [line.split()[1] for line in content(target)[2]] == ["first", "second"]
    finally:
        serving.close()


def test_a_small_release_on_a_large_store_sends_only_the_files_it_changed(
    source: Path, tmp_path: Path
) -> None:
    target = tmp_path / "replica"
    full = replicate(source, target)
    publish(source, {H: triples(10, "tiny")}, "small change")
    done = replicate(source, target)
    assert content(target) == content(source)
    # The files RocksDB kept (hard links in the source) are hard links to the replica's own older
    # snapshot, never to the source's files, and only the rest was copied.
    replica = StoreDirectory(target)
    new, old = replica.snapshot_path(done.release), replica.snapshot_path(full.release)
    src_new = StoreDirectory(source).snapshot_path(done.release)
    linked = [f for f in new.iterdir() if (old / f.name).exists() and f.samefile(old / f.name)]
    assert len(linked) == done.files_linked > 0
    for f in new.iterdir():
        assert not f.samefile(src_new / f.name)
    total = sum(f.stat().st_size for f in new.iterdir())
    assert done.bytes_copied == total - sum(f.stat().st_size for f in linked) < full.bytes_copied


def test_link_shares_the_snapshot_files_but_never_the_release_log(
    source: Path, tmp_path: Path
) -> None:
    """``--link`` for a staging copy on the same disk: the snapshot's files are the source's
    (never written again), the append-only log file is the replica's own."""
    target = tmp_path / "replica"
    done = replicate(source, target, link=True)
    assert done.files_linked > 0 and done.files_copied == 0
    assert content(target) == content(source)
    name = done.release
    for f in StoreDirectory(target).snapshot_path(name).iterdir():
        assert f.samefile(StoreDirectory(source).snapshot_path(name) / f.name)
    logs = {p.name for p in (target / "snapshots").glob("releases-*.nq")}
    assert logs and all(
        not (target / "snapshots" / n).samefile(source / "snapshots" / n) for n in logs
    )
    publish(source, {H: triples(3, "after")}, "second")  # appends to the source's log file
    replicate(source, target, link=True)
    assert content(target) == content(source)


def test_a_replicate_killed_mid_copy_changes_nothing_served_and_a_rerun_completes(
    source: Path, tmp_path: Path
) -> None:
    target = tmp_path / "replica"
    replicate(source, target)
    before = content(target)
    # A new release with no file in common with the replica's (a rewrite of both graphs).
    publish(source, {G: triples(30_000, "v2"), H: triples(700, "people v3")}, "rewrite")
    serving = Store.open(target, read_only=True)
    # kill -9 of the replicating process from inside its copy loop, after its third chunk.
    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from sinlod.store.replicate import replicate\n"
        "calls = []\n"
        "def progress(n):\n"
        "    calls.append(n)\n"
        "    if len(calls) == 3:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "replicate(Path(sys.argv[1]), Path(sys.argv[2]), progress=progress)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code, str(source), str(target)], check=False)
    assert killed.returncode == -signal.SIGKILL
    try:
        assert content(target) == before
        assert not serving.refresh() and serving.release_id == before[0]
        assert serving.query("ASK { ?s ?p 'v1 0' }")
        built = list((target / "snapshots").glob("building-*"))
        assert len(built) == 1 and any(built[0].iterdir())  # the partial copy is left there
        done = replicate(source, target)
        assert done.switched and done.files_kept >= 2
        assert content(target) == content(source)
        assert serving.refresh() and serving.query("ASK { ?s ?p 'v2 0' }")
        assert not list((target / "snapshots").glob("building-*"))
        assert not list(target.rglob("*.part"))
    finally:
        serving.close()


def test_a_replica_never_moves_back_nor_takes_a_diverged_release(
    source: Path, tmp_path: Path
) -> None:
    older = tmp_path / "older"
    shutil.copytree(source, older)
    target = tmp_path / "replica"
    publish(source, {H: triples(5, "newer")}, "second")
    replicate(source, target)
    served = content(target)
    with pytest.raises(StoreError, match="newer than the source's"):
        replicate(older, target)
    assert content(target) == served
    # Someone published to the replica itself: its next snapshot number is the source's next.
    publish(target, {H: triples(3, "local")}, "local")
    publish(source, {H: triples(4, "upstream")}, "third")
    with pytest.raises(StoreError, match="different than the source's"):
        replicate(source, target)


def test_a_replica_refuses_another_store_that_has_published_more(
    source: Path, tmp_path: Path
) -> None:
    """``--from`` naming the wrong store: a higher release number is not the same history."""
    target = tmp_path / "replica"
    replicate(source, target)
    served = content(target)
    other = tmp_path / "other"
    for n in range(3):
        publish(other, {G: triples(2 + n, f"other {n}")}, f"other {n}")
    with pytest.raises(StoreError, match="which the source's release log does not have"):
        replicate(other, target)
    assert content(target) == served
    publish(source, {H: triples(5, "newer")}, "second")
    assert replicate(source, target).release == StoreDirectory(source).current()


def test_an_incomplete_copy_of_a_source_is_refused_before_anything_changes(
    source: Path, tmp_path: Path
) -> None:
    """What an interrupted rsync of a remote store leaves: a file of the snapshot missing, or
    a log file shorter than the pointer says (``docs/deploy.md`` orders rsync so that neither
    happens; this is the net under it)."""
    target = tmp_path / "replica"
    replicate(source, target)
    served = content(target)
    publish(source, {H: triples(9, "new")}, "second")
    name = StoreDirectory(source).current()
    assert name is not None
    broken = tmp_path / "rsynced"
    shutil.copytree(source, broken)
    # rsync sends a directory's files in name order: RocksDB's MANIFEST comes after the tables.
    (manifest,) = (broken / "snapshots" / name).glob("MANIFEST-*")
    manifest.unlink()
    with pytest.raises(StoreError, match="incomplete"):
        replicate(broken, target)
    assert content(target) == served
    shutil.copy2(source / "snapshots" / name / manifest.name, manifest)  # rsync again
    pointed = StoreDirectory(broken).pointed_log(name)
    assert pointed is not None
    with open(pointed[0], "r+b") as f:
        f.truncate(pointed[1] - 10)
    with pytest.raises(StoreError, match="shorter than the log"):
        replicate(broken, target)
    assert content(target)[0] == served[0]
    shutil.copy2(
        pointed[0].parent.parent.parent / "source" / "snapshots" / pointed[0].name, pointed[0]
    )
    replicate(broken, target)
    assert content(target) == content(source)


def test_refusals_name_the_problem(tmp_path: Path, source: Path) -> None:
    with pytest.raises(StoreError, match="no store here"):
        replicate(tmp_path / "nothing", tmp_path / "replica")
    with pytest.raises(StoreError, match="the target is the source"):
        replicate(source, source)
    assert sequence("000012-3f9a1c2e") == 12


def test_the_command(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "replica"
    result = run_cli(["replicate", "--from", str(source), "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert "now served" in result.output and "files copied" in result.output
    again = run_cli(["replicate", "--from", str(source), "--to", str(target)])
    assert again.exit_code == 0 and "nothing to copy" in again.output
    assert content(target) == content(source)
    wrong = run_cli(["replicate", "--from", str(tmp_path), "--to", str(target)])
    assert wrong.exit_code == 2 and "Error:" in wrong.output and "Traceback" not in wrong.output
