"""The one error shape: every error the server gives is an RFC 9457 problem document."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from fastapi import FastAPI

from sinlod.errors import InputError, QueryError, StoreError
from sinlod.server import create_app
from sinlod.server.http.problems import (
    Forbidden,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    QueryTimeout,
    Unauthorized,
    status_of,
)
from tests.server.conftest import client_for

pytestmark = pytest.mark.anyio

KEYS = {"type", "title", "status", "code", "detail"}


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, object]:
    """The canonical error: status, media type, the five members, and matching status fields."""
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert KEYS <= set(body)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == "about:blank"
    assert isinstance(body["detail"], str) and body["detail"]
    return dict(body)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (QueryError("x"), 400),
        (InputError("x"), 400),
        (StoreError("x"), 500),
        (NotFound("x"), 404),
        (NotAcceptable(["text/turtle"]), 406),
        (PayloadTooLarge("x"), 413),
        (Unauthorized("x"), 401),
        (Forbidden("x"), 403),
        (QueryTimeout("x"), 503),
    ],
)
def test_status_mapping(error: Exception, status: int) -> None:
    assert status_of(error)[0] == status  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/sparql?query=SELEC", 400, "query-error"),
        ("GET", "/doc/project/nope", 404, "not-found"),
        ("GET", "/no/such/route", 404, "not-found"),
        ("DELETE", "/healthz", 405, "method-not-allowed"),
        ("GET", "/browse/Project?page=zero", 400, "bad-request"),
        ("GET", "/graph-store?graph=not%20an%20iri", 400, "input-error"),
    ],
)
async def test_every_error_has_the_one_shape(
    client: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    r = await client.request(method, path, headers={"Accept": "application/json"})
    assert_problem(r, status, code)


async def test_validation_errors_name_the_parameter(client: httpx.AsyncClient) -> None:
    r = await client.get("/browse/Project?page=zero")
    body = assert_problem(r, 400, "bad-request")
    assert str(body["detail"]).startswith("query.page: ")


async def test_browsers_get_the_error_as_html(client: httpx.AsyncClient) -> None:
    r = await client.get("/sparql?query=SELEC", headers={"Accept": "text/html"})
    assert r.status_code == 400
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>400 Bad Request</h1>" in r.text
    assert "error at 1:" in r.text


async def test_store_failure_is_500_without_internals(server_settings) -> None:  # type: ignore[no-untyped-def]
    app: FastAPI = create_app(server_settings)

    class Broken:
        release_id = "r"
        last_modified = None

        def refresh(self) -> bool:
            raise StoreError("snapshot 000002 cannot be opened")

        def close(self) -> None:
            pass

    async for client in client_for(app):
        app.state.store = Broken()
        r = await client.get("/healthz")
        body = assert_problem(r, 500, "store-error")
        assert body["detail"] == "the store failed: snapshot 000002 cannot be opened"


async def test_app_starts_before_the_first_publish(server_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(
        server_settings, store_path=tmp_path / "nothing", update_token=None
    )
    async for client in client_for(create_app(settings)):
        assert (await client.get("/healthz")).json()["release"] is None
        assert (await client.get("/doc/project/sic.ttl")).status_code == 404


async def test_app_refuses_to_start_on_a_file(server_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "file").write_text("not a store")
    settings = dataclasses.replace(server_settings, store_path=tmp_path / "file")
    with pytest.raises(StoreError, match="is a file, not a store directory"):
        async for _ in client_for(create_app(settings)):
            pass


async def test_a_bug_is_a_500_in_the_same_shape(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sinlod.server.linked_data import describe

    def broken(store: object, iri: str) -> None:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(describe, "describe", broken)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            r = await client.get("/doc/project/sic.ttl")
    body = assert_problem(r, 500, "internal-error")
    assert body["detail"] == "internal error"
