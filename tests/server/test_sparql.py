"""/sparql over HTTP: the SPARQL 1.1 Query and Update protocols, formats, limits."""

from __future__ import annotations

import dataclasses
import json
import time

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI

from sinlod.server import create_app
from sinlod.server.protocol.query_policy import check_remote
from sinlod.server.protocol.sparql_scan import add_using
from sinlod.store import Store
from tests.server.conftest import AUTH, DATA_GRAPH, ONTOLOGY_GRAPH, client_for

pytestmark = pytest.mark.anyio

PROJECTS = "SELECT ?p WHERE { ?p a <https://w3id.org/sinlod/def/Project> }"
CONSTRUCT = "CONSTRUCT WHERE { ?p a <https://w3id.org/sinlod/def/Project> }"
SIC = "https://w3id.org/sinlod/id/project/sic"
SPARQL_JSON = "application/sparql-results+json"


def bindings(response: httpx.Response) -> list[str]:
    return [b["p"]["value"] for b in response.json()["results"]["bindings"]]


async def test_get_query_answers_sparql_json(client: httpx.AsyncClient) -> None:
    r = await client.get("/sparql", params={"query": PROJECTS})
    assert r.status_code == 200
    assert r.headers["content-type"] == f"{SPARQL_JSON}; charset=utf-8"
    assert "Accept" in r.headers["vary"].split(", ")
    assert bindings(r) == [SIC]


async def test_post_form_and_direct_body_give_the_same_answer(client: httpx.AsyncClient) -> None:
    form = await client.post("/sparql", data={"query": PROJECTS})
    direct = await client.post(
        "/sparql", content=PROJECTS, headers={"Content-Type": "application/sparql-query"}
    )
    assert form.status_code == direct.status_code == 200
    assert bindings(form) == bindings(direct) == [SIC]


@pytest.mark.parametrize(
    ("accept", "media_type", "marker"),
    [
        ("application/sparql-results+xml", "application/sparql-results+xml", b"<sparql"),
        ("text/csv", "text/csv", b"p\r\nhttps://w3id.org/sinlod/id/project/sic"),
        ("text/tab-separated-values", "text/tab-separated-values", b"?p\n<https://w3id"),
        (
            "text/csv;q=0.5, application/sparql-results+xml;q=0.9",
            "application/sparql-results+xml",
            b"<sparql",
        ),
        ("text/*", "text/csv", b"p\r\n"),
        ("*/*", SPARQL_JSON, b'"bindings"'),
        ("application/json", SPARQL_JSON, b'"bindings"'),
    ],
)
async def test_select_formats_by_accept(
    client: httpx.AsyncClient, accept: str, media_type: str, marker: bytes
) -> None:
    r = await client.get("/sparql", params={"query": PROJECTS}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media_type
    assert marker in r.content


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("text/turtle", ox.RdfFormat.TURTLE),
        ("application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/ld+json", ox.RdfFormat.JSON_LD),
        ("application/rdf+xml", ox.RdfFormat.RDF_XML),
        ("application/n-quads", ox.RdfFormat.N_QUADS),
        ("application/trig", ox.RdfFormat.TRIG),
        ("text/turtle;q=0.2, application/rdf+xml;q=0.8", ox.RdfFormat.RDF_XML),
    ],
)
async def test_construct_formats_parse_back_to_the_same_triples(
    client: httpx.AsyncClient, accept: str, fmt: ox.RdfFormat
) -> None:
    r = await client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == fmt.media_type
    quads = list(ox.parse(r.content, fmt))
    assert [str(q.subject) for q in quads] == [f"<{SIC}>"]


async def test_turtle_declares_only_prefixes_it_uses(client: httpx.AsyncClient) -> None:
    r = await client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/turtle"})
    assert "@prefix sinlod: <https://w3id.org/sinlod/def/> ." in r.text
    assert "@prefix foaf:" not in r.text


async def test_format_parameter_overrides_accept(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/sparql", params={"query": PROJECTS, "format": "csv"}, headers={"Accept": SPARQL_JSON}
    )
    assert r.headers["content-type"] == "text/csv; charset=utf-8"


async def test_ask_answers_a_boolean(client: httpx.AsyncClient) -> None:
    r = await client.get("/sparql", params={"query": f"ASK {{ <{SIC}> ?p ?o }}"})
    assert r.json() == {"head": {}, "boolean": True}


async def test_unacceptable_accept_is_406_listing_what_is_available(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/sparql", params={"query": PROJECTS}, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["available"] == [
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    ]


async def test_construct_cannot_be_csv(client: httpx.AsyncClient) -> None:
    r = await client.get("/sparql", params={"query": CONSTRUCT, "format": "csv"})
    assert r.status_code == 406
    assert r.json()["detail"] == (
        "cannot produce an accepted format; available:"
        " turtle, ntriples, jsonld, rdfxml, nquads, trig"
    )


async def test_malformed_query_is_400_with_line_and_column(client: httpx.AsyncClient) -> None:
    r = await client.get("/sparql", params={"query": "SELECT ?s\nWHERE { ?s ?p }"})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "query-error"
    assert body["detail"].startswith("error at 2:16: ")
    assert (body["line"], body["column"]) == (2, 16)


async def test_default_graph_uri_restricts_the_default_graph(client: httpx.AsyncClient) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/sinlod/def/Project> }"
    in_data = await client.get("/sparql", params={"query": query, "default-graph-uri": DATA_GRAPH})
    in_ontology = await client.get(
        "/sparql", params={"query": query, "default-graph-uri": ONTOLOGY_GRAPH}
    )
    count = lambda r: r.json()["results"]["bindings"][0]["n"]["value"]  # noqa: E731
    assert (count(in_data), count(in_ontology)) == ("1", "0")


async def test_named_graph_uri_limits_graph_clauses(client: httpx.AsyncClient) -> None:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    r = await client.post("/sparql", data={"query": query, "named-graph-uri": ONTOLOGY_GRAPH})
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == [ONTOLOGY_GRAPH]


async def test_get_without_query_is_the_service_description(client: httpx.AsyncClient) -> None:
    r = await client.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    graph = ox.Store()
    graph.load(r.content, ox.RdfFormat.TURTLE)
    sd = "http://www.w3.org/ns/sparql-service-description#"
    ask = (
        f"ASK {{ <http://testserver/sparql> a <{sd}Service> ;"
        f" <{sd}supportedLanguage> <{sd}SPARQL11Query> }}"
    )
    assert bool(graph.query(ask))


async def test_service_description_claims_only_what_is_enabled(server_settings) -> None:  # type: ignore[no-untyped-def]
    sd = "http://www.w3.org/ns/sparql-service-description#"
    update = f"ASK {{ ?s <{sd}supportedLanguage> <{sd}SPARQL11Update> }}"
    federated = f"ASK {{ ?s <{sd}feature> <{sd}BasicFederatedQuery> }}"
    for token, hosts, expected in ((None, (), (False, False)), ("t", ("a.example",), (True, True))):
        settings = dataclasses.replace(server_settings, update_token=token, service_allowlist=hosts)
        async for client in client_for(create_app(settings)):
            r = await client.get("/sparql", headers={"Accept": "application/n-triples"})
            graph = ox.Store()
            graph.load(r.content, ox.RdfFormat.N_TRIPLES)
            assert (bool(graph.query(update)), bool(graph.query(federated))) == expected


async def test_browser_without_query_gets_the_query_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<form action="/sparql" method="get">' in r.text


async def test_update_via_get_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.get("/sparql", params={"update": "CLEAR ALL"})
    assert r.status_code == 400
    assert r.json()["detail"] == "SPARQL Update must be sent with POST (SPARQL 1.1 Protocol §2.2)"


async def test_unknown_content_type_is_415(client: httpx.AsyncClient) -> None:
    r = await client.post("/sparql", content=PROJECTS, headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert r.json()["detail"] == (
        "POST to /sparql needs Content-Type application/sparql-query, application/sparql-update"
        " or application/x-www-form-urlencoded; got text/plain"
    )


# -- update ------------------------------------------------------------------------------------

INSERT = 'INSERT DATA { GRAPH <https://w3id.org/sinlod/graph/x> { <http://e/a> <http://e/p> "1" } }'
ASK_INSERTED = 'ASK { <http://e/a> <http://e/p> "1" }'


async def ask(client: httpx.AsyncClient, query: str) -> bool:
    r = await client.get("/sparql", params={"query": query})
    return bool(r.json()["boolean"])


async def test_update_with_token_changes_the_store(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/sparql",
        content=INSERT,
        headers={"Content-Type": "application/sparql-update", **AUTH},
    )
    assert r.status_code == 204, r.text
    assert await ask(client, ASK_INSERTED)


async def test_update_form_with_token(client: httpx.AsyncClient) -> None:
    r = await client.post("/sparql", data={"update": INSERT}, headers=AUTH)
    assert r.status_code == 204
    assert await ask(client, ASK_INSERTED)


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}]
)
async def test_update_without_the_right_token_is_401(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    r = await client.post("/sparql", data={"update": INSERT}, headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="sinlod"'
    assert not await ask(client, ASK_INSERTED)


async def test_update_on_a_server_without_token_is_403(server_settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(dataclasses.replace(server_settings, update_token=None))
    async for client in client_for(app):
        r = await client.post("/sparql", data={"update": INSERT}, headers=AUTH)
        assert r.status_code == 403
        assert r.json()["detail"] == (
            "writes are disabled on this server (no update_token is configured)"
        )


async def test_malformed_update_is_400_and_changes_nothing(client: httpx.AsyncClient) -> None:
    r = await client.post("/sparql", data={"update": "INSERT DATA { <http://e/a> }"}, headers=AUTH)
    assert r.status_code == 400
    assert r.json()["detail"].startswith("error at 1:")


async def test_using_graph_uri_scopes_the_where_clause(ungated_client: httpx.AsyncClient) -> None:
    client = ungated_client  # the copied types alone would not pass the shapes
    update = "INSERT { GRAPH <https://w3id.org/sinlod/graph/copy> { ?s a ?c } } WHERE { ?s a ?c }"
    r = await client.post(
        "/sparql", data={"update": update, "using-graph-uri": DATA_GRAPH}, headers=AUTH
    )
    assert r.status_code == 204, r.text
    query = (
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/sinlod/graph/copy>"
        " { ?s a <http://www.w3.org/2002/07/owl#Class> } }"
    )
    r = await client.get("/sparql", params={"query": query})
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "0"  # ontology classes not copied


# -- protection of a public endpoint -------------------------------------------------------------


async def test_service_to_an_unlisted_host_is_refused(client: httpx.AsyncClient) -> None:
    query = "SELECT * WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }"
    r = await client.get("/sparql", params={"query": query})
    assert r.status_code == 403
    assert r.json()["code"] == "service-not-allowed"
    assert r.json()["detail"] == (
        "SERVICE to evil.example is not allowed on this endpoint (allowed hosts: none)"
    )


async def test_load_is_refused_even_with_the_token(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/sparql", data={"update": "LOAD <http://evil.example/data.ttl>"}, headers=AUTH
    )
    assert r.status_code == 403
    assert r.json()["detail"] == (
        "LOAD from evil.example is not allowed on this endpoint (allowed hosts: none)"
    )


def test_scan_ignores_keywords_in_strings_comments_and_iris() -> None:
    query = '''PREFIX ex: <http://ex.org/SERVICE#>
    SELECT * WHERE { ?s ex:service "SERVICE <http://evil.example/>" ; ex:p """LOAD
    <http://evil.example/>""" .  # SERVICE <http://evil.example/>
    ?service <http://x/LOAD> 'load' }'''
    check_remote(query, [], None, update=False)  # nothing to refuse


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "PREFIX w: <http://w.example/> SELECT * { SERVICE w:sparql { ?s ?p ?o } }",
            "SERVICE to w.example is not allowed on this endpoint (allowed hosts: ok.example)",
        ),
        (
            "SELECT * { ?x ?y ?e SERVICE ?e { ?s ?p ?o } }",
            "SERVICE ?e is not allowed on this endpoint: only http(s) IRIs to allowed hosts are"
            " (allowed hosts: ok.example)",
        ),
        (
            "select * { service <https://w.example:8443/q> { ?s ?p ?o } }",
            "SERVICE to w.example is not allowed on this endpoint (allowed hosts: ok.example)",
        ),
    ],
)
def test_scan_refuses(query: str, message: str) -> None:
    with pytest.raises(Exception) as info:
        check_remote(query, ["ok.example"], None, update=False)
    assert str(info.value) == message


def test_scan_allows_listed_hosts() -> None:
    query = "SELECT * { SERVICE <https://OK.example/sparql> { ?s ?p ?o } }"
    assert check_remote(query, ["ok.example"], None, update=False) == query


def test_add_using_puts_clauses_before_each_top_level_where() -> None:
    update = (
        "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o FILTER EXISTS { ?s ?q ?r } } ;"
        " DELETE WHERE { ?a ?b ?c } ; INSERT { ?x ?y 'WHERE' } WHERE { ?x ?y ?z }"
    )
    assert add_using(update, ["http://g/1"], ["http://g/2"]) == (
        "DELETE { ?s ?p ?o } USING <http://g/1> USING NAMED <http://g/2> WHERE"
        " { ?s ?p ?o FILTER EXISTS { ?s ?q ?r } } ; DELETE WHERE { ?a ?b ?c } ;"
        " INSERT { ?x ?y 'WHERE' } USING <http://g/1> USING NAMED <http://g/2> WHERE { ?x ?y ?z }"
    )


def test_add_using_refuses_with_in_the_update() -> None:
    with pytest.raises(Exception, match="cannot be combined with USING or WITH"):
        add_using("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", ["http://g/1"], [])


async def test_result_larger_than_max_results_is_refused_not_truncated(
    server_settings,  # type: ignore[no-untyped-def]
) -> None:
    app = create_app(dataclasses.replace(server_settings, max_results=3))
    async for client in client_for(app):
        r = await client.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"})
        assert r.status_code == 400
        assert r.json()["code"] == "result-too-large"
        assert r.json()["detail"] == (
            "the result has more than 3 rows or triples, the most this endpoint returns;"
            " add a LIMIT (and OFFSET to page)"
        )
        ok = await client.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 3"})
        assert ok.status_code == 200
        assert len(ok.json()["results"]["bindings"]) == 3
        graph = await client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
        assert graph.status_code == 400


def big_store() -> Store:
    store = Store.in_memory()
    triples = [
        ox.Triple(ox.NamedNode(f"http://e/{i}"), ox.NamedNode("http://e/p"), ox.Literal(str(i)))
        for i in range(3000)
    ]
    store.replace_graphs({"http://e/g": triples})
    return store


async def test_slow_query_is_stopped_with_503(server_settings) -> None:  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(server_settings, query_timeout=0.5, max_results=10**9)
    app: FastAPI = create_app(settings, store=big_store())
    async for client in client_for(app):
        started = time.monotonic()
        r = await client.get(
            "/sparql", params={"query": "SELECT * { ?a ?p ?o . ?b ?p ?o2 }", "format": "tsv"}
        )
        elapsed = time.monotonic() - started
    assert r.status_code == 503
    assert json.loads(r.content) == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "code": "query-timeout",
        "detail": "the query ran longer than 0.5 s, the limit on this endpoint",
    }
    assert elapsed < 2.0


async def test_request_body_over_the_limit_is_413(server_settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(dataclasses.replace(server_settings, max_request_bytes=100))
    async for client in client_for(app):
        body = "SELECT * WHERE { ?s ?p ?o } # " + "x" * 200
        r = await client.post(
            "/sparql", content=body, headers={"Content-Type": "application/sparql-query"}
        )
        assert r.status_code == 413
        assert r.json()["detail"] == "the request body is larger than 100 bytes, the limit here"

        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(5):
                yield b"x" * 50

        r = await client.post(
            "/sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"}
        )
        assert r.status_code == 413


async def test_cors_allows_reads_but_not_the_token(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/sparql", params={"query": PROJECTS}, headers={"Origin": "https://other.example"}
    )
    assert r.headers["access-control-allow-origin"] == "*"
    preflight = await client.options(
        "/sparql",
        headers={
            "Origin": "https://other.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 400  # Authorization is not an allowed header
    put = await client.options(
        "/graph-store",
        headers={"Origin": "https://other.example", "Access-Control-Request-Method": "PUT"},
    )
    assert put.status_code == 400


async def test_healthz_names_the_release(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    body = r.json()
    assert r.status_code == 200
    assert body["status"] == "ok"
    assert body["release"].startswith("000001-")
    assert body["graphs"] == 2  # data and ontology: the release log is not a graph of the data
    assert body["last_release"]["id"] == body["release"]  # read from the log beside the data


async def test_relative_iris_resolve_against_the_endpoint(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/sparql",
        content="CONSTRUCT { <s> <p> 1 } WHERE {}",
        headers={"Content-Type": "application/sparql-query", "Accept": "application/n-triples"},
    )
    assert r.status_code == 200
    assert r.text.startswith("<http://testserver/s> <http://testserver/p> ")


async def test_two_queries_in_one_request_are_400(client: httpx.AsyncClient) -> None:
    r = await client.get("/sparql?query=ASK%20%7B%7D&query=SELECT%20*%20%7B%7D")
    assert r.status_code == 400
    assert r.json()["detail"] == "give one query= parameter, not 2"


async def test_a_body_that_is_not_utf8_is_415(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/sparql",
        content="ASK {}".encode("utf-16"),
        headers={"Content-Type": "application/sparql-query; charset=UTF-16"},
    )
    assert r.status_code == 415
    assert r.json()["detail"] == "the body must be UTF-8, not charset=UTF-16"


def test_silent_service_to_an_unlisted_host_fails_silently() -> None:
    query = (
        "SELECT * WHERE { ?s ?p ?o . SERVICE SILENT <http://evil.example/q>"
        " { ?s ?x ?y FILTER(?y > 1) { ?y ?z 'w' } } OPTIONAL { ?s ?p2 ?o2 } }"
    )
    expected = "SELECT * WHERE { ?s ?p ?o . {} OPTIONAL { ?s ?p2 ?o2 } }"
    assert check_remote(query, [], None, update=False) == expected


def test_silent_load_becomes_a_no_op() -> None:
    update = "LOAD SILENT <http://evil.example/x.ttl> INTO GRAPH <http://g> ; CLEAR ALL"
    assert check_remote(update, [], None, update=True) == "INSERT DATA {} ; CLEAR ALL"
    load = "LOAD SILENT <http://evil.example/x.ttl>"
    assert check_remote(load, [], None, update=True) == "INSERT DATA {}"


async def test_silent_service_answers_as_if_the_service_failed(client: httpx.AsyncClient) -> None:
    query = (
        "SELECT ?p WHERE { ?p a <https://w3id.org/sinlod/def/Project>"
        " SERVICE SILENT <http://evil.example/q> { ?a ?b ?c } }"
    )
    r = await client.get("/sparql", params={"query": query})
    assert r.status_code == 200
    assert bindings(r) == [SIC]


def test_add_using_refuses_what_is_not_an_iri() -> None:
    """The graph IRIs are pasted into the update, so nothing else may get in with them."""
    with pytest.raises(Exception, match="not an absolute IRI"):
        add_using("DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", ["http://g> } ; DROP ALL ; #"], [])


async def test_evaluation_errors_are_500_and_syntax_errors_400(client: httpx.AsyncClient) -> None:
    """A well-formed query that fails when run is the server's 500, not the client's 400."""
    failing = "SELECT * WHERE { BIND(<http://example.org/no-such-function>(1) AS ?x) }"
    r = await client.get("/sparql", params={"query": failing})
    assert r.status_code == 500
    assert r.json()["code"] == "query-failed"
    assert (
        "The custom function <http://example.org/no-such-function> is not supported"
        in (r.json()["detail"])
    )
    r = await client.get("/sparql", params={"query": "SELEC * WHERE { ?s ?p ?o }"})
    assert r.status_code == 400
    assert r.json()["code"] == "query-error"


async def test_from_names_exactly_the_dataset_of_a_query(client: httpx.AsyncClient) -> None:
    """Without FROM the default graph is the union of all graphs; FROM narrows it to one graph."""
    accept = {"Accept": "application/sparql-results+json"}
    typed = "SELECT (COUNT(*) AS ?n) WHERE { ?a a ?type }"
    r = await client.get("/sparql", params={"query": typed}, headers=accept)
    everywhere = int(r.json()["results"]["bindings"][0]["n"]["value"])
    ontology = typed.replace("WHERE", "FROM <https://w3id.org/sinlod/graph/ontology> WHERE")
    r = await client.get("/sparql", params={"query": ontology}, headers=accept)
    assert 1 <= int(r.json()["results"]["bindings"][0]["n"]["value"]) < everywhere
    elsewhere = typed.replace("WHERE", "FROM <https://w3id.org/sinlod/graph/none> WHERE")
    r = await client.get("/sparql", params={"query": elsewhere}, headers=accept)
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "0"
