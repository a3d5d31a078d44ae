"""Writes over HTTP (SPARQL Update, Graph Store Protocol): the library's gated write
(``sinlod.changes``), its refusal answered as HTTP.

The gate itself (compute on a scratch copy, diff, validate with context, commit with a release)
is library code shared with ``sinlod publish``; here a refused write becomes a 422 whose body is
the validation report, as JSON in a problem document or as the SHACL report in Turtle.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from sinlod import changes
from sinlod.changes import GraphName, Write, update_scope
from sinlod.config import Settings
from sinlod.minting import check_dataset
from sinlod.server.http.negotiation import Format, negotiate
from sinlod.server.http.problems import PROBLEM_JSON, HttpProblem, problem
from sinlod.store import Release
from sinlod.store.backend import StoreBackend
from sinlod.validate import Report

__all__ = [
    "ShapesViolated",
    "Write",
    "delete_graph",
    "extend_graph",
    "replace_graph",
    "sparql_update",
    "update_scope",
    "write_for",
]


#: The request header whose value says why a write is made (``--message`` on the command line).
MESSAGE_HEADER = "Sinlod-Message"
#: The request header naming the dataset a write is for: a graph of another dataset is then
#: refused with 409 (``--dataset`` on the command line; issue 11).
DATASET_HEADER = "Sinlod-Dataset"


def write_for(request: Request, who: str, operation: str) -> Write:
    """The write a request makes: its token's name, the operation, and its ``Sinlod-Message``
    header, percent-decoded as UTF-8 (header values are Latin-1 on the wire, so a message in
    another script is sent percent-encoded: ``Sinlod-Message: Stra%C3%9Fe%20fixed``)."""
    raw = request.headers.get(MESSAGE_HEADER)
    message = unquote(raw, errors="replace").strip() if raw else None
    dataset = request.headers.get(DATASET_HEADER)
    return Write(who, operation, message or None, check_dataset(dataset) if dataset else None)


class ShapesViolated(HttpProblem):
    """A write whose result would violate the shapes: 422 with the validation report."""

    status = 422
    code = "shacl-violation"

    def __init__(self, refused: changes.ShapesViolated) -> None:
        super().__init__(refused.message)
        self.report: Report = refused.report

    def response(self, request: Request) -> Response:
        """The report as Turtle (the standard SHACL validation report) when the client asks
        for it, else as a problem document with the JSON report in ``report``."""
        fmt = negotiate(request.headers.get("accept"), _REPORT_FORMATS)
        if fmt is _TURTLE_REPORT:
            return Response(self.report.to_turtle(), 422, media_type=fmt.content_type)
        body = problem(422, self.message, self.code, report=self.report.to_json())
        return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)


_JSON_REPORT = Format(PROBLEM_JSON, "json", "json", None, ("application/json",))
_TURTLE_REPORT = Format("text/turtle", "turtle", "ttl")
_REPORT_FORMATS = (_JSON_REPORT, _TURTLE_REPORT)


def _answered(write: Callable[[], Release | None]) -> Release | None:
    """Run a library write; its refusal by the shapes becomes the 422 above."""
    try:
        return write()
    except changes.ShapesViolated as exc:
        raise ShapesViolated(exc) from exc


def sparql_update(
    store: StoreBackend, settings: Settings, text: str, write: Write, *, base_iri: str | None = None
) -> Release | None:
    """``changes.sparql_update``, a refusal as 422. Runs in a worker thread."""
    return _answered(lambda: changes.sparql_update(store, settings, text, write, base_iri=base_iri))


def replace_graph(
    store: StoreBackend,
    settings: Settings,
    graph: GraphName,
    triples: list[ox.Triple],
    write: Write,
) -> Release | None:
    """Graph Store PUT (``changes.replace_graph``), a refusal as 422."""
    return _answered(lambda: changes.replace_graph(store, settings, graph, triples, write))


def delete_graph(
    store: StoreBackend, settings: Settings, graph: GraphName, write: Write
) -> Release | None:
    """Graph Store DELETE (``changes.delete_graph``), a refusal as 422."""
    return _answered(lambda: changes.delete_graph(store, settings, graph, write))


def extend_graph(
    store: StoreBackend,
    settings: Settings,
    graph: GraphName,
    triples: list[ox.Triple],
    write: Write,
) -> Release | None:
    """Graph Store POST (``changes.extend_graph``), a refusal as 422."""
    return _answered(lambda: changes.extend_graph(store, settings, graph, triples, write))
