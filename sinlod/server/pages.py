"""HTML for people: the landing page (with label search), class browse pages, resource pages.

Pages need no JavaScript. The reader's language comes from ``?lang=`` or ``Accept-Language``, with
English, Dutch and German as fallbacks for labels. The query page lives in ``sparql.py``.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

import anyio.to_thread
import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from sinlod.config import Settings
from sinlod.server.deps import SettingsDep, StoreDep
from sinlod.server.describe import Description
from sinlod.server.execute import used_prefixes
from sinlod.server.labels import (
    FALLBACK_LANGUAGES,
    LABEL_PROPERTIES,
    Entry,
    index_for,
    local_name,
    pick,
)
from sinlod.server.negotiation import DOCUMENT_FORMATS, HTML_FORMAT
from sinlod.server.problems import NotFound
from sinlod.server.templating import render
from sinlod.server.urls import ONTOLOGY_BASE, alternate_url, local_url, server_root
from sinlod.server.views import RDF_TYPE, build
from sinlod.store import Store

router = APIRouter(tags=["Pages"], include_in_schema=False)

PAGE_SIZE = 50
_LANG = re.compile(r"^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{1,8})*$")


def reader_language(request: Request) -> str:
    """``?lang=`` if given, else the most wanted ``Accept-Language``, else English.

    Only the primary subtag counts (``nl-BE`` → ``nl``), as labels are tagged that way.
    """
    explicit = request.query_params.get("lang", "")
    if _LANG.match(explicit):
        return explicit.split("-")[0].lower()
    best, best_q = FALLBACK_LANGUAGES[0], 0.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if _LANG.match(tag) and q > best_q:
            best, best_q = tag.split("-")[0].lower(), q
    return best


def term_labels(store: Store, description: Description) -> dict[str, dict[str, str]]:
    """Human labels of the properties and classes a description uses, from the ontology."""
    terms = set()
    for t in description.triples():
        terms.add(t.predicate.value)
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            terms.add(t.object.value)
    return labels_of(store, terms)


def labels_of(store: Store, terms: set[str]) -> dict[str, dict[str, str]]:
    """``{term: {lang: label}}`` for the given IRIs (one query)."""
    if not terms:
        return {}
    values = " ".join(f"<{t}>" for t in sorted(terms))
    props = " ".join(f"<{p}>" for p in LABEL_PROPERTIES)
    query = f"SELECT ?t ?l WHERE {{ VALUES ?t {{ {values} }} VALUES ?p {{ {props} }} ?t ?p ?l }}"
    labels: dict[str, dict[str, str]] = {}
    results = store.query(query)
    assert isinstance(results, ox.QuerySolutions)
    for row in results:
        label = row["l"]
        if isinstance(label, ox.Literal):
            labels.setdefault(row["t"].value, {}).setdefault(label.language or "", label.value)
    return labels


def resource_page(
    request: Request,
    settings: Settings,
    description: Description,
    labels: dict[str, dict[str, str]],
    lang: str,
    path: str,
) -> HTMLResponse:
    """The HTML view of one resource, with its JSON-LD embedded for crawlers."""
    root = server_root(request, settings)
    view = build(description.iri, description.triples(), labels, lang, root, settings)
    jsonld = description.serialize(ox.RdfFormat.JSON_LD, used_prefixes(description.ntriples))
    alternates = [
        (f.name, f.essence, alternate_url(path, f.extension, f.name))
        for f in DOCUMENT_FORMATS
        if f != HTML_FORMAT
    ]
    return render(
        request,
        "resource.html",
        lang=lang,
        view=view,
        jsonld=jsonld.decode(),
        alternates=alternates,
    )


@router.get("/", name="landing")
async def landing(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """Dataset title and description, counts per class, label search."""
    lang = reader_language(request)
    index = await anyio.to_thread.run_sync(
        lambda: index_for(request.app.state, store, settings.base_iri)
    )
    classes = await anyio.to_thread.run_sync(lambda: _class_rows(store, index.counts(), lang))
    hits = index.search(q, lang) if q else None
    return render(
        request,
        "landing.html",
        lang=lang,
        query=q,
        classes=classes,
        hits=_links(hits, lang, request, settings) if hits is not None else None,
    )


@router.get("/browse/{name}", name="browse")
async def browse(
    request: Request,
    name: str,
    store: StoreDep,
    settings: SettingsDep,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """The things of one class (``/browse/Project``), sorted by label, ``PAGE_SIZE`` a page."""
    lang = reader_language(request)
    class_iri = ONTOLOGY_BASE + name
    index = await anyio.to_thread.run_sync(
        lambda: index_for(request.app.state, store, settings.base_iri)
    )
    entries = index.of_type(class_iri, lang)
    if not entries:
        raise NotFound(f"no things of class <{class_iri}> in this dataset")
    pages = max(1, math.ceil(len(entries) / PAGE_SIZE))
    if page > pages:
        raise NotFound(f"page {page} of {name} does not exist; there are {pages}")
    shown = entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    labels = await anyio.to_thread.run_sync(lambda: labels_of(store, {class_iri}))
    label = pick(labels.get(class_iri, {}), lang) or name
    return render(
        request,
        "browse.html",
        lang=lang,
        name=name,
        class_label=label,
        class_href=f"/def/{name}",
        items=_links(shown, lang, request, settings),
        page=page,
        pages=pages,
        total=len(entries),
    )


def _links(
    entries: list[Entry], lang: str, request: Request, settings: Settings
) -> list[tuple[str, str]]:
    root = server_root(request, settings)
    return [(e.label(lang), local_url(e.iri, root, settings) or e.iri) for e in entries]


def _class_rows(store: Store, counts: dict[str, int], lang: str) -> list[tuple[str, str, int]]:
    """(label, browse link, count) for the sinlod classes, largest first."""
    classes = {c for c in counts if c.startswith(ONTOLOGY_BASE)}
    labels = labels_of(store, classes)
    rows = [
        (
            pick(labels.get(c, {}), lang) or local_name(c),
            "/browse/" + c.removeprefix(ONTOLOGY_BASE),
            counts[c],
        )
        for c in classes
    ]
    return sorted(rows, key=lambda r: (-r[2], r[0]))
