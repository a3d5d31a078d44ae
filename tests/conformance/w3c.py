"""Read the W3C SPARQL 1.1 test manifests and compare results the way the suites mean them.

Why our own reader: the suites are data (Turtle manifests), and a runner that reads them keeps
the list of tests honest: a new manifest entry becomes a new pytest case without code changes.
The vocabulary follows the manifests in ``tests/data/w3c/sparql11/`` and the way public runners
(Oxigraph's ``testsuite`` crate, rdflib's test runner, Jena's ``arq.junit``) interpret them:

* ``qt:data`` loads into the default graph, ``qt:graphData <f>`` into a named graph called by the
  file's IRI; in update tests ``ut:graphData [ ut:graph <f>; rdfs:label "iri" ]`` names the graph
  by the label. File IRIs are the W3C URLs the suites were published under, so a query's
  ``FROM <data.ttl>`` resolves to a graph we loaded under exactly that name.
* SELECT results are multisets of solutions; blank nodes match through one bijection across all
  solutions; order matters only where the query's top level has ``ORDER BY``, and then only for
  the values of the sort keys (ties may come in any order).
* CONSTRUCT/DESCRIBE results and the dataset after an update are compared by isomorphism.
* Protocol and Graph Store Protocol tests are HTTP exchanges in the ``ht:`` vocabulary (W3C HTTP
  in RDF); each request carries the statuses, formats and bodies its response must have.

Results are held as pyoxigraph terms, so ``"01"^^xsd:integer`` and ``"1"^^xsd:integer`` differ
(RDF term equality, as the suites require) and isomorphism is Oxigraph's canonicalization.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Graph, Namespace, URIRef
from rdflib.collection import Collection

#: The copy of the suites in the repository (its README.md says where it came from).
W3C_DIR = Path(__file__).resolve().parents[1] / "data" / "w3c" / "sparql11"
#: The IRI the suites were published under; manifests and files get IRIs below it.
BASE_IRI = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
DAWGT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

#: Named statuses of the ``hts:`` vocabulary that the suites use.
STATUS_NAMES = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}

#: Media types by file extension, for loading data and choosing result formats.
RDF_MEDIA_TYPES = {
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".rdf": "application/rdf+xml",
    ".nq": "application/n-quads",
    ".trig": "application/trig",
}
RESULT_MEDIA_TYPES = {
    ".srx": "application/sparql-results+xml",
    ".srj": "application/sparql-results+json",
    ".tsv": "text/tab-separated-values",
    ".csv": "text/csv",
}


# --------------------------------------------------------------------------- manifest model


@dataclass(frozen=True)
class Exchange:
    """One HTTP request of a protocol test and what its response must show."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    statuses: frozenset[int] = frozenset()
    status_classes: frozenset[int] = frozenset()  # 2 for hts:StatusCode2xx, ...
    expected_format: str | None = None  # "boolean", "tabular" or "RDF"
    expected_boolean: bool | None = None
    expected_content_type: str | None = None
    expected_body: str | None = None
    location_variable: str | None = None

    def status_ok(self, status: int) -> bool:
        if not self.statuses and not self.status_classes:
            return True
        return status in self.statuses or status // 100 in self.status_classes


@dataclass(frozen=True)
class W3CTest:
    """One manifest entry, with every file resolved to a local path."""

    iri: str
    suite: str
    kind: str  # local name of the mf: type, e.g. "QueryEvaluationTest"
    name: str
    approval: str | None  # local name: "Approved", "Proposed", ... or None
    comment: str = ""
    query: Path | None = None  # query or update file (or the syntax test's action)
    data: tuple[Path, ...] = ()
    graph_data: tuple[tuple[str, Path], ...] = ()  # (graph IRI, file)
    result: Path | None = None
    result_data: tuple[Path, ...] = ()
    result_graph_data: tuple[tuple[str, Path], ...] = ()
    requires: tuple[str, ...] = ()  # local names of mf:requires
    entailment: bool = False
    service_data: bool = False
    exchanges: tuple[Exchange, ...] = ()

    @property
    def id(self) -> str:
        """Readable pytest id: ``suite/test-name``."""
        local = re.split(r"[#/]", self.iri)[-1]
        return f"{self.suite}/{local}"

    @property
    def base_iri(self) -> str:
        """The IRI a query or update resolves relative IRIs against (its own file's IRI)."""
        assert self.query is not None
        return file_iri(self.query)


def file_iri(path: Path) -> str:
    """The published W3C IRI of a local suite file."""
    return BASE_IRI + path.resolve().relative_to(W3C_DIR.resolve()).as_posix()


def local_path(iri: str) -> Path:
    """The local copy of a suite file named by its published IRI."""
    if not iri.startswith(BASE_IRI):
        raise ValueError(f"not a suite file: {iri}")
    return W3C_DIR / iri[len(BASE_IRI) :]


def read_manifests(root: Path = W3C_DIR / "manifest-all.ttl") -> list[W3CTest]:
    """Every entry of ``root`` and the manifests it includes, in manifest order."""
    tests: list[W3CTest] = []
    seen: set[Path] = set()
    _read_manifest(root.resolve(), tests, seen)
    return tests


def _read_manifest(path: Path, tests: list[W3CTest], seen: set[Path]) -> None:
    if path in seen:
        return
    seen.add(path)
    graph = Graph()
    graph.parse(path, format="turtle", publicID=file_iri(path))
    manifest = URIRef(file_iri(path))
    for include in graph.objects(manifest, MF.include):
        for item in Collection(graph, include):
            _read_manifest(local_path(str(item)).resolve(), tests, seen)
    suite = path.resolve().relative_to(W3C_DIR.resolve()).parts[0]
    for entries in graph.objects(manifest, MF.entries):
        for entry in Collection(graph, entries):
            tests.append(_read_entry(graph, entry, suite))


def _local(term: Any) -> str:
    return re.split(r"[#/]", str(term))[-1]


def _one(graph: Graph, subject: Any, predicate: URIRef) -> Any:
    return next(iter(graph.objects(subject, predicate)), None)


def _path(term: Any) -> Path:
    return local_path(str(term))


def _graph_data(graph: Graph, node: Any, predicate: URIRef) -> tuple[tuple[str, Path], ...]:
    """Named graphs: a bare file (named by its IRI) or ``[ ut:graph <f>; rdfs:label "iri" ]``."""
    found = []
    for value in graph.objects(node, predicate):
        if isinstance(value, BNode):
            file = _one(graph, value, UT.graph)
            label = _one(graph, value, RDFS.label)
            found.append((str(label) if label is not None else str(file), _path(file)))
        else:
            found.append((str(value), _path(value)))
    return tuple(sorted(found))


def _read_entry(graph: Graph, entry: Any, suite: str) -> W3CTest:
    kinds = [_local(t) for t in graph.objects(entry, RDF.type)]
    kind = next((k for k in kinds if k != "Test"), "Unknown")
    approval = _one(graph, entry, DAWGT.approval)
    fields: dict[str, Any] = {
        "iri": str(entry),
        "suite": suite,
        "kind": kind,
        "name": str(_one(graph, entry, MF.name) or _local(entry)),
        "approval": _local(approval) if approval is not None else None,
        "comment": " ".join(str(c) for c in graph.objects(entry, RDFS.comment)),
        "requires": tuple(sorted(_local(r) for r in graph.objects(entry, MF.requires))),
    }
    action = _one(graph, entry, MF.action)
    result = _one(graph, entry, MF.result)
    if kind in {"ProtocolTest", "GraphStoreProtocolTest"}:
        fields["graph_data"] = _graph_data(graph, entry, UT.graphData)
        if action is not None:
            fields["exchanges"] = _exchanges(graph, action)
    elif isinstance(action, URIRef):  # syntax tests: the action is the query or update file
        fields["query"] = _path(action)
    elif action is not None:
        query = _one(graph, action, QT.query) or _one(graph, action, UT.request)
        fields["query"] = _path(query) if query is not None else None
        data = list(graph.objects(action, QT.data)) + list(graph.objects(action, UT.data))
        fields["data"] = tuple(sorted(_path(d) for d in data))
        fields["graph_data"] = _graph_data(graph, action, QT.graphData) + _graph_data(
            graph, action, UT.graphData
        )
        fields["entailment"] = _one(graph, action, SD.entailmentRegime) is not None
        fields["service_data"] = _one(graph, action, QT.serviceData) is not None
    if isinstance(result, URIRef):
        fields["result"] = _path(result)
    elif result is not None:
        fields["result_data"] = tuple(sorted(_path(d) for d in graph.objects(result, UT.data)))
        fields["result_graph_data"] = _graph_data(graph, result, UT.graphData)
    return W3CTest(**fields)


def _exchanges(graph: Graph, connection: Any) -> tuple[Exchange, ...]:
    requests = _one(graph, connection, HT.requests)
    if requests is None:
        return ()
    return tuple(_exchange(graph, r) for r in Collection(graph, requests))


def _headers(graph: Graph, node: Any) -> tuple[tuple[str, str], ...]:
    headers = _one(graph, node, HT.headers)
    if headers is None:
        return ()
    return tuple(
        (str(_one(graph, h, HT.fieldName)).lower(), str(_one(graph, h, HT.fieldValue)))
        for h in Collection(graph, headers)
    )


def _body(graph: Graph, node: Any) -> str | None:
    body = _one(graph, node, HT.body)
    return None if body is None else str(_one(graph, body, CNT.chars))


def _exchange(graph: Graph, request: Any) -> Exchange:
    response = _one(graph, request, HT.resp)
    statuses: set[int] = set()
    classes: set[int] = set()
    for status in graph.objects(response, MF.expectedStatus):
        name = _local(status)
        if match := re.fullmatch(r"StatusCode(\d)xx", name):
            classes.add(int(match.group(1)))
        else:
            statuses.add(STATUS_NAMES[name])
    boolean = _one(graph, response, MF.expectedBoolean)
    fmt = _one(graph, response, MF.expectedFormat)
    location = _one(graph, response, MF.expectedLocation)
    response_headers = dict(_headers(graph, response))
    return Exchange(
        method=str(_one(graph, request, HT.methodName)),
        path=str(_one(graph, request, HT.absolutePath)),
        headers=_headers(graph, request),
        body=_body(graph, request),
        statuses=frozenset(statuses),
        status_classes=frozenset(classes),
        expected_format=None if fmt is None else str(fmt),
        expected_boolean=None if boolean is None else bool(boolean.toPython()),
        expected_content_type=response_headers.get("content-type"),
        expected_body=_body(graph, response),
        location_variable=None if location is None else str(location),
    )


def substitute(text: str, variables: dict[str, str], *, in_url: bool) -> str:
    """Replace template variables such as ``$LOCATION$`` (percent-encoded inside a URL)."""
    for name, value in variables.items():
        text = text.replace(name, quote(value, safe="") if in_url else value)
    return text


# --------------------------------------------------------------------------- results

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Row = dict[str, Term]


@dataclass(frozen=True)
class Solutions:
    """A SELECT result: variables in order and rows in the order received."""

    variables: tuple[str, ...]
    rows: tuple[Row, ...] = field(default_factory=tuple)


QueryResult = Solutions | bool | list[ox.Quad]


def media_type(content_type: str | None) -> str:
    """``"text/turtle; charset=utf-8"`` → ``"text/turtle"``."""
    return (content_type or "").split(";")[0].strip().lower()


def parse_result(body: bytes, content_type: str) -> QueryResult:
    """Parse a query response by its media type: SPARQL results or an RDF graph."""
    kind = media_type(content_type)
    results_format = ox.QueryResultsFormat.from_media_type(kind)
    if results_format is not None:
        return _from_query_results(ox.parse_query_results(body, results_format))
    rdf_format = ox.RdfFormat.from_media_type(kind)
    if rdf_format is None:
        raise ValueError(f"response has a media type the runner cannot read: {content_type!r}")
    return [_in_default(q) for q in ox.parse(body, rdf_format)]


def _from_query_results(parsed: Any) -> QueryResult:
    if isinstance(parsed, ox.QueryBoolean):
        return bool(parsed)
    variables = tuple(v.value for v in parsed.variables)
    rows = tuple({v: s[v] for v in variables if s[v] is not None} for s in parsed)
    return Solutions(variables, rows)


def _in_default(quad: ox.Quad) -> ox.Quad:
    return ox.Quad(quad.subject, quad.predicate, quad.object, ox.DefaultGraph())


def load_expected(path: Path) -> QueryResult:
    """An expected result file: .srx/.srj/.tsv results or an RDF graph (CONSTRUCT/DESCRIBE)."""
    results = RESULT_MEDIA_TYPES.get(path.suffix)
    if results is not None and path.suffix != ".csv":
        return parse_result(path.read_bytes(), results)
    quads = list(_read_rdf(path, ox.DefaultGraph()))
    return _result_set(quads) or quads


_RS_NS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"


def _result_set(quads: list[ox.Quad]) -> Solutions | bool | None:
    """Solutions or a boolean written in the DAWG result-set vocabulary (``rs:ResultSet``)."""

    def objects(subject: object, local: str) -> list[Any]:
        predicate = ox.NamedNode(_RS_NS + local)
        return [q.object for q in quads if q.subject == subject and q.predicate == predicate]

    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    result_set = ox.NamedNode(_RS_NS + "ResultSet")
    top = next(
        (q.subject for q in quads if q.predicate == rdf_type and q.object == result_set), None
    )
    if top is None:
        return None
    for value in objects(top, "boolean"):
        return bool(value.value == "true")
    variables = tuple(sorted(v.value for v in objects(top, "resultVariable")))
    rows = []
    for solution in objects(top, "solution"):
        row = {}
        for binding in objects(solution, "binding"):
            row[objects(binding, "variable")[0].value] = objects(binding, "value")[0]
        rows.append(row)
    return Solutions(variables, tuple(rows))


def load_dataset(default: Iterable[Path], named: Iterable[tuple[str, Path]]) -> list[ox.Quad]:
    """The dataset an update test expects: files into the default graph and named graphs."""
    quads: list[ox.Quad] = []
    for path in default:
        quads.extend(_read_rdf(path, ox.DefaultGraph()))
    for name, path in named:
        quads.extend(_read_rdf(path, ox.NamedNode(name)))
    return quads


def _read_rdf(path: Path, graph: ox.NamedNode | ox.DefaultGraph) -> Iterator[ox.Quad]:
    fmt = ox.RdfFormat.from_media_type(RDF_MEDIA_TYPES[path.suffix])
    for q in ox.parse(path=path, format=fmt, base_iri=file_iri(path)):
        yield ox.Quad(q.subject, q.predicate, q.object, graph)


# --------------------------------------------------------------------------- comparison

_RS = "urn:x-w3c-runner:"


def _canonical(quads: Iterable[ox.Quad]) -> set[ox.Quad]:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def compare_datasets(expected: Iterable[ox.Quad], actual: Iterable[ox.Quad]) -> str | None:
    """None if isomorphic, else a readable diff (canonical blank node labels)."""
    want, got = _canonical(expected), _canonical(actual)
    if want == got:
        return None
    return _diff(want, got)


def _diff(want: set[ox.Quad], got: set[ox.Quad]) -> str:
    missing = sorted(str(q) for q in want - got)
    extra = sorted(str(q) for q in got - want)
    lines = [f"missing {len(missing)}:"] + missing[:20] + [f"unexpected {len(extra)}:"] + extra[:20]
    return "\n".join(lines)


def _solutions_graph(result: Solutions, order_keys: Sequence[str] | None) -> list[ox.Quad]:
    """Solutions as a graph, so that one blank node bijection covers every solution.

    Each solution is a fresh blank node (duplicates stay distinct: a multiset). With
    ``order_keys``, each position also gets a node with its index and the sort-key values.
    """
    top = ox.NamedNode(_RS + "result")
    g = ox.DefaultGraph()
    quads = [ox.Quad(top, ox.NamedNode(_RS + "var"), ox.Literal(v), g) for v in result.variables]
    for index, row in enumerate(result.rows):
        node = ox.BlankNode()
        quads.append(ox.Quad(top, ox.NamedNode(_RS + "solution"), node, g))
        for var, value in row.items():
            quads.append(ox.Quad(node, ox.NamedNode(_RS + "v/" + var), value, g))
        if order_keys:
            position = ox.BlankNode()
            quads.append(ox.Quad(top, ox.NamedNode(_RS + "position"), position, g))
            quads.append(ox.Quad(position, ox.NamedNode(_RS + "index"), ox.Literal(index), g))
            for var in order_keys:
                if var in row:
                    quads.append(ox.Quad(position, ox.NamedNode(_RS + "k/" + var), row[var], g))
    return quads


def compare_results(
    expected: QueryResult, actual: QueryResult, order_keys: Sequence[str] | None = None
) -> str | None:
    """None if ``actual`` answers like ``expected``, else why not."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        if expected is actual:
            return None
        return f"expected boolean {expected}, got {_kind(actual)} {actual!r}"
    if isinstance(expected, Solutions) and isinstance(actual, Solutions):
        if set(expected.variables) != set(actual.variables):
            return f"variables differ: expected {expected.variables}, got {actual.variables}"
        keys = [k for k in order_keys or () if k in expected.variables]
        if compare_datasets(_solutions_graph(expected, keys), _solutions_graph(actual, keys)):
            return _solutions_diff(expected, actual, keys)
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        return compare_datasets(expected, actual)
    return f"expected {_kind(expected)}, got {_kind(actual)}"


def _render(row: Row) -> str:
    """One solution as text, blank nodes as ``_:*`` (their labels carry no meaning)."""
    cells = []
    for var in sorted(row):
        value = row[var]
        cells.append(f"?{var}=" + ("_:*" if isinstance(value, ox.BlankNode) else str(value)))
    return "{" + " ".join(cells) + "}"


def _solutions_diff(expected: Solutions, actual: Solutions, keys: Sequence[str]) -> str:
    """Rows missing and unexpected (as multisets), or what else differs."""
    want = Counter(_render(r) for r in expected.rows)
    got = Counter(_render(r) for r in actual.rows)
    missing, extra = want - got, got - want
    if not missing and not extra:
        if keys:
            order = [" ".join(str(r.get(k, "")) for k in keys) for r in actual.rows]
            return f"same solutions, wrong order on ORDER BY {keys}: got {order[:10]}"
        return "same solutions up to blank nodes, but blank nodes are shared differently"
    lines = [f"{len(expected.rows)} solutions expected, {len(actual.rows)} received"]
    lines += [f"missing    {row} x{n}" for row, n in sorted(missing.items())[:20]]
    lines += [f"unexpected {row} x{n}" for row, n in sorted(extra.items())[:20]]
    return "\n".join(lines)


def _kind(result: QueryResult) -> str:
    if isinstance(result, bool):
        return "a boolean"
    return "solutions" if isinstance(result, Solutions) else "a graph"


# --------------------------------------------------------------------------- CSV results


def csv_rows(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a SPARQL CSV result (RFC 4180, CRLF line ends)."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def compare_csv(expected: str, actual: str, order_keys: Sequence[str] | None = None) -> str | None:
    """CSV is lossy (no types, no IRI markers), so compare cell strings as a multiset of rows.

    Blank nodes come out as ``_:label``; labels are mapped to canonical ones through the same
    canonicalization as other results, by turning cells back into terms of a solutions graph.
    """
    want_head, want_rows = csv_rows(expected)
    got_head, got_rows = csv_rows(actual)
    if sorted(want_head) != sorted(got_head):  # SELECT * leaves the column order open
        return f"header differs: expected {want_head}, got {got_head}"

    def as_solutions(head: list[str], rows: list[list[str]]) -> Solutions:
        converted: list[Row] = []
        for row in rows:
            converted.append(
                {
                    h: ox.BlankNode(c[2:]) if c.startswith("_:") else ox.Literal(c)
                    for h, c in zip(head, row, strict=True)
                    if c != ""
                }
            )
        return Solutions(tuple(head), tuple(converted))

    return compare_results(
        as_solutions(want_head, want_rows), as_solutions(got_head, got_rows), order_keys
    )


# --------------------------------------------------------------------------- query shape


def order_keys(query: str, base_iri: str) -> list[str] | None:
    """Variables of the top-level ``ORDER BY``, or None when the result order is not specified.

    Uses rdflib's SPARQL algebra (an ORDER BY inside a subquery does not order the result).
    Returns None, meaning "compare as a multiset", for queries rdflib cannot parse.
    """
    if not re.search(r"order\s+by", query, re.IGNORECASE):
        return None
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.term import Variable

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            algebra = translateQuery(parseQuery(query), base=base_iri).algebra
    except Exception:  # rdflib lags behind SPARQL 1.1 in places; fall back to a multiset
        return None
    node = algebra.get("p")
    while node is not None and getattr(node, "name", None) in {
        "Project",
        "Distinct",
        "Reduced",
        "Slice",
    }:
        node = node.get("p")
    if node is None or getattr(node, "name", None) != "OrderBy":
        return None
    keys: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, Variable):
            if str(value) not in keys:
                keys.append(str(value))
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list | tuple):
            for item in value:
                collect(item)

    collect(node.get("expr"))
    return keys


def query_form(query: str) -> str | None:
    """SELECT / ASK / CONSTRUCT / DESCRIBE, found after the prologue (for choosing Accept)."""
    text = re.sub(r"<[^>\s]*>", "<>", query)
    text = re.sub(r"#[^\n]*", " ", text)
    match = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", text, re.IGNORECASE)
    return match.group(1).upper() if match else None
