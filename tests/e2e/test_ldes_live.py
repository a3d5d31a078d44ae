"""The change feed served by ``sinlod serve`` (a subprocess, real HTTP), followed as a harvester
keeps it: a first synchronisation of the shipped data, then, after two writes to the store while
the server runs, a second run that resumes from the page it stopped at (``If-None-Match`` on the
newest page) and ends, like the first, with exactly the data in the store (issue 11).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pyoxigraph as ox

from sinlod.config import Settings
from sinlod.ldes import TREE, read_members
from sinlod.store import ReleaseInfo, Store
from tests.e2e.serving import sinlod_serve
from tests.test_ldes import canonical, store_state

STREAM = "https://w3id.org/sinlod/ldes"
VIEW, RELATION, NODE = (ox.NamedNode(TREE + n) for n in ("view", "relation", "node"))
BASE = "https://w3id.org/sinlod/"


@dataclass
class Harvester:
    """An LDES client's state: the replica, the pages done, and the newest page with its ETag
    (the frontier, the one page that may still change)."""

    replica: dict[str, frozenset[str]] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    frontier: tuple[str, str] | None = None
    fetched: int = 0

    def run(self, client: httpx.Client, start: str) -> None:
        if self.frontier is None:
            todo = [self._root(client, start)]
        else:
            url, etag = self.frontier
            again = client.get(url, headers={"Accept": "text/turtle", "If-None-Match": etag})
            self.fetched += 1
            if again.status_code == 304:
                return
            todo = self._relations(self._triples(again, url))
        while todo:
            url = todo.pop(0)
            response = client.get(url, headers={"Accept": "application/n-triples"})
            self.fetched += 1
            assert response.status_code == 200, response.text
            triples = self._triples(response, url)
            for version in read_members(triples, STREAM):
                if version.kind == "Delete":
                    self.replica.pop(version.thing, None)
                else:
                    self.replica[version.thing] = canonical(version.triples)
            self.done.add(url)
            following = self._relations(triples)
            if not following:
                assert "immutable" not in response.headers["cache-control"]
                self.frontier = (url, response.headers["etag"])
            todo += following

    @staticmethod
    def _root(client: httpx.Client, start: str) -> str:
        response = client.get(start, headers={"Accept": "text/turtle"}, follow_redirects=True)
        page = str(response.url)
        triples = Harvester._triples(response, page)
        assert [
            t.subject for t in triples if t.predicate == VIEW and t.object == ox.NamedNode(page)
        ] == [ox.NamedNode(STREAM)]
        return page

    @staticmethod
    def _triples(response: httpx.Response, url: str) -> list[ox.Triple]:
        fmt = ox.RdfFormat.from_media_type(response.headers["content-type"].split(";")[0])
        assert fmt is not None
        return [q.triple for q in ox.parse(response.content, fmt, base_iri=url)]

    @staticmethod
    def _relations(triples: list[ox.Triple]) -> list[str]:
        relations = {t.object for t in triples if t.predicate == RELATION}
        return [
            t.object.value
            for t in triples
            if t.subject in relations and t.predicate == NODE and isinstance(t.object, ox.NamedNode)
        ]


def test_a_harvester_keeps_a_replica_in_step_with_a_live_server(
    shipped_settings: Settings,
) -> None:
    path = shipped_settings.store_path
    with sinlod_serve(shipped_settings) as (host, _proc), httpx.Client() as client:
        start = f"http://{host}/ldes"
        harvester = Harvester()
        harvester.run(client, start)
        with Store.open(path, read_only=True) as store:
            assert harvester.replica == store_state(store)
        assert len(harvester.replica) > 200  # the shipped things, every one

        polled = harvester.fetched
        harvester.run(client, start)  # nothing new: one conditional request, answered 304
        assert harvester.fetched == polled + 1

        gone = sorted(harvester.replica)[0]
        with Store.open(path) as store:
            graph = next(g for g in store.graph_names() if "/graph/sinlod/" in g)
            store.update(f"DELETE WHERE {{ GRAPH ?g {{ <{gone}> ?p ?o }} }}", release=_info())
            store.update(
                f"INSERT DATA {{ GRAPH <{graph}> {{ <{BASE}id/place/new-town> "
                f'<http://www.w3.org/2004/02/skos/core#prefLabel> "New Town"@en }} }}',
                release=_info(),
            )
        done = set(harvester.done)
        harvester.run(client, start)
        with Store.open(path, read_only=True) as store:
            assert harvester.replica == store_state(store)
        assert gone not in harvester.replica
        assert f"{BASE}id/place/new-town" in harvester.replica
        assert len(harvester.done - done) == 2  # one page per write, nothing fetched twice


def _info() -> ReleaseInfo:
    return ReleaseInfo(agent="tests", comment="a change while the server runs")
