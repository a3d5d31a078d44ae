"""Fixtures: each remote server once per session (``servers.py``), and each in turn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.remote.servers import Endpoint, oxigraph, virtuoso


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    with oxigraph(tmp_path_factory.mktemp("oxigraph-remote") / "store") as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    with virtuoso(tmp_path_factory.mktemp("virtuoso")) as endpoint:
        yield endpoint


@pytest.fixture(params=["oxigraph", "virtuoso"])
def endpoint(request: pytest.FixtureRequest) -> Endpoint:
    """Each remote server in turn."""
    server: Endpoint = request.getfixturevalue(f"{request.param}_server")
    return server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
