"""Security headers on every response, including the fast lane's (issue 13, item 6).

Pages show data anyone with a write token (or a harvested source) put there. Autoescaping keeps
markup inert and ``urls.link_for`` keeps ``javascript:`` IRIs out of links; these headers are the
second line, for whatever slips past both:

* ``Content-Security-Policy``: scripts only from this server (no inline script, no ``eval``, no
  ``javascript:`` URLs: the query page's configuration is a JSON data block, its code a file),
  no plugins, no ``<base>``, forms only to this server, and no framing (``frame-ancestors``).
  Styles may be inline (YASGUI sets ``style`` attributes); style cannot run code.
* ``X-Content-Type-Options: nosniff``: a Turtle or JSON answer is never sniffed into HTML.
* ``X-Frame-Options: DENY`` for browsers without ``frame-ancestors``.
* ``Referrer-Policy: strict-origin-when-cross-origin``: links out of a page do not carry its
  query string (a ``/sparql?query=`` URL) to other sites.

The reconciliation preview (``/reconcile/preview``) is made to be framed by OpenRefine, on any
origin: it alone may be framed, and runs no script at all (``default-src 'none'``).

FastAPI's API docs page (``/api/docs``) loads Swagger UI from a CDN with an inline starter
script, so it alone gets a policy that allows those; it shows the OpenAPI document, not data.

The layer sits outside everything (``app._SinlodApp``), so the plain-ASGI fast lane, the error
handlers and static files all answer with the same headers: one tuple appended per response.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; font-src 'self' data:; connect-src 'self'{connect};"
    " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net;"
    " style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data:"
    " https://fastapi.tiangolo.com; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def content_security_policy(public_url: str | None) -> str:
    """The pages' policy; the query page may also call the endpoint at ``public_url``.

    >>> "connect-src 'self' https://lod.example" in content_security_policy("https://lod.example/x/")
    True
    """
    connect = ""
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme and parts.netloc:
            connect = f" {parts.scheme}://{parts.netloc}"
    return _POLICY.format(connect=connect)


#: ``/reconcile/preview``: framed by OpenRefine (any origin), no script, no requests.
PREVIEW_PATH = "/reconcile/preview"
_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)


class SecurityHeaders:
    """ASGI layer adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp, *, public_url: str | None, docs_path: str | None) -> None:
        self.app = app
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
        ]
        policy = content_security_policy(public_url).encode("latin-1")
        self.headers = [*common, (b"content-security-policy", policy)]
        self.docs_headers = [*common, (b"content-security-policy", _DOCS_POLICY.encode())]
        self.docs_path = docs_path
        self.preview_headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"content-security-policy", _PREVIEW_POLICY.encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs_headers if scope["path"] == self.docs_path else self.headers
        if scope["path"] == PREVIEW_PATH:
            extra = self.preview_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
