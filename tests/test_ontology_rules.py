"""Checks offered for merging into tests/test_ontology.py (from the other h1 helper)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

import pyshacl
import pytest
from rdflib import OWL, RDF, RDFS, SH, SKOS, XSD, Graph, URIRef

from sinlod.config import PROJECT_ROOT
from sinlod.namespaces import expand

DEF = "https://w3id.org/sinlod/def/"
ONTOLOGY = PROJECT_ROOT / "ontology" / "sinlod.ttl"
VOCABULARIES = sorted((PROJECT_ROOT / "ontology" / "vocabularies").glob("*.ttl"))
MAPPINGS = PROJECT_ROOT / "data" / "mappings"
RECORDS = PROJECT_ROOT / "data" / "records"
SCHEMES = ("roles", "organisation-types", "event-types", "topics", "project-status")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY)


@pytest.fixture(scope="module")
def vocabularies() -> Graph:
    graph = Graph()
    for path in VOCABULARIES:
        graph.parse(path)
    return graph


def test_no_inference_that_would_hide_wrong_references(ontology: Graph) -> None:
    """Validation runs with RDFS inference over the ontology. An rdfs:domain, or an rdfs:range
    that is a class, would type whatever a wrong reference points to, so sh:class could never
    fail; own properties use schema:domainIncludes/rangeIncludes instead."""
    assert list(ontology.subject_objects(RDFS.domain)) == []
    ranges = set(ontology.objects(None, RDFS.range))
    assert all(str(r).startswith(str(XSD)) for r in ranges), ranges


def test_concepts_are_named_individuals_and_schemes_do_not_list_them(vocabularies: Graph) -> None:
    """pySHACL's ont_graph mixing copies OWL individuals whole but ignores other SKOS nodes, so
    concepts must be owl:NamedIndividual for skos:inScheme checks to see them. Its deep copy
    follows links, and skos:hasTopConcept leads from a scheme back to every concept: with it,
    one validation took minutes."""
    for concept in vocabularies.subjects(RDF.type, SKOS.Concept):
        assert (concept, RDF.type, OWL.NamedIndividual) in vocabularies, concept
    assert list(vocabularies.subject_objects(SKOS.hasTopConcept)) == []


SCHEME_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<urn:s> a sh:NodeShape ; sh:targetClass <https://w3id.org/sinlod/def/Involvement> ;
  sh:property [ sh:path <http://data.europa.eu/m8g/role> ;
    sh:node [ sh:property [ sh:path skos:inScheme ;
                            sh:hasValue <https://w3id.org/sinlod/def/roles> ] ] ;
    sh:class <http://xmlns.com/foaf/0.1/Agent> ] .
"""


@pytest.mark.parametrize(
    ("concept", "in_roles"),
    [("roles/coordinator", True), ("roles/not-a-role", False), ("topics/social-economy", False)],
)
def test_scheme_membership_is_visible_through_ont_graph(concept: str, in_roles: bool) -> None:
    """With ontology + vocabularies as ont_graph only, a role concept is seen in its scheme, and a
    concept of another scheme or an unknown IRI is not. The extra sh:class foaf:Agent fails for
    every value, proving the shape ran on it."""
    ont = Graph().parse(ONTOLOGY)
    for path in VOCABULARIES:
        ont.parse(path)
    data = Graph().parse(
        data=f"""<https://w3id.org/sinlod/id/involvement/x> a <{DEF}Involvement> ;
            <http://data.europa.eu/m8g/role> <{DEF}{concept}> .""",
        format="turtle",
    )
    shapes = Graph().parse(data=SCHEME_SHAPES, format="turtle")
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, ont_graph=ont, inference="rdfs")
    components = set(report.objects(None, SH.sourceConstraintComponent))
    assert SH.ClassConstraintComponent in components
    assert (SH.NodeConstraintComponent in components) is not in_roles


def mapping_columns() -> Iterator[tuple[str, dict[str, object]]]:
    for path in sorted(MAPPINGS.glob("*.csv-metadata.json")):
        table = json.loads(path.read_text(encoding="utf-8"))
        for column in table["tableSchema"]["columns"]:
            yield path.name.removesuffix(".csv-metadata.json"), column


def column_values(table: str, column: str, separator: str | None) -> set[str]:
    with (RECORDS / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        cells = [row.get(column) or "" for row in csv.DictReader(f)]
    values = (v for cell in cells for v in (cell.split(separator) if separator else [cell]))
    return {v.strip() for v in values if v.strip()}


@pytest.mark.skipif(not RECORDS.is_dir(), reason="no shipped records")
def test_shipped_records_use_existing_concepts(vocabularies: Graph) -> None:
    """Every role, topic, event type, status and organisation type in data/records is a concept
    of the scheme its mapping points to (a typo would otherwise only show as a SHACL finding)."""
    known = set(vocabularies.subjects(RDF.type, SKOS.Concept))
    missing = set()
    checked = 0
    for table, column in mapping_columns():
        value = column.get("valueUrl")
        if not isinstance(value, str) or "{" not in value:
            continue
        target = expand(value.split("{")[0])
        if target not in {f"{DEF}{scheme}/" for scheme in SCHEMES}:
            continue
        separator = column.get("separator")
        name = str(column["name"])
        for slug in column_values(table, name, separator if isinstance(separator, str) else None):
            checked += 1
            if URIRef(target + slug) not in known:
                missing.add(f"{table}.csv column {name!r}: {target + slug}")
    assert checked > 0
    assert sorted(missing) == []
