"""Errors → HTTP: the one place that maps exceptions to statuses and the one error shape.

Every error the server answers with is an RFC 9457 problem document
(``application/problem+json``)::

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "code": "query-error", "detail": "error at 1:25: expected ..."}

plus extension members where they help (``available`` for 406, ``line``/``column`` for a query
that does not parse). A browser (``Accept: text/html``) gets the same content as an HTML page.
Library errors keep their meaning (``QueryError`` → 400, ``StoreError`` → 500); the HTTP-only
conditions below are ``SinlodError`` subclasses too, so routers raise and never build responses.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sinlod.errors import (
    ConversionFailed,
    DatasetConflict,
    InputError,
    InvalidData,
    QueryError,
    QueryEvaluationError,
    ReleaseLogProtected,
    SinlodError,
    StoreError,
)
from sinlod.server.http.negotiation import (
    NotAcceptable as NotAcceptable,  # re-exported: routes raise it
)
from sinlod.server.http.negotiation import prefers_html

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class HttpProblem(SinlodError):
    """A condition only the server has; ``status`` and ``code`` say how it is answered."""

    status: int = 400
    code: str = "bad-request"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra
        self.headers: dict[str, str] = {}


class NotFound(HttpProblem):
    """Nothing is known about the requested resource or graph."""

    status = 404
    code = "not-found"


class MethodNotAllowed(HttpProblem):
    """A method the resource does not support; ``allow`` lists those it does."""

    status = 405
    code = "method-not-allowed"

    def __init__(self, message: str, allow: Sequence[str]) -> None:
        super().__init__(message)
        self.headers = {"Allow": ", ".join(allow)}


class UnsupportedMediaType(HttpProblem):
    """A request body in a format the endpoint does not read."""

    status = 415
    code = "unsupported-media-type"


class PayloadTooLarge(HttpProblem):
    """The request body is larger than ``max_request_bytes``."""

    status = 413
    code = "request-too-large"


class Unauthorized(HttpProblem):
    """A write without the right bearer token."""

    status = 401
    code = "unauthorized"


class Forbidden(HttpProblem):
    """A write on a server that has no update token configured: writes are off."""

    status = 403
    code = "forbidden"


class ResultTooLarge(HttpProblem):
    """A query whose result exceeds ``max_results``. The client can fix it (add a LIMIT), hence a
    4xx; the server never truncates silently."""

    status = 400
    code = "result-too-large"


class QueryTimeout(HttpProblem):
    """A query that ran longer than ``query_timeout``.

    503, not 504: 504 says an *upstream* server timed out, and we are not a gateway; 408 says the
    *client* was too slow to send. 503 ("will not spend more on this now") is what Fuseki and
    Virtuoso answer, and clients already retry or give up on it. No ``Retry-After``: the same query
    would time out again.
    """

    status = 503
    code = "query-timeout"


class MemoryLimit(HttpProblem):
    """A query that took its worker past ``worker_memory_limit`` resident memory.

    503 like ``QueryTimeout``, with its own code and the limit in ``memory_limit_mb``: the
    endpoint will not spend that much on one query, and the same query would fail again. (507
    Insufficient Storage is WebDAV's "cannot store the representation", not this.)
    """

    status = 503
    code = "memory-limit"


class ServiceNotAllowed(HttpProblem):
    """SERVICE or LOAD to a host that is not on ``service_allowlist``.

    403: the request is well-formed and understood, and refused by policy (a public endpoint must
    not become a proxy that fetches arbitrary URLs).
    """

    status = 403
    code = "service-not-allowed"


#: Library errors by class, most specific first (``RecordError`` is an ``InputError``). The one
#: table for SPARQL errors too: a query or update that does not parse is 400, one that parses and
#: fails when run 500 (SPARQL 1.1 Protocol), a write refused by policy 403, whichever path
#: (SHACL gate on or off, query on the event loop or in a thread) raised it.
_LIBRARY_STATUS: tuple[tuple[type[SinlodError], int, str], ...] = (
    (NotAcceptable, 406, "not-acceptable"),  # raised by negotiation.py, below this module
    (QueryEvaluationError, 500, "query-failed"),
    (QueryError, 400, "query-error"),
    (ReleaseLogProtected, 403, "release-log-protected"),
    (DatasetConflict, 409, "dataset-conflict"),
    (InvalidData, 422, "invalid-data"),
    (ConversionFailed, 422, "invalid-data"),
    (InputError, 400, "input-error"),
    (StoreError, 500, "store-error"),
)

_POSITION = re.compile(r"error at (\d+):(\d+)")


def status_of(error: SinlodError) -> tuple[int, str]:
    """The HTTP status and short code for a library or server error."""
    if isinstance(error, HttpProblem):
        return error.status, error.code
    for cls, status, code in _LIBRARY_STATUS:
        if isinstance(error, cls):
            return status, code
    return 500, "internal-error"


def problem(status: int, detail: str, code: str, **extra: Any) -> dict[str, Any]:
    """The problem document (RFC 9457) for one error."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
    }
    body.update(extra)
    return body


def _extras(error: SinlodError) -> dict[str, Any]:
    """Extension members: where a query failed to parse, what a 406 could have been."""
    extra: dict[str, Any] = dict(getattr(error, "extra", {}) or {})
    if isinstance(error, QueryError):
        match = _POSITION.search(str(error))
        if match:
            extra.update(line=int(match.group(1)), column=int(match.group(2)))
    return extra


def _headers(status: int) -> dict[str, str]:
    if status == 401:
        return {"WWW-Authenticate": 'Bearer realm="sinlod"'}
    return {}


def _error_headers(error: SinlodError) -> dict[str, str]:
    return dict(getattr(error, "headers", {}) or {})


def problem_response(
    request: Request, status: int, detail: str, code: str, **extra: Any
) -> Response:
    """The error as problem JSON, or as an HTML page when a browser asked."""
    from sinlod.server.http.templating import render

    body = problem(status, detail, code, **extra)
    headers = _headers(status)
    if request.method != "HEAD" and prefers_html(request.headers.get("accept")):
        page = render(request, "error.html", problem=body, status_code=status, headers=headers)
        return page
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _sinlod_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SinlodError)
    status, code = status_of(exc)
    detail = getattr(exc, "message", None) or str(exc)
    if status >= 500 and not isinstance(exc, HttpProblem):
        # The client gets the class of failure; the log gets the details.
        log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
        if isinstance(exc, StoreError):
            detail = f"the store failed: {exc}"
        elif not isinstance(exc, QueryEvaluationError):  # that one is about the query: say it
            detail = "internal error"
    _count(request, status, code)
    custom = getattr(exc, "response", None)  # an error with its own body (a SHACL report)
    if callable(custom):
        response: Response = custom(request)
    else:
        response = problem_response(request, status, detail, code, **_extras(exc))
    response.headers.update(_error_headers(exc))
    return response


#: Problem codes that mean a refused write, and the reason ``/metrics`` counts them under.
_REFUSED_WRITES = {
    "unauthorized": "unauthorized",
    "forbidden": "forbidden",
    "shacl-violation": "shacl",
    "release-log-protected": "forbidden",
}


def _count(request: Request, status: int, code: str) -> None:
    """Feed ``/metrics``: problems by code, and writes refused by the gate or for the token."""
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is None:
        return
    metrics.problem(code)
    if code in _REFUSED_WRITES:
        metrics.refused_write(_REFUSED_WRITES[code])


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
    response = problem_response(request, exc.status_code, str(exc.detail), code)
    response.headers.update(exc.headers or {})
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return problem_response(request, 400, "; ".join(parts), "bad-request")


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A bug: 500 in the same shape, details only in the log (Starlette logs and re-raises)."""
    return problem_response(request, 500, "internal error", "internal-error")


def install(app: FastAPI) -> None:
    """Register the handlers: sinlod errors, Starlette's HTTP errors, validation errors and bugs
    all answer in the one shape."""
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(SinlodError, _sinlod_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
