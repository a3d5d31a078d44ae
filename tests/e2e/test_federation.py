"""Federation with a second local endpoint (docs/federation.md): ``SERVICE`` brings back rows that
only the remote server has, joined with local data, when the host is on ``service_allowlist``;
the same query is refused when it is not. Two live uvicorn servers, no internet."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pyoxigraph as ox

from sinlod.config import Settings
from sinlod.server import create_app
from sinlod.store import ReleaseInfo, Store
from tests.e2e.conftest import running_server

SIC = "https://w3id.org/sinlod/id/project/sic"
SIMRA = "https://w3id.org/sinlod/id/project/simra"
QUERY = """
PREFIX sinlod: <https://w3id.org/sinlod/def/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?project ?label WHERE {{
  ?project a sinlod:Project .
  SERVICE <http://localhost:{port}/sparql> {{
    ?project skos:prefLabel ?label . FILTER(LANG(?label) = "en")
  }}
}} ORDER BY ?project
"""


def test_select_through_service_returns_the_remote_rows(
    shipped_settings: Settings, tmp_path: Path
) -> None:
    # The local store knows two projects by IRI only: no labels. SIMRA is not in the remote data.
    local_store = tmp_path / "local"
    project = ox.NamedNode("https://w3id.org/sinlod/def/Project")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    with Store.open(local_store) as store:
        store.replace_graphs(
            {
                "https://w3id.org/sinlod/graph/local": [
                    ox.Triple(ox.NamedNode(SIC), rdf_type, project),
                    ox.Triple(ox.NamedNode(SIMRA), rdf_type, project),
                ]
            },
            release=ReleaseInfo(agent="tests"),
        )
    local = dataclasses.replace(shipped_settings, store_path=local_store)
    with running_server(create_app(shipped_settings)) as remote_url:
        port = remote_url.rsplit(":", 1)[1]
        query = QUERY.format(port=port)
        allowed = create_app(dataclasses.replace(local, service_allowlist=("localhost",)))
        with running_server(allowed) as url:
            answer = httpx.get(
                url + "/sparql",
                params={"query": query},
                headers={"Accept": "application/sparql-results+json"},
                timeout=30,
            )
        refused_app = create_app(dataclasses.replace(local, service_allowlist=("ok.example",)))
        with running_server(refused_app) as url:
            refused = httpx.get(url + "/sparql", params={"query": query}, timeout=30)
    assert answer.status_code == 200, answer.text
    rows = [
        (b["project"]["value"], b["label"]["value"], b["label"].get("xml:lang"))
        for b in answer.json()["results"]["bindings"]
    ]
    assert rows == [(SIC, "Social Innovation Community", "en")]
    assert refused.status_code == 403
    assert "localhost" in refused.json()["detail"]
