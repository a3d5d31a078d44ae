"""Links into EU open datasets, checked and suggested offline from the ``data/reference/`` tables.

The reference tables are SKOS files generated from kept packages (``sinlod.reference.build``):
NUTS 2021 and 2024, the EU authority tables for countries, languages and corporate bodies.
``check_links`` finds links whose target is not a code of its table (``sinlod.linking.check``,
the same check ``validate`` and ``publish`` run); ``suggest_links`` proposes targets for things
that have none yet. Neither needs the network, so both run in tests and in CI.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple, parse

from sinlod.errors import InputError, SourceLocation
from sinlod.linking.check import check_codes
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
    #: Whether ``data/reference/`` is expected to hold every code used (closed code lists).
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


def fold(text: str) -> str:
    """A label for matching: case and diacritics ignored, spacing normalised.

    >>> fold("  Région de Bruxelles-Capitale ") == fold("region de bruxelles-capitale")
    True
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split())


@dataclass
class ReferenceIndex:
    """Every concept of the reference snapshots, by IRI and by folded label."""

    labels: dict[str, list[Literal]]
    by_label: dict[str, set[str]]
    files: list[Path]

    def __contains__(self, iri: str) -> bool:
        return iri in self.labels

    def label(self, iri: str, lang: str = "en") -> str | None:
        values = self.labels.get(iri, [])
        for value in values:
            if value.language == lang:
                return value.value
        return values[0].value if values else None


def load_reference(directory: Path) -> ReferenceIndex:
    """Read every ``*.ttl`` in ``directory``; a missing directory is an empty index.

    Raises ``InputError`` naming the file and line for a snapshot that does not parse.
    """
    labels: dict[str, list[Literal]] = defaultdict(list)
    by_label: dict[str, set[str]] = defaultdict(set)
    files = sorted(directory.glob("*.ttl")) if directory.is_dir() else []
    for path in files:
        try:
            triples = list(parse(path=str(path), format=RdfFormat.TURTLE))
        except SyntaxError as exc:
            raise InputError(f"{path}: not valid Turtle: {exc}") from exc
        for t in triples:
            if not isinstance(t.subject, NamedNode):
                continue
            iri = t.subject.value
            if t.predicate.value in LABELS and isinstance(t.object, Literal):
                labels[iri].append(t.object)
                by_label[fold(t.object.value)].add(iri)
            else:
                labels.setdefault(iri, [])
    return ReferenceIndex(dict(labels), dict(by_label), files)


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


@dataclass(frozen=True)
class Suggestion:
    """A candidate link for a thing that has none into ``target`` yet."""

    subject: str
    label: str
    target_iri: str
    target_label: str


def suggest_links(
    data: Iterable[Triple | Quad],
    index: ReferenceIndex,
    target: LinkTarget,
    *,
    of_class: str = PREFIXES["sinlod"] + "Place",
) -> list[Suggestion]:
    """Things of ``of_class`` without a link into ``target``, matched to snapshot labels."""
    typed: set[str] = set()
    linked: set[str] = set()
    labels: dict[str, list[str]] = defaultdict(list)
    rdf_type = PREFIXES["rdf"] + "type"
    for t in _triples(data):
        if not isinstance(t.subject, NamedNode):
            continue
        s, p, o = t.subject.value, t.predicate.value, t.object
        if p == rdf_type and isinstance(o, NamedNode) and o.value == of_class:
            typed.add(s)
        elif isinstance(o, NamedNode) and o.value.startswith(target.namespace):
            linked.add(s)
        elif p in LABELS and isinstance(o, Literal):
            labels[s].append(o.value)
    out = []
    for subject in sorted(typed - linked):
        for label in labels.get(subject, []):
            for iri in sorted(index.by_label.get(fold(label), ())):
                if iri.startswith(target.namespace):
                    out.append(Suggestion(subject, label, iri, index.label(iri) or ""))
    return sorted(set(out), key=lambda s: (s.subject, s.target_iri))


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
    "ReferenceIndex",
    "Suggestion",
    "check_links",
    "fold",
    "load_reference",
    "load_tables",
    "suggest_links",
    "target_named",
    "target_of",
)
