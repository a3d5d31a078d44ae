"""The W3C runner itself: it reads every manifest entry and its comparisons catch wrong answers.

A conformance runner that passes everything proves nothing, so these tests feed it answers that
are wrong in the ways the suites care about (blank nodes shared differently, a missing duplicate,
a wrong order, another lexical form) and check each is caught. They run without a server.
"""

from __future__ import annotations

from collections import Counter

import pyoxigraph as ox
import pytest

from tests.conformance.known_failures import KNOWN_FAILURES
from tests.conformance.runner import map_path, run
from tests.conformance.targets import OXIGRAPH, SINLOD, HttpTarget, InProcessTarget, Response
from tests.conformance.w3c import (
    W3C_DIR,
    Solutions,
    compare_csv,
    compare_results,
    load_expected,
    order_keys,
    query_form,
    read_manifests,
)

TESTS = read_manifests()
BY_ID = {t.id: t for t in TESTS}
EX = "http://example.org/"


def iri(name: str) -> ox.NamedNode:
    return ox.NamedNode(EX + name)


def integer(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))


# --------------------------------------------------------------------------- manifests


def test_every_manifest_entry_is_read() -> None:
    kinds = Counter(t.kind for t in TESTS)
    assert len(TESTS) == 625
    assert kinds == {
        "QueryEvaluationTest": 309,
        "UpdateEvaluationTest": 94,
        "PositiveSyntaxTest11": 66,
        "NegativeSyntaxTest11": 48,
        "PositiveUpdateSyntaxTest11": 42,
        "NegativeUpdateSyntaxTest11": 13,
        "ProtocolTest": 34,
        "GraphStoreProtocolTest": 13,
        "CSVResultFormatTest": 3,
        "ServiceDescriptionTest": 3,
    }
    assert len({t.id for t in TESTS}) == len(TESTS), "pytest ids must be unique"


def test_approval_counts() -> None:
    """546 approved; 56 never classified (run too); 23 only proposed (not run)."""
    assert Counter(t.approval for t in TESTS) == {"Approved": 546, None: 56, "Proposed": 23}


def test_every_known_failure_names_a_test() -> None:
    iris = {t.iri for t in TESTS}
    assert sorted(set(KNOWN_FAILURES) - iris) == []
    assert all("native:" in reason for reason in KNOWN_FAILURES.values())


def test_update_test_names_graphs_by_label() -> None:
    test = BY_ID["add/add03"]
    assert test.query == W3C_DIR / "add" / "add-03.ru"
    assert [g for g, _ in test.graph_data] == ["http://example.org/g1", "http://example.org/g2"]
    assert test.result_data == (W3C_DIR / "add" / "add-default.ttl",)
    assert test.result_graph_data[1] == (
        "http://example.org/g2",
        W3C_DIR / "add" / "add-02-post.ttl",
    )


def test_protocol_exchange_is_read() -> None:
    (exchange,) = BY_ID["protocol/query_post_form"].exchanges
    assert exchange.method == "POST"
    assert exchange.body == "query=ASK%20%7B%7D"
    assert dict(exchange.headers) == {"content-type": "application/x-www-form-urlencoded"}
    assert exchange.status_classes == {2, 3} and exchange.expected_boolean is True
    assert exchange.status_ok(200) and exchange.status_ok(303) and not exchange.status_ok(400)


def test_graph_store_exchange_with_location() -> None:
    exchanges = BY_ID["graph-store-protocol/post_get_new_graph"].exchanges
    assert exchanges[0].statuses == {201} and exchanges[0].location_variable == "$LOCATION$"
    assert exchanges[1].path == "/gsp?graph=$LOCATION$"
    assert exchanges[1].expected_content_type == "text/turtle; charset=utf-8"


def test_paths_map_onto_each_servers_endpoints() -> None:
    update = BY_ID["protocol/update_post_form"].exchanges[0]
    query = BY_ID["protocol/query_get"].exchanges[0]
    oxigraph = HttpTarget("http://127.0.0.1:1", OXIGRAPH)
    sinlod = HttpTarget("http://127.0.0.1:1", SINLOD)
    try:
        assert map_path(update.path, oxigraph, update) == "/update"
        assert map_path(query.path, oxigraph, query).startswith("/query?query=ASK")
        assert map_path(update.path, sinlod, update) == "/sparql"
        assert map_path("/gsp?default", sinlod, update) == "/graph-store?default"
    finally:
        oxigraph.close()
        sinlod.close()


def test_result_set_vocabulary_is_read_as_solutions() -> None:
    expected = load_expected(W3C_DIR / "bindings" / "graph.ttl")
    assert isinstance(expected, Solutions)
    assert expected.variables == ("g", "t") and len(expected.rows) == 3


# --------------------------------------------------------------------------- comparison


def test_blank_nodes_match_through_one_bijection() -> None:
    two = Solutions(("x",), ({"x": ox.BlankNode("a")}, {"x": ox.BlankNode("b")}))
    renamed = Solutions(("x",), ({"x": ox.BlankNode("c")}, {"x": ox.BlankNode("d")}))
    shared = Solutions(("x",), ({"x": ox.BlankNode("c")}, {"x": ox.BlankNode("c")}))
    assert compare_results(two, renamed) is None
    assert compare_results(two, shared) == (
        "same solutions up to blank nodes, but blank nodes are shared differently"
    )


def test_solutions_are_a_multiset() -> None:
    once = Solutions(("x",), ({"x": iri("a")},))
    twice = Solutions(("x",), ({"x": iri("a")}, {"x": iri("a")}))
    assert compare_results(twice, once) == (
        "2 solutions expected, 1 received\nmissing    {?x=<http://example.org/a>} x1"
    )


def test_terms_compare_as_rdf_terms_not_values() -> None:
    one = Solutions(("n",), ({"n": integer("1")},))
    padded = Solutions(("n",), ({"n": integer("01")},))
    assert compare_results(one, padded) is not None


def test_order_matters_only_on_the_sort_keys() -> None:
    rows = [("1", "a"), ("1", "b"), ("2", "c")]

    def solutions(order: list[tuple[str, str]]) -> Solutions:
        return Solutions(("k", "v"), tuple({"k": integer(k), "v": iri(v)} for k, v in order))

    expected = solutions(rows)
    tie_swapped = solutions([rows[1], rows[0], rows[2]])
    reversed_ = solutions(rows[::-1])
    assert compare_results(expected, tie_swapped, ["k"]) is None
    assert compare_results(expected, reversed_, None) is None
    assert compare_results(expected, reversed_, ["k"]).startswith(  # type: ignore[union-attr]
        "same solutions, wrong order on ORDER BY ['k']"
    )


def test_boolean_and_graph_results_are_not_confused() -> None:
    assert compare_results(True, True) is None
    assert compare_results(True, False) == "expected boolean True, got a boolean False"
    assert compare_results([], Solutions(())) == "expected a graph, got solutions"


def test_csv_columns_may_come_in_any_order_but_cells_must_match() -> None:
    expected = "s,o\r\nhttp://example.org/s,1.0E6\r\n"
    assert compare_csv(expected, "o,s\r\n1.0E6,http://example.org/s\r\n") is None
    assert compare_csv(expected, "s,o\r\nhttp://example.org/s,1000000\r\n") is not None


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("SELECT ?x ?y { ?x ?p ?y } ORDER BY DESC(?y) ?x", ["y", "x"]),
        ("SELECT * { { SELECT ?x { ?x ?p ?o } ORDER BY ?x LIMIT 2 } }", None),
        ("SELECT ?x { ?x ?p ?o }", None),
    ],
)
def test_order_keys_come_from_the_top_level_order_by(query: str, keys: list[str] | None) -> None:
    assert order_keys(query, "http://example.org/") == keys


def test_query_form_ignores_iris_and_comments() -> None:
    assert query_form("PREFIX a: <http://x/SELECT#> # ASK\nCONSTRUCT WHERE { ?s ?p ?o }") == (
        "CONSTRUCT"
    )


# --------------------------------------------------------------------------- runner, in process


@pytest.mark.parametrize("suite", ["add", "bind", "construct", "delete-insert", "json-res"])
def test_in_process_suites_pass(suite: str) -> None:
    """The runner and pyoxigraph agree on whole suites: the runner's setup is right."""
    target = InProcessTarget()
    for test in (t for t in TESTS if t.suite == suite and t.approval == "Approved"):
        run(test, target)


class ForgetfulTarget(InProcessTarget):
    """Accepts every update and does nothing: a broken server the runner must catch."""

    def update(self, text: str) -> Response:
        return Response(204, "", b"", {})


def test_runner_catches_an_update_that_did_nothing() -> None:
    with pytest.raises(AssertionError, match="missing 3:"):
        run(BY_ID["add/add01"], ForgetfulTarget())
