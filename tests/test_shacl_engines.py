"""Every SHACL engine sinlod uses passes the W3C SHACL suite and agrees with pySHACL on our shapes.

pySHACL is the reference; the fast engine (the ``shacl`` package, ``sinlod.validate.fast``) may
only be the default because these tests show it gives the same findings:

- the W3C SHACL test suite (``tests/data/w3c/shacl/``: Core and SHACL-SPARQL, 120 ``sht:Validate``
  entries) runs through both engines; each report is compared with the expected one, with the
  failures each engine is allowed listed in ``KNOWN_FAILURES`` with the reason;
- the shipped records (converted) and every file of the invalid corpus run through ``validate``
  with each engine, and the findings must be identical, field by field, including source places.

Reports are compared as the suite intends (graph isomorphism, ``sh:resultMessage`` ignored): the
results as a multiset of (focus, path, value, source shape, constraint component, severity),
with a blank node standing for "some blank node", a blank-node shape named by its ``sh:path``,
and paths written as SPARQL property paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from rdflib.namespace import SH

from sinlod.config import PROJECT_ROOT, Settings
from sinlod.convert import convert
from sinlod.validate import Report, validate
from sinlod.validate import fast as fast_engine
from sinlod.validate.engines import path_text as _path_text
from sinlod.validate.terms import to_nt as _nt
from sinlod.validate.terms import to_rdflib_triple as _to_rdflib_triple
from tests.conftest import FIXTURES, TEST_DATA

W3C = TEST_DATA / "w3c" / "shacl"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
SHT = "http://www.w3.org/ns/shacl-test#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
ENGINES = ("pyshacl", "fast")

#: engine → test IRI (relative to the suite folder) → why it fails. Measured, not guessed:
#: ``test_known_failures_still_fail`` keeps this list honest (xfail_strict).
KNOWN_FAILURES: dict[str, dict[str, str]] = {
    "pyshacl": {
        "sparql/pre-binding/shapesGraph-001": "pySHACL does not support $shapesGraph in SPARQL "
        "constraints (NotImplementedError)",
        "core/property/uniqueLang-002": 'pySHACL reads sh:uniqueLang "1"^^xsd:boolean as false, '
        "not as the boolean true it is",
        "sparql/node/prefixes-001": "pySHACL does not follow owl:imports to the sh:declare of "
        "another ontology (SHACL §5.2.1); it passes only on graphs where rdflib's parser bound "
        "the prefix, and sinlod's graphs come from pyoxigraph",
    },
    "fast": {
        "sparql/pre-binding/unsupported-sparql-004": "shacl 0.3.4 evaluates a sub-SELECT that "
        "does not project a pre-bound variable instead of refusing it (SHACL §5.3.1.1)",
    },
}


# -- the W3C manifests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One ``sht:Validate`` entry: where its data and shapes are, and its file's graph."""

    iri: str
    data: Path
    shapes: Path
    manifest: Path
    result: ox.BlankNode | ox.NamedNode

    @property
    def name(self) -> str:
        return self.iri.removeprefix(W3C.as_uri() + "/")


def _parse(path: Path) -> list[ox.Triple]:
    quads = ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri())
    return [ox.Triple(q.subject, q.predicate, q.object) for q in quads]


def _objects(store: ox.Store, s: Any, p: str) -> list[Any]:
    return [q.object for q in store.quads_for_pattern(s, ox.NamedNode(p), None)]


def _list(store: ox.Store, node: Any) -> list[Any]:
    items = []
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    while node != ox.NamedNode(rdf + "nil"):
        items += _objects(store, node, rdf + "first")
        [node] = _objects(store, node, rdf + "rest")
    return items


def _cases(manifest: Path) -> list[Case]:
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in _parse(manifest))
    cases: list[Case] = []
    for included in store.quads_for_pattern(None, ox.NamedNode(MF + "include"), None):
        cases += _cases(Path(included.object.value.removeprefix("file://")))
    for entries in store.quads_for_pattern(None, ox.NamedNode(MF + "entries"), None):
        for entry in _list(store, entries.object):
            if ox.Quad(entry, RDF_TYPE, ox.NamedNode(SHT + "Validate")) not in store:
                continue
            [action] = _objects(store, entry, MF + "action")
            [data] = _objects(store, action, SHT + "dataGraph")
            [shapes] = _objects(store, action, SHT + "shapesGraph")
            [result] = _objects(store, entry, MF + "result")
            cases.append(
                Case(
                    entry.value,
                    Path(data.value.removeprefix("file://")),
                    Path(shapes.value.removeprefix("file://")),
                    manifest,
                    result,
                )
            )
    return cases


CASES = _cases(W3C / "manifest.ttl")


def test_the_suite_is_all_there() -> None:
    assert len(CASES) == 120, "the W3C SHACL suite (Core + SPARQL) has 120 validation tests"


# -- one canonical form for a validation report ----------------------------------------------------

Row = tuple[str | None, ...]


def _term(text: str | None) -> str | None:
    """A term as comparable text: N-Triples as pyoxigraph writes it; any blank node as ``_:``."""
    if text is None:
        return None
    if text.startswith("_:"):
        return "_:"
    [q] = ox.parse(f"<s:> <p:> {text} .", format=ox.RdfFormat.N_TRIPLES)
    return str(q.object)


def _shape_key(graph: rdflib.Graph, shape: Any) -> str | None:
    """An IRI shape as itself; a blank-node shape as ``[path]`` (its label is per parse)."""
    if shape is None:
        return None
    if isinstance(shape, rdflib.URIRef):
        return str(shape)
    path = graph.value(shape, SH.path)
    return f"[{_path_text(graph, path)}]" if path is not None else "[]"


def _rows_from_report(report: rdflib.Graph, shapes: rdflib.Graph) -> tuple[bool, list[Row]]:
    """(conforms, sorted rows) of a ``sh:ValidationReport`` graph (expected or pySHACL's)."""
    [root] = report.subjects(rdflib.RDF.type, SH.ValidationReport)
    conforms = bool(report.value(root, SH.conforms).toPython())  # type: ignore[union-attr]
    rows = []
    for r in report.objects(root, SH.result):
        path = report.value(r, SH.resultPath)
        value = report.value(r, SH.value)
        rows.append(
            (
                _term(_nt(report.value(r, SH.focusNode))),
                _path_text(report, path) if path is not None else None,
                _term(_nt(value)) if value is not None else None,
                _shape_key(shapes, report.value(r, SH.sourceShape)),
                str(report.value(r, SH.sourceConstraintComponent)),
                str(report.value(r, SH.resultSeverity)),
            )
        )
    return conforms, sorted(rows, key=str)


def _graph(triples: list[ox.Triple]) -> rdflib.Graph:
    g = rdflib.Graph()
    for t in triples:
        g.add(_to_rdflib_triple(t))
    return g


def expected(case: Case) -> tuple[bool, list[Row]]:
    doc = _graph(_parse(case.manifest))  # a new parse: blank-node labels differ from _cases'
    result = doc.value(rdflib.URIRef(case.iri), rdflib.URIRef(MF + "result"))
    report = rdflib.Graph()
    _copy_tree(doc, result, report)
    return _rows_from_report(report, doc)


def _copy_tree(source: rdflib.Graph, node: Any, target: rdflib.Graph) -> None:
    for p, o in source.predicate_objects(node):
        target.add((node, p, o))
        if isinstance(o, rdflib.BNode) and (o, None, None) not in target:
            _copy_tree(source, o, target)


def run_pyshacl(case: Case) -> tuple[bool, list[Row]]:
    shapes = _graph(_parse(case.shapes))
    data = shapes if case.data == case.shapes else _graph(_parse(case.data))
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    assert isinstance(report, rdflib.Graph)
    _, rows = _rows_from_report(report, shapes)
    return bool(conforms), rows


def run_fast(case: Case) -> tuple[bool, list[Row]]:
    shape_triples = _parse(case.shapes)
    compiled = fast_engine.compile_shapes(shape_triples, ())
    data = shape_triples if case.data == case.shapes else _parse(case.data)
    results = fast_engine.run(compiled, data, inference="none")  # Declined is a failure
    shapes = _graph(shape_triples)
    rows = []
    for r in results:
        shape = (
            rdflib.BNode(r.shape[2:]) if r.shape.startswith("_:") else rdflib.URIRef(r.shape[1:-1])
        )
        path = shapes.value(shape, SH.path)  # as sinlod does: the shape's path, same renderer
        if path is None and r.path is not None:
            path = rdflib.URIRef(r.path[1:-1])
        rows.append(
            (
                _term(r.focus),
                _path_text(shapes, path) if r.path is not None else None,
                _term(r.value),
                _shape_key(shapes, shape),
                r.component,
                r.severity,
            )
        )
    return not rows, sorted(rows, key=str)  # SHACL §3.6.1: conforms iff there are no results


RUNNERS = {"pyshacl": run_pyshacl, "fast": run_fast}


def _params() -> list[Any]:
    params = []
    for engine in ENGINES:
        for case in CASES:
            reason = KNOWN_FAILURES[engine].get(case.name)
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            params.append(pytest.param(engine, case, id=f"{engine}:{case.name}", marks=marks))
    return params


FAILURE = ox.NamedNode(SHT + "Failure")


@pytest.mark.parametrize(("engine", "case"), _params())
def test_w3c_shacl(engine: str, case: Case) -> None:
    """A report equal to the expected one; for ``sht:Failure`` the engine must refuse to run."""
    if case.result == FAILURE:
        with pytest.raises(Exception):  # noqa: B017 - the suite asks for "a failure", of any kind
            RUNNERS[engine](case)
        return
    assert RUNNERS[engine](case) == expected(case)


# -- sinlod's own shapes: both engines, identical findings ----------------------------------------

INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))


def _settings(engine: str) -> Settings:
    return Settings.load(env={}, validation_engine=engine)


def _both(data: Any) -> tuple[Report, Report]:
    return validate(data, _settings("pyshacl")), validate(data, _settings("fast"))


@pytest.fixture(scope="module")
def shipped() -> Any:
    return convert([PROJECT_ROOT / "data" / "records"], _settings("fast"))


def test_shipped_records_same_findings(shipped: Any) -> None:
    reference, fast = _both(shipped)
    assert fast.engine == "fast"  # it did not fall back to pySHACL
    assert fast.findings == reference.findings
    assert fast.conforms == reference.conforms


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_corpus_same_findings(path: Path) -> None:
    reference, fast = _both([path])
    assert fast.engine == "fast"
    assert fast.findings == reference.findings
    assert reference.findings, "each file of the invalid corpus breaks something"


def test_shape_without_message_falls_back_to_pyshacl(tmp_path: Path) -> None:
    """pySHACL writes its own message when a shape has none; only pySHACL can give that one."""
    shapes = tmp_path / "shapes"
    shapes.mkdir()
    (shapes / "s.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<urn:s> a sh:NodeShape ; sh:targetClass <https://w3id.org/sinlod/def/Project> ;\n"
        "  sh:property [ sh:path <urn:p> ; sh:minCount 1 ] .\n",
        encoding="utf-8",
    )
    data = tmp_path / "d.nt"
    data.write_text(f"<urn:x> <{RDF_TYPE.value}> <https://w3id.org/sinlod/def/Project> .\n")
    base = {"env": {}, "shapes_dir": shapes}
    fast = validate([data], Settings.load(**base, validation_engine="fast"))  # type: ignore[arg-type]
    reference = validate([data], Settings.load(**base, validation_engine="pyshacl"))  # type: ignore[arg-type]
    assert fast.engine == "pyshacl"
    assert fast.findings == reference.findings
    assert [f.message for f in fast.findings] == ["Less than 1 values on <urn:x>-><urn:p>"]


def test_blank_node_focus_is_mapped_back_to_its_label(tmp_path: Path) -> None:
    """The fast engine re-labels blank nodes; each finding names the node as the input did."""
    org = "https://w3id.org/sinlod/def/Organisation"
    lines = [f"_:org{i} <{RDF_TYPE.value}> <{org}> ." for i in range(300)]
    data = tmp_path / "d.nt"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reference, fast = _both([data])
    assert fast.engine == "fast"
    assert fast.findings == reference.findings
    assert {f.focus for f in fast.findings} == {f"_:org{i}" for i in range(300)}


def test_unknown_engine_is_an_input_error() -> None:
    from sinlod.errors import InputError

    with pytest.raises(
        InputError, match="unknown validation engine 'rust'; use one of fast, pyshacl"
    ):
        validate([INVALID[0]], _settings("rust"))
