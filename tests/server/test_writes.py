"""The SHACL gate on HTTP writes: refused with 422 and the report, nothing written; accepted
writes recorded in the release log with the token's name."""

from __future__ import annotations

import dataclasses

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI

from sinlod.config import Settings
from sinlod.errors import InputError
from sinlod.server import create_app
from sinlod.server.protocol.writes import update_scope
from tests.server.conftest import AUTH, client_for

pytestmark = pytest.mark.anyio

PLACES = "https://w3id.org/sinlod/graph/places"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
PREFIXES = """
PREFIX sinlod: <https://w3id.org/sinlod/def/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX doc: <https://w3id.org/sinlod/id/document/>
PREFIX place: <https://w3id.org/sinlod/id/place/>
"""
VALID = """
doc:notes a sinlod:Document ; skos:prefLabel "Field notes"@en .
place:ghent a sinlod:Place ; skos:prefLabel "Ghent"@en ; dct:source doc:notes .
"""
#: A place without a label or a source: two violations.
INVALID = "place:nowhere a sinlod:Place ."
ASK_NOWHERE = "ASK { <https://w3id.org/sinlod/id/place/nowhere> ?p ?o }"


def insert(data: str, graph: str = PLACES) -> dict[str, str]:
    return {"update": f"{PREFIXES} INSERT DATA {{ GRAPH <{graph}> {{ {data} }} }}"}


async def ask(client: httpx.AsyncClient, query: str) -> bool:
    r = await client.get("/sparql", params={"query": query})
    return bool(r.json()["boolean"])


async def releases(client: httpx.AsyncClient) -> list[str]:
    """The releases in the log, as ``/releases`` serves it in RDF (SPARQL does not reach it)."""
    r = await client.get("/releases", params={"format": "ntriples"})
    assert r.status_code == 200, r.text
    activity = "<http://www.w3.org/ns/prov#Activity>"
    return sorted(line for line in r.text.splitlines() if line.endswith(f"{activity} ."))


def last_release(app: FastAPI) -> dict[str, object]:
    release = app.state.store.releases()[-1].to_json()
    assert isinstance(release, dict)
    return release


async def test_valid_update_is_accepted_and_recorded(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    r = await client.post("/sparql", data=insert(VALID), headers=AUTH)
    assert r.status_code == 204, r.text
    assert await ask(client, "ASK { <https://w3id.org/sinlod/id/place/ghent> ?p ?o }")
    release = last_release(app)
    assert release["agent"] == "default"
    assert release["comment"] == (f"SPARQL Update (POST /sparql): +5 -0 triples in <{PLACES}>")
    assert release["changed"] == [PLACES]
    assert release["conforms"] is True
    assert release["graphs"][PLACES] == 5  # type: ignore[index]


async def test_invalid_update_is_refused_with_the_report_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    before = await releases(client)
    r = await client.post("/sparql", data=insert(VALID + INVALID), headers=AUTH)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "shacl-violation"
    assert body["detail"] == (
        "the write was refused: its result violates the shapes (2 violation(s));"
        " nothing was written"
    )
    assert body["report"]["conforms"] is False
    messages = sorted(
        f["message"] for f in body["report"]["findings"] if f["severity"] == "Violation"
    )
    assert messages == [
        "Every record must have a preferred label (skos:prefLabel)",
        "Every record must name at least one source document (dct:source)",
    ]
    assert {f["focus"] for f in body["report"]["findings"]} == {
        "https://w3id.org/sinlod/id/place/nowhere"
    }
    assert not await ask(client, ASK_NOWHERE)
    assert not await ask(client, "ASK { <https://w3id.org/sinlod/id/place/ghent> ?p ?o }")
    assert await releases(client) == before  # not even a release was recorded


async def test_refusal_report_as_turtle(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/sparql", data=insert(INVALID), headers={**AUTH, "Accept": "text/turtle"}
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "text/turtle; charset=utf-8"
    report = {q.triple for q in ox.parse(r.content, ox.RdfFormat.TURTLE)}
    sh = "http://www.w3.org/ns/shacl#"
    conforms = [t.object for t in report if t.predicate == ox.NamedNode(sh + "conforms")]
    assert conforms == [ox.Literal("false", datatype=ox.NamedNode(XSD_BOOLEAN))]
    results = [t for t in report if t.predicate == ox.NamedNode(sh + "result")]
    assert len(results) == 2


async def test_deleting_what_the_shapes_require_is_refused(client: httpx.AsyncClient) -> None:
    """The gate validates the result, not only what was added: removing a label breaks it."""
    assert (await client.post("/sparql", data=insert(VALID), headers=AUTH)).status_code == 204
    delete = (
        f'{PREFIXES} DELETE DATA {{ GRAPH <{PLACES}> {{ place:ghent skos:prefLabel "Ghent"@en }} }}'
    )
    r = await client.post("/sparql", data={"update": delete}, headers=AUTH)
    assert r.status_code == 422
    assert await ask(client, 'ASK { <https://w3id.org/sinlod/id/place/ghent> ?p "Ghent"@en }')


async def test_a_link_to_a_resource_in_another_graph_is_checked_against_the_store(
    client: httpx.AsyncClient,
) -> None:
    """The rest of the store is the context: the document lives in another graph."""
    docs = "https://w3id.org/sinlod/graph/documents"
    doc = 'doc:notes a sinlod:Document ; skos:prefLabel "Field notes"@en .'
    assert (await client.post("/sparql", data=insert(doc, docs), headers=AUTH)).status_code == 204
    place = 'place:ghent a sinlod:Place ; skos:prefLabel "Ghent"@en ; dct:source doc:notes .'
    r = await client.post("/sparql", data=insert(place), headers=AUTH)
    assert r.status_code == 204, r.text
    # A source that is a place, not a document, is a violation of the link's class.
    bad = 'place:bruges a sinlod:Place ; skos:prefLabel "Bruges"@en ; dct:source place:ghent .'
    r = await client.post(
        "/sparql", data=insert(bad, "https://w3id.org/sinlod/graph/b"), headers=AUTH
    )
    assert r.status_code == 422
    assert [f["focus"] for f in r.json()["report"]["findings"]] == [
        "https://w3id.org/sinlod/id/place/bruges"
    ]


async def test_named_tokens_are_recorded_by_name(server_settings: Settings) -> None:
    settings = dataclasses.replace(
        server_settings, update_tokens=("alice:tok-alice", "bob:tok-bob")
    )
    app = create_app(settings)
    async for client in client_for(app):
        r = await client.post(
            "/sparql", data=insert(VALID), headers={"Authorization": "Bearer tok-bob"}
        )
        assert r.status_code == 204, r.text
        assert last_release(app)["agent"] == "bob"
        r = await client.post(
            "/sparql", data=insert(VALID), headers={"Authorization": "Bearer tok-eve"}
        )
        assert r.status_code == 401


def test_a_token_entry_without_a_name_stops_the_server(server_settings: Settings) -> None:
    settings = dataclasses.replace(server_settings, update_tokens=("just-a-token",))
    with pytest.raises(InputError) as caught:
        create_app(settings)
    assert str(caught.value) == "setting 'update_tokens': each entry must be name:token"


def test_update_tokens_setting_is_read_from_the_environment() -> None:
    settings = Settings.load(env={"SINLOD_UPDATE_TOKENS": "alice:a1, bob:b2"})
    assert settings.update_tokens == ("alice:a1", "bob:b2")


# -- Graph Store Protocol ------------------------------------------------------------------------


async def test_graph_store_put_passes_the_gate(app: FastAPI, client: httpx.AsyncClient) -> None:
    turtle = f"{PREFIXES.replace('PREFIX', '@prefix').replace('>', '> .')}{VALID}"
    headers = {**AUTH, "Content-Type": "text/turtle"}
    r = await client.put("/graph-store", params={"graph": PLACES}, content=turtle, headers=headers)
    assert r.status_code == 201, r.text
    release = last_release(app)
    assert release["agent"] == "default"
    assert release["comment"] == f"PUT /graph-store?graph=<{PLACES}>: +5 -0 triples in <{PLACES}>"
    bad = turtle + "place:nowhere a sinlod:Place ."
    r = await client.put("/graph-store", params={"graph": PLACES}, content=bad, headers=headers)
    assert r.status_code == 422
    assert not await ask(client, ASK_NOWHERE)


async def test_graph_store_post_validates_the_merged_graph(client: httpx.AsyncClient) -> None:
    turtle = f"{PREFIXES.replace('PREFIX', '@prefix').replace('>', '> .')}"
    headers = {**AUTH, "Content-Type": "text/turtle"}
    r = await client.put(
        "/graph-store", params={"graph": PLACES}, content=turtle + VALID, headers=headers
    )
    assert r.status_code == 201
    # Alone this would be invalid (no label); merged with the existing graph it is fine.
    more = turtle + 'place:ghent dct:source doc:notes . place:ghent skos:altLabel "Gent"@nl .'
    r = await client.post("/graph-store", params={"graph": PLACES}, content=more, headers=headers)
    assert r.status_code == 204, r.text
    r = await client.post(
        "/graph-store", params={"graph": PLACES}, content=turtle + INVALID, headers=headers
    )
    assert r.status_code == 422


# -- without the gate ----------------------------------------------------------------------------


async def test_without_the_gate_writes_go_through_and_are_recorded(
    server_settings: Settings,
) -> None:
    app = create_app(dataclasses.replace(server_settings, shacl_gate=False))
    async for client in client_for(app):
        r = await client.post("/sparql", data=insert(INVALID), headers=AUTH)
        assert r.status_code == 204
        assert await ask(client, ASK_NOWHERE)
        release = last_release(app)
        assert release["agent"] == "default"
        assert release["comment"] == "SPARQL Update (POST /sparql)"
        assert release["conforms"] is None


# -- which graphs an update can touch ------------------------------------------------------------


def test_update_scope_names_graphs_by_iri_and_prefixed_name() -> None:
    scope = update_scope(
        "PREFIX g: <http://g/> DELETE { GRAPH g:a { ?s ?p ?o } } INSERT { GRAPH <http://g/b>"
        " { ?s ?p ?o } } WHERE { GRAPH g:a { ?s ?p ?o } }",
        None,
    )
    assert scope == {"http://g/", "http://g/a", "http://g/b"}


@pytest.mark.parametrize(
    "update",
    [
        "DELETE WHERE { GRAPH ?g { ?s ?p ?o } }",
        "DROP ALL",
        "CLEAR NAMED",
        "BASE <http://b/> INSERT DATA { GRAPH <g> { <s> <p> <o> } }",
    ],
)
def test_update_scope_is_everything_when_graphs_are_not_named(update: str) -> None:
    assert update_scope(update, None) is None


def test_relative_graph_iris_resolve_against_the_endpoint() -> None:
    assert update_scope("CLEAR GRAPH <g>", "http://h/sparql") == {"http://h/g"}


async def test_an_update_over_every_graph_is_computed_on_the_whole_store(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """``GRAPH ?g`` names no graph: the scratch copy must hold all of them, or the data graph's
    triples would be lost (and its pre-existing problems would not be seen)."""
    assert (await client.post("/sparql", data=insert(VALID), headers=AUTH)).status_code == 204
    update = (
        "INSERT { GRAPH ?g { ?s <http://www.w3.org/2004/02/skos/core#altLabel> 'x'@en } }"
        " WHERE { GRAPH ?g { ?s a <https://w3id.org/sinlod/def/Place> } }"
    )
    r = await client.post("/sparql", data={"update": update}, headers=AUTH)
    # The fixture's data graph has places without sources: its new content is refused.
    assert r.status_code == 422
    assert "https://w3id.org/sinlod/id/place/brussels" in {
        f["focus"] for f in r.json()["report"]["findings"]
    }


# -- the release log -----------------------------------------------------------------------------

RELEASES = "https://w3id.org/sinlod/graph/releases"


@pytest.mark.parametrize("gate", [True, False])
async def test_no_data_goes_under_the_release_log_graph_name(
    server_settings: Settings, gate: bool
) -> None:
    """The log is beside the data: no write reaches it, and none may put data under its name
    (a dump would mix that data into the log), with the SHACL gate on or off."""
    app = create_app(dataclasses.replace(server_settings, shacl_gate=gate))
    async for client in client_for(app):
        before = await releases(client)
        assert len(before) == 1
        update = f"INSERT DATA {{ GRAPH <{RELEASES}> {{ <http://e/a> <http://e/p> 1 }} }}"
        r = await client.post("/sparql", data={"update": update}, headers=AUTH)
        assert r.status_code == 403
        assert r.json()["code"] == "release-log-protected"
        assert r.json()["detail"] == (
            f"the graph <{RELEASES}> is the release log's name; sinlod writes the log itself and"
            " a write may not create or change that graph"
        )
        r = await client.put(
            "/graph-store",
            params={"graph": RELEASES},
            content=b'<http://e/a> <http://e/p> "1" .',
            headers={**AUTH, "content-type": "application/n-triples"},
        )
        assert r.status_code == 403 and r.json()["code"] == "release-log-protected", r.text
        r = await client.delete("/graph-store", params={"graph": RELEASES}, headers=AUTH)
        assert r.status_code == 404  # no such graph among the data
        assert await releases(client) == before
        # DELETE over every graph and DROP ALL reach all of the data and none of the log
        for drop in ("DELETE WHERE { GRAPH ?g { ?s ?p ?o } }", "DROP ALL"):
            r = await client.post("/sparql", data={"update": drop}, headers=AUTH)
            assert r.status_code in (204, 422), r.text
        if not gate:
            assert len(await releases(client)) == 3
            assert not await ask(client, "ASK { GRAPH ?g { ?s ?p ?o } }")


_SAME_ERRORS = [
    ("INSERT DATA { <http://e/a> <http://e/p> }", 400, "query-error"),
    ("DROP GRAPH <http://example.org/no-such-graph>", 500, "query-failed"),
    (
        "INSERT { <http://e/a> <http://e/p> ?x } WHERE { BIND(<http://example.org/f>(1) AS ?x) }",
        500,
        "query-failed",
    ),
    (f"INSERT DATA {{ GRAPH <{RELEASES}> {{ <http://e/a> <http://e/p> 1 }} }}", 403, None),
    ("LOAD <http://example.org/data.ttl>", 403, "service-not-allowed"),
]


@pytest.mark.parametrize(("update", "status", "code"), _SAME_ERRORS)
async def test_the_same_failing_update_gets_the_same_answer_with_the_gate_on_or_off(
    server_settings: Settings, update: str, status: int, code: str | None
) -> None:
    """Syntax errors 400, evaluation errors 500, policy refusals 403: one table
    (``problems._LIBRARY_STATUS``), whichever write path ran the update."""
    answers = []
    for gate in (True, False):
        app = create_app(dataclasses.replace(server_settings, shacl_gate=gate))
        async for client in client_for(app):
            r = await client.post("/sparql", data={"update": update}, headers=AUTH)
            answers.append((r.status_code, r.json()["code"]))
    assert answers[0] == answers[1]
    assert answers[0][0] == status
    assert code is None or answers[0][1] == code


def test_settings_command_shows_token_names_never_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import run_cli

    monkeypatch.setenv("SINLOD_UPDATE_TOKENS", "alice:secret-a,secret-b")
    result = run_cli(["settings"])
    assert result.exit_code == 0
    assert "update_tokens = alice:(set), (not name:token)  [SINLOD_UPDATE_TOKENS]" in result.output
    assert "secret" not in result.output


async def test_concurrent_writes_to_one_graph_lose_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Each write is computed on the release the previous one made (writes are serialised and
    the release is checked before committing), so no write overwrites another's triples."""
    import anyio

    assert (await client.post("/sparql", data=insert(VALID), headers=AUTH)).status_code == 204
    statuses: list[int] = []

    async def add_label(n: int) -> None:
        data = f'place:ghent skos:altLabel "Ghent {n}"@en .'
        r = await client.post("/sparql", data=insert(data), headers=AUTH)
        statuses.append(r.status_code)

    async with anyio.create_task_group() as tg:
        for n in range(6):
            tg.start_soon(add_label, n)
    assert statuses == [204] * 6
    r = await client.get(
        "/sparql",
        params={
            "query": "SELECT (COUNT(*) AS ?n) WHERE { <https://w3id.org/sinlod/id/place/ghent>"
            " <http://www.w3.org/2004/02/skos/core#altLabel> ?l }"
        },
    )
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "6"
