"""The SHACL shapes reject each defect of the invalid corpus with exactly the intended result.

Every file in ``tests/fixtures/invalid/`` breaks one thing and says, in its second line, which
result it must produce::

    # expect: sh:Violation sinlodsh:Project-endDate-order sinlod:endDate "Project end date ..."

(severity, source shape, result path, message; the path is ``-`` for a node-level constraint,
``^p`` for an inverse path and ``(p|q)`` for an alternative path). Validation runs as sinlod runs
it: pySHACL with the ontology and vocabularies as ``ont_graph`` and RDFS inference.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyshacl
import pytest
from rdflib import RDF, SH, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from sinlod.config import PROJECT_ROOT

FIXTURES = Path(__file__).parent / "fixtures"
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
VALID = FIXTURES / "shapes" / "valid-graph.ttl"
SINLODSH = Namespace("https://w3id.org/sinlod/shapes/")

#: Prefixes the expect lines use, to render result paths and shapes compactly.
PREFIXES = {
    "sh": str(SH),
    "sinlodsh": str(SINLODSH),
    "sinlod": "https://w3id.org/sinlod/def/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "m8g": "http://data.europa.eu/m8g/",
    "schema": "https://schema.org/",
    "owl": "http://www.w3.org/2002/07/owl#",
}

EXPECT = re.compile(r'^# expect: (sh:\w+) (\S+) (\S+) "((?:[^"\\]|\\.)*)"$', re.MULTILINE)

Result = tuple[str, str, str, str]


def compact(node: Node) -> str:
    """``sinlod:endDate`` for an IRI in a known namespace; the IRI in angle brackets otherwise."""
    text = str(node)
    for prefix, namespace in PREFIXES.items():
        if text.startswith(namespace):
            return f"{prefix}:{text[len(namespace) :]}"
    return f"<{text}>"


def render_path(graph: Graph, path: Node | None) -> str:
    """A SHACL path in the notation of the expect lines."""
    if path is None:
        return "-"
    if isinstance(path, URIRef):
        return compact(path)
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + render_path(graph, inverse)
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        members = Collection(graph, alternatives)
        return "(" + "|".join(render_path(graph, member) for member in members) + ")"
    raise AssertionError(f"path form not rendered by the test: {path!r}")


def results_of(report: Graph) -> list[Result]:
    """(severity, source shape, path, message) of every top-level result of a report."""
    found: list[Result] = []
    for report_node in report.subjects(RDF.type, SH.ValidationReport):
        for result in report.objects(report_node, SH.result):
            messages = [str(m) for m in report.objects(result, SH.resultMessage)]
            assert len(messages) == 1, f"expected one message, got {messages}"
            found.append(
                (
                    compact(report.value(result, SH.resultSeverity)),
                    compact(report.value(result, SH.sourceShape)),
                    render_path(report, report.value(result, SH.resultPath)),
                    messages[0],
                )
            )
    return sorted(found)


def expectations(path: Path) -> list[Result]:
    text = path.read_text(encoding="utf-8")
    return sorted(
        (sev, shape, res_path, re.sub(r"\\(.)", r"\1", message))
        for sev, shape, res_path, message in EXPECT.findall(text)
    )


@pytest.fixture(scope="module")
def ontology() -> Graph:
    """Ontology + vocabularies, loaded once: what sinlod passes to pySHACL as ``ont_graph``."""
    graph = Graph()
    graph.parse(PROJECT_ROOT / "ontology" / "sinlod.ttl")
    for vocabulary in sorted((PROJECT_ROOT / "ontology" / "vocabularies").glob("*.ttl")):
        graph.parse(vocabulary)
    return graph


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(PROJECT_ROOT / "shapes" / "sinlod.shacl.ttl")


def validate(data: Graph, shapes: Graph, ontology: Graph) -> list[Result]:
    _conforms, report, _text = pyshacl.validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="rdfs"
    )
    assert isinstance(report, Graph)
    return results_of(report)


def test_corpus_is_large_enough_and_each_file_expects_one_result() -> None:
    assert len(INVALID) >= 40
    for path in INVALID:
        assert len(expectations(path)) == 1, f"{path.name}: needs exactly one '# expect:' line"
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.ttl", path.name), path.name


def test_every_severity_is_used_in_the_corpus() -> None:
    severities = {expectations(path)[0][0] for path in INVALID}
    assert severities == {"sh:Violation", "sh:Warning", "sh:Info"}


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_trips_exactly_its_constraint(
    path: Path, shapes: Graph, ontology: Graph
) -> None:
    data = Graph().parse(path)
    assert validate(data, shapes, ontology) == expectations(path)


def test_valid_graph_conforms_with_zero_results(shapes: Graph, ontology: Graph) -> None:
    assert validate(Graph().parse(VALID), shapes, ontology) == []


PROJECT = URIRef("https://w3id.org/sinlod/id/project/x")
SINLOD = Namespace("https://w3id.org/sinlod/def/")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")


def dated_project(start: Literal, end: Literal) -> Graph:
    """A project that is valid except, perhaps, for the order of its dates."""
    graph = Graph()
    document = URIRef("https://w3id.org/sinlod/id/document/d")
    grant = URIRef("https://w3id.org/sinlod/id/grant/g")
    label = URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")
    source = URIRef("http://purl.org/dc/terms/source")
    graph.add((document, RDF.type, SINLOD.Document))
    graph.add((document, label, Literal("d", lang="en")))
    for node in (PROJECT, grant):
        graph.add((node, label, Literal("x", lang="en")))
        graph.add((node, source, document))
    graph.add((grant, RDF.type, SINLOD.Grant))
    graph.add((PROJECT, RDF.type, SINLOD.Project))
    graph.add((PROJECT, SINLOD.fundedBy, grant))
    graph.add((PROJECT, SINLOD.startDate, start))
    graph.add((PROJECT, SINLOD.endDate, end))
    return graph


ORDER_CASES = [
    # (start, end, reported?) -- each value stands for its first day.
    (("2016-02", "gYearMonth"), ("2016-02-01", "date"), False),
    (("2016-02-02", "date"), ("2016-02", "gYearMonth"), True),
    (("2016", "gYear"), ("2016-01-01", "date"), False),
    (("2016-01-01", "date"), ("2016", "gYear"), False),
    (("2016-02", "gYearMonth"), ("2016", "gYear"), True),
    (("2019-01-31", "date"), ("2019-02", "gYearMonth"), False),
    (("2019", "gYear"), ("2018-12-31", "date"), True),
]


@pytest.mark.parametrize(
    ("start", "end", "reported"), ORDER_CASES, ids=[f"{s[0]}..{e[0]}" for s, e, _ in ORDER_CASES]
)
def test_end_before_start_compares_first_days_across_precisions(
    start: tuple[str, str],
    end: tuple[str, str],
    reported: bool,
    shapes: Graph,
    ontology: Graph,
) -> None:
    graph = dated_project(
        Literal(start[0], datatype=XSD[start[1]]), Literal(end[0], datatype=XSD[end[1]])
    )
    expected = (
        [
            (
                "sh:Violation",
                "sinlodsh:Project-endDate-order",
                "sinlod:endDate",
                "Project end date must not be before its start date",
            )
        ]
        if reported
        else []
    )
    assert validate(graph, shapes, ontology) == expected


def test_every_property_shape_has_name_and_message(shapes: Graph) -> None:
    """Reports read well only if each property shape says which field it checks, and how."""
    for shape in shapes.subjects(SH.path, None):
        assert shapes.value(shape, SH.name) is not None, f"{shape} has no sh:name"
        assert shapes.value(shape, SH.message) is not None, f"{shape} has no sh:message"
