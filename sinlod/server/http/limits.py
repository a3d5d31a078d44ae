"""The request-body limit (``settings.max_request_bytes`` → 413), as pure ASGI middleware.

A declared ``Content-Length`` over the limit is refused before any byte is read. A body without a
length (chunked) is counted as it arrives and refused as soon as it passes the limit, so a client
can never make the server buffer more than the limit.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sinlod.server.http.problems import PROBLEM_JSON, PayloadTooLarge, problem


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {max_bytes} bytes, the limit here")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            error = _too_large(self.max_bytes)
            body = problem(413, error.message, error.code)
            await JSONResponse(body, status_code=413, media_type=PROBLEM_JSON)(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _too_large(self.max_bytes)
            return message

        return counted
