"""VoID and DCAT-AP descriptions are computed from the store and conform to the official shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, Store, serialize
from rdflib import Graph

from sinlod.catalog import Urls, catalog_triples, void_triples
from sinlod.config import Settings
from tests.conftest import FIXTURES, TEST_DATA

DCAT_AP = TEST_DATA / "dcat-ap"
VOID = "http://rdfs.org/ns/void#"


@pytest.fixture(scope="module")
def store() -> Store:
    s = Store()
    s.load(path=str(FIXTURES / "catalog" / "sample.trig"), format=RdfFormat.TRIG)
    return s


@pytest.fixture(scope="module")
def urls() -> Urls:
    return Urls(public="http://127.0.0.1:8000/", base="https://w3id.org/sinlod/")


def _graph(triples: list) -> Graph:  # type: ignore[type-arg]
    g = Graph()
    g.parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
    return g


def test_void_counts_partitions_and_linksets(store: Store, urls: Urls) -> None:
    g = _graph(void_triples(store, Settings.load(env={}), urls))
    ds = "<https://w3id.org/sinlod/id/dataset/sinlod>"
    # 5 + 3 + 3 + 4 = 15 data triples; the ontology graph is not counted.
    (triples,) = g.query(f"SELECT ?n WHERE {{ {ds} <{VOID}triples> ?n }}")
    assert int(triples[0]) == 15
    (entities,) = g.query(f"SELECT ?n WHERE {{ {ds} <{VOID}entities> ?n }}")
    assert int(entities[0]) == 4
    classes = {
        (str(c), int(n))
        for c, n in g.query(
            f"SELECT ?c ?n WHERE {{ {ds} <{VOID}classPartition> ?p . ?p <{VOID}class> ?c ; "
            f"<{VOID}entities> ?n }}"
        )
    }
    assert classes == {
        ("https://w3id.org/sinlod/def/Organisation", 2),
        ("https://w3id.org/sinlod/def/Place", 1),
        ("https://w3id.org/sinlod/def/Project", 1),
    }
    linksets = {
        (str(t), str(p), int(n))
        for t, p, n in g.query(
            f"SELECT ?t ?p ?n WHERE {{ {ds} <{VOID}subset> ?l . ?l a <{VOID}Linkset> ; "
            f"<{VOID}linkPredicate> ?p ; <{VOID}triples> ?n ; <{VOID}objectsTarget> ?o . "
            "?o <http://purl.org/dc/terms/title> ?t }"
        )
    }
    assert linksets == {
        ("NUTS (Eurostat)", "https://w3id.org/sinlod/def/nutsRegion", 1),
        ("EU authority table: countries", "https://w3id.org/sinlod/def/country", 2),
        ("Wikidata", "http://www.w3.org/2002/07/owl#sameAs", 1),
        ("CORDIS (EU research projects)", "http://xmlns.com/foaf/0.1/page", 1),
    }
    assert g.query(
        f"ASK {{ {ds} <{VOID}sparqlEndpoint> <http://127.0.0.1:8000/sparql> }}"
    ).askAnswer


def _dcat_ap_shapes() -> Graph:
    shapes = Graph()
    for name in ("shapes.ttl", "range.ttl", "mdr-vocabularies.shape.ttl"):
        shapes.parse(DCAT_AP / name, format="turtle")
    return shapes


def test_catalog_conforms_to_dcat_ap_3(store: Store, urls: Urls) -> None:
    from pyshacl import validate

    data = _graph(catalog_triples(store, Settings.load(env={}), urls))
    conforms, _, text = validate(
        data, shacl_graph=_dcat_ap_shapes(), inference="none", allow_warnings=True
    )
    assert conforms, text
    # Coverage is computed from the data, not declared by hand.
    spatial = {
        str(o)
        for o in data.objects(
            predicate=__import__("rdflib").URIRef("http://purl.org/dc/terms/spatial")
        )
    }
    assert spatial == {
        "http://publications.europa.eu/resource/authority/country/BEL",
        "http://publications.europa.eu/resource/authority/country/NLD",
    }


def test_catalog_missing_title_is_caught_by_the_official_shapes(store: Store, urls: Urls) -> None:
    """The conformance test can fail: drop the dataset title and the shapes object."""
    from pyshacl import validate

    triples = [
        t
        for t in catalog_triples(store, Settings.load(env={}), urls)
        if not (
            t.subject.value.endswith("/id/dataset/sinlod")
            and t.predicate.value == "http://purl.org/dc/terms/title"
        )
    ]
    conforms, _, _ = validate(_graph(triples), shacl_graph=_dcat_ap_shapes(), inference="none")
    assert not conforms


def test_fixture_paths_exist() -> None:
    assert Path(DCAT_AP / "shapes.ttl").is_file()


def test_each_dataset_is_a_dcat_dataset_with_its_own_distributions(
    store: Store, urls: Urls
) -> None:
    """Issue 11: the catalogue lists every dataset of the store (the fixture holds two), each a
    part of the whole with one Turtle distribution per graph; the whole still conforms."""
    g = _graph(catalog_triples(store, Settings.load(env={}), urls))
    dcat, dct = "http://www.w3.org/ns/dcat#", "http://purl.org/dc/terms/"
    whole = "https://w3id.org/sinlod/id/dataset/sinlod"
    rows = g.query(
        f"SELECT ?d ?name ?url WHERE {{ ?cat <{dcat}dataset> ?d . ?d <{dct}identifier> ?name ;"
        f" <{dct}isPartOf> <{whole}> ; <{dcat}distribution>/<{dcat}downloadURL> ?url }}"
    )
    assert sorted((str(d), str(n), str(u)) for d, n, u in rows) == [
        (whole + "/sinlod", "sinlod", "http://127.0.0.1:8000/dumps/sinlod/organisations.ttl"),
        (whole + "/sinlod", "sinlod", "http://127.0.0.1:8000/dumps/sinlod/projects.ttl"),
        (whole + "/steward", "steward", "http://127.0.0.1:8000/dumps/steward/places.ttl"),
    ]
    void = _graph(void_triples(store, Settings.load(env={}), urls))
    parts = void.query(
        f"SELECT ?name ?n WHERE {{ <{whole}> <{VOID}subset> ?p . ?p <{dct}identifier> ?name ;"
        f" <{VOID}triples> ?n }}"
    )
    assert sorted((str(name), int(n)) for name, n in parts) == [("sinlod", 11), ("steward", 4)]
