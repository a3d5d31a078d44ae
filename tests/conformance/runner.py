"""Run one W3C test against a ``Target``: set up its data, send it, judge the answer.

``run`` raises ``AssertionError`` with the reason when the target answers wrongly;
``skip_reason`` says beforehand which tests are not run at all, and why (not approved, or needing
something the service does not offer: entailment regimes, remote SERVICE endpoints, direct graph
identification).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pyoxigraph as ox

from tests.conformance.targets import HttpTarget, Response, Target, with_base
from tests.conformance.w3c import (
    RESULT_MEDIA_TYPES,
    Exchange,
    Solutions,
    W3CTest,
    compare_csv,
    compare_datasets,
    compare_results,
    load_dataset,
    load_expected,
    local_path,
    media_type,
    order_keys,
    parse_result,
    query_form,
    substitute,
)

#: Approval statuses whose tests are run. Entries without ``dawgt:approval`` are the ones the
#: Working Group never classified (the Graph Store Protocol tests and later additions in
#: ``aggregates``, ``functions``, ``property-path``...): they are current tests, so they run too.
RUN_APPROVALS = {"Approved", None}

GRAPH_ACCEPT = "application/n-triples"
DUMP_QUERY = "SELECT ?s ?p ?o ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
NAMED_DUMP = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"

#: What ``mf:expectedFormat`` allows, from the protocol manifest's test names.
EXPECTED_FORMATS = {
    "boolean": {"application/sparql-results+xml", "application/sparql-results+json"},
    "tabular": {
        "application/sparql-results+xml",
        "application/sparql-results+json",
        "text/csv",
        "text/tab-separated-values",
    },
    "RDF": {
        "application/rdf+xml",
        "text/turtle",
        "application/n-triples",
        "application/xhtml+xml",
        "text/html",
    },
}


def skip_reason(test: W3CTest, target: Target) -> str | None:
    """Why a test is not run on ``target``, or None."""
    if test.approval not in RUN_APPROVALS:
        return f"not approved (dawgt:{test.approval})"
    if test.entailment:
        return (
            "needs an entailment regime (sd:entailmentRegime); the service does simple entailment"
        )
    if test.suite == "service" or test.service_data:
        return "needs remote SERVICE endpoints; tests use no network and SERVICE hosts are refused"
    if "DirectGraphIdentification" in test.requires and not (
        target.supports_direct_graph_identification
    ):
        return "needs direct graph identification (mf:DirectGraphIdentification), not offered"
    if test.exchanges and not isinstance(target, HttpTarget):
        return "an HTTP protocol test: needs a live server"
    if test.kind == "ServiceDescriptionTest":
        return "described in prose only: run as explicit cases in test_w3c_sparql.py"
    return None


#: Where query tests put their default-graph data on a server whose default graph is the union.
SCRATCH_DEFAULT = "urn:x-w3c-runner:default-graph"
#: Named in ``named-graph-uri`` when a test has no named graphs, so that GRAPH ?g sees none.
NO_NAMED_GRAPH = "urn:x-w3c-runner:no-named-graph"


def _union(target: Target) -> bool:
    return isinstance(target, HttpTarget) and target.endpoints.union_default_graph


def run(test: W3CTest, target: Target) -> None:
    """Run ``test`` on ``target``; AssertionError says what was wrong.

    On a server whose default graph is the union of all graphs (sinlod), a query test's default
    data goes into a scratch named graph and the query names its dataset with the Protocol's
    ``default-graph-uri``/``named-graph-uri``: the test then sees exactly its own graphs, as the
    SPARQL dataset it specifies. Updates work on the stored graphs, so update tests load their
    default data into the stored default graph. On a server whose default graph is the stored one
    (sinlod with ``union_default_graph=false``, Oxigraph's own server), the runner is a plain
    client: data into the default graph and the named graphs the manifest names, the query or
    update sent as it is.
    """
    target.reset()
    kind = test.kind
    scratch = _union(target) and kind in {"QueryEvaluationTest", "CSVResultFormatTest"}
    for path in test.data:
        target.load(path, SCRATCH_DEFAULT if scratch else None)
    for graph, path in test.graph_data:
        target.load(path, graph)
    if kind in {"QueryEvaluationTest", "CSVResultFormatTest"}:
        _evaluate_query(test, target)
    elif kind == "UpdateEvaluationTest":
        _evaluate_update(test, target)
    elif kind in {"PositiveSyntaxTest11", "NegativeSyntaxTest11"}:
        _syntax(test, target.query(_text(test), "application/sparql-results+json"))
    elif kind in {"PositiveUpdateSyntaxTest11", "NegativeUpdateSyntaxTest11"}:
        _syntax(test, target.update(_text(test)))
    elif kind in {"ProtocolTest", "GraphStoreProtocolTest"}:
        assert isinstance(target, HttpTarget)
        run_exchanges(test.exchanges, target)
    else:
        raise AssertionError(f"the runner does not know {kind}")


def _text(test: W3CTest) -> str:
    assert test.query is not None
    return with_base(test.query.read_text(encoding="utf-8"), test.base_iri)


def _syntax(test: W3CTest, response: Response) -> None:
    """Negative: 400 Bad Request, the Protocol's answer to a malformed query or update.

    Positive: anything but 400. Over HTTP a syntax test can only observe whether the text was
    refused as malformed; a valid text may still fail later for reasons that are not syntax (a
    LOAD from an unreachable or refused host, DROP of a graph that does not exist, an unknown
    extension function), which servers report with other statuses.
    """
    if test.kind.startswith("Negative"):
        assert response.status == 400, f"expected 400 for invalid syntax, got {response.status}"
    else:
        assert response.status != 400, f"valid syntax refused: {response.body[:300]!r}"


def _load_dataset_clause(query: str, base_iri: str, target: Target) -> bool:
    """Load suite files named by ``FROM``/``FROM NAMED`` under their IRIs (as public runners do).

    Returns whether the query has a dataset clause.
    """
    matches = list(re.finditer(r"\bFROM\s+(?:NAMED\s+)?<([^>]*)>", query, re.IGNORECASE))
    for match in matches:
        iri = urljoin(base_iri, match.group(1))
        try:
            path = local_path(iri)
        except ValueError:
            continue
        if path.is_file():
            target.load(path, iri)
    return bool(matches)


def _accept(test: W3CTest, text: str) -> str:
    assert test.result is not None
    if test.kind == "CSVResultFormatTest":
        return "text/csv"
    if query_form(text) in {"CONSTRUCT", "DESCRIBE"}:
        return GRAPH_ACCEPT
    return RESULT_MEDIA_TYPES.get(test.result.suffix, "application/sparql-results+json")


def _evaluate_query(test: W3CTest, target: Target) -> None:
    raw = test.query.read_text(encoding="utf-8") if test.query else ""
    has_dataset = _load_dataset_clause(raw, test.base_iri, target)
    dataset = None
    if _union(target) and not has_dataset:  # FROM / FROM NAMED give the dataset themselves
        named = [g for g, _ in test.graph_data] or [NO_NAMED_GRAPH]
        dataset = ([SCRATCH_DEFAULT], named)
    response = target.query(with_base(raw, test.base_iri), _accept(test, raw), dataset)
    assert response.status == 200, f"query failed: {response.status} {response.body[:500]!r}"
    assert test.result is not None
    if test.kind == "CSVResultFormatTest":
        assert media_type(response.content_type) == "text/csv", response.content_type
        problem = compare_csv(
            test.result.read_text(encoding="utf-8"),
            response.body.decode("utf-8"),
            order_keys(raw, test.base_iri),
        )
    else:
        actual = parse_result(response.body, response.content_type)
        expected = load_expected(test.result)
        problem = compare_results(expected, actual, order_keys(raw, test.base_iri))
    assert problem is None, problem


def dump(target: Target) -> list[ox.Quad]:
    """Everything in the store, read back over the protocols (sinlod keeps no graphs of its own
    there: its release log is beside the data).

    Named graphs come from a SPARQL query. The default graph too, unless the server's queries see
    the union of all graphs there: then the stored default graph is read with the Graph Store
    Protocol (``GET ?default``), so that it is compared exactly, not as the union.
    """
    union = isinstance(target, HttpTarget) and target.endpoints.union_default_graph
    response = target.query(NAMED_DUMP if union else DUMP_QUERY, "application/sparql-results+json")
    assert response.status == 200, f"cannot read the store back: {response.status}"
    result = parse_result(response.body, response.content_type)
    assert isinstance(result, Solutions)
    quads = [
        ox.Quad(row["s"], row["p"], row["o"], row.get("g", ox.DefaultGraph()))  # type: ignore[arg-type]
        for row in result.rows
    ]
    if union:
        assert isinstance(target, HttpTarget)
        default = target.request(
            "GET", target.endpoints.graph_store + "?default", {"accept": GRAPH_ACCEPT}, None
        )
        assert default.status == 200, f"cannot read the default graph: {default.status}"
        quads += [
            ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
            for t in ox.parse(default.body, ox.RdfFormat.N_TRIPLES)
        ]
    return quads


def _evaluate_update(test: W3CTest, target: Target) -> None:
    """Run the update, read the store back, compare with the expected dataset by isomorphism."""
    response = target.update(_text(test))
    assert response.status < 300, f"update failed: {response.status} {response.body[:500]!r}"
    expected = load_dataset(test.result_data, test.result_graph_data)
    problem = compare_datasets(expected, dump(target))
    assert problem is None, problem


# --------------------------------------------------------------------------- HTTP exchanges


def map_path(path: str, target: HttpTarget, exchange: Exchange) -> str:
    """Put a manifest path (``/sparql/...``, ``/gsp...``) onto the target's endpoints."""
    endpoints = target.endpoints
    if path.startswith("/gsp"):
        return endpoints.graph_store + path[len("/gsp") :]
    rest = path[len("/sparql/") :] if path.startswith("/sparql/") else path.lstrip("/")
    query_string = rest[1:] if rest.startswith("?") else rest
    content_type = dict(exchange.headers).get("content-type", "")
    body = exchange.body or ""
    is_update = (
        "sparql-update" in content_type
        or re.search(r"(^|&)update=", query_string) is not None
        or ("form-urlencoded" in content_type and re.search(r"(^|&)update=", body) is not None)
    )
    endpoint = endpoints.update if is_update else endpoints.query
    return endpoint + ("?" + query_string if query_string else "")


def run_exchanges(exchanges: tuple[Exchange, ...], target: HttpTarget) -> None:
    """Send each request in order and check its response against the manifest."""
    variables: dict[str, str] = {}
    for number, exchange in enumerate(exchanges, start=1):
        url = substitute(map_path(exchange.path, target, exchange), variables, in_url=True)
        body = exchange.body
        if body is not None:
            body = substitute(body, variables, in_url=False)
        response = target.request(
            exchange.method,
            url,
            dict(exchange.headers),
            body.encode("utf-8") if body is not None else None,
        )
        where = f"request {number} ({exchange.method} {url})"
        allowed = [str(c) for c in sorted(exchange.statuses)]
        allowed += [f"{c}xx" for c in sorted(exchange.status_classes)]
        assert exchange.status_ok(response.status), (
            f"{where}: status {response.status}, expected {' or '.join(allowed)}: "
            f"{response.body[:300]!r}"
        )
        _check_response(exchange, response, where)
        if exchange.location_variable:
            location = response.headers.get("location")
            assert location, f"{where}: no Location header"
            variables[exchange.location_variable] = urljoin(target.base_url + url, location)


def _check_response(exchange: Exchange, response: Response, where: str) -> None:
    kind = media_type(response.content_type)
    if exchange.expected_format is not None:
        allowed = EXPECTED_FORMATS[exchange.expected_format]
        assert kind in allowed, f"{where}: content type {kind!r} is not one of {sorted(allowed)}"
    if exchange.expected_boolean is not None:
        result = parse_result(response.body, response.content_type)
        assert result is exchange.expected_boolean, f"{where}: expected {exchange.expected_boolean}"
    if exchange.expected_content_type is not None:
        want = media_type(exchange.expected_content_type)
        assert kind == want, f"{where}: content type {kind!r}, expected {want!r}"
    if exchange.expected_body is not None and exchange.method != "HEAD":
        fmt = ox.RdfFormat.from_media_type(kind)
        assert fmt is not None, f"{where}: cannot read a {kind!r} body"
        expected = ox.parse(exchange.expected_body.encode("utf-8"), ox.RdfFormat.TURTLE)
        actual = ox.parse(response.body, fmt)
        problem = compare_datasets(_quads(expected), _quads(actual))
        assert problem is None, f"{where}: body differs\n{problem}"


def _quads(triples: object) -> list[ox.Quad]:
    return [
        ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
        for t in triples  # type: ignore[attr-defined]
    ]
