"""Links into EU open datasets, checked and suggested offline from the ``data/reference/`` tables.

The reference tables are SKOS files generated from kept packages (``sinlod.reference.build``):
NUTS 2021 and 2024, the EU authority tables for countries, languages and corporate bodies.
``check_links`` finds links whose target is not a code of its table (``sinlod.linking.check``,
the same check ``validate`` and ``publish`` run); ``suggest_links`` proposes targets for things
that have none yet. Neither needs the network, so both run in tests and in CI.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Quad, Triple

from sinlod.errors import InputError, SourceLocation
from sinlod.linking.check import TABLES, check_codes
from sinlod.linking.suggest import MARGIN, THRESHOLD, Matcher, Query, Suggestion, table_named
from sinlod.linking.tables import CodeTables, load_tables
from sinlod.namespaces import PREFIXES
from sinlod.sourcemap import SourceMap

AUTHORITY = "http://publications.europa.eu/resource/authority/"
SKOS = PREFIXES["skos"]
LABELS = (SKOS + "prefLabel", SKOS + "altLabel", PREFIXES["rdfs"] + "label")


@dataclass(frozen=True)
class LinkTarget:
    """An external dataset sinlod links into, recognised by the namespace of the link's object."""

    key: str
    title: str
    namespace: str
    homepage: str
    #: A closed code list, which a table in ``data/reference/`` can hold whole; the open ones
    #: (Wikidata, CORDIS, GeoNames) are neither checked nor suggested offline.
    closed: bool = True


def _op(table: str) -> str:
    return (
        "https://op.europa.eu/en/web/eu-vocabularies/concept-scheme/-/resource?uri="
        + AUTHORITY
        + table
    )


LINK_TARGETS: tuple[LinkTarget, ...] = (
    LinkTarget(
        "nuts",
        "NUTS (Eurostat)",
        "http://data.europa.eu/nuts/",
        "https://ec.europa.eu/eurostat/web/nuts",
    ),
    LinkTarget("country", "EU authority table: countries", AUTHORITY + "country/", _op("country")),
    LinkTarget(
        "corporate-body",
        "EU authority table: corporate bodies",
        AUTHORITY + "corporate-body/",
        _op("corporate-body"),
    ),
    LinkTarget("place", "EU authority table: places", AUTHORITY + "place/", _op("place")),
    LinkTarget(
        "language", "EU authority table: languages", AUTHORITY + "language/", _op("language")
    ),
    LinkTarget(
        "wikidata",
        "Wikidata",
        "http://www.wikidata.org/entity/",
        "https://www.wikidata.org/",
        False,
    ),
    LinkTarget(
        "cordis",
        "CORDIS (EU research projects)",
        "https://cordis.europa.eu/",
        "https://cordis.europa.eu/",
        False,
    ),
    LinkTarget(
        "geonames", "GeoNames", "https://sws.geonames.org/", "https://www.geonames.org/", False
    ),
)


def target_of(iri: str) -> LinkTarget | None:
    """The link target an IRI belongs to, if any.

    >>> target_of("http://data.europa.eu/nuts/code/BE100").key
    'nuts'
    >>> target_of("https://w3id.org/sinlod/id/place/brussels") is None
    True
    """
    for target in LINK_TARGETS:
        if iri.startswith(target.namespace):
            return target
    return None


@dataclass(frozen=True)
class LinkProblem:
    """A link into a closed code list whose target is not a code of its table, and why."""

    subject: str  # N-Triples form (IRI in <>, or a blank node)
    predicate: str
    target_iri: str
    message: str
    locations: tuple[SourceLocation, ...]

    def __str__(self) -> str:
        where = ", ".join(str(loc) for loc in self.locations) or self.subject
        return f"{where}: {self.message}"


def _triples(data: Iterable[Triple | Quad]) -> Iterable[Triple]:
    for t in data:
        yield t.triple if isinstance(t, Quad) else t


def check_links(
    data: Iterable[Triple | Quad], tables: CodeTables, source_map: SourceMap | None = None
) -> list[LinkProblem]:
    """Links into closed code lists (NUTS, authority tables) that are not codes of their table.

    The same check ``validate`` and ``publish`` run (``sinlod.linking.check``); targets without
    a table in ``tables`` are not judged.
    """
    problems = check_codes(list(_triples(data)), tables)
    if source_map is not None:
        source_map.fill({p.subject for p in problems})
    out = []
    for p in problems:
        locs = (
            source_map.locate(p.subject, f"<{p.predicate}>", f"<{p.target}>") if source_map else []
        )
        out.append(LinkProblem(p.subject, p.predicate, p.target, p.message, tuple(locs)))
    return out


#: Predicates whose value is a thing's postcode (an address may be the thing itself).
POSTCODES = (PREFIXES["locn"] + "postCode", PREFIXES["schema"] + "postalCode")


def queries(
    data: Iterable[Triple | Quad], target: LinkTarget, *, of_class: str, level: int | None
) -> list[Query]:
    """The things of ``of_class`` with no link into ``target``, with their names and context."""
    typed: set[str] = set()
    linked: set[str] = set()
    labels: dict[str, list[str]] = defaultdict(list)
    country: dict[str, str] = {}
    postcode: dict[str, str] = {}
    rdf_type = PREFIXES["rdf"] + "type"
    for t in _triples(data):
        if not isinstance(t.subject, NamedNode):
            continue
        s, p, o = t.subject.value, t.predicate.value, t.object
        if p == rdf_type and isinstance(o, NamedNode) and o.value == of_class:
            typed.add(s)
        elif isinstance(o, NamedNode) and o.value.startswith(target.namespace):
            linked.add(s)
        if p in LABELS and isinstance(o, Literal):
            labels[s].append(o.value)
        elif isinstance(o, NamedNode) and o.value.startswith(AUTHORITY + "country/"):
            country.setdefault(s, o.value)
        elif p in POSTCODES and isinstance(o, Literal):
            postcode.setdefault(s, o.value)
    return [
        Query(s, tuple(labels[s]), country.get(s), postcode.get(s), level)
        for s in sorted(typed - linked)
        if labels.get(s)
    ]


def suggest_links(
    data: Iterable[Triple | Quad],
    tables: CodeTables,
    target: LinkTarget,
    *,
    of_class: str = PREFIXES["sinlod"] + "Place",
    level: int | None = None,
    threshold: float = THRESHOLD,
    margin: float = MARGIN,
) -> list[Suggestion]:
    """A scored suggestion (``match``, ``ambiguous`` or ``none``) for every thing of ``of_class``
    without a link into ``target`` (``sinlod.linking.suggest``).

    Raises ``InputError`` for a target with no offline table (Wikidata, CORDIS, GeoNames, the
    authority place table) or whose table is missing from ``tables``: an empty answer would
    look like "nothing to link".
    """
    try:
        matcher = Matcher(tables, table_named(target.key))
    except LookupError as exc:
        served = ", ".join(t.key for t in TABLES)
        raise InputError(
            f"cannot suggest links into {target.title}: no offline table for it in "
            f"{tables.directory} (suggest serves: {served})"
        ) from exc
    return [
        matcher.suggest(q, threshold, margin)
        for q in queries(data, target, of_class=of_class, level=level)
    ]


def target_named(key: str) -> LinkTarget:
    """The link target called ``key``; ``InputError`` listing the known keys otherwise."""
    for target in LINK_TARGETS:
        if target.key == key:
            return target
    known = ", ".join(t.key for t in LINK_TARGETS)
    raise InputError(f"unknown link target {key!r}; expected one of: {known}")


__all__: Sequence[str] = (
    "LINK_TARGETS",
    "CodeTables",
    "LinkProblem",
    "LinkTarget",
    "Query",
    "Suggestion",
    "check_links",
    "load_tables",
    "suggest_links",
    "target_named",
    "target_of",
)
