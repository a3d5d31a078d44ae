"""End to end: the real app under real uvicorn on a free port, spoken to over TCP with httpx."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sinlod.config import Settings
from sinlod.server import create_app
from tests.e2e.conftest import running_server
from tests.server.conftest import TOKEN, publish


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The fixture data under real uvicorn, with an update token so writes can be tested."""
    store = tmp_path_factory.mktemp("live") / "store"
    publish(store)
    settings = dataclasses.replace(Settings.load(env={}, store_path=store), update_token=TOKEN)
    with running_server(create_app(settings)) as url:
        yield url


def test_health_query_and_dereferencing_over_tcp(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        r = client.get(
            "/sparql",
            params={"query": "SELECT ?p WHERE { ?p a <https://w3id.org/sinlod/def/Project> }"},
        )
        assert r.json()["results"]["bindings"][0]["p"]["value"] == (
            "https://w3id.org/sinlod/id/project/sic"
        )
        thing = client.get("/id/project/sic", headers={"Accept": "text/turtle"})
        assert thing.status_code == 303
        doc = client.get(
            "/id/project/sic", headers={"Accept": "text/turtle"}, follow_redirects=True
        )
        assert doc.status_code == 200
        assert doc.headers["content-type"] == "text/turtle; charset=utf-8"
        assert "Social Innovation Community" in doc.text


def test_pages_and_conditional_get_over_tcp(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as client:
        page = client.get("/doc/project/sic", headers={"Accept": "text/html"})
        assert "<h1>Social Innovation Community</h1>" in page.text
        # links point at this server, not at w3id.org
        assert f'href="{live_server}/id/organisation/aeidl"' in page.text
        again = client.get(
            "/doc/project/sic",
            headers={"Accept": "text/html", "If-None-Match": page.headers["etag"]},
        )
        assert again.status_code == 304


def test_update_then_read_over_tcp(live_server: str) -> None:
    insert = (
        "INSERT DATA { GRAPH <https://w3id.org/sinlod/graph/live> "
        "{ <https://w3id.org/sinlod/id/project/live>"
        ' <http://www.w3.org/2004/02/skos/core#prefLabel> "Live"@en } }'
    )
    with httpx.Client(base_url=live_server) as client:
        r = client.post(
            "/sparql", data={"update": insert}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert r.status_code == 204
        assert client.get("/doc/project/live.nt").text == (
            "<https://w3id.org/sinlod/id/project/live> "
            '<http://www.w3.org/2004/02/skos/core#prefLabel> "Live"@en .\n'
        )


def test_cli_serve_help_names_the_options() -> None:
    from tests.conftest import run_cli

    result = run_cli(["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--store", "--host", "--port", "--workers"):
        assert option in result.output


def test_cli_serve_reports_a_broken_store(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    (tmp_path / "other.txt").write_text("not a store")
    result = run_cli(["serve", "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {tmp_path}: not a sinlod store (no FORMAT file);"
        " choose an empty or new directory for --store\n"
    )
