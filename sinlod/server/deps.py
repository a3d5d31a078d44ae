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
from sinlod.server.problems import Forbidden, Unauthorized
from sinlod.store import Store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    """The app's store, refreshed so that a release published by another process is seen."""
    store: Store = request.app.state.store
    store.refresh()
    return store


def require_token(
    settings: Annotated[Settings, Depends(get_settings)],
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Writes need ``Authorization: Bearer <update_token>``.

    No token configured → 403 (writes are switched off here, no token can help); a missing or
    wrong token → 401. The comparison takes constant time so the token cannot be guessed by timing.
    """
    if not settings.update_token:
        raise Forbidden("writes are disabled on this server (no update_token is configured)")
    scheme, _, token = (authorization or "").partition(" ")
    expected = settings.update_token.encode()
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), expected):
        raise Unauthorized("this request writes data and needs 'Authorization: Bearer <token>'")


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
RequireToken = Annotated[None, Depends(require_token)]
