"""A readable overview of the published ontology and vocabularies, for ``/def/``.

The documentation is computed from the ontology graph in the store (not from the Turtle files), so
that what people read is exactly what machines dereference. Labels follow the reader's language
with the same fallback as the pages (requested, then en, nl, de).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from sinlod.namespaces import PREFIXES

ONTOLOGY = PREFIXES["sinlod"]
RDF, RDFS, OWL, SKOS = PREFIXES["rdf"], PREFIXES["rdfs"], PREFIXES["owl"], PREFIXES["skos"]
SCHEMA, DCT = PREFIXES["schema"], PREFIXES["dct"]
FALLBACK = ("en", "nl", "de")


@dataclass
class Term:
    """One class, property or concept scheme of the ontology, as a reader sees it."""

    iri: str
    label: str
    comment: str = ""
    kind: str = ""
    parents: list[str] = field(default_factory=list)  # superclasses / superproperties
    matches: list[str] = field(default_factory=list)  # skos:closeMatch / exactMatch
    domain: list[str] = field(default_factory=list)  # schema:domainIncludes
    range: list[str] = field(default_factory=list)  # rdfs:range / schema:rangeIncludes
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def local(self) -> str:
        return self.iri[len(ONTOLOGY) :] if self.iri.startswith(ONTOLOGY) else self.iri


@dataclass
class Overview:
    """The ontology's metadata and its terms, sorted by label."""

    title: str
    description: str
    version: str
    license: str
    classes: list[Term]
    properties: list[Term]
    schemes: list[Term]


def _pick(values: dict[str, str], lang: str) -> str:
    for tag in (lang, *FALLBACK, ""):
        if tag in values:
            return values[tag]
    return next(iter(values.values()), "")


def overview(quads: Iterable[ox.Quad | ox.Triple], lang: str = "en") -> Overview:
    """Summarise ontology and vocabulary triples (e.g. the ontology graphs of the store).

    >>> q = [ox.Triple(ox.NamedNode(ONTOLOGY + "Project"), ox.NamedNode(RDF + "type"),
    ...                ox.NamedNode(OWL + "Class"))]
    >>> [t.local for t in overview(q).classes]
    ['Project']
    """
    literal: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    links: dict[tuple[str, str], list[str]] = defaultdict(list)
    for t in quads:
        if not isinstance(t.subject, ox.NamedNode):
            continue
        key = (t.subject.value, t.predicate.value)
        if isinstance(t.object, ox.Literal):
            literal[key][t.object.language or ""] = t.object.value
        elif isinstance(t.object, ox.NamedNode):
            links[key].append(t.object.value)

    def make(iri: str, kind: str) -> Term:
        labels = literal.get((iri, RDFS + "label")) or literal.get((iri, SKOS + "prefLabel")) or {}
        labels = labels or literal.get((iri, DCT + "title"), {})
        comment = literal.get((iri, RDFS + "comment")) or literal.get((iri, SKOS + "definition"))
        parents = links.get((iri, RDFS + "subClassOf"), []) + links.get(
            (iri, RDFS + "subPropertyOf"), []
        )
        matches = links.get((iri, SKOS + "closeMatch"), []) + links.get(
            (iri, SKOS + "exactMatch"), []
        )
        return Term(
            iri,
            _pick(labels, lang) or iri.rsplit("/", 1)[-1],
            _pick(comment or {}, lang),
            kind,
            sorted(parents),
            sorted(matches),
            sorted(links.get((iri, SCHEMA + "domainIncludes"), [])),
            sorted(
                links.get((iri, RDFS + "range"), [])
                + links.get((iri, SCHEMA + "rangeIncludes"), [])
            ),
            dict(labels),
        )

    typed: dict[str, set[str]] = defaultdict(set)
    for (s, p), objects in links.items():
        if p == RDF + "type":
            typed[s].update(objects)
    own = [iri for iri in typed if iri.startswith(ONTOLOGY)]
    class_types = {OWL + "Class", RDFS + "Class", RDFS + "Datatype"}
    classes = [
        make(i, "datatype" if RDFS + "Datatype" in typed[i] else "class")
        for i in own
        if typed[i] & class_types
    ]
    properties = [
        make(i, _property_kind(typed[i]))
        for i in own
        if typed[i] & {OWL + "ObjectProperty", OWL + "DatatypeProperty", RDF + "Property"}
    ]
    schemes = [make(i, "scheme") for i in own if SKOS + "ConceptScheme" in typed[i]]
    meta = ONTOLOGY
    return Overview(
        title=_pick(literal.get((meta, DCT + "title"), {}), lang) or "sinlod ontology",
        description=_pick(literal.get((meta, DCT + "description"), {}), lang),
        version=_pick(literal.get((meta, OWL + "versionInfo"), {}), lang),
        license=next(iter(links.get((meta, DCT + "license"), [])), ""),
        classes=sorted(classes, key=lambda t: t.label.casefold()),
        properties=sorted(properties, key=lambda t: t.label.casefold()),
        schemes=sorted(schemes, key=lambda t: t.label.casefold()),
    )


def _property_kind(types: set[str]) -> str:
    if OWL + "DatatypeProperty" in types:
        return "datatype property"
    if OWL + "ObjectProperty" in types:
        return "object property"
    return "property"
