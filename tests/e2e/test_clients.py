"""Real SPARQL clients against a live server with the shipped dataset: SPARQLWrapper (Python) and
a page on another origin calling ``fetch`` in headless Chromium (the JavaScript way, with CORS)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from selenium.webdriver.remote.webdriver import WebDriver
from SPARQLWrapper import GET, JSON, POST, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from tests.e2e.test_browser import browser, wait  # noqa: F401 (the fixture)

SIC = "https://w3id.org/sinlod/id/project/sic"
PROJECTS = """PREFIX sinlod: <https://w3id.org/sinlod/def/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?project ?name WHERE {
  ?project a sinlod:Project ; skos:prefLabel ?name FILTER (lang(?name) = "en")
} ORDER BY ?project"""


def _client(server: str, method: str = GET) -> SPARQLWrapper:
    client = SPARQLWrapper(server + "/sparql")
    client.setMethod(method)
    return client


@pytest.mark.parametrize("method", [GET, POST])
# SPARQLWrapper 2.0 builds CONSTRUCT results with rdflib's ConjunctiveGraph, deprecated there.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_sparqlwrapper_select_ask_construct(shipped_server: str, method: str) -> None:
    client = _client(shipped_server, method)
    client.setQuery(PROJECTS)
    client.setReturnFormat(JSON)
    rows = client.queryAndConvert()["results"]["bindings"]  # type: ignore[index,call-overload]
    names = {r["project"]["value"]: r["name"]["value"] for r in rows}
    assert names[SIC] == "Social Innovation Community"

    client.setReturnFormat(XML)  # SPARQL XML results, parsed by SPARQLWrapper into a DOM
    dom = client.queryAndConvert()
    assert "Social Innovation Community" in dom.toxml()  # type: ignore[union-attr]

    client.setQuery(f"ASK {{ <{SIC}> ?p ?o }}")
    client.setReturnFormat(JSON)
    assert client.queryAndConvert()["boolean"] is True  # type: ignore[index,call-overload]

    client.setQuery(f"CONSTRUCT {{ <{SIC}> ?p ?o }} WHERE {{ <{SIC}> ?p ?o }}")
    for fmt in (TURTLE, XML):
        client.setReturnFormat(fmt)
        result = client.queryAndConvert()
        graph = (
            result
            if isinstance(result, rdflib.Graph)
            else rdflib.Graph().parse(data=result, format="turtle")
        )
        labels = {str(o) for o in graph.objects(rdflib.URIRef(SIC), rdflib.SKOS.prefLabel)}
        assert "Social Innovation Community" in labels, fmt


def test_sparqlwrapper_gets_a_clear_error_for_a_bad_query(shipped_server: str) -> None:
    client = _client(shipped_server)
    client.setQuery("SELECT * WHERE { ?s ?p }")
    client.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed) as raised:
        client.queryAndConvert()
    assert "1:" in str(raised.value)  # the parser's line and column reach the client


PAGE = """<!doctype html><meta charset="utf-8"><title>elsewhere</title><pre id="out">…</pre>
<script>
const endpoint = new URL("/sparql", ENDPOINT);
const query = "ASK { <SIC> ?p ?o }";
async function run() {
  const out = [];
  const get = await fetch(endpoint + "?query=" + encodeURIComponent(query),
                          {headers: {"Accept": "application/sparql-results+json"}});
  out.push("get " + get.status + " " + (await get.json()).boolean + " " + get.headers.get("ETag"));
  const post = await fetch(endpoint, {method: "POST", body: new URLSearchParams({query}),
                                      headers: {"Accept": "application/sparql-results+json"}});
  out.push("post " + post.status + " " + (await post.json()).boolean);
  try {
    await fetch(endpoint, {method: "POST", body: "CLEAR ALL",
      headers: {"Content-Type": "application/sparql-update", "Authorization": "Bearer x"}});
    out.push("update sent");
  } catch (e) { out.push("update blocked"); }
  document.getElementById("out").textContent = out.join("\\n");
}
run().catch(e => { document.getElementById("out").textContent = "failed: " + e; });
</script>"""


@pytest.fixture
def other_origin(tmp_path: Path, shipped_server: str) -> Iterator[str]:
    """A page served from another origin (another port) that queries ``shipped_server``."""
    (tmp_path / "index.html").write_text(
        PAGE.replace("ENDPOINT", repr(shipped_server)).replace("SIC", SIC), encoding="utf-8"
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
        finally:
            server.shutdown()


def test_a_page_on_another_origin_queries_with_fetch(
    browser: WebDriver,  # noqa: F811 (the fixture)
    other_origin: str,
) -> None:
    browser.get(other_origin)
    wait(browser).until(lambda d: "…" not in d.find_element("id", "out").text)
    lines = browser.find_element("id", "out").text.splitlines()
    assert lines[0].startswith('get 200 true "'), lines  # the ETag is exposed to scripts
    assert lines[1] == "post 200 true", lines
    # Writes never pass CORS: Authorization is not an allowed header, the preflight fails.
    assert lines[2] == "update blocked", lines
