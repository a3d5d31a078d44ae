"""Dependencies routes declare, as ``Annotated`` aliases: ``SettingsDep``, ``StoreDep``,
``RequireToken``.

Settings and the store live on ``app.state`` (put there by the lifespan in ``app.py``), so every
app built by ``create_app`` carries its own and tests never share state.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, Request

from sinlod.config import Settings
from sinlod.errors import InputError
from sinlod.server.http.problems import Forbidden, Unauthorized
from sinlod.store.backend import StoreBackend


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> StoreBackend:
    """The app's store, refreshed so that a release published by another process is seen.

    ``async`` on purpose: FastAPI runs a plain ``def`` dependency in the thread pool, a thread hop
    per request (about 100 µs each, bench/RESULTS.md); ``refresh`` is one ``stat`` call.
    """
    store: StoreBackend = request.app.state.store
    store.refresh()
    return store


def write_tokens(settings: Settings) -> dict[str, str]:
    """Token → name, for the release log: ``update_token`` is named ``default``, and each
    ``update_tokens`` entry is ``name:token``. Raises ``InputError`` for an entry without a name
    (``create_app`` calls this, so a bad setting stops the server at start)."""
    tokens = {settings.update_token: "default"} if settings.update_token else {}
    for entry in settings.update_tokens:
        name, sep, token = entry.partition(":")
        if not sep or not name.strip() or not token.strip():
            # The entry is not echoed: it may be a bare token.
            raise InputError("setting 'update_tokens': each entry must be name:token")
        tokens[token.strip()] = name.strip()
    return tokens


def require_token(
    settings: Annotated[Settings, Depends(get_settings)],
    authorization: Annotated[str | None, Header()] = None,
) -> str:
    """Writes need ``Authorization: Bearer <token>``; returns the token's name (who wrote).

    No token configured → 403 (writes are switched off here, no token can help); a missing or
    wrong token → 401. Every comparison takes constant time so a token cannot be guessed by
    timing, and all tokens are compared so the time does not say which one nearly matched.
    """
    tokens = write_tokens(settings)
    if not tokens:
        raise Forbidden("writes are disabled on this server (no update_token is configured)")
    scheme, _, given = (authorization or "").partition(" ")
    offered = given.strip().encode()
    found = None
    for token, name in tokens.items():
        if secrets.compare_digest(offered, token.encode()):
            found = name
    if scheme.lower() != "bearer" or found is None:
        raise Unauthorized("this request writes data and needs 'Authorization: Bearer <token>'")
    return found


def writes_enabled(settings: Settings) -> bool:
    return bool(settings.update_token or settings.update_tokens)


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[StoreBackend, Depends(get_store)]
#: The name of the token a write was made with (``default`` for ``update_token``).
RequireToken = Annotated[str, Depends(require_token)]
