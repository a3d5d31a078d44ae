"""End-to-end fixtures: the shipped dataset published once into a tmp store, and real uvicorn.

``running_server`` runs an app under uvicorn in a thread, on a socket bound as ``sinlod serve``
binds it (port 0: a free one), waits until it answers and stops it in ``finally``.
"""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from sinlod.config import Settings
from sinlod.publish import publish
from sinlod.server import create_app
from sinlod.server.operations.run import bind_socket
from sinlod.store import Store


def wait_until_responds(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def running_server(app: FastAPI) -> Iterator[str]:
    """``app`` under real uvicorn on 127.0.0.1 and a free port; yields its URL."""
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_responds(url + "/healthz")
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def shipped_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``data/records`` and the ontology published as ``make publish`` does (about 1 s), once."""
    path = tmp_path_factory.mktemp("shipped") / "store"
    settings = Settings.load(env={}, store_path=path)
    with Store.open(path) as store:
        publish([settings.data_dir / "records"], settings, store, agent="tests")
    return path


@pytest.fixture
def shipped_settings(tmp_path: Path, shipped_store: Path) -> Settings:
    """Settings on a private copy of the shipped store (read-only serving: no token)."""
    store = tmp_path / "store"
    shutil.copytree(shipped_store, store, symlinks=True)
    return Settings.load(env={}, store_path=store)


@pytest.fixture
async def shipped_client(shipped_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(shipped_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture(scope="module")
def shipped_server(tmp_path_factory: pytest.TempPathFactory, shipped_store: Path) -> Iterator[str]:
    """The shipped dataset served by real uvicorn (module-scoped: one server for the browser)."""
    store = tmp_path_factory.mktemp("served") / "store"
    shutil.copytree(shipped_store, store, symlinks=True)
    settings = Settings.load(env={}, store_path=store)
    with running_server(create_app(settings)) as url:
        yield url


def without_assets(settings: Settings, tmp_path: Path) -> Settings:
    """The same settings as on a machine where ``make assets`` never ran."""
    return dataclasses.replace(settings, assets_dir=tmp_path / "no-node-modules")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
