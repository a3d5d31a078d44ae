"""The publish pipeline: convert or read → validate with the store as context → load → release."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from sinlod.config import Settings
from sinlod.errors import ConversionFailed, InputError
from sinlod.publish import PublishRefused, publish
from sinlod.store import Store

BASE = "https://w3id.org/sinlod/"
DOCUMENTS = """\
id,label_en,title_en,title_nl,title_de,language,identifier,page,issued,publisher,creator_people,creator_organisations,contributor_organisations,description_en,description_nl,topics,source
doc-a,Document A,Document A,,,ENG,,https://example.org/a,,,,,,,,,
"""
PLACES = """\
id,name_en,name_nl,name_de,alt_label_en,part_of,country,nuts,source
belgium,Belgium,België,,,,BEL,,doc-a
ghent,Ghent,Gent,,,belgium,BEL,,doc-a
"""
PREFIXES = """\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix sinlod: <https://w3id.org/sinlod/def/> .
"""
BRUGES = (
    PREFIXES
    + """<https://w3id.org/sinlod/id/place/bruges> a sinlod:Place ; skos:prefLabel "Bruges"@en ;
    dct:source <https://w3id.org/sinlod/id/document/doc-a> .
"""
)
NO_SOURCE = (
    PREFIXES
    + """<https://w3id.org/sinlod/id/place/ostend> a sinlod:Place ; skos:prefLabel "Ostend"@en .
"""
)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    records = tmp_path / "records"
    records.mkdir()
    (records / "documents.csv").write_text(DOCUMENTS, encoding="utf-8")
    (records / "places.csv").write_text(PLACES, encoding="utf-8")
    (tmp_path / "bruges.ttl").write_text(BRUGES, encoding="utf-8")
    (tmp_path / "ostend.ttl").write_text(NO_SOURCE, encoding="utf-8")
    return tmp_path


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store.open(settings.store_path)


def data_quads(store: Store) -> list[str]:
    """Quads outside the release log; blank node labels blanked (a reload may relabel them)."""
    releases = BASE + "graph/releases"
    lines = [str(q) for q in store.oxigraph if getattr(q.graph_name, "value", "") != releases]
    return sorted(re.sub(r"_:\w+", "_:b", line) for line in lines)


def test_publish_records_rdf_and_ontology(files: Path, settings: Settings, store: Store) -> None:
    result = publish([files / "records", files / "bruges.ttl"], settings, store, agent="alice")
    release = result.release
    assert release is not None and store.release_id == release.id
    graphs = store.graph_names()
    for name in ("sinlod/documents", "sinlod/places", "sinlod/bruges", "ontology"):
        assert BASE + f"graph/{name}" in graphs
    assert BASE + "graph/vocabularies/roles" in graphs
    assert BASE + "graph/releases" not in graphs  # the release log is beside the data
    assert result.skipped == []
    assert release.graphs[BASE + "graph/sinlod/bruges"] == 3
    assert release.agent == "alice" and release.conforms is True and not release.forced
    by_path = {f.path: f for f in release.files}
    places = by_path[str(files / "records" / "places.csv")]
    assert places.role == "source" and places.graph == BASE + "graph/sinlod/places"
    assert places.sha256 == hashlib.sha256(PLACES.encode()).hexdigest()
    roles = {f.role for f in release.files}
    assert {"source", "shapes", "ontology", "vocabulary"} <= roles
    ontology = by_path[str(settings.ontology_dir / "sinlod.ttl")]
    assert ontology.graph == BASE + "graph/ontology" and ontology.version  # owl:versionInfo
    assert store.releases() == [release]


def test_publishing_the_same_sources_again_writes_nothing(
    files: Path, settings: Settings, store: Store
) -> None:
    """Guarantee (3): unchanged sources are skipped; with nothing changed there is no release."""
    sources = [files / "records", files / "bruges.ttl"]
    first = publish(sources, settings, store)
    before = sorted(map(str, store.oxigraph))
    again = publish(sources, settings, store)
    assert again.release is None and again.published == []
    assert sorted(again.skipped) == sorted(first.published)
    assert store.release_id == first.release.id  # type: ignore[union-attr]
    assert sorted(map(str, Store.open(settings.store_path, read_only=True).oxigraph)) == before


def test_republishing_unchanged_sources_changes_only_the_release_log(
    files: Path, settings: Settings, store: Store
) -> None:
    sources = [files / "records", files / "bruges.ttl"]
    publish(sources, settings, store)
    before = data_quads(store)
    result = publish(sources, settings, store, skip_unchanged=False)
    assert result.release is not None and result.skipped == []
    assert data_quads(store) == before
    assert len(store.releases()) == 2


def test_only_a_changed_source_is_republished(
    files: Path, settings: Settings, store: Store
) -> None:
    publish([files / "records"], settings, store)
    (files / "records" / "places.csv").write_text(
        PLACES + "bruges,Bruges,Brugge,,,belgium,BEL,,doc-a\n", encoding="utf-8"
    )
    result = publish([files / "records"], settings, store)
    assert result.published == [BASE + "graph/sinlod/places"]
    assert BASE + "graph/sinlod/documents" in result.skipped
    assert BASE + "graph/ontology" in result.skipped
    assert result.release is not None
    assert result.release.changed == (BASE + "graph/sinlod/places",)


def test_violations_refuse_the_publish_and_leave_the_store(
    files: Path, settings: Settings, store: Store
) -> None:
    publish([files / "records"], settings, store)
    before, release_id = sorted(map(str, store.oxigraph)), store.release_id
    with pytest.raises(PublishRefused) as info:
        publish([files / "ostend.ttl"], settings, store)
    assert str(info.value) == "1 violation; nothing was published (--force publishes anyway)"
    [finding] = info.value.report.findings
    assert finding.severity == "Violation" and "ostend" in finding.focus
    assert sorted(map(str, store.oxigraph)) == before and store.release_id == release_id


def test_force_publishes_and_records_it(files: Path, settings: Settings, store: Store) -> None:
    result = publish([files / "ostend.ttl"], settings, store, force=True, ontology=False)
    assert result.release is not None
    [release] = store.releases()
    assert release.forced and release.conforms is False and release.violations == 1
    assert BASE + "graph/sinlod/ostend" in store.graph_names()


def test_references_to_published_records_validate_with_the_store_as_context(
    files: Path, settings: Settings, store: Store
) -> None:
    """bruges.ttl cites doc-a, which only the store knows is a sinlod:Document."""
    with pytest.raises(PublishRefused, match="^1 violation"):
        publish([files / "bruges.ttl"], settings, store, ontology=False)
    publish([files / "records" / "documents.csv"], settings, store, ontology=False)
    result = publish([files / "bruges.ttl"], settings, store, ontology=False)
    assert result.report is not None and result.report.conforms


def test_conversion_problems_leave_the_store(files: Path, settings: Settings, store: Store) -> None:
    publish([files / "records"], settings, store, ontology=False)
    release_id = store.release_id
    (files / "records" / "places.csv").write_text(PLACES + ",Nowhere,,,,,,,doc-a\n")
    with pytest.raises(ConversionFailed):
        publish([files / "records"], settings, store)
    assert store.release_id == release_id


def test_two_sources_for_one_graph_are_refused(
    files: Path, settings: Settings, store: Store
) -> None:
    (files / "places.ttl").write_text(BRUGES)
    with pytest.raises(InputError) as info:
        publish([files / "records", files / "places.ttl"], settings, store)
    assert str(info.value) == (
        f"two sources would be published into the same graph {BASE}graph/sinlod/places "
        "(sources are keyed by file name without extension)"
    )
    assert store.release_id is None


def test_missing_rdf_source(files: Path, settings: Settings, store: Store) -> None:
    with pytest.raises(InputError) as info:
        publish([files / "nothing.nt"], settings, store)
    assert str(info.value) == f"{files / 'nothing.nt'}: no such file or directory"


def test_skip_validation_bulk_loads_and_records_no_outcome(
    files: Path, settings: Settings, store: Store
) -> None:
    big = files / "big.nt"
    big.write_text(
        "".join(
            f'<https://example.org/s/{i}> <https://example.org/p> "{i}" .\n' for i in range(5000)
        )
    )
    result = publish([big, files / "ostend.ttl"], settings, store, validate=False, ontology=False)
    assert result.release is not None and result.release.conforms is None
    assert result.release.graphs == {
        BASE + "graph/sinlod/big": 5000,
        BASE + "graph/sinlod/ostend": 2,
    }
