"""Mapping between request URLs and the configured base IRI (DESIGN.md decision 1).

The data names things ``{base_iri}id/...``; the server may run anywhere (``http://127.0.0.1:8000``
locally, the production host behind w3id.org). A request path is looked up under the base IRI, and
IRIs under the base (or under the fixed ontology namespace) are linked back to this server.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import URL
from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from sinlod.config import Settings
from sinlod.namespaces import DEFAULT_BASE

#: Ontology terms always live here, whatever the configured base (docs/model.md).
ONTOLOGY_BASE = DEFAULT_BASE + "def/"


def server_root(request: Request, settings: Settings) -> str:
    """The URL this server is reached at, ending in ``/``."""
    root = settings.public_url or str(request.base_url)
    return root if root.endswith("/") else root + "/"


def iri_for_path(path: str, settings: Settings) -> str:
    """The IRI a request path stands for: ``/id/project/sic`` → ``{base}id/project/sic``;
    ``/def/Project`` → ``https://w3id.org/sinlod/def/Project``.

    >>> iri_for_path("/def/roles/coordinator", Settings())
    'https://w3id.org/sinlod/def/roles/coordinator'
    """
    rest = path.lstrip("/")
    if rest.startswith("def/"):
        return ONTOLOGY_BASE + rest.removeprefix("def/")
    return settings.base_iri + rest


def local_url(iri: str, root: str, settings: Settings) -> str | None:
    """The URL on this server for an IRI it serves, or ``None`` for an external IRI.

    >>> local_url("https://w3id.org/sinlod/id/project/sic", "http://h/", Settings())
    'http://h/id/project/sic'
    """
    if iri.startswith(ONTOLOGY_BASE):
        return root + "def/" + iri.removeprefix(ONTOLOGY_BASE)
    rest = iri.removeprefix(settings.base_iri)
    if rest != iri and rest.startswith(("id/", "doc/", "def/")):
        return root + rest
    return None


#: Schemes a page may link to: a browser runs ``javascript:`` and ``vbscript:`` links and opens
#: ``data:`` documents, so an IRI written into the data with one of those must stay text. The
#: prefix is matched on the IRI exactly as stored: a browser ignores leading spaces and control
#: characters and tabs or newlines inside the scheme, so nothing is stripped before the test.
_LINKABLE = re.compile(r"(?:https?://|mailto:)[^\x00-\x20]", re.IGNORECASE)


def link_for(iri: str, root: str, settings: Settings) -> str | None:
    """Where a page links an IRI: this server's page for one it serves, the IRI itself when it
    is http(s) or mailto, else ``None`` (the IRI is shown as text).

    >>> [link_for(i, "http://h/", Settings()) for i in ("https://x.org/a", "javascript:alert(1)",
    ...  "JavaScript://%0aalert(1)", " https://x.org", "urn:isbn:1", "mailto:a@b.org")]
    ['https://x.org/a', None, None, None, None, 'mailto:a@b.org']
    """
    local = local_url(iri, root, settings)
    if local is not None:
        return local
    return iri if _LINKABLE.match(iri) else None


def alternate_url(path: str, extension: str, name: str) -> str:
    """The URL of one format of a document: ``/doc/project/sic.ttl``; for a path ending in ``/``
    (the ontology, ``/def/``) a ``?format=`` parameter instead.

    >>> alternate_url("/def/", "ttl", "turtle")
    '/def/?format=turtle'
    """
    return f"{path}?format={name}" if path.endswith("/") else f"{path}.{extension}"


def redirect_slashes_for_reads(router: Router) -> None:
    """Starlette answers a path that only differs from a route by a trailing ``/`` with a 307 to
    the other spelling, for every method: ``POST /sparql/`` or ``PUT /graph-store/`` were
    redirected, and a 307 makes a client resend its body (and token) to wherever ``Location``
    points. Only ``GET`` and ``HEAD`` are redirected now, and only to a route that answers them;
    every other method gets the app's 404.
    """
    router.redirect_slashes = False
    not_found = router.not_found

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "/")
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and path != "/":
            other = dict(scope)
            other["path"] = scope["path"].rstrip("/") if path.endswith("/") else scope["path"] + "/"
            for route in router.routes:
                if route.matches(other)[0] is Match.FULL:
                    await RedirectResponse(str(URL(scope=other)))(scope, receive, send)
                    return
        await not_found(scope, receive, send)

    router.default = default


def host_names(settings: Settings) -> frozenset[str]:
    """The Host names this server answers: ``allowed_hosts``, the host of ``public_url`` and
    the address it was told to listen on (unless that is every address)."""
    names = {h.strip().lower() for h in settings.allowed_hosts if h.strip()}
    if settings.public_url:
        names.add(_hostname(urlsplit(settings.public_url).netloc))
    if settings.host not in ("0.0.0.0", "::", ""):
        names.add(_hostname(settings.host) if ":" not in settings.host else f"[{settings.host}]")
    return frozenset(names)


def _hostname(host: str) -> str:
    """``Host`` without its port, lower case: ``Example.org:8000`` → ``example.org``,
    ``[::1]:8000`` → ``[::1]``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host: str, names: frozenset[str]) -> bool:
    """
    >>> names = frozenset({"localhost", ".example.org"})
    >>> [host_allowed(h, names) for h in ("LOCALHOST:8000", "a.example.org", "evil.org", "")]
    [True, True, False, False]
    """
    name = _hostname(host)
    if "*" in names or (name and name in names):
        return True
    return bool(name) and any(
        n.startswith(".") and (name.endswith(n) or name == n[1:]) for n in names
    )


class HostCheck:
    """Outermost ASGI check of the ``Host`` header (issue 13, item 8): without ``public_url``
    the server builds absolute URLs (``/dumps/``, the service description, redirects, the base
    IRI of queries) from it, so a request naming another host would get answers pointing there,
    which a shared cache could then serve to others. Such a request gets 400; one without a
    ``Host`` header (HTTP/1.0) is answered from the listening address, as Starlette does."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.names = host_names(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = next((v for k, v in scope["headers"] if k == b"host"), None)
            if host is not None and not host_allowed(host.decode("latin-1"), self.names):
                from sinlod.server.http.problems import problem_response  # avoid an import cycle

                shown = host.decode("latin-1")[:100]
                response = problem_response(
                    Request(scope),
                    400,
                    f"this server does not answer for host {shown!r}; setting allowed_hosts",
                    "host-not-allowed",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
