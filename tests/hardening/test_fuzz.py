"""A small SPARQL fuzzer: odd, nested, half-valid text through every way of sending it.

Hypothesis builds query and update text from SPARQL's own pieces (keywords, brackets, IRIs,
``<`` that may be less-than, strings of every quote style, comments ending in CR or LF, codepoint
escapes, SERVICE/LOAD, deep nesting past ``max_query_depth``) and sends it by GET, form POST and
direct POST, updates with the token. No answer may be a 5xx other than the documented one (500
``query-failed``: a query that parses and fails when run, SPARQL 1.1 Protocol), and the worker
must keep answering. Nesting stays far below pyoxigraph's crash depth (2,200), so a regression
in the depth check fails here as a 400 missing, not as a dead pytest. Bounded: 260 examples,
about 20 s.
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.conftest import AUTH

pytestmark = pytest.mark.anyio

PIECES = [
    "SELECT",
    "*",
    "ASK",
    "CONSTRUCT",
    "DESCRIBE",
    "WHERE",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ".",
    ";",
    ",",
    "FILTER",
    "OPTIONAL",
    "UNION",
    "MINUS",
    "GRAPH",
    "BIND",
    "AS",
    "VALUES",
    "UNDEF",
    "SERVICE",
    "SILENT",
    "LOAD",
    "INTO",
    "INSERT",
    "DELETE",
    "DATA",
    "CLEAR",
    "DROP",
    "ALL",
    "PREFIX",
    "ex:",
    "BASE",
    "FROM",
    "NAMED",
    "LIMIT",
    "10",
    "OFFSET",
    "ORDER",
    "BY",
    "GROUP",
    "COUNT",
    "DISTINCT",
    "EXISTS",
    "NOT",
    "IN",
    "?s",
    "?p",
    "?o",
    "$x",
    "a",
    "<http://e/p>",
    "<x>",
    "<",
    ">",
    "<=",
    "1<2",
    "||",
    "&&",
    "!",
    "+",
    "-",
    "/",
    "^",
    "^^",
    "@en",
    "|",
    '"s"',
    "'s'",
    '"""a\nb"""',
    "'''c'''",
    '"\\""',
    "# c\n",
    "#c\r",
    "\\u0041",
    "\\u003C",
    "\\U0001F600",
    "ex:a\\)",
    "1.5e3",
    "true",
    "_:b",
    "<<",
    ">>",
    "\u00e9",
    "\x00",
    "\r\n",
    'REGEX(?o, "(((")',
    "STR(",
    "<http://127.0.0.1:9/>",
    "SERVICE <http://127.0.0.1:9/>",
]

texts = st.lists(st.sampled_from(PIECES), max_size=60).map(" ".join)


@st.composite
def nested(draw: st.DrawFn) -> str:
    """Valid-looking nesting of groups, OPTIONALs, FILTER parentheses and bnodes, up to 300."""
    depth = draw(st.integers(0, 300))
    kind = draw(st.sampled_from(["group", "optional", "paren", "bnode", "union"]))
    if kind == "group":
        return "SELECT * WHERE " + "{" * depth + " ?s ?p ?o " + "}" * depth
    if kind == "optional":
        return "SELECT * { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * depth + "}" * depth + "}"
    if kind == "paren":
        return "SELECT * { FILTER(" + "(" * depth + "1" + ")" * depth + ") }"
    if kind == "bnode":
        return "SELECT * { ?s ?p " + "[ ?p " * depth + "?o" + " ]" * depth + " }"
    return "SELECT * { " + " UNION ".join(["{ ?s ?p ?o }"] * (depth * 5 + 1)) + " }"


ALLOWED_500 = {"query-failed"}


async def _check(r: httpx.Response, text: str) -> None:
    if r.status_code >= 500:
        code = r.json().get("code") if r.headers.get("content-type", "").endswith("json") else None
        assert code in ALLOWED_500, (r.status_code, r.text[:300], text[:300])


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.one_of(texts, nested()), how=st.sampled_from(["get", "form", "direct"]))
async def test_queries(client: httpx.AsyncClient, text: str, how: str) -> None:
    accept = {"Accept": "application/sparql-results+json"}
    if how == "get":
        r = await client.get("/sparql", params={"query": text}, headers=accept)
    elif how == "form":
        r = await client.post("/sparql", data={"query": text}, headers=accept)
    else:
        r = await client.post(
            "/sparql",
            content=text.encode("utf-8", "surrogatepass"),
            headers={**accept, "Content-Type": "application/sparql-query"},
        )
    await _check(r, text)


@settings(
    max_examples=50,  # an accepted update writes a snapshot: ~0.25 s each
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.one_of(texts, nested().map(lambda q: q.replace("SELECT *", "DELETE {}", 1))))
async def test_updates(ungated_client: httpx.AsyncClient, text: str) -> None:
    r = await ungated_client.post(
        "/sparql",
        content=text.encode("utf-8", "surrogatepass"),
        headers={**AUTH, "Content-Type": "application/sparql-update"},
    )
    await _check(r, text)
    assert (await ungated_client.get("/healthz")).status_code == 200


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.lists(st.sampled_from(["{", "[", '"@id"', ":", ",", '"x"', "}", "]", "<", ">"])).map(
            "".join
        ),
    ),
    media=st.sampled_from(
        ["text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples"]
    ),
)
async def test_rdf_bodies(ungated_client: httpx.AsyncClient, body: bytes | str, media: str) -> None:
    data = body.encode() if isinstance(body, str) else body
    r = await ungated_client.put(
        "/graph-store",
        params={"graph": "http://example.org/g/fuzz"},
        content=data,
        headers={**AUTH, "Content-Type": media},
    )
    assert r.status_code < 500, (r.status_code, r.text[:300], data[:200])
