"""The ontology, the SKOS vocabularies and the shapes are well-formed and keep the model contract.

Checks what a reviewer of an ontology checks: it parses (rdflib and Oxigraph), it carries its
metadata, every own term is labelled in English and Dutch, explained in English and aligned to an
external vocabulary, every concept is labelled in en/nl/de and defined, every name in
docs/model.md exists, every class and property the shapes use is defined, and the shapes graph is
itself valid SHACL (W3C shapes for shapes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph
import pyshacl
import pytest
from rdflib import OWL, RDF, RDFS, SH, SKOS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from sinlod.config import PROJECT_ROOT
from tests.conftest import TEST_DATA

ONTOLOGY = PROJECT_ROOT / "ontology" / "sinlod.ttl"
VOCABULARIES = sorted((PROJECT_ROOT / "ontology" / "vocabularies").glob("*.ttl"))
SHAPES = PROJECT_ROOT / "shapes" / "sinlod.shacl.ttl"
MODEL_DOC = PROJECT_ROOT / "docs" / "model.md"
SHACL_SHACL = TEST_DATA / "w3c" / "shacl" / "core" / "complex" / "shacl-shacl.ttl"
VALID_DATA = Path(__file__).parent / "fixtures" / "shapes" / "valid-graph.ttl"

NS = "https://w3id.org/sinlod/def/"
SINLOD = Namespace(NS)
DCT = Namespace("http://purl.org/dc/terms/")
VANN = Namespace("http://purl.org/vocab/vann/")
ORG = Namespace("http://www.w3.org/ns/org#")
TERM_TYPES = {
    OWL.Class,
    RDFS.Class,
    RDFS.Datatype,
    RDF.Property,
    OWL.ObjectProperty,
    OWL.DatatypeProperty,
    OWL.AnnotationProperty,
}
ALIGNMENTS = (
    RDFS.subClassOf,
    RDFS.subPropertyOf,
    OWL.equivalentClass,
    OWL.equivalentProperty,
    SKOS.closeMatch,
    SKOS.exactMatch,
    SKOS.broadMatch,
    SKOS.narrowMatch,
    SKOS.relatedMatch,
)
#: Declared standard vocabularies: shapes and data may use their terms without a declaration in
#: the ontology (RDF, RDFS, OWL, XSD, SHACL, SKOS, DCTERMS, FOAF). Every other external term
#: (m8g:, org:, schema:, frapo:, ...) must be declared in ontology/sinlod.ttl.
STANDARD_NAMESPACES = (
    str(RDF),
    str(RDFS),
    str(OWL),
    "http://www.w3.org/2001/XMLSchema#",
    str(SH),
    str(SKOS),
    str(DCT),
    "http://xmlns.com/foaf/0.1/",
)
SCHEMES = ("roles", "organisation-types", "event-types", "topics", "project-status")
REQUIRED_CONCEPTS = {
    "roles": """coordinator partner research-coordinator learning-coordinator
        experiments-coordinator policy-coordinator strategy-coordinator
        engagement-and-dissemination-coordinator network-facilitator project-lead
        social-learning-lead team-member host organiser co-organiser venue presenter speaker
        panellist participant rapporteur funder applicant lead-partner best-practice author
        monitoring-and-evaluation member""",
    "event-types": """workshop conference summer-school learning-relay research-session mission
        roundtable kick-off-meeting panel world-cafe online-workshop""",
    "project-status": "planned proposed ongoing completed",
    "organisation-types": """university research-institute municipality province region district
        eu-institution ngo network-organisation social-enterprise company foundation hub lab
        consultancy association""",
    # What the five seeds and DOMAIN.md section 4.5 discuss.
    "topics": """social-innovation social-innovation-ecosystems social-innovation-labs
        knowledge-exchange knowledge-transfer higher-education-and-practice
        social-entrepreneurship social-economy social-cohesion regional-development
        cities-and-regions digitalisation digital-social-innovation communication
        collaborative-and-sharing-economy public-sector-innovation citizen-initiatives
        corporate-social-innovation inclusive-development open-innovation social-learning
        experimentation social-innovation-policy research-on-social-innovation
        transformative-innovation new-economy job-creation future-of-work social-services
        public-procurement accessible-housing diversity-and-living-together
        participatory-planning co-design european-pillar-of-social-rights covid-19-recovery
        social-exclusion-and-unemployment resilient-local-ecosystems social-impact
        exchange-of-good-practices responsible-research-and-innovation ageing-society
        climate-change acceleration-and-incubation peer-learning-networks
        cross-sector-collaboration""",
}


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY)


@pytest.fixture(scope="module")
def vocabularies() -> dict[str, Graph]:
    return {path.stem: Graph().parse(path) for path in VOCABULARIES}


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES)


def own_terms(ontology: Graph) -> list[URIRef]:
    """Classes, properties and datatypes in the sinlod namespace (concepts live one level down)."""
    terms = {
        subject
        for term_type in TERM_TYPES
        for subject in ontology.subjects(RDF.type, term_type)
        if isinstance(subject, URIRef)
        and str(subject).startswith(NS)
        and "/" not in str(subject)[len(NS) :]
    }
    return sorted(terms)


def languages(graph: Graph, subject: Node, predicate: URIRef) -> list[str | None]:
    return sorted(
        (o.language or "") for o in graph.objects(subject, predicate) if isinstance(o, Literal)
    )


@pytest.mark.parametrize("path", [ONTOLOGY, *VOCABULARIES, SHAPES], ids=lambda p: p.name)
def test_parses_with_rdflib_and_oxigraph(path: Path) -> None:
    rdflib_count = len(Graph().parse(path))
    oxigraph_count = len(set(pyoxigraph.parse(path=str(path))))
    assert rdflib_count > 0
    assert rdflib_count == oxigraph_count


def test_vocabulary_files_are_the_five_schemes() -> None:
    assert sorted(p.stem for p in VOCABULARIES) == sorted(SCHEMES)


def test_ontology_metadata(ontology: Graph) -> None:
    iri = URIRef(NS)
    assert (iri, RDF.type, OWL.Ontology) in ontology
    assert "en" in languages(ontology, iri, DCT.title)
    assert "nl" in languages(ontology, iri, DCT.title)
    assert "en" in languages(ontology, iri, DCT.description)
    version = ontology.value(iri, OWL.versionIRI)
    assert version is not None and str(version).startswith(NS)
    assert str(version)[len(NS) :] == str(ontology.value(iri, OWL.versionInfo))
    assert str(ontology.value(iri, DCT.license)).rstrip("/").split("://")[1] == (
        "creativecommons.org/licenses/by/4.0"
    )
    assert ontology.value(iri, DCT.creator) is not None
    assert ontology.value(iri, VANN.preferredNamespacePrefix) == Literal("sinlod")
    assert ontology.value(iri, VANN.preferredNamespaceUri) == Literal(NS)


def test_every_own_term_is_labelled_explained_and_aligned(ontology: Graph) -> None:
    terms = own_terms(ontology)
    assert len(terms) >= 50
    for term in terms:
        labels = languages(ontology, term, RDFS.label)
        assert "en" in labels and "nl" in labels, f"{term}: rdfs:label en and nl, got {labels}"
        assert len(labels) == len(set(labels)), f"{term}: two labels in one language"
        assert "en" in languages(ontology, term, RDFS.comment), f"{term}: no rdfs:comment@en"
        assert external_alignments(ontology, term), f"{term}: not aligned to another vocabulary"


def external_alignments(ontology: Graph, term: URIRef) -> set[URIRef]:
    """External terms reached from ``term`` by alignment links, through own super-terms."""
    seen: set[Node] = set()
    todo: list[Node] = [term]
    external: set[URIRef] = set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for predicate in ALIGNMENTS:
            for target in ontology.objects(current, predicate):
                if isinstance(target, URIRef) and not str(target).startswith(NS):
                    external.add(target)
                elif isinstance(target, URIRef):
                    todo.append(target)
                elif isinstance(target, BNode):  # owl:unionOf of datatypes
                    members = ontology.value(target, OWL.unionOf)
                    if members is not None:
                        external.update(m for m in Collection(ontology, members))  # type: ignore[misc]
    return external


def test_every_name_in_the_model_contract_is_defined(ontology: Graph) -> None:
    """docs/model.md fixes the names; each one it mentions must exist in the ontology."""
    text = MODEL_DOC.read_text(encoding="utf-8")
    properties = set(re.findall(r"`sinlod:([A-Za-z]+)`", text))
    classes = set(re.findall(r"^\| `([A-Z][A-Za-z]+)`", text, flags=re.MULTILINE))
    assert {"Project", "Involvement", "Quantity"} <= classes
    assert {"startDate", "involvedIn", "nutsRegion"} <= properties
    defined = set(own_terms(ontology))
    for name in sorted(properties | classes | {"partialDate"}):
        assert SINLOD[name] in defined, f"sinlod:{name} is in docs/model.md but not defined"
    for name in classes:
        assert (SINLOD[name], RDF.type, OWL.Class) in ontology


def test_no_own_property_has_two_rdfs_domains_or_ranges(ontology: Graph) -> None:
    """RDFS reads two domains as an intersection; several expected classes use domainIncludes."""
    for term in own_terms(ontology):
        assert len(list(ontology.objects(term, RDFS.domain))) <= 1, term
        assert len(list(ontology.objects(term, RDFS.range))) <= 1, term


def test_reused_terms_are_declared_with_type_and_label(ontology: Graph) -> None:
    reused = [
        URIRef("http://data.europa.eu/m8g/hasParticipant"),
        URIRef("http://data.europa.eu/m8g/role"),
        ORG.member,
        ORG.organization,
        ORG.role,
        ORG.classification,
        URIRef("https://schema.org/minValue"),
    ]
    for term in reused:
        assert any(ontology.objects(term, RDF.type)), f"{term} not declared"
        assert "en" in languages(ontology, term, RDFS.label), f"{term} has no label"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_concept_scheme(scheme: str, vocabularies: dict[str, Graph]) -> None:
    graph = vocabularies[scheme]
    scheme_iri = URIRef(NS + scheme)
    assert list(graph.subjects(RDF.type, SKOS.ConceptScheme)) == [scheme_iri]
    for lang in ("en", "nl", "de"):
        assert lang in languages(graph, scheme_iri, SKOS.prefLabel)
    concepts = sorted(c for c in graph.subjects(RDF.type, SKOS.Concept) if isinstance(c, URIRef))
    assert concepts
    slugs = set()
    for concept in concepts:
        slug = str(concept)[len(str(scheme_iri)) + 1 :]
        assert str(concept) == f"{scheme_iri}/{slug}", concept
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), concept
        slugs.add(slug)
        assert languages(graph, concept, SKOS.prefLabel) == ["de", "en", "nl"], concept
        assert languages(graph, concept, SKOS.definition) == ["en"], concept
        assert list(graph.objects(concept, SKOS.inScheme)) == [scheme_iri], concept
        broader = list(graph.objects(concept, SKOS.broader))
        is_top = (concept, SKOS.topConceptOf, scheme_iri) in graph
        assert is_top != bool(broader), f"{concept}: top concept exactly when it has no broader"
        # pySHACL copies from ont_graph only RDFS/OWL terms and owl:NamedIndividual nodes (deep):
        # without this type the concept's skos:inScheme would be invisible to the shapes.
        assert (concept, RDF.type, OWL.NamedIndividual) in graph, concept
        for parent in broader:
            assert (parent, SKOS.inScheme, scheme_iri) in graph, f"{concept}: broader elsewhere"
        if scheme == "roles":
            assert (concept, RDF.type, ORG.Role) in graph, f"{concept} must also be an org:Role"
    missing = set(REQUIRED_CONCEPTS[scheme].split()) - slugs
    assert not missing, f"{scheme} lacks {sorted(missing)}"


def terms_used_by_shapes(shapes: Graph) -> set[URIRef]:
    """Classes and properties the shapes refer to (targets, sh:class, paths, property pairs)."""
    used: set[URIRef] = set()
    for predicate in (SH.targetClass, SH["class"]):
        used.update(o for o in shapes.objects(None, predicate) if isinstance(o, URIRef))
    for predicate in (SH.lessThanOrEquals, SH.lessThan, SH.equals, SH.disjoint):
        used.update(o for o in shapes.objects(None, predicate) if isinstance(o, URIRef))
    for path in shapes.objects(None, SH.path):
        used.update(path_terms(shapes, path))
    return used


def path_terms(shapes: Graph, path: Node) -> set[URIRef]:
    if isinstance(path, URIRef):
        return {path}
    terms: set[URIRef] = set()
    for key in (SH.inversePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
        inner = shapes.value(path, key)
        if inner is not None:
            terms |= path_terms(shapes, inner)
    alternatives = shapes.value(path, SH.alternativePath)
    if alternatives is not None:
        for member in Collection(shapes, alternatives):
            terms |= path_terms(shapes, member)
    if (path, RDF.first, None) in shapes:  # a sequence path
        for member in Collection(shapes, path):
            terms |= path_terms(shapes, member)
    return terms


def assert_defined(terms: set[URIRef], ontology: Graph, where: str) -> None:
    for term in sorted(terms):
        if str(term).startswith(STANDARD_NAMESPACES):
            continue
        declared = set(ontology.objects(term, RDF.type)) & TERM_TYPES
        assert declared, f"{term} is used in {where} but not defined in the ontology"


def test_every_term_used_in_shapes_is_defined(shapes: Graph, ontology: Graph) -> None:
    used = terms_used_by_shapes(shapes)
    assert SINLOD.Project in used and URIRef("http://data.europa.eu/m8g/role") in used
    assert_defined(used, ontology, "shapes/")


def test_every_term_used_in_the_valid_data_is_defined(ontology: Graph) -> None:
    data = Graph().parse(VALID_DATA)
    used = {p for p in data.predicates() if isinstance(p, URIRef)}
    used |= {o for o in data.objects(None, RDF.type) if isinstance(o, URIRef)}
    assert_defined(used, ontology, VALID_DATA.name)


def test_every_own_class_has_a_node_shape(shapes: Graph, ontology: Graph) -> None:
    classes = {t for t in own_terms(ontology) if (t, RDF.type, OWL.Class) in ontology}
    targeted = set(shapes.objects(None, SH.targetClass))
    assert classes <= targeted, f"no node shape for {sorted(classes - targeted)}"


def test_shapes_graph_is_valid_shacl(shapes: Graph) -> None:
    """Validated against the W3C shapes for SHACL shapes (shacl-shacl.ttl)."""
    shacl_shacl = Graph().parse(SHACL_SHACL)
    conforms, _report, text = pyshacl.validate(shapes, shacl_graph=shacl_shacl)
    assert conforms, text
