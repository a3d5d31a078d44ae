"""Data cannot become script on a page (issue 13, item 6).

Before: ``javascript:``, ``vbscript:`` and ``data:`` IRIs written as objects were rendered as
``<a href>`` (one click ran the script), and no page sent a Content-Security-Policy.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.hardening.conftest import AUTH

pytestmark = pytest.mark.anyio

THING = "https://w3id.org/sinlod/id/project/xss"
DOC = "/doc/project/xss"
P = "https://w3id.org/sinlod/def/"

#: IRIs a browser would run or open as a document, spelled as an attacker would.
HOSTILE = [
    "javascript:alert(1)",
    "JavaScript:alert(2)",
    "JAVASCRIPT:alert(3)",
    "javascript://%0aalert(4)",
    "javascript://example.org/%0Aalert(5)",
    "vbscript:msgbox(6)",
    "VBScript:msgbox(7)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg==",
    "DATA:text/html,%3Cscript%3Ealert(9)%3C/script%3E",
    "file:///etc/passwd",
    "urn:x:javascript:alert(10)",
]


def _turtle() -> str:
    lines = [f'<{THING}> a <{P}Project> ; <http://www.w3.org/2000/01/rdf-schema#label> "xss" .']
    for i, iri in enumerate(HOSTILE):
        lines.append(f"<{THING}> <{P}link{i}> <{iri}> .")
    # The hostile IRI as a predicate too, and as a typed thing with a label (browse, search).
    lines.append(f"<{THING}> <javascript:alert(11)> <https://example.org/ok> .")
    lines.append(
        f"<javascript:alert(12)> a <{P}Project> ; <http://www.w3.org/2000/01/rdf-schema#label>"
        ' "xss twin" .'
    )
    lines.append(f'<{THING}> <{P}note> "<script>alert(13)</script><img src=x onerror=alert(14)>" .')
    return "\n".join(lines)


@pytest.fixture
async def written(ungated_client: httpx.AsyncClient) -> httpx.AsyncClient:
    r = await ungated_client.put(
        "/graph-store",
        params={"graph": "https://w3id.org/sinlod/graph/xss"},
        content=_turtle().encode(),
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert r.status_code in (201, 204), r.text
    return ungated_client


def _hrefs(html: str) -> list[str]:
    return re.findall(r"""(?:href|src|action)\s*=\s*["']?([^"'\s>]*)""", html, re.IGNORECASE)


def _assert_no_script_links(html: str) -> None:
    for href in _hrefs(html):
        scheme = href.split(":", 1)[0].strip().lower() if ":" in href else ""
        assert scheme in ("", "http", "https", "mailto"), href


async def test_hostile_iris_are_text_not_links(written: httpx.AsyncClient) -> None:
    r = await written.get(DOC, headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    html = r.text
    _assert_no_script_links(html)
    for iri in HOSTILE[:3]:
        assert iri in html  # shown, as text
    assert "<script>alert(13)" not in html
    assert "<img src=x" not in html
    assert "https://example.org/ok" in html  # ordinary links stay links
    assert 'href="https://example.org/ok"' in html


async def test_browse_and_search_do_not_link_hostile_things(written: httpx.AsyncClient) -> None:
    for path in ("/browse/Project", "/?q=xss"):
        r = await written.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 200, (path, r.text)
        _assert_no_script_links(r.text)


HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


@pytest.mark.parametrize(
    ("method", "path", "accept"),
    [
        ("GET", "/", "text/html"),
        ("GET", DOC, "text/html"),
        ("GET", DOC, "text/turtle"),
        ("GET", "/sparql", "text/html"),  # the query page
        ("GET", "/sparql?query=ASK%7B%7D", "application/sparql-results+json"),  # fast lane
        ("GET", "/sparql?query=ASK%7B", "text/html"),  # fast lane, HTML error page
        ("GET", "/no/such/page", "text/html"),  # 404 page
        ("GET", "/void", "text/turtle"),
        ("GET", "/static/sinlod.css", "text/css"),
        ("POST", "/sparql", "application/sparql-results+json"),
        ("HEAD", "/healthz", "application/json"),
    ],
)
async def test_every_response_carries_the_security_headers(
    written: httpx.AsyncClient, method: str, path: str, accept: str
) -> None:
    kwargs: dict[str, object] = {"headers": {"Accept": accept}}
    if method == "POST":
        kwargs["data"] = {"query": "ASK {}"}
    r = await written.request(method, path, **kwargs)  # type: ignore[arg-type]
    for name, value in HEADERS.items():
        assert r.headers.get(name) == value, (path, name, dict(r.headers))
    csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp.split("script-src")[1][:40]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp


async def test_pages_have_no_inline_script(written: httpx.AsyncClient) -> None:
    """The policy forbids inline scripts, so no page may rely on one (data blocks are fine)."""
    for path in ("/", DOC, "/sparql", "/def/", "/browse/Project"):
        html = (await written.get(path, headers={"Accept": "text/html"})).text
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL):
            assert "src=" in attrs or "application/" in attrs, (path, attrs, body[:100])
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", html), path
