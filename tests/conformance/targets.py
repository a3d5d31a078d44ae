"""Systems under test: what the W3C runner talks to.

The runner needs very little from a SPARQL service: empty it, load files into the default graph
or a named graph, run a query or an update and hand back the response (status, content type,
bytes), and, for protocol tests, send one raw HTTP request. ``Target`` is that interface; there
are two implementations:

* ``HttpTarget`` speaks the SPARQL 1.1 Protocol and Graph Store Protocol over real HTTP. Its
  ``Endpoints`` say where query, update and graph-store live, so the same runner checks sinlod's
  server (``/sparql`` + ``/graph-store``, in either default-graph mode) and Oxigraph's native
  server (``/query``, ``/update``, ``/store``), which is how every expected failure is shown to
  be Oxigraph's own.
* ``InProcessTarget`` evaluates with pyoxigraph directly: the reference the runner's own tests
  use, and a quick way to tell a server bug from an engine limitation.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import pyoxigraph as ox

from tests.conformance.w3c import RDF_MEDIA_TYPES, file_iri


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]


class Target(Protocol):
    name: str
    supports_direct_graph_identification: bool

    def reset(self) -> None: ...

    def load(self, path: Path, graph: str | None) -> None: ...

    def query(
        self, text: str, accept: str, dataset: tuple[list[str], list[str]] | None = None
    ) -> Response: ...

    def update(self, text: str) -> Response: ...


def with_base(text: str, base_iri: str) -> str:
    """Give a query or update its file's IRI as base: the protocol has no base parameter.

    A prologue may hold several BASE declarations, each resolved against the one before, so
    prepending one keeps the meaning of any BASE the text has itself.
    """
    return f"BASE <{base_iri}>\n{text}"


@dataclass(frozen=True)
class Endpoints:
    """Paths of the three services on one server; sinlod and Oxigraph lay them out differently."""

    query: str
    update: str
    graph_store: str
    direct_graph_identification: bool = False
    #: True where a query's default graph is the union of all graphs (sinlod, sd:UnionDefaultGraph):
    #: see ``runner`` for how tests are set up then.
    union_default_graph: bool = False


#: sinlod with ``union_default_graph`` on (the default).
SINLOD = Endpoints(
    query="/sparql", update="/sparql", graph_store="/graph-store", union_default_graph=True
)
#: sinlod with ``union_default_graph=false``: a plain SPARQL 1.1 dataset, driven as any client.
SINLOD_STRICT = Endpoints(query="/sparql", update="/sparql", graph_store="/graph-store")
OXIGRAPH = Endpoints(query="/query", update="/update", graph_store="/store")


class HttpTarget:
    """A live server reached over HTTP, writes authorised with a bearer token."""

    def __init__(
        self, base_url: str, endpoints: Endpoints, token: str | None = None, name: str = "http"
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.endpoints = endpoints
        self.supports_direct_graph_identification = endpoints.direct_graph_identification
        self._auth = {"authorization": f"Bearer {token}"} if token else {}
        self.client = self._connect()

    def _connect(self) -> httpx.Client:
        # One TLS context for every client: the servers are plain HTTP, but httpx builds a context
        # per client, loading the CA store each time (50 ms, most of a test's time).
        return httpx.Client(
            base_url=self.base_url, headers=self._auth, timeout=30.0, verify=_tls_context()
        )

    def close(self) -> None:
        self.client.close()

    def reset(self) -> None:
        """Empty the store, on fresh connections: a test that left a connection in a bad state
        (a server sending a body after HEAD or 204) must not fail the next test."""
        self.client.close()
        self.client = self._connect()
        response = self.update("DROP ALL")
        if response.status >= 300:
            raise RuntimeError(f"cannot empty the store: {response.status} {response.body!r}")

    def load(self, path: Path, graph: str | None) -> None:
        """POST a file to the graph store (append: several files may share the default graph).

        Turtle and RDF/XML carry relative IRIs; the Graph Store Protocol resolves them against
        the request URL, so files are sent as N-Triples with IRIs already resolved against the
        file's published IRI.
        """
        fmt = ox.RdfFormat.from_media_type(RDF_MEDIA_TYPES[path.suffix])
        triples = ox.parse(path=path, format=fmt, base_iri=file_iri(path))
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        params = {"graph": graph} if graph is not None else {"default": ""}
        posted = self.client.post(
            self.endpoints.graph_store,
            params=params,
            content=body,
            headers={"content-type": "application/n-triples"},
        )
        if posted.status_code >= 300:
            raise RuntimeError(f"cannot load {path.name}: {posted.status_code} {posted.text}")

    def query(
        self, text: str, accept: str, dataset: tuple[list[str], list[str]] | None = None
    ) -> Response:
        """POST the query; ``dataset``: (default-graph-uri, named-graph-uri) parameters."""
        params = (
            {}
            if dataset is None
            else {"default-graph-uri": dataset[0], "named-graph-uri": dataset[1]}
        )
        return self._wrap(
            self.client.post(
                self.endpoints.query,
                params=params,
                content=text.encode("utf-8"),
                headers={"content-type": "application/sparql-query", "accept": accept},
            )
        )

    def update(self, text: str) -> Response:
        return self._wrap(
            self.client.post(
                self.endpoints.update,
                content=text.encode("utf-8"),
                headers={"content-type": "application/sparql-update"},
            )
        )

    def request(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> Response:
        """One raw request, for protocol tests; ``url`` is already mapped onto this server."""
        request = self.client.build_request(method, url, headers=headers, content=body)
        return self._wrap(self.client.send(request))

    @staticmethod
    def _wrap(response: httpx.Response) -> Response:
        return Response(
            response.status_code,
            response.headers.get("content-type", ""),
            response.content,
            dict(response.headers),
        )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class InProcessTarget:
    """pyoxigraph in this process: the engine sinlod's server runs on, without the server."""

    name = "pyoxigraph"
    supports_direct_graph_identification = False

    def __init__(self) -> None:
        self.store = ox.Store()

    def reset(self) -> None:
        self.store.clear()

    def load(self, path: Path, graph: str | None) -> None:
        fmt = ox.RdfFormat.from_media_type(RDF_MEDIA_TYPES[path.suffix])
        to_graph = ox.NamedNode(graph) if graph is not None else ox.DefaultGraph()
        self.store.load(path=path, format=fmt, base_iri=file_iri(path), to_graph=to_graph)

    def query(
        self, text: str, accept: str, dataset: tuple[list[str], list[str]] | None = None
    ) -> Response:
        kwargs = (
            {}
            if dataset is None
            else {
                "default_graph": [ox.NamedNode(g) for g in dataset[0]],
                "named_graphs": [ox.NamedNode(g) for g in dataset[1]],
            }
        )
        try:
            result = self.store.query(text, **kwargs)  # type: ignore[arg-type]
        except SyntaxError as exc:
            return Response(400, "text/plain", str(exc).encode(), {})
        except (OSError, RuntimeError) as exc:  # evaluation errors, as a server would say 500
            return Response(500, "text/plain", str(exc).encode(), {})
        if isinstance(result, ox.QueryTriples):
            fmt = ox.RdfFormat.N_TRIPLES
            body = ox.serialize(result, format=fmt) or b""
            return Response(200, fmt.media_type, body, {})
        results_format = _results_format(accept)
        body = result.serialize(format=results_format) or b""
        return Response(200, results_format.media_type, body, {})

    def update(self, text: str) -> Response:
        try:
            self.store.update(text)
        except SyntaxError as exc:
            return Response(400, "text/plain", str(exc).encode(), {})
        except (OSError, RuntimeError) as exc:
            return Response(500, "text/plain", str(exc).encode(), {})
        return Response(204, "", b"", {})


def _results_format(accept: str) -> ox.QueryResultsFormat:
    """The first SPARQL results format named in an Accept header (JSON if none)."""
    for item in accept.split(","):
        fmt = ox.QueryResultsFormat.from_media_type(item.split(";")[0].strip())
        if fmt is not None:
            return fmt
    return ox.QueryResultsFormat.JSON
