"""What a resource page shows, built from the resource's description (no HTML here).

The template gets plain values: a title, type badges, properties with human labels, qualified
relations as sentences ("AEIDL: coordinator of SIC, 2016-02 – 2019-02"), incoming links, sources.
Internal IRIs are linked to this server; external ones keep their IRI and are labelled with the
dataset they lead to (Wikidata, NUTS, EU authority tables, CORDIS, GeoNames).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyoxigraph as ox

from sinlod.config import Settings
from sinlod.linking import LINK_TARGETS
from sinlod.names import LABEL_PROPERTIES, local_name, pick
from sinlod.namespaces import PREFIXES
from sinlod.server.http.urls import link_for, local_url

RDF_TYPE = PREFIXES["rdf"] + "type"
SINLOD = PREFIXES["sinlod"]
M8G = PREFIXES["m8g"]
ORG = PREFIXES["org"]
SOURCE = PREFIXES["dct"] + "source"
ACRONYM = SINLOD + "acronym"
START, END = SINLOD + "startDate", SINLOD + "endDate"

#: Qualified relations: (points at the activity/organisation, the agent, the role).
QUALIFIED = (
    (SINLOD + "involvedIn", M8G + "hasParticipant", M8G + "role"),
    (ORG + "organization", ORG + "member", ORG + "role"),
)
QUALIFIER_PROPERTIES = {p for triple in QUALIFIED for p in triple[:2]}

Labels = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Value:
    text: str
    href: str | None = None
    lang: str | None = None
    dataset: str | None = None


@dataclass
class Property:
    iri: str
    label: str
    href: str | None
    values: list[Value] = field(default_factory=list)


@dataclass(frozen=True)
class Relation:
    agent: Value
    roles: list[Value]
    target: Value
    dates: str


@dataclass
class ResourceView:
    iri: str
    title: str
    types: list[Value]
    properties: list[Property]
    relations: list[Relation]
    incoming: list[tuple[Value, str]]
    sources: list[Value]


@dataclass
class _Context:
    """What every value needs to become a link with a label."""

    labels: Labels
    lang: str
    root: str
    settings: Settings
    short: dict[str, str]
    by_subject: Mapping[str, list[ox.Triple]] = field(default_factory=dict)

    def label(self, iri: str) -> str | None:
        return pick(self.labels.get(iri, {}), self.lang)

    def value(self, term: object, *, short: bool = False) -> Value:
        if isinstance(term, ox.Literal):
            return Value(term.value, lang=term.language)
        if isinstance(term, ox.NamedNode):
            iri = term.value
            text = (self.short.get(iri) if short else None) or self.label(iri) or _compact(iri)
            local = local_url(iri, self.root, self.settings)
            href = local or link_for(iri, self.root, self.settings)
            return Value(text, href, dataset=None if local else dataset_of(iri))
        if isinstance(term, ox.BlankNode):
            return Value(self.inline(term.value))
        return Value(str(term))

    def inline(self, node: str) -> str:
        """A blank node has no page of its own: its properties are shown in place, one level."""
        parts = []
        for t in self.by_subject.get(node, []):
            p = t.predicate.value
            name = "type" if p == RDF_TYPE else self.label(p) or _compact(p)
            shown = "…" if isinstance(t.object, ox.BlankNode) else self.value(t.object).text
            parts.append(f"{name}: {shown}")
        return "; ".join(sorted(parts)) or "(blank node)"


def dataset_of(iri: str) -> str | None:
    """The external dataset an IRI belongs to, by namespace (``None`` for a plain web page).

    >>> dataset_of("http://data.europa.eu/nuts/code/BE100")
    'NUTS (Eurostat)'
    """
    for target in LINK_TARGETS:
        if iri.startswith(target.namespace):
            return target.title
    return None


def _compact(iri: str) -> str:
    """``skos:prefLabel`` for a known namespace, else the IRI itself."""
    best = max(
        ((k, ns) for k, ns in PREFIXES.items() if iri.startswith(ns)),
        key=lambda kv: len(kv[1]),
        default=None,
    )
    return f"{best[0]}:{iri[len(best[1]) :]}" if best else iri


def build(
    iri: str, triples: list[ox.Triple], labels: Labels, lang: str, root: str, settings: Settings
) -> ResourceView:
    """The page's content for ``iri`` from its description and the labels of terms."""
    all_labels = _labels(triples, labels)
    by_subject: dict[str, list[ox.Triple]] = defaultdict(list)
    for t in triples:
        by_subject[_key(t.subject)].append(t)
    short = {
        s: t.object.value
        for s, ts in by_subject.items()
        for t in ts
        if t.predicate.value == ACRONYM and isinstance(t.object, ox.Literal)
    }
    ctx = _Context(all_labels, lang, root, settings, short, by_subject)
    own = by_subject.get(iri, [])
    qualified = _qualified(iri, triples)
    return ResourceView(
        iri=iri,
        title=ctx.label(iri) or short.get(iri) or local_name(iri),
        types=[ctx.value(t.object) for t in own if t.predicate.value == RDF_TYPE],
        properties=_properties(own, ctx),
        relations=[_relation(by_subject[q], ctx) for q in sorted(qualified)],
        incoming=_incoming(iri, triples, qualified, ctx),
        sources=[ctx.value(t.object) for t in own if t.predicate.value == SOURCE],
    )


def _key(term: object) -> str:
    return term.value if isinstance(term, ox.NamedNode | ox.BlankNode) else str(term)


def _labels(triples: list[ox.Triple], labels: Labels) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {k: dict(v) for k, v in labels.items()}
    for t in triples:
        if t.predicate.value in LABEL_PROPERTIES and isinstance(t.object, ox.Literal):
            merged.setdefault(_key(t.subject), {}).setdefault(
                t.object.language or "", t.object.value
            )
    return merged


def _properties(own: list[ox.Triple], ctx: _Context) -> list[Property]:
    grouped: dict[str, Property] = {}
    for t in own:
        p = t.predicate.value
        if p in (RDF_TYPE, SOURCE):
            continue
        href = link_for(p, ctx.root, ctx.settings)
        prop = grouped.setdefault(p, Property(p, ctx.label(p) or _compact(p), href))
        prop.values.append(ctx.value(t.object))
    return sorted(grouped.values(), key=lambda prop: prop.label.casefold())


def _qualified(iri: str, triples: list[ox.Triple]) -> set[str]:
    return {
        _key(t.subject)
        for t in triples
        if t.predicate.value in QUALIFIER_PROPERTIES and _key(t.object) == iri
    }


def _relation(triples: list[ox.Triple], ctx: _Context) -> Relation:
    """One involvement or membership as the parts of a sentence."""
    values: dict[str, list[object]] = defaultdict(list)
    for t in triples:
        values[t.predicate.value].append(t.object)
    target_p, agent_p, role_p = next(
        (q for q in QUALIFIED if q[0] in values or q[1] in values), QUALIFIED[0]
    )
    agent = ctx.value(values[agent_p][0], short=True) if values[agent_p] else Value("someone")
    target = ctx.value(values[target_p][0], short=True) if values[target_p] else Value("something")
    roles = [ctx.value(r) for r in values[role_p]]
    return Relation(agent, roles, target, _dates(values))


def _dates(values: Mapping[str, list[object]]) -> str:
    start = next((str(getattr(v, "value", v)) for v in values.get(START, [])), "")
    end = next((str(getattr(v, "value", v)) for v in values.get(END, [])), "")
    if start and end:
        return f"{start} – {end}"
    return f"from {start}" if start else (f"until {end}" if end else "")


def _incoming(
    iri: str, triples: list[ox.Triple], qualified: set[str], ctx: _Context
) -> list[tuple[Value, str]]:
    found = []
    for t in triples:
        subject = _key(t.subject)
        if _key(t.object) == iri and subject not in qualified and subject != iri:
            predicate = t.predicate.value
            found.append((ctx.value(t.subject), ctx.label(predicate) or _compact(predicate)))
    return sorted(found, key=lambda pair: (pair[1], pair[0].text.casefold()))
