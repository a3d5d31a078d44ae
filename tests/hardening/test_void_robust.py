"""Every page built from data survives whatever the data holds (issue 13, item 7).

Before: one triple with a predicate IRI that has no ``/`` or ``#`` (``<urn:p>``) made ``/void``
and ``/.well-known/void`` answer 500 until it was removed (its "namespace" was the empty string);
a literal or blank node as a class, or a blank node of a main class, failed the same way.

The property test writes arbitrary IRIs (odd schemes, no ``/`` or ``#``, unicode, very long) and
literals (language tags, datatypes, ill-typed values, control characters) through the Graph
Store, then fetches every page and description built from data, in HTML and RDF formats:
no 5xx, and every RDF answer parses.
"""

from __future__ import annotations

import json
import string

import httpx
import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.conftest import AUTH

pytestmark = pytest.mark.anyio

BASE = "https://w3id.org/sinlod/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
PROJECT = ox.NamedNode(BASE + "def/Project")

_IRI_CHARS = st.characters(
    blacklist_characters='<>"{}|^`\\ ', blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")
)
_SCHEMES = st.sampled_from(
    ["http://", "https://", "urn:", "urn:x:", "javascript:", "mailto:", "tag:", "x-y.z+1:", "data:"]
)


@st.composite
def iris(draw: st.DrawFn) -> ox.NamedNode:
    scheme = draw(_SCHEMES)
    body = draw(
        st.one_of(
            st.text(_IRI_CHARS, min_size=1, max_size=30),
            st.text(string.ascii_letters, min_size=1, max_size=5),  # urn:p
            st.text(_IRI_CHARS, min_size=1500, max_size=2500),  # very long
        )
    )
    try:
        return ox.NamedNode(scheme + body)
    except ValueError:
        return ox.NamedNode("urn:p")


_TAGS = st.sampled_from(["en", "nl", "de-AT", "zh-Hant-TW", "x-klingon", "EN", "i-default"])
_DATATYPES = st.one_of(
    st.sampled_from(
        [XSD + t for t in ("string", "integer", "date", "dateTime", "boolean", "gYear", "decimal")]
    ).map(ox.NamedNode),
    iris(),
)


@st.composite
def literals(draw: st.DrawFn) -> ox.Literal:
    value = draw(st.text(max_size=300))  # control characters, unicode, markup, empty
    kind = draw(st.sampled_from(["plain", "lang", "typed"]))
    if kind == "lang":
        return ox.Literal(value, language=draw(_TAGS))
    if kind == "typed":
        return ox.Literal(value, datatype=draw(_DATATYPES))
    return ox.Literal(value)


@st.composite
def graphs(draw: st.DrawFn) -> list[ox.Triple]:
    thing = ox.NamedNode(BASE + "id/project/p" + str(draw(st.integers(0, 3))))
    odd = draw(iris())
    triples = [
        ox.Triple(thing, RDF_TYPE, PROJECT),
        ox.Triple(thing, LABEL, draw(literals())),
        ox.Triple(odd, RDF_TYPE, PROJECT),  # a "project" with any IRI: browse, search, VoID
        ox.Triple(ox.BlankNode(), RDF_TYPE, PROJECT),  # a blank node of a main class
        ox.Triple(thing, RDF_TYPE, draw(st.one_of(iris(), literals()))),  # any class, or a literal
    ]
    for _ in range(draw(st.integers(1, 4))):
        subject = draw(st.sampled_from([thing, odd]))
        obj = draw(st.one_of(iris(), literals(), st.just(thing), st.builds(ox.BlankNode)))
        triples.append(ox.Triple(subject, draw(iris()), obj))
    return triples


#: (path, Accept) of every page and description built from data.
PAGES = [
    ("/", "text/html"),
    ("/?q=a", "text/html"),
    ("/browse/Project", "text/html"),
    ("/void", "text/turtle"),
    ("/void", "text/html"),
    ("/.well-known/void", "application/ld+json"),
    ("/catalog", "text/turtle"),
    ("/catalog", "application/rdf+xml"),
    ("/dumps/", "text/html"),
    ("/dumps/", "application/json"),
    ("/def/", "text/html"),
    ("/releases", "text/html"),
]
RDF_ACCEPTS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


async def _check(client: httpx.AsyncClient, path: str, accept: str) -> None:
    r = await client.get(path, headers={"Accept": accept})
    assert r.status_code < 500, (path, accept, r.status_code, r.text[:500])
    if r.status_code != 200:
        return
    media = r.headers.get("content-type", "").split(";")[0]
    if media in RDF_ACCEPTS:
        list(ox.parse(r.content, RDF_ACCEPTS[media]))  # well-formed
    elif media.endswith("json"):
        json.loads(r.content)
    elif media == "text/html":
        assert r.text.rstrip().endswith("</html>"), (path, r.text[-200:])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(triples=graphs())
async def test_every_page_survives_any_data(
    ungated_client: httpx.AsyncClient, triples: list[ox.Triple]
) -> None:
    body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    r = await ungated_client.put(
        "/graph-store",
        params={"graph": BASE + "graph/fuzz"},
        content=body,
        headers={**AUTH, "Content-Type": "application/n-triples"},
    )
    assert r.status_code in (201, 204), r.text
    for path, accept in PAGES:
        await _check(ungated_client, path, accept)
    for n in range(4):
        for accept in ("text/html", *RDF_ACCEPTS):
            await _check(ungated_client, f"/doc/project/p{n}", accept)


@pytest.mark.parametrize(
    "triple",
    [
        "<urn:s> <urn:p> <urn:o> .",
        '<urn:s> a "a literal class" .',
        "<urn:s> a _:b .",
        "_:x a <https://w3id.org/sinlod/def/Project> .",
        "<javascript:alert(1)> <p:q> <x:y> .",
    ],
)
@pytest.mark.parametrize("path", ["/void", "/.well-known/void", "/catalog"])
async def test_void_with_odd_terms(
    ungated_client: httpx.AsyncClient, triple: str, path: str
) -> None:
    """The issue's reproduction and its relatives, one at a time."""
    r = await ungated_client.put(
        "/graph-store",
        params={"graph": BASE + "graph/odd"},
        content=triple.encode(),
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert r.status_code in (201, 204), r.text
    r = await ungated_client.get(path, headers={"Accept": "text/turtle"})
    assert r.status_code == 200, r.text
    list(ox.parse(r.content, ox.RdfFormat.TURTLE))
