"""HTML for people: the landing page (with label search), class browse pages, resource pages.

Pages need no JavaScript. The reader's language comes from ``?lang=`` or ``Accept-Language``, with
English, Dutch and German as fallbacks for labels. The query page is answered at ``/sparql`` (a
browser's GET without a query, see ``sparql.py``) and built here: a plain HTML form that YASGUI,
served from this server (never a CDN), turns into an editor with example queries in tabs.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, TypeVar

import anyio.to_thread
import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from sinlod.config import Settings
from sinlod.names import FALLBACK_LANGUAGES, LABEL_PROPERTIES, local_name, pick
from sinlod.namespaces import PREFIXES
from sinlod.ontology_doc import Overview
from sinlod.server.http.deps import SettingsDep, StoreDep
from sinlod.server.http.negotiation import DOCUMENT_FORMATS, HTML_FORMAT
from sinlod.server.http.problems import NotFound
from sinlod.server.http.templating import STATIC, render
from sinlod.server.http.urls import ONTOLOGY_BASE, alternate_url, link_for, server_root
from sinlod.server.linked_data.describe import Description
from sinlod.server.linked_data.views import RDF_TYPE, build
from sinlod.server.protocol.execute import used_prefixes
from sinlod.store import Dataset, Release, group_datasets
from sinlod.store.backend import StoreBackend
from sinlod.store.search_index import Thing

router = APIRouter(tags=["Pages"], include_in_schema=False)

PAGE_SIZE = 50
T = TypeVar("T")
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


def term_labels(store: StoreBackend, description: Description) -> dict[str, dict[str, str]]:
    """Human labels of the properties and classes a description uses, from the ontology."""
    terms = set()
    for t in description.triples():
        terms.add(t.predicate.value)
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            terms.add(t.object.value)
    labels = labels_of(store, terms)
    for term, label in REUSED_LABELS.items():
        if term in terms and term not in labels:
            labels[term] = {"en": label}
    return labels


#: Labels of reused properties that the ontology does not label itself (its own terms it does),
#: so that a page reads "description", not "dct:description".
REUSED_LABELS = {
    PREFIXES["dct"] + "description": "description",
    PREFIXES["dct"] + "subject": "topic",
    PREFIXES["dct"] + "title": "title",
    PREFIXES["dct"] + "type": "kind",
    PREFIXES["dct"] + "isPartOf": "part of",
    PREFIXES["dct"] + "language": "language",
    PREFIXES["dct"] + "publisher": "publisher",
    PREFIXES["dct"] + "creator": "creator",
    PREFIXES["dct"] + "contributor": "contributor",
    PREFIXES["dct"] + "issued": "issued",
    PREFIXES["dct"] + "identifier": "identifier",
    PREFIXES["skos"] + "prefLabel": "name",
    PREFIXES["skos"] + "altLabel": "other name",
    PREFIXES["skos"] + "exactMatch": "same place elsewhere",
    PREFIXES["skos"] + "closeMatch": "close match",
    PREFIXES["foaf"] + "page": "page about it",
    PREFIXES["foaf"] + "homepage": "homepage",
    PREFIXES["foaf"] + "givenName": "given name",
    PREFIXES["foaf"] + "familyName": "family name",
    PREFIXES["owl"] + "sameAs": "same as",
    PREFIXES["org"] + "classification": "classification",
    PREFIXES["schema"] + "amount": "amount",
    PREFIXES["schema"] + "minValue": "at least",
    PREFIXES["schema"] + "maxValue": "at most",
    PREFIXES["schema"] + "value": "value",
}


def labels_of(store: StoreBackend, terms: set[str]) -> dict[str, dict[str, str]]:
    """``{term: {lang: label}}`` for the given IRIs (one query)."""
    if not terms:
        return {}
    values = " ".join(f"<{t}>" for t in sorted(terms))
    # The properties as a FILTER, not a second VALUES: with two VALUES blocks Oxigraph joins the
    # pattern ``?t ?p ?l`` unbound, a scan of the whole store (30 ms with the reference tables
    # published, against 0.2 ms here).
    props = ", ".join(f"<{p}>" for p in LABEL_PROPERTIES)
    query = f"SELECT ?t ?l WHERE {{ VALUES ?t {{ {values} }} ?t ?p ?l FILTER(?p IN ({props})) }}"
    labels: dict[str, dict[str, str]] = {}
    results = store.query(query, union_default_graph=True)  # all graphs, in either mode
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
    incoming, page, pages = _incoming_page(view.incoming, request)
    return render(
        request,
        "resource.html",
        lang=lang,
        view=dataclasses.replace(view, incoming=incoming),
        incoming_total=len(view.incoming),
        incoming_page=page,
        incoming_pages=pages,
        jsonld=jsonld.decode(),
        alternates=alternates,
        format_labels=FORMAT_LABELS,
    )


#: What the "This page as data" list calls each format.
FORMAT_LABELS = {
    "text/turtle": "Turtle",
    "application/n-triples": "N-Triples",
    "application/ld+json": "JSON-LD",
    "application/rdf+xml": "RDF/XML",
}
INCOMING_PAGE_SIZE = 100


def _incoming_page(incoming: list[T], request: Request) -> tuple[list[T], int, int]:
    """One page of incoming links (``?incoming=N``, out-of-range pages clamp): a place or a
    topic can be linked from hundreds of things."""
    pages = max(1, math.ceil(len(incoming) / INCOMING_PAGE_SIZE))
    try:
        page = min(max(int(request.query_params.get("incoming", "1")), 1), pages)
    except ValueError:
        page = 1
    start = (page - 1) * INCOMING_PAGE_SIZE
    return incoming[start : start + INCOMING_PAGE_SIZE], page, pages


@router.get("/", name="landing")
async def landing(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """Dataset title and description, counts per class, label search."""
    lang = reader_language(request)
    # The release's search index (a file, opened once per release); reads off the event loop
    index = await anyio.to_thread.run_sync(store.search_index)
    classes = await anyio.to_thread.run_sync(lambda: _class_rows(store, index.counts(), lang))
    release = await anyio.to_thread.run_sync(lambda: latest_release(store))
    hits = await anyio.to_thread.run_sync(lambda: index.search(q, lang)) if q else None
    found = await anyio.to_thread.run_sync(lambda: published_datasets(store, release, settings))
    return render(
        request,
        "landing.html",
        lang=lang,
        query=q,
        classes=classes,
        release=release,
        datasets=found,
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
    index = await anyio.to_thread.run_sync(store.search_index)
    total = await anyio.to_thread.run_sync(lambda: index.count(class_iri))
    if not total:
        raise NotFound(f"no things of class <{class_iri}> in this dataset")
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:
        raise NotFound(f"page {page} of {name} does not exist; there are {pages}")
    offset = (page - 1) * PAGE_SIZE
    shown = await anyio.to_thread.run_sync(
        lambda: index.of_type(class_iri, lang, offset, PAGE_SIZE)
    )
    labels = await anyio.to_thread.run_sync(lambda: labels_of(store, {class_iri}))
    label = sentence_case(pick(labels.get(class_iri, {}), lang) or name)
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
        total=total,
    )


def published_datasets(
    store: StoreBackend, release: Release | None, settings: Settings
) -> list[Dataset]:
    """The datasets as the latest release counted them (triples per graph after it): the page
    runs no query for them."""
    if release is None:
        return []
    return group_datasets(release.graphs, settings.base_iri, store.releases())


def latest_release(store: StoreBackend) -> Release | None:
    """The release the server serves now (the last one recorded), for the landing page."""
    releases = store.releases()
    return releases[-1] if releases else None


def sentence_case(label: str) -> str:
    """A class label as a heading or list entry: ontology labels are lower case ("practice case").

    >>> sentence_case("practice case")
    'Practice case'
    """
    return label[:1].upper() + label[1:]


def _links(
    entries: list[Thing], lang: str, request: Request, settings: Settings
) -> list[tuple[str, str | None]]:
    root = server_root(request, settings)
    return [(e.label(lang), link_for(e.iri, root, settings)) for e in entries]


def _class_rows(
    store: StoreBackend, counts: dict[str, int], lang: str
) -> list[tuple[str, str, int]]:
    """(label, browse link, count) for the sinlod classes, largest first."""
    classes = {c for c in counts if c.startswith(ONTOLOGY_BASE)}
    labels = labels_of(store, classes)
    rows = [
        (
            sentence_case(pick(labels.get(c, {}), lang) or local_name(c)),
            "/browse/" + c.removeprefix(ONTOLOGY_BASE),
            counts[c],
        )
        for c in classes
    ]
    return sorted(rows, key=lambda r: (-r[2], r[0]))


# -- the query page ------------------------------------------------------------------------------

#: Example queries about the shipped dataset, one ``NN-name.rq`` file each, first line ``# Title``.
QUERIES = STATIC / "queries"
#: Where the query page loads YASGUI from; mounted only when ``make assets`` has installed it.
YASGUI_URL = "/static/vendor/yasgui/"
YASGUI_BUILD = Path("@zazuko", "yasgui", "build")


@dataclass(frozen=True)
class Example:
    """One example query: its file name (without ``.rq``), its title and its text."""

    name: str
    title: str
    query: str


@lru_cache(maxsize=4)
def query_examples(directory: Path = QUERIES) -> tuple[Example, ...]:
    """The example queries in file-name order; the title is the first line, without ``#``.
    Read once per process: they ship with the package.

    >>> query_examples()[0].title
    'Who coordinates SIC, and with which role'
    """
    examples = []
    for path in sorted(directory.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        first, _, rest = text.partition("\n")
        if first.startswith("#"):
            examples.append(Example(path.stem, first.lstrip("# ").strip(), rest.lstrip("\n")))
        else:
            examples.append(Example(path.stem, path.stem, text))
    return tuple(examples)


def yasgui_dir(settings: Settings) -> Path:
    """The directory of ``yasgui.min.js`` and ``yasgui.min.css`` under ``settings.assets_dir``."""
    return settings.assets_dir / YASGUI_BUILD


def mount_assets(app: FastAPI, settings: Settings) -> None:
    """Serve YASGUI's build at ``YASGUI_URL`` when npm has installed it; else the query page
    stays a plain form and says how to install it (``app.state.yasgui`` records which)."""
    directory = yasgui_dir(settings)
    app.state.yasgui = (directory / "yasgui.min.js").is_file()
    if app.state.yasgui:
        app.mount(YASGUI_URL.rstrip("/"), StaticFiles(directory=directory), name="yasgui")


def query_page(request: Request, settings: Settings) -> HTMLResponse:
    """The query page: a form that works without JavaScript and, with YASGUI, the examples in
    tabs on this server's endpoint."""
    examples = query_examples()
    root = server_root(request, settings)
    config = {
        "endpoint": root + "sparql",
        "examples": [{"id": e.name, "name": e.title, "query": e.query} for e in examples],
        "local": _local_prefixes(root, settings),
    }
    return render(
        request,
        "query.html",
        lang=reader_language(request),
        endpoint="/sparql",
        examples=examples,
        chosen=_chosen(examples, request.query_params.get("example")),
        yasgui=getattr(request.app.state, "yasgui", False),
        yasgui_url=YASGUI_URL,
        config=json.dumps(config, ensure_ascii=False),
    )


def _local_prefixes(root: str, settings: Settings) -> list[tuple[str, str]]:
    """(IRI prefix, URL prefix) pairs with which the query page links results to this server's
    pages, as ``urls.local_url`` does for the HTML pages."""
    return [(ONTOLOGY_BASE, root + "def/")] + [
        (settings.base_iri + part, root + part) for part in ("id/", "doc/", "def/")
    ]


def _chosen(examples: tuple[Example, ...], name: str | None) -> Example | None:
    """The example the form shows: ``?example=name``, else the first."""
    return next((e for e in examples if e.name == name), examples[0] if examples else None)


def ontology_page(request: Request, settings: Settings, doc: Overview, lang: str) -> HTMLResponse:
    """The ontology's documentation: metadata, then classes, properties and concept schemes."""
    root = server_root(request, settings)
    alternates = [
        (f.name, f.essence, alternate_url("/def/", f.extension, f.name))
        for f in DOCUMENT_FORMATS
        if f != HTML_FORMAT
    ]

    def local(iri: str) -> str | None:
        """Own terms link to this server's page; others to where they live (http(s) only)."""
        return link_for(iri, root, settings)

    def compact(iri: str) -> str:
        """``org:Organization`` rather than the full IRI, for the prefixes sinlod declares."""
        for prefix, namespace in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
            if iri.startswith(namespace) and prefix not in {"dcterms", "roles"}:
                return f"{prefix}:{iri[len(namespace) :]}"
        return iri

    return render(
        request,
        "ontology.html",
        lang=lang,
        doc=doc,
        alternates=alternates,
        local=local,
        compact=compact,
        format_labels=FORMAT_LABELS,
    )
