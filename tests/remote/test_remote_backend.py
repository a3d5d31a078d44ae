"""The remote backend end to end, on Oxigraph's own server and on Virtuoso (``conftest.py``).

publish → serve (httpx against the ASGI app) → query → rollback; dump and restore; a write that
fails or is killed half-way; readers during a write; the SPARQL endpoint's protections.
"""

from __future__ import annotations

import contextlib
import gzip
import re
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI

from sinlod.errors import QueryEvaluationError
from sinlod.history import rollback
from sinlod.publish import publish
from sinlod.server import create_app
from sinlod.store import ReleaseInfo, ReleaseNotKept, Store
from sinlod.store import remote as remote_module
from sinlod.store.backend import StoreBackend, open_backend
from sinlod.store.remote import RemoteStore
from tests.remote.servers import Endpoint, oxigraph, virtuoso

BASE = "https://w3id.org/sinlod/"
TOKEN = "remote-token"
DOCUMENTS = """\
id,label_en,title_en,title_nl,title_de,language,identifier,page,issued,publisher,creator_people,creator_organisations,contributor_organisations,description_en,description_nl,topics,source
doc-a,Document A,Document A,,,ENG,,https://example.org/a,,,,,,,,,
"""
PLACES = """\
id,name_en,name_nl,name_de,alt_label_en,part_of,country,nuts,source
belgium,Belgium,België,,,,BEL,,doc-a
ghent,Ghent,Gent,,,belgium,BEL,,doc-a
"""
BRUGES = """\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix sinlod: <https://w3id.org/sinlod/def/> .
<https://w3id.org/sinlod/id/place/bruges> a sinlod:Place ; skos:prefLabel "Bruges"@en ;
    dct:source <https://w3id.org/sinlod/id/document/doc-a> .
"""
JSON = {"Accept": "application/sparql-results+json"}
GHENT_LABELS = (
    "SELECT ?label WHERE { <https://w3id.org/sinlod/id/place/ghent>"
    " <http://www.w3.org/2004/02/skos/core#prefLabel> ?label } ORDER BY ?label"
)
ASK_BRUGES = "ASK { <https://w3id.org/sinlod/id/place/bruges> ?p ?o }"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    records = tmp_path / "records"
    records.mkdir()
    (records / "documents.csv").write_text(DOCUMENTS, encoding="utf-8")
    (records / "places.csv").write_text(PLACES, encoding="utf-8")
    (tmp_path / "bruges.ttl").write_text(BRUGES, encoding="utf-8")
    return tmp_path


async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def _select(client: httpx.AsyncClient, query: str) -> list[dict[str, Any]]:
    response = await client.get("/sparql", params={"query": query}, headers=JSON)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["results"]["bindings"]
    return rows


async def _ask(client: httpx.AsyncClient, query: str) -> bool:
    response = await client.get("/sparql", params={"query": query}, headers=JSON)
    assert response.status_code == 200, response.text
    return bool(response.json()["boolean"])


def _data_lines(store: StoreBackend) -> list[str]:
    """The data quads as N-Quads lines, blank-node labels blanked (an upload relabels them)."""
    return sorted(re.sub(r"_:\w+", "_:b", str(q)) for q in store.quads())


@pytest.mark.anyio
async def test_publish_serve_query_rollback(
    endpoint: Endpoint, files: Path, tmp_path: Path
) -> None:
    settings = endpoint.settings(tmp_path, update_token=TOKEN)
    with open_backend(settings, read_only=False) as store:
        assert isinstance(store, RemoteStore) and store.release_id is None
        first = publish([files / "records"], settings, store, agent="alice").release
        assert first is not None and store.release_id == first.id
        assert first.graphs[BASE + "graph/sinlod/places"] > 0

    async for client in _client(create_app(settings)):
        rows = await _select(client, GHENT_LABELS)
        # sorted here: SPARQL leaves the order of literals in different languages open (and
        # Virtuoso orders by language first)
        assert sorted((r["label"]["value"], r["label"].get("xml:lang")) for r in rows) == [
            ("Gent", "nl"),
            ("Ghent", "en"),
        ]
        assert not await _ask(client, ASK_BRUGES)
        # dereferencing, pages, VoID, the catalogue and the release log, all from the remote store
        page = await client.get("/id/place/ghent", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].endswith("/doc/place/ghent")
        turtle = await client.get("/doc/place/ghent", headers={"Accept": "text/turtle"})
        assert turtle.status_code == 200 and '"Gent"@nl' in turtle.text
        html = await client.get("/doc/place/ghent", headers={"Accept": "text/html"})
        assert html.status_code == 200 and "Ghent" in html.text
        void = await client.get("/void", headers={"Accept": "application/n-triples"})
        assert void.status_code == 200 and "http://rdfs.org/ns/void#triples" in void.text
        catalog = await client.get("/catalog", headers={"Accept": "text/turtle"})
        assert catalog.status_code == 200 and first.id in catalog.text
        log = await client.get("/releases", headers={"Accept": "application/n-triples"})
        assert log.status_code == 200 and f"{BASE}release/{first.id}" in log.text
        graphs = await _select(
            client, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
        )
        names = [r["g"]["value"] for r in graphs]
        assert BASE + "graph/sinlod/places" in names
        assert all(n.startswith(BASE + "graph/") for n in names)  # never a stored name

        # a second release, published by another process (here: another store object)
        with open_backend(settings, read_only=False) as writer:
            second = publish([files / "records", files / "bruges.ttl"], settings, writer).release
            assert second is not None and second.id != first.id
        assert await _ask(client, ASK_BRUGES)

        # rollback: release 1's data again, as a third release
        with open_backend(settings, read_only=False) as writer:
            done = rollback(writer, first.id, agent="bob", message="undo bruges")
            assert done.release is not None and done.target == first.id
            assert BASE + "graph/sinlod/bruges" in (done.release.changed or ())
            assert [r.id for r in writer.releases()] == [first.id, second.id, done.release.id]
        assert not await _ask(client, ASK_BRUGES)
        rows = await _select(client, GHENT_LABELS)
        assert len(rows) == 2
        listed = await client.get("/releases", headers={"Accept": "application/n-triples"})
        assert "undo bruges" in listed.text

        # a write through the SPARQL endpoint (the SHACL gate computes it, a release records it)
        update = (
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> INSERT DATA { GRAPH"
            f' <{BASE}graph/sinlod/places> {{ <{BASE}id/place/ghent> skos:altLabel "Gand"@fr }} }}'
        )
        written = await client.post(
            "/sparql", data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert written.status_code in (200, 204), written.text
        assert await _ask(client, f'ASK {{ <{BASE}id/place/ghent> ?p "Gand"@fr }}')


def test_a_failed_or_killed_write_leaves_the_release_and_is_cleaned_up(
    endpoint: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = endpoint.settings(tmp_path)
    graph = BASE + "graph/sinlod/things"
    old = [_triple(i, "old") for i in range(30)]
    new = [_triple(i, "new") for i in range(30)]
    with open_backend(settings, read_only=False) as store:
        assert isinstance(store, RemoteStore)
        first = store.replace_graphs({graph: old}, release=ReleaseInfo(agent="t"))
        monkeypatch.setattr(remote_module, "CHUNK", 10)
        real = RemoteStore._send
        sent: list[int] = []

        def failing(self: RemoteStore, stored: str, triples: Any) -> None:
            sent.append(len(triples))
            if len(sent) == 2:  # the second of three requests for the new graph
                raise remote_module.RemoteStoreError("connection lost (simulated)")
            real(self, stored, triples)

        monkeypatch.setattr(RemoteStore, "_send", failing)
        # killed: the process dies before it can clean up after itself
        monkeypatch.setattr(RemoteStore, "_abandon", lambda self, name, created: None)
        with pytest.raises(remote_module.RemoteStoreError):
            store.replace_graphs({graph: new}, release=ReleaseInfo(agent="t"))
        monkeypatch.setattr(RemoteStore, "_send", real)
        with open_backend(settings, read_only=True) as reader:
            assert reader.release_id == first.id
            assert _values(reader, graph) == {"old"}
            assert [r.id for r in reader.releases()] == [first.id]
        namespace = settings.remote_namespace
        assert len(_stored_graphs(store, f"{namespace}graph/")) == 2  # release 1's and the half one
        # the next write deletes what the killed one left
        second = store.replace_graphs({graph: new}, release=ReleaseInfo(agent="t"))
        assert _values(store, graph) == {"new"}
        assert {g.split("/")[-2] for g in _stored_graphs(store, f"{namespace}graph/")} == {
            first.id,
            second.id,
        }


def test_readers_see_one_release_or_the_next(
    endpoint: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write uploads in many requests; a reader querying all the while sees whole releases."""
    settings = endpoint.settings(tmp_path)
    monkeypatch.setattr(remote_module, "CHUNK", 25)
    a, b = BASE + "graph/sinlod/a", BASE + "graph/sinlod/b"
    sizes = [(100, 40), (60, 150), (10, 10)]
    count = (
        "SELECT (COUNT(*) AS ?n) WHERE"
        f" {{ {{ GRAPH <{a}> {{ ?s ?p ?o }} }} UNION {{ GRAPH <{b}> {{ ?s ?p ?o }} }} }}"
    )
    seen: set[int] = set()
    stop = threading.Event()
    with open_backend(settings, read_only=False) as writer:
        writer.replace_graphs(
            {a: _triples(*sizes[0][:1], "a"), b: _triples(sizes[0][1], "b")},
            release=ReleaseInfo(agent="t"),
        )
        reader = open_backend(settings, read_only=True)

        def read() -> None:
            while not stop.is_set():
                reader.refresh()
                result = reader.query(count)
                assert isinstance(result, ox.QuerySolutions)
                seen.add(int(next(iter(result))["n"].value))

        thread = threading.Thread(target=read)
        thread.start()
        try:
            for size_a, size_b in sizes[1:]:
                writer.replace_graphs(
                    {a: _triples(size_a, "a"), b: _triples(size_b, "b")},
                    release=ReleaseInfo(agent="t"),
                )
        finally:
            stop.set()
            thread.join(timeout=30)
            reader.close()
    assert seen, "the reader never got an answer"
    assert seen <= {x + y for x, y in sizes}, seen


def test_dump_and_restore(endpoint: Endpoint, files: Path, tmp_path: Path) -> None:
    settings = endpoint.settings(tmp_path)
    dump = tmp_path / "backup.nq.gz"
    with open_backend(settings, read_only=False) as store:
        sources = [files / "records", files / "bruges.ttl"]
        publish(sources, settings, store, agent="alice", ontology=False)
        store.update(
            f'INSERT DATA {{ <{BASE}id/x> <{BASE}def/note> "in the default graph" }}',
            release=ReleaseInfo(agent="t"),
        )
        count = store.dump(dump)
        lines = _data_lines(store)
        releases = [r.to_json() for r in store.releases()]
    with gzip.open(dump, "rt", encoding="utf-8") as f:
        assert sum(1 for _ in f) == count
    # into an embedded store: the same data and the same release log
    with Store.open(tmp_path / "embedded") as embedded:
        assert embedded.restore(dump) == count
        assert _data_lines(embedded) == lines
        assert [r.to_json() for r in embedded.releases()] == releases
    # into a fresh remote store: exactly the dump, no release of its own
    fresh = endpoint.settings(tmp_path)
    with open_backend(fresh, read_only=False) as restored:
        assert restored.restore(dump) == count
        assert _data_lines(restored) == lines
        assert [r.to_json() for r in restored.releases()] == releases
        # the same dump again changes nothing: nothing is written
        before = restored.release_id
        restored.restore(dump)
        assert restored.release_id == before


@pytest.mark.anyio
async def test_the_endpoint_protections_hold_on_a_remote_store(
    endpoint: Endpoint, tmp_path: Path
) -> None:
    settings = endpoint.settings(tmp_path, max_results=50, query_timeout=1.0)
    with open_backend(settings, read_only=False) as store:
        store.replace_graphs(
            {BASE + "graph/sinlod/many": _triples(400, "m")}, release=ReleaseInfo(agent="t")
        )
    async for client in _client(create_app(settings)):
        service = "SELECT * WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }"
        refused = await client.get("/sparql", params={"query": service}, headers=JSON)
        assert refused.status_code == 403 and refused.json()["code"] == "service-not-allowed"
        large = await client.get(
            "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers=JSON
        )
        assert large.status_code == 400 and large.json()["code"] == "result-too-large"
        # 400^4 combinations: far past a second on either engine
        slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
        timed_out = await client.get("/sparql", params={"query": slow}, headers=JSON)
        assert timed_out.status_code == 503 and timed_out.json()["code"] == "query-timeout"
        # the server still answers
        assert len(await _select(client, "SELECT * WHERE { ?s ?p ?o } LIMIT 5")) == 5


def _triple(i: int, value: str) -> ox.Triple:
    return ox.Triple(
        ox.NamedNode(f"{BASE}id/thing/{i}"), ox.NamedNode(f"{BASE}def/value"), ox.Literal(value)
    )


def _triples(n: int, value: str) -> list[ox.Triple]:
    return [_triple(i, value) for i in range(n)]


def _values(store: StoreBackend, graph: str) -> set[str]:
    result = store.query(f"SELECT DISTINCT ?v WHERE {{ GRAPH <{graph}> {{ ?s ?p ?v }} }}")
    assert isinstance(result, ox.QuerySolutions)
    return {row["v"].value for row in result}


def _stored_graphs(store: RemoteStore, prefix: str) -> set[str]:
    """Graphs holding triples on the remote server under ``prefix``, asked of it directly."""
    query = (
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(STRSTARTS(STR(?g), "{prefix}")) }}'
    )
    response = httpx.post(store.query_url, data={"query": query}, headers=JSON, timeout=30)
    response.raise_for_status()
    return {row["g"]["value"] for row in response.json()["results"]["bindings"]}


def test_old_releases_are_pruned_as_keep_releases_says(endpoint: Endpoint, tmp_path: Path) -> None:
    settings = endpoint.settings(tmp_path, keep_releases=1)
    graph = BASE + "graph/sinlod/things"
    with open_backend(settings, read_only=False) as store:
        assert isinstance(store, RemoteStore)
        ids = [
            store.replace_graphs({graph: _triples(5, f"v{n}")}, release=ReleaseInfo(agent="t")).id
            for n in range(4)
        ]
        assert store.kept_releases() == ids[-2:]
        assert [r.id for r in store.releases()] == ids  # the log keeps every release
        with pytest.raises(ReleaseNotKept):
            store.at_release(ids[0])
        with store.at_release(ids[2]) as old:
            assert _values(old, graph) == {"v2"}
        stored = _stored_graphs(store, f"{settings.remote_namespace}graph/")
        assert {g.split("/")[-2] for g in stored} == set(ids[-2:])


@pytest.mark.anyio
async def test_a_store_that_goes_down_is_a_500_not_a_stalled_server(tmp_path: Path) -> None:
    """Its own oxigraph serve, stopped while sinlod serves it: each request fails at once."""
    with contextlib.ExitStack() as stack:
        endpoint = stack.enter_context(oxigraph(tmp_path / "own-store"))
        settings = endpoint.settings(tmp_path)
        with open_backend(settings, read_only=False) as store:
            store.replace_graphs(
                {BASE + "graph/sinlod/many": _triples(3, "m")}, release=ReleaseInfo(agent="t")
            )
        async for client in _client(create_app(settings)):
            assert len(await _select(client, "SELECT * WHERE { ?s ?p ?o }")) == 3
            stack.close()  # the store goes down
            for _ in range(2):
                started = time.monotonic()
                down = await client.get(
                    "/sparql", params={"query": "SELECT * { ?s ?p ?o }"}, headers=JSON
                )
                assert down.status_code == 500 and down.json()["code"] == "store-error"
                assert time.monotonic() - started < 5


def test_an_answer_virtuoso_cut_short_is_refused_not_passed_on(tmp_path: Path) -> None:
    """Virtuoso's ResultSetMaxRows (10,000 on a stock install) cuts query answers (saying so in a
    header only) and Graph Store reads (saying nothing): sinlod refuses both rather than use part
    of an answer."""
    graph = BASE + "graph/sinlod/many"
    with virtuoso(tmp_path / "virtuoso", max_rows=10) as endpoint:
        with open_backend(endpoint.settings(tmp_path), read_only=False) as store:
            store.replace_graphs({graph: _triples(30, "m")}, release=ReleaseInfo(agent="t"))
            with pytest.raises(QueryEvaluationError, match="ResultSetMaxRows"):
                store.query("SELECT * WHERE { ?s ?p ?o }")
            # Virtuoso's Graph Store GET is cut too, without the header: caught by the count
            with pytest.raises(remote_module.RemoteStoreError, match="ResultSetMaxRows"):
                list(store.graph_quads(graph))
            # an answer shorter than the limit is whole, header or not
            result = store.query("SELECT * WHERE { ?s ?p ?o } LIMIT 9")
            assert isinstance(result, ox.QuerySolutions) and len(list(result)) == 9
