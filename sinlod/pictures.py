"""The facts behind the map, the network and the timeline, read from the store with SPARQL.

People would rather look at where things happen, who works with whom and when than read tables
of triples. The server draws these three pictures in the browser (``/map``, ``/network``,
``/timeline``) from what these functions return; the same facts are listed on the pages as HTML,
so nothing depends on JavaScript. Everything here is a bounded query over the union of the data
graphs: a map point per place with coordinates (``make coordinates``), a network of at most
``max_nodes`` things within two steps of a focus, a timeline item per project or event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import pyoxigraph as ox

from sinlod.errors import InputError
from sinlod.names import LABEL_PROPERTIES, local_name, pick
from sinlod.namespaces import PREFIXES
from sinlod.store.backend import StoreBackend

SINLOD = PREFIXES["sinlod"]
GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"
RDFS_SUBCLASS = PREFIXES["rdfs"] + "subClassOf"
#: The kinds of things the network shows, each with its subclasses (from the ontology).
KINDS = {
    SINLOD + "Organisation": "organisation",
    SINLOD + "Person": "person",
    SINLOD + "Project": "project",
    SINLOD + "Event": "event",
}
#: Qualified relations drawn as one edge between the agent and what it takes part in.
QUALIFIED = (SINLOD + "Involvement", SINLOD + "Membership")
#: Statuses that mean "not (yet) done": the project-status scheme's planned and proposed.
PLANNED_STATUSES = ("planned", "proposed")
DEPTH = 2
MAX_NODES = 150


def iri_ref(iri: str) -> str:
    """``<iri>`` for a SPARQL query, for an IRI a reader passed (``?focus=``); ``InputError`` for
    anything that is not an absolute IRI, so no text can leave the brackets.

    >>> iri_ref("https://w3id.org/sinlod/id/project/sic")
    '<https://w3id.org/sinlod/id/project/sic>'
    >>> iri_ref("x> } ?s ?p ?o {")
    Traceback (most recent call last):
    sinlod.errors.InputError: not an absolute IRI: 'x> } ?s ?p ?o {'
    """
    try:
        return str(ox.NamedNode(iri))
    except ValueError:
        raise InputError(f"not an absolute IRI: {iri!r}") from None


def _select(store: StoreBackend, query: str) -> ox.QuerySolutions:
    results = store.query(query, union_default_graph=True)
    assert isinstance(results, ox.QuerySolutions)
    return results


def labels(store: StoreBackend, iris: Iterable[str], lang: str) -> dict[str, str]:
    """A label per IRI in the reader's language (its local name when it has none); one query."""
    wanted = sorted(set(iris))
    if not wanted:
        return {}
    values = " ".join(iri_ref(iri) for iri in wanted)
    props = ", ".join(f"<{p}>" for p in LABEL_PROPERTIES)
    found: dict[str, dict[str, str]] = {}
    query = f"SELECT ?t ?l WHERE {{ VALUES ?t {{ {values} }} ?t ?p ?l FILTER(?p IN ({props})) }}"
    for row in _select(store, query):
        label = row["l"]
        if isinstance(label, ox.Literal):
            found.setdefault(row["t"].value, {}).setdefault(label.language or "", label.value)
    return {iri: pick(found.get(iri, {}), lang) or local_name(iri) for iri in wanted}


# -- map ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """A place with coordinates, and how many things in the data name it."""

    iri: str
    label: str
    lat: float
    long: float
    things: int


def map_points(store: StoreBackend, lang: str, focus: str | None = None) -> list[Point]:
    """Every place with ``geo:lat``/``geo:long``, sorted by label; with ``focus``, only the places
    the focus names or that things linked to the focus name ("where it happens")."""
    near = ""
    if focus is not None:
        f = iri_ref(focus)
        near = (
            f"{{ {f} ?fp ?place }} UNION {{ {f} ?fp ?via . ?via ?vp ?place }}"
            f" UNION {{ ?via ?vp {f} . ?via ?vq ?place }}"
        )
    query = f"""
        SELECT ?place (SAMPLE(?lat) AS ?la) (SAMPLE(?long) AS ?lo) (COUNT(DISTINCT ?thing) AS ?n)
        WHERE {{
          {{ SELECT DISTINCT ?place WHERE {{ ?place <{GEO}lat> ?any . {near} }} }}
          ?place <{GEO}lat> ?lat ; <{GEO}long> ?long .
          OPTIONAL {{ ?thing ?p ?place FILTER(isIRI(?thing)) }}
        }} GROUP BY ?place"""
    rows = [
        (row["place"].value, float(row["la"].value), float(row["lo"].value), int(row["n"].value))
        for row in _select(store, query)
    ]
    names = labels(store, (r[0] for r in rows), lang)
    points = [Point(iri, names[iri], lat, long, n) for iri, lat, long, n in rows]
    return sorted(points, key=lambda p: (p.label.casefold(), p.iri))


# -- network -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    iri: str
    label: str
    kind: str  # organisation, person, project, event, or "other" for a focus of another kind
    depth: int


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str


@dataclass
class Network:
    """Who works with whom around ``focus``: nodes within ``DEPTH`` steps, edges among them."""

    focus: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    truncated: bool = False


def _classes(store: StoreBackend) -> dict[str, str]:
    """Each class of a network kind (the kind itself and its subclasses in the ontology)."""
    kinds = " ".join(f"<{k}>" for k in KINDS)
    query = f"""SELECT DISTINCT ?type ?kind WHERE {{
        VALUES ?kind {{ {kinds} }} ?type <{RDFS_SUBCLASS}>* ?kind }}"""
    classes = {row["type"].value: KINDS[row["kind"].value] for row in _select(store, query)}
    return {**classes, **KINDS}


def _kinds_of(store: StoreBackend, iris: Iterable[str], classes: dict[str, str]) -> dict[str, str]:
    values = " ".join(f"<{i}>" for i in sorted(set(iris)))
    types = " ".join(f"<{c}>" for c in sorted(classes))
    query = f"""SELECT ?t ?type WHERE {{
        VALUES ?t {{ {values} }} VALUES ?type {{ {types} }} ?t a ?type }}"""
    return {row["t"].value: classes[row["type"].value] for row in _select(store, query)}


def default_focus(store: StoreBackend) -> str | None:
    """The project with the most involvements: the natural centre of an unfocused network."""
    query = f"""SELECT ?p (COUNT(?i) AS ?n) WHERE {{
        ?p a <{SINLOD}Project> . OPTIONAL {{ ?i <{SINLOD}involvedIn> ?p }}
    }} GROUP BY ?p ORDER BY DESC(?n) STR(?p) LIMIT 1"""
    for row in _select(store, query):
        return str(row["p"].value)
    return None


def network(
    store: StoreBackend, focus: str, lang: str, depth: int = DEPTH, max_nodes: int = MAX_NODES
) -> Network:
    """Organisations, people, projects and events linked to ``focus`` directly or through an
    involvement or membership, breadth first to ``depth`` steps, at most ``max_nodes`` nodes."""
    iri_ref(focus)  # an InputError before any query
    classes = _classes(store)
    types = " ".join(f"<{c}>" for c in sorted(classes))
    qualified = " ".join(f"<{q}>" for q in QUALIFIED)
    seen: dict[str, int] = {focus: 0}
    edges: dict[tuple[str, str], str] = {}
    frontier = [focus]
    truncated = False
    for step in range(1, depth + 1):
        if not frontier:
            break
        values = " ".join(f"<{iri}>" for iri in frontier)
        # Three queries rather than one UNION: Oxigraph joins the union's branches with the
        # type test far more slowly (1.3 s against 40 ms for SIC's neighbourhood).
        branches = (
            "?a ?link ?b",
            "?b ?link ?a",
            f"?link ?p ?a . ?link a ?vt . VALUES ?vt {{ {qualified} }} ?link ?q ?b",
        )
        found: list[tuple[str, str, str]] = []
        for branch in branches:
            query = f"""SELECT DISTINCT ?a ?b ?link WHERE {{
                VALUES ?a {{ {values} }} {branch} FILTER(isIRI(?b) && ?b != ?a)
                VALUES ?type {{ {types} }} ?b a ?type }}"""
            found.extend(
                (row["a"].value, row["b"].value, row["link"].value) for row in _select(store, query)
            )
        found.sort()
        frontier = []
        for a, b, link in found:
            if b not in seen:
                if len(seen) >= max_nodes:
                    truncated = True
                    continue
                seen[b] = step
                frontier.append(b)
            edges.setdefault((min(a, b), max(a, b)), link)
    names = labels(store, list(seen) + list(edges.values()), lang)
    kinds_found = _kinds_of(store, seen, classes)
    nodes = [Node(iri, names[iri], kinds_found.get(iri, "other"), d) for iri, d in seen.items()]
    nodes.sort(key=lambda n: (n.depth, n.kind, n.label.casefold()))
    return Network(
        focus,
        nodes,
        [Edge(a, b, names[link]) for (a, b), link in sorted(edges.items())],
        truncated,
    )


# -- timeline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A project or an event on the timeline; dates as the data states them (2017, 2017-11, ...)."""

    iri: str
    label: str
    kind: str  # project or event
    start: str | None
    end: str | None
    status: str | None  # the project-status concept's local name (planned, proposed, ...)
    planned: bool  # planned or proposed, or starting after today


def timeline(store: StoreBackend, lang: str, today: date | None = None) -> list[Item]:
    """Every project and event with its dates and status, dated ones first by start."""
    today = today or date.today()
    query = f"""SELECT ?s ?kind (SAMPLE(?st) AS ?start) (SAMPLE(?en) AS ?end)
          (SAMPLE(?stat) AS ?status)
        WHERE {{
          VALUES ?kind {{ <{SINLOD}Project> <{SINLOD}Event> }}
          ?s a ?kind .
          OPTIONAL {{ ?s <{SINLOD}startDate> ?st }}
          OPTIONAL {{ ?s <{SINLOD}endDate> ?en }}
          OPTIONAL {{ ?s <{SINLOD}status> ?stat }}
        }} GROUP BY ?s ?kind"""
    rows = list(_select(store, query))
    names = labels(store, (row["s"].value for row in rows), lang)
    items = []
    for row in rows:
        start = row["start"].value if row["start"] is not None else None
        end = row["end"].value if row["end"] is not None else None
        status = local_name(row["status"].value) if row["status"] is not None else None
        planned = status in PLANNED_STATUSES or (start is not None and start > today.isoformat())
        iri = row["s"].value
        kind = "project" if row["kind"].value.endswith("Project") else "event"
        items.append(Item(iri, names[iri], kind, start, end, status, planned))
    return sorted(items, key=lambda i: (i.start is None, i.start or "", i.label.casefold()))
