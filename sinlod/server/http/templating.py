"""Jinja2 for the HTML pages: one environment, autoescape always on.

Autoescaping is what keeps a label such as ``<script>`` in the data from ever running in a
reader's browser; templates never mark data ``|safe``. JSON-LD embedded in a page goes through
``script_json``, which also escapes ``</`` so the data cannot close the ``<script>`` element.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

TEMPLATES = Path(__file__).parent.parent / "templates"
STATIC = Path(__file__).parent.parent / "static"


def script_json(text: str) -> Markup:
    """JSON text made safe inside ``<script type="application/ld+json">``.

    ``<`` becomes ``\\u003c`` (still the same JSON string), so neither ``</script>`` nor
    ``<!--`` in a literal can end or change the element.

    >>> str(script_json('{"a": "</script>"}'))
    '{"a": "\\\\u003c/script>"}'
    """
    return Markup(text.replace("<", "\\u003c"))


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["script_json"] = script_json
    return env


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    lang: str = "en",
    **context: Any,
) -> HTMLResponse:
    """Render a page; every template sees the request, the settings and the page language."""
    settings = getattr(request.app.state, "settings", None)
    html = (
        environment()
        .get_template(template)
        .render(request=request, settings=settings, lang=lang, **context)
    )
    # Pages follow ?lang= and Accept-Language, so caches must keep one copy per language.
    all_headers = {"Content-Language": lang, "Vary": "Accept-Language", **(headers or {})}
    return HTMLResponse(html, status_code=status_code, headers=all_headers)
