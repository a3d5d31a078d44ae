"""The ``http-rdf-update`` suite: Graph Store Protocol exchanges the manifest gives only in prose.

Each entry of ``tests/data/w3c/sparql11/http-rdf-update/manifest.ttl`` is a request and its
response written as Markdown in ``rdfs:comment``; here each is one case, in manifest order, named
``http-rdf-update/<entry>`` (the test IRI is ``MANIFEST + entry``). The entries build on each
other (one store, one sequence), so the store is emptied once, before the first.

The W3C marks these entries ``dawg:Deprecated`` in favour of ``graph-store-protocol`` (run from
its ``ht:`` data in ``test_w3c_sparql.py``); they are kept because they state the exchanges one
request at a time. Where the prose cannot be followed literally the case says so:

* ``$GRAPHSTORE$/person/1.ttl`` names a graph by *direct* identification, which sinlod does not
  offer; the same graph (IRI ``http://$HOST$/$GRAPHSTORE$/person/1.ttl``) is named indirectly,
  with ``?graph=``, as the prose's own second request does.
* Statuses are those the Graph Store Protocol allows for the exchange (e.g. 200 or 204 for a PUT
  that replaces a graph) where the prose shows one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
import pytest

from tests.conformance.known_failures import KNOWN_FAILURES
from tests.conformance.targets import HttpTarget, Response
from tests.conformance.w3c import compare_datasets, media_type

MANIFEST = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/http-rdf-update/manifest#"
TURTLE = "text/turtle; charset=utf-8"
FOAF = "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
PREFIXES = FOAF + "@prefix v: <http://www.w3.org/2006/vcard/ns#> .\n"


@dataclass
class Sequence:
    """The server, and what earlier requests left for later ones (``$NEWPATH$``)."""

    target: HttpTarget
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> str:
        """``http://$HOST$/$GRAPHSTORE$``."""
        return self.target.base_url + self.target.endpoints.graph_store

    def person(self, n: int) -> str:
        return f"<{self.store}/person/{n}>"

    def send(
        self, method: str, graph: str | None, body: str | None = None, **headers: str
    ) -> Response:
        """A request on graph IRI ``graph`` (indirect identification) or the default graph."""
        path = self.target.endpoints.graph_store
        params = "?default" if graph is None else "?graph=" + _quote(graph)
        content = body.encode("utf-8") if body is not None else None
        headers = {k.replace("_", "-"): v for k, v in headers.items()}
        return self.target.request(method, path + params, headers, content)

    def graph_iri(self, n: int) -> str:
        return f"{self.store}/person/{n}.ttl"


def _quote(iri: str) -> str:
    return quote(iri, safe="")


def expect(response: Response, statuses: set[int]) -> None:
    assert response.status in statuses, (
        f"status {response.status}, expected one of {sorted(statuses)}: {response.body[:300]!r}"
    )


def expect_turtle(response: Response, turtle: str) -> None:
    """200, ``text/turtle``, and a body isomorphic to ``turtle``."""
    expect(response, {200})
    assert media_type(response.content_type) == "text/turtle", response.content_type
    expected = ox.parse((PREFIXES + turtle).encode("utf-8"), ox.RdfFormat.TURTLE)
    actual = ox.parse(response.body, ox.RdfFormat.TURTLE)
    problem = compare_datasets(_quads(expected), _quads(actual))
    assert problem is None, problem


def _quads(triples: Iterator[ox.Triple] | ox.QuadParser) -> list[ox.Quad]:
    return [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]


def john(s: Sequence) -> str:
    return f'{s.person(1)} a foaf:Person; foaf:businessCard [ a v:VCard; v:fn "John Doe" ].'


def jane(s: Sequence) -> str:
    return f'{s.person(1)} a foaf:Person; foaf:businessCard [ a v:VCard; v:fn "Jane Doe" ].'


ALICE = '[] a foaf:Person; foaf:businessCard [ a v:VCard; v:given-name "Alice" ].'
BOUNDARY = "a6fe4cd636164618814be9f8d3d1a0de"


def put__initial_state(s: Sequence) -> None:
    """PUT $GRAPHSTORE$/person/1.ttl (John Doe) → 201 Created."""
    expect(s.send("PUT", s.graph_iri(1), PREFIXES + john(s), content_type=TURTLE), {201})


def get_of_put__initial_state(s: Sequence) -> None:
    """GET $GRAPHSTORE$?graph=http://$HOST$/$GRAPHSTORE$/person/1.ttl → 200, the John Doe graph."""
    expect_turtle(s.send("GET", s.graph_iri(1), accept="text/turtle"), john(s))


def put__graph_already_in_store(s: Sequence) -> None:
    """PUT person/1.ttl again (Jane Doe) → 204 No Content (200 also allowed)."""
    expect(s.send("PUT", s.graph_iri(1), PREFIXES + jane(s), content_type=TURTLE), {200, 204})


def get_of_put__graph_already_in_store(s: Sequence) -> None:
    """GET person/1.ttl → 200, the Jane Doe graph: PUT replaced the graph."""
    expect_turtle(s.send("GET", s.graph_iri(1), accept="text/turtle"), jane(s))


def put__default_graph(s: Sequence) -> None:
    """PUT $GRAPHSTORE$?default (Alice) → 201 Created (200 or 204: the default graph exists)."""
    expect(s.send("PUT", None, PREFIXES + ALICE, content_type=TURTLE), {200, 201, 204})


def get_of_put__default_graph(s: Sequence) -> None:
    """GET $GRAPHSTORE$?default → 200, the Alice graph."""
    expect_turtle(s.send("GET", None, accept="text/turtle"), ALICE)


def delete__existing_graph(s: Sequence) -> None:
    """DELETE person/2.ttl → 200 OK (or 204).

    The prose never creates person/2.ttl before deleting it; its replacement
    (``put_delete_get_delete_indirect``) PUTs it first, and so does this case.
    """
    setup = s.send(
        "PUT", s.graph_iri(2), PREFIXES + f"{s.person(2)} a foaf:Person .", content_type=TURTLE
    )
    expect(setup, {200, 201, 204})
    expect(s.send("DELETE", s.graph_iri(2)), {200, 204})


def get_of_delete__existing_graph(s: Sequence) -> None:
    """GET person/2.ttl → 404 Not Found."""
    expect(s.send("GET", s.graph_iri(2), accept="text/turtle"), {404})


def delete__nonexistent_graph(s: Sequence) -> None:
    """DELETE person/2.ttl again → 404 Not Found."""
    expect(s.send("DELETE", s.graph_iri(2)), {404})


def post__existing_graph(s: Sequence) -> None:
    """POST to person/1.ttl (foaf:name "Jane Doe") → 200 OK (or 204): merged into the graph."""
    body = PREFIXES + f'{s.person(1)} foaf:name "Jane Doe" .'
    expect(s.send("POST", s.graph_iri(1), body, content_type=TURTLE), {200, 204})


def get_of_post__existing_graph(s: Sequence) -> None:
    """GET person/1.ttl → 200, the Jane Doe graph with foaf:name added.

    The prose shows the John Doe graph without the posted triple, which contradicts its own
    earlier steps (PUT Jane Doe, POST foaf:name); its replacement test expects the merge.
    """
    expected = jane(s) + f' {s.person(1)} foaf:name "Jane Doe" .'
    expect_turtle(s.send("GET", s.graph_iri(1), accept="text/turtle"), expected)


def post__multipart_formdata(s: Sequence) -> None:
    """POST multipart/form-data with two Turtle parts to person/1.ttl → 200 OK (or 204)."""
    parts = [("lastName.ttl", 'foaf:familyName "Doe"'), ("firstName.ttl", 'foaf:givenName "Jane"')]
    body = (
        "".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
            f"Content-Type: {TURTLE}\r\n\r\n{PREFIXES}{s.person(1)} {triple} .\r\n"
            for name, triple in parts
        )
        + f"--{BOUNDARY}--\r\n"
    )
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    expect(s.send("POST", s.graph_iri(1), body, content_type=content_type), {200, 204})


def get_of_post__multipart_formdata(s: Sequence) -> None:
    """GET person/1.ttl (no Accept) → 200 Turtle: name, givenName, familyName and the card."""
    expected = jane(s) + (
        f' {s.person(1)} foaf:name "Jane Doe"; foaf:givenName "Jane"; foaf:familyName "Doe" .'
    )
    expect_turtle(s.send("GET", s.graph_iri(1)), expected)


def post__create__new_graph(s: Sequence) -> None:
    """POST $GRAPHSTORE$ (Alice) → 201 Created with Location: $NEWPATH$."""
    path = s.target.endpoints.graph_store
    response = s.target.request("POST", path, {"content-type": TURTLE}, (PREFIXES + ALICE).encode())
    expect(response, {201})
    location = response.headers.get("location")
    assert location, "201 without a Location header"
    s.variables["$NEWPATH$"] = location


def _newpath(s: Sequence) -> str:
    assert "$NEWPATH$" in s.variables, "post__create__new_graph did not give a Location"
    return s.variables["$NEWPATH$"]


def get_of_post__create__new_graph(s: Sequence) -> None:
    """GET $NEWPATH$ (as ?graph=, the graph the Location names) → 200, the Alice graph."""
    expect_turtle(s.send("GET", _newpath(s), accept="text/turtle"), ALICE)


def get_of_post__after_noop(s: Sequence) -> None:
    """GET $NEWPATH$ again → 200, still the Alice graph."""
    expect_turtle(s.send("GET", _newpath(s), accept="text/turtle"), ALICE)


def head_on_an_existing_graph(s: Sequence) -> None:
    """HEAD person/1.ttl → 200 OK, Content-Type text/turtle, no body."""
    response = s.send("HEAD", s.graph_iri(1))
    expect(response, {200})
    assert media_type(response.content_type) == "text/turtle", response.content_type
    assert response.body == b""


def head_on_a_nonexisting_graph(s: Sequence) -> None:
    """HEAD person/4.ttl → 404 Not Found."""
    expect(s.send("HEAD", s.graph_iri(4)), {404})


STEPS: list[Callable[[Sequence], None]] = [
    put__initial_state,
    get_of_put__initial_state,
    put__graph_already_in_store,
    get_of_put__graph_already_in_store,
    put__default_graph,
    get_of_put__default_graph,
    delete__existing_graph,
    get_of_delete__existing_graph,
    delete__nonexistent_graph,
    post__existing_graph,
    get_of_post__existing_graph,
    post__multipart_formdata,
    get_of_post__multipart_formdata,
    post__create__new_graph,
    get_of_post__create__new_graph,
    get_of_post__after_noop,
    head_on_an_existing_graph,
    head_on_a_nonexisting_graph,
]


@pytest.fixture(scope="module")
def sequence(w3c_target: HttpTarget) -> Sequence:
    w3c_target.reset()
    return Sequence(w3c_target)


def _param(step: Callable[[Sequence], None]) -> Any:
    reason = KNOWN_FAILURES.get(MANIFEST + step.__name__)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(step, id=f"http-rdf-update/{step.__name__}", marks=marks)


@pytest.mark.parametrize("step", [_param(step) for step in STEPS])
def test_http_rdf_update(step: Callable[[Sequence], None], sequence: Sequence) -> None:
    step(sequence)
