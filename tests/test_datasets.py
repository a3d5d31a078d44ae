"""Datasets (issue 11): a steward's records published beside the shipped data, never over it.

The store holding the shipped data (``data/records``, the dataset ``sinlod``) is published once
per module; each test works on a copy. The steward's files (``tests/fixtures/datasets/steward``)
have the shipped files' names (``places.csv``, ``organisations.csv``) and some of their slugs
(``rotterdam``, ``dortmund``, ``tu-dortmund``, ``drift``), which mint the same IRIs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from sinlod.changes import ShapesViolated, Write, replace_graph
from sinlod.config import PROJECT_ROOT, Settings
from sinlod.errors import DatasetConflict, InputError, StoreError
from sinlod.publish import PublishRefused, publish
from sinlod.store import FileInfo, ReleaseInfo, Store, datasets
from sinlod.store.graphs import dataset_of
from tests.conftest import FIXTURES, run_cli

BASE = "https://w3id.org/sinlod/"
SHIPPED = PROJECT_ROOT / "data" / "records"
STEWARD = FIXTURES / "datasets" / "steward"
ROTTERDAM = BASE + "id/place/rotterdam"
TU_DORTMUND = BASE + "id/organisation/tu-dortmund"


@pytest.fixture(scope="module")
def shipped_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped data published once, as `make publish` does (ontology and references too)."""
    path = tmp_path_factory.mktemp("shipped") / "store"
    settings = Settings.load(env={}, store_path=path)
    with Store.open(path) as store:
        publish([SHIPPED], settings, store, agent="tests")
    return path


@pytest.fixture
def settings(tmp_path: Path, shipped_store: Path) -> Settings:
    """Settings on a copy of the store holding the shipped data."""
    path = tmp_path / "store"
    shutil.copytree(shipped_store, path)
    return Settings.load(env={}, store_path=path)


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store.open(settings.store_path)


def per_dataset(store: Store) -> dict[str | None, set[str]]:
    """Every quad of the data, by the dataset of its graph (None: sinlod's own graphs)."""
    out: dict[str | None, set[str]] = {}
    for q in store.quads():
        name = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
        out.setdefault(dataset_of(name, BASE), set()).add(str(q))
    return out


def files_digest(path: Path) -> dict[str, str]:
    """SHA-256 of every file under ``path``, by relative path."""
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def steward_copy(tmp_path: Path, **replace: tuple[str, str]) -> Path:
    """The steward's files in ``tmp_path/steward``; ``replace`` edits one file's text."""
    target = tmp_path / "steward"
    shutil.copytree(STEWARD, target)
    for name, (old, new) in replace.items():
        path = target / f"{name}.csv"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")
    return target


# -- two datasets in one store ---------------------------------------------------------------


def test_two_datasets_with_the_same_file_names_lose_no_triple(
    settings: Settings, store: Store
) -> None:
    shipped = per_dataset(store)["sinlod"]
    assert len(shipped) > 1000
    result = publish([STEWARD], settings, store, dataset="steward", agent="steward")
    assert result.release is not None
    after = per_dataset(store)
    assert after["sinlod"] == shipped  # not one triple of the shipped data lost or changed
    assert {dataset_of(g, BASE) for g in result.published} == {"steward"}
    assert result.published == [
        BASE + "graph/steward/organisations",
        BASE + "graph/steward/places",
    ]
    steward = after["steward"]
    assert f'<{ROTTERDAM}> <http://www.w3.org/2004/02/skos/core#prefLabel> "Rotterdam"@en' in (
        " ".join(steward)
    )
    # republishing the shipped data (every source) leaves the steward's dataset as it was
    again = publish([SHIPPED], settings, store, skip_unchanged=False)
    assert again.release is not None and again.release.id != result.release.id
    assert per_dataset(store)["steward"] == steward
    assert per_dataset(store)["sinlod"] == shipped


def test_things_another_dataset_describes_are_reported_with_file_row_and_iri(
    settings: Settings, store: Store
) -> None:
    result = publish([STEWARD], settings, store, dataset="steward")
    shown = [str(o) for o in result.overlaps]
    assert shown == [
        f"{STEWARD}/organisations.csv:2: <{TU_DORTMUND}> is also described by dataset sinlod"
        f" (<{BASE}graph/sinlod/organisations>)",
        f"{STEWARD}/organisations.csv:3: <{BASE}id/organisation/drift> is also described by"
        f" dataset sinlod (<{BASE}graph/sinlod/organisations>)",
        f"{STEWARD}/places.csv:2: <{ROTTERDAM}> is also described by dataset sinlod"
        f" (<{BASE}graph/sinlod/place-coordinates>, <{BASE}graph/sinlod/places>)",
        f"{STEWARD}/places.csv:3: <{BASE}id/place/dortmund> is also described by dataset"
        f" sinlod (<{BASE}graph/sinlod/place-coordinates>, <{BASE}graph/sinlod/places>)",
    ]
    assert result.report is not None and result.report.conforms  # reported, not refused


def test_the_cli_reports_the_overlap(settings: Settings) -> None:
    r = run_cli(
        ["publish", str(STEWARD), "--dataset", "steward", "-q", "--store", str(settings.store_path)]
    )
    assert r.exit_code == 0, r.output
    assert "4 things are also described by another dataset (reported, not refused):" in r.stdout
    assert f"  {STEWARD}/places.csv:2: <{ROTTERDAM}> is also described by dataset sinlod" in (
        r.stdout
    )


def test_datasets_are_listed_with_graphs_triples_and_last_release(
    settings: Settings, store: Store
) -> None:
    first = store.release_id
    result = publish([STEWARD], settings, store, dataset="steward")
    assert result.release is not None
    found = {d.name: d for d in datasets(store)}
    assert sorted(found) == ["sinlod", "steward"]
    assert found["sinlod"].last_release is not None and found["sinlod"].last_release.id == first
    assert found["steward"].last_release == result.release
    assert found["steward"].graphs == {
        BASE + "graph/steward/organisations": result.release.graphs[
            BASE + "graph/steward/organisations"
        ],
        BASE + "graph/steward/places": result.release.graphs[BASE + "graph/steward/places"],
    }
    assert found["sinlod"].triples == len(per_dataset(store)["sinlod"])
    stats = json.loads(
        run_cli(["stats", "--format", "json", "--store", str(settings.store_path)]).stdout
    )
    assert [(d["name"], d["last_release"]["id"]) for d in stats["datasets"]] == [
        ("sinlod", first),
        ("steward", result.release.id),
    ]


# -- contradictions ----------------------------------------------------------------------------


def test_a_contradicting_fact_is_a_violation_naming_both_sources(
    tmp_path: Path, settings: Settings, store: Store
) -> None:
    """The shipped data names TU Dortmund "TU Dortmund"@de; skos:prefLabel is sh:uniqueLang."""
    steward = steward_copy(tmp_path, organisations=(",,TU Dortmund,", ",,Technische Uni Dortmund,"))
    before, release = per_dataset(store), store.release_id
    with pytest.raises(PublishRefused) as refused:
        publish([steward], settings, store, dataset="steward")
    [finding] = refused.value.report.findings
    assert finding.focus == TU_DORTMUND
    assert [str(loc) for loc in finding.locations] == [
        f'{steward}/organisations.csv:2 column "name_de"'
    ]
    assert finding.value == '"Technische Uni Dortmund"@de'
    assert finding.message == (
        f"contradicts dataset sinlod (graph <{BASE}graph/sinlod/organisations>), which gives"
        ' "TU Dortmund"@de; the shapes allow one value per language'
    )
    assert finding.constraint == "sh:UniqueLangConstraintComponent"
    assert store.release_id == release and per_dataset(store) == before  # nothing written


def test_a_contradicting_single_value_is_a_violation(
    tmp_path: Path, settings: Settings, store: Store
) -> None:
    """sinlod:country has sh:maxCount 1: Dortmund in the Netherlands contradicts the shipped one."""
    steward = steward_copy(
        tmp_path, places=("dortmund,Dortmund,,,,,DEU", "dortmund,Dortmund,,,,,NLD")
    )
    with pytest.raises(PublishRefused) as refused:
        publish([steward], settings, store, dataset="steward")
    [finding] = refused.value.report.findings
    assert finding.focus == BASE + "id/place/dortmund"
    assert finding.constraint == "sh:MaxCountConstraintComponent"
    assert finding.message.startswith(
        f"contradicts dataset sinlod (graph <{BASE}graph/sinlod/places>)"
    )
    assert [str(loc) for loc in finding.locations] == [f'{steward}/places.csv:3 column "country"']


def test_the_cli_exits_1_on_a_contradiction(tmp_path: Path, settings: Settings) -> None:
    steward = steward_copy(tmp_path, organisations=(",,TU Dortmund,", ",,Technische Uni Dortmund,"))
    before = files_digest(settings.store_path)
    r = run_cli(
        ["publish", str(steward), "--dataset", "steward", "--store", str(settings.store_path)]
    )
    assert r.exit_code == 1
    assert (
        f'{steward}/organisations.csv:2 column "name_de": Violation: contradicts dataset sinlod'
        in (r.stdout)
    )
    assert "1 violation; nothing was published (--force publishes anyway)" in r.stderr
    assert files_digest(settings.store_path) == before


def test_an_http_write_gets_the_same_rule(settings: Settings, store: Store) -> None:
    """The one gated write: a Graph Store PUT contradicting the shipped data is refused too."""
    graph = BASE + "graph/steward/extra"
    label = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    triples = [ox.Triple(ox.NamedNode(TU_DORTMUND), label, ox.Literal("TUD", language="de"))]
    with pytest.raises(ShapesViolated) as refused:
        replace_graph(store, settings, graph, triples, Write("tests", "PUT"))
    assert any(
        f.message.startswith("contradicts dataset sinlod") for f in refused.value.report.findings
    )
    assert graph not in store.graph_names()


# -- refusal across datasets ---------------------------------------------------------------------


def test_a_write_for_one_dataset_may_not_replace_another_datasets_graph(
    settings: Settings, store: Store
) -> None:
    places = BASE + "graph/sinlod/places"
    before, release = per_dataset(store), store.release_id
    with pytest.raises(DatasetConflict) as refused:
        replace_graph(store, settings, places, [], Write("steward", "DELETE", dataset="steward"))
    assert str(refused.value) == (
        f"dataset 'steward' may not replace or remove graph <{places}>, which belongs to dataset"
        " 'sinlod'; nothing was written"
    )
    assert (refused.value.dataset, refused.value.owner) == ("steward", "sinlod")
    assert store.release_id == release and per_dataset(store) == before


def test_dataset_names_are_slugs_and_not_sinlods_own_graphs(settings: Settings) -> None:
    for name, expected in [
        ("My Data", "dataset name 'My Data': expected a slug"),
        ("ontology", "dataset name 'ontology' is sinlod's own graph name"),
    ]:
        r = run_cli(
            ["publish", str(STEWARD), "--dataset", name, "--store", str(settings.store_path)]
        )
        assert r.exit_code == 2 and expected in r.stderr, r.output
    with pytest.raises(InputError, match="expected a slug"):
        Settings.load(env={"SINLOD_DATASET": "a/b"})


# -- prune -----------------------------------------------------------------------------------------


def test_prune_removes_the_datasets_graphs_whose_source_is_gone(
    tmp_path: Path, settings: Settings, store: Store
) -> None:
    publish([STEWARD], settings, store, dataset="steward")
    shipped = per_dataset(store)["sinlod"]
    only_places = tmp_path / "places.csv"
    shutil.copy(STEWARD / "places.csv", only_places)
    kept = publish([only_places], settings, store, dataset="steward")  # without --prune: kept
    assert BASE + "graph/steward/organisations" in store.graph_names()
    assert kept.pruned == []

    preview = publish([only_places], settings, store, dataset="steward", prune=True, dry_run=True)
    organisations = BASE + "graph/steward/organisations"
    assert preview.pruned == [organisations] and preview.summary is not None
    [change] = [g for g in preview.summary.graphs if g.graph == organisations]
    assert change.after == 0 and change.removed == change.before > 0
    assert organisations in store.graph_names()  # a preview writes nothing

    result = publish([only_places], settings, store, dataset="steward", prune=True)
    assert result.pruned == [organisations] and result.release is not None
    assert organisations not in store.graph_names()
    assert organisations in (result.release.changed or ())
    assert per_dataset(store)["sinlod"] == shipped  # another dataset's graphs are never pruned


# -- dry run -----------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_shows_graphs_and_things(settings: Settings) -> None:
    before = files_digest(settings.store_path)
    r = run_cli(
        [
            "publish",
            str(STEWARD),
            "--dataset",
            "steward",
            "--dry-run",
            "-q",
            "--store",
            str(settings.store_path),
        ]
    )
    assert r.exit_code == 0, r.output
    assert files_digest(settings.store_path) == before  # every file byte-identical
    assert r.stdout.startswith("Dry run, dataset steward: nothing was written.\n")
    assert f"  +16 -0  <{BASE}graph/steward/places> (0 -> 16)" in r.stdout
    assert f"  + <{BASE}id/place/delft>" in r.stdout
    assert f"  ~ <{ROTTERDAM}>: skos:prefLabel" in r.stdout  # an English name it did not have
    assert "things: 2 added, 0 removed, 3 changed" in r.stdout  # Dortmund: nothing new


def test_dry_run_json_is_the_documented_shape(settings: Settings) -> None:
    before = files_digest(settings.store_path)
    r = run_cli(
        [
            "publish",
            str(STEWARD),
            "--dataset",
            "steward",
            "--dry-run",
            "--format",
            "json",
            "--store",
            str(settings.store_path),
        ]
    )
    assert r.exit_code == 0, r.output
    assert files_digest(settings.store_path) == before
    data = json.loads(r.stdout)
    assert data["dataset"] == "steward" and data["dry_run"] is True and data["release"] is None
    assert data["report"]["conforms"] is True
    changes = data["changes"]
    assert set(changes) == {"added", "removed", "graphs", "things"}
    places = next(g for g in changes["graphs"] if g["graph"] == BASE + "graph/steward/places")
    assert places == {
        "graph": BASE + "graph/steward/places",
        "before": 0,
        "after": 16,
        "added": 16,
        "removed": 0,
    }
    kinds = Counter(t["change"] for t in changes["things"])
    assert kinds == {"added": 2, "changed": 3}
    delft = next(t for t in changes["things"] if t["iri"] == BASE + "id/place/delft")
    assert (
        delft["change"] == "added"
        and "http://www.w3.org/2004/02/skos/core#prefLabel" in delft["properties"]
    )
    assert [o["iri"] for o in data["overlaps"]][:1] == [TU_DORTMUND]


def test_dry_run_of_a_refused_publish_exits_1_and_writes_nothing(
    tmp_path: Path, settings: Settings
) -> None:
    steward = steward_copy(tmp_path, organisations=(",,TU Dortmund,", ",,Technische Uni Dortmund,"))
    before = files_digest(settings.store_path)
    r = run_cli(
        [
            "publish",
            str(steward),
            "--dataset",
            "steward",
            "--dry-run",
            "--store",
            str(settings.store_path),
        ]
    )
    assert r.exit_code == 1
    assert "1 violation: a publish would be refused (--force publishes anyway)" in r.stderr
    assert "contradicts dataset sinlod" in r.stdout
    assert files_digest(settings.store_path) == before


# -- stores from before datasets -----------------------------------------------------------------


def legacy_store(path: Path) -> dict[str, int]:
    """A store as the previous release published it: sources in {base}graph/{stem}."""
    settings = Settings.load(env={}, store_path=path)
    contents: dict[str, list[ox.Triple]] = {}
    from sinlod.convert import convert

    sources = [SHIPPED / "places.csv", SHIPPED / "documents.csv"]
    for graph, triples in convert(sources, settings, check_references=False).graphs.items():
        contents[BASE + "graph/" + graph.rsplit("/", 1)[-1]] = triples
    files = [
        FileInfo(f"data/records/{g.rsplit('/', 1)[-1]}.csv", "0" * 64, "source", g)
        for g in contents
    ]
    with Store.open(path) as store:
        store.replace_graphs(contents, release=ReleaseInfo(agent="old sinlod", files=files))
    return {g: len(t) for g, t in contents.items()}


def test_a_store_from_before_datasets_moves_into_the_default_dataset(tmp_path: Path) -> None:
    path = tmp_path / "old"
    old = legacy_store(path)
    settings = Settings.load(env={}, store_path=path)
    with Store.open(path) as store:
        # a steward's first publish moves the old graphs into the dataset they were: sinlod
        result = publish(
            [STEWARD / "places.csv"], settings, store, dataset="steward", validate=False
        )
        assert result.migrated == {
            BASE + "graph/documents": BASE + "graph/sinlod/documents",
            BASE + "graph/places": BASE + "graph/sinlod/places",
        }
        graphs = store.graph_names()
        assert not any(g in graphs for g in old)
        counts = store.stats().graphs
        assert counts[BASE + "graph/sinlod/places"] == old[BASE + "graph/places"]
        # publishing the shipped data again leaves every source once: no duplicate graph
        shipped = [SHIPPED / "places.csv", SHIPPED / "documents.csv"]
        publish(shipped, settings, store, ontology=False, validate=False)
        rotterdam = {
            q.graph_name.value
            for q in store.quads()
            if q.subject == ox.NamedNode(ROTTERDAM) and isinstance(q.graph_name, ox.NamedNode)
        }
        assert rotterdam == {BASE + "graph/sinlod/places", BASE + "graph/steward/places"}


def test_an_old_graph_beside_its_new_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old"
    legacy_store(path)
    settings = Settings.load(env={}, store_path=path)
    with Store.open(path) as store:
        store.replace_graphs({BASE + "graph/sinlod/places": []}, release=ReleaseInfo(agent="x"))
        triple = ox.Triple(ox.NamedNode(ROTTERDAM), ox.NamedNode(BASE + "def/x"), ox.Literal("1"))
        store.replace_graphs(
            {BASE + "graph/sinlod/places": [triple]}, release=ReleaseInfo(agent="x")
        )
        release = store.release_id
        with pytest.raises(StoreError, match="published before datasets"):
            publish([STEWARD / "places.csv"], settings, store, dataset="steward", validate=False)
        assert store.release_id == release


def test_a_source_replacing_another_files_graph_is_pointed_out(settings: Settings) -> None:
    """Without --dataset the steward's places.csv replaces the shipped places (same dataset): the
    dry run says where that graph came from, and shows the shipped places it would remove."""
    places = BASE + "graph/sinlod/places"
    r = run_cli(
        ["publish", str(STEWARD / "places.csv"), "--dry-run", "-q"]
        + ["--store", str(settings.store_path), "--format", "json"]
    )
    data = json.loads(r.stdout)
    assert data["elsewhere"] == {places: str(SHIPPED / "places.csv")}
    removed = {t["iri"] for t in data["changes"]["things"] if t["change"] == "removed"}
    assert BASE + "id/place/belgium" in removed
    human = run_cli(
        ["publish", str(STEWARD / "places.csv"), "--dry-run", "-q"]
        + ["--store", str(settings.store_path)]
    )
    assert (
        f"Note: <{places}> was last published from {SHIPPED / 'places.csv'}; this replaces it"
        " (to publish beside it instead: --dataset NAME)."
    ) in human.stdout
