"""How to fix a value outside its list: the closest values a shape allows, added to its finding.

A shape's message says what is wrong ("Subject must be a concept of the topics scheme"); a
steward who typed ``social-inovation`` also wants to know what to type instead. Two kinds of
shape name a closed list of values, and for both the hint lists the nearest allowed ones:

- ``sh:in ( ... )`` (SHACL §4.8.3): the list itself;
- ``sh:node`` a node shape that requires ``skos:inScheme`` to have a value (``sh:hasValue``),
  the "scheme rule" of sinlod's shapes: the concepts of that scheme in the ontology's
  vocabularies.

Closeness is rapidfuzz's weighted ratio over what a person types: the last segment of an IRI
(the slug in a record's cell), a literal's text. Both engines' results go through here
(``engines._hint``), so their findings stay identical.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
import rdflib
from rapidfuzz import fuzz, process, utils
from rdflib.namespace import SH, SKOS

from sinlod.validate.render import compact
from sinlod.validate.rules import Rules

_IN = rdflib.URIRef("http://www.w3.org/ns/shacl#in")  # `in` is a keyword: no SH.in
_SHOWN = 3


def allowed_values(rules: Rules, shape: Any, component: Any) -> list[rdflib.term.Node]:
    """The values ``shape`` allows when its ``component`` failed on a list, else ``[]``."""
    g = rules.shapes
    if component == SH.InConstraintComponent:
        items = g.value(shape, _IN)
        return list(rdflib.collection.Collection(g, items)) if items is not None else []
    if component != SH.NodeConstraintComponent:
        return []
    found: list[rdflib.term.Node] = []
    for node in g.objects(shape, SH.node):
        for scheme in _schemes(g, node):
            query = f"SELECT ?c WHERE {{ ?c <{SKOS.inScheme}> <{scheme}> }} ORDER BY ?c"
            solutions = rules.lookup.query(query)
            assert isinstance(solutions, ox.QuerySolutions)
            found += [rdflib.URIRef(row["c"].value) for row in solutions]
    return found


def _schemes(g: rdflib.Graph, node: Any) -> list[str]:
    """The schemes a node shape requires through ``sh:property [sh:path skos:inScheme;
    sh:hasValue S]``."""
    out = []
    for prop in g.objects(node, SH.property):
        if g.value(prop, SH.path) == SKOS.inScheme:
            value = g.value(prop, SH.hasValue)
            if isinstance(value, rdflib.URIRef):
                out.append(str(value))
    return out


def closest_allowed(rules: Rules, value: str, allowed: list[rdflib.term.Node]) -> str:
    """The hint for ``value`` among ``allowed``: up to three values, the closest first."""
    if not allowed:
        return ""
    shown = {_typed(v, rules.prefixes, value): v for v in allowed}
    typed = _typed_nt(value)
    choices = {text: text for text in shown if text != typed}
    if not choices:
        return ""
    best = process.extract(
        typed, choices, scorer=fuzz.WRatio, processor=utils.default_process, limit=_SHOWN
    )
    ranked = sorted(best, key=lambda m: (-m[1], m[0]))
    return "; closest allowed values: " + ", ".join(f"`{text}`" for text, _, _ in ranked)


def _typed(term: rdflib.term.Node, prefixes: dict[str, str], value: str) -> str:
    """What a person types for an allowed value: the slug of an IRI in the namespace of the
    wrong value (the cell of a record), else the IRI compacted; a literal's text."""
    if isinstance(term, rdflib.URIRef):
        iri = str(term)
        namespace = iri.rsplit("/", 1)[0] + "/"
        if value.startswith("<" + namespace) and "/" not in value[len(namespace) + 1 : -1]:
            return iri[len(namespace) :]
        return compact(prefixes, iri)
    return str(term)


def _typed_nt(value: str) -> str:
    """The typed text of a value in N-Triples: an IRI's last segment, a literal's text."""
    if value.startswith("<"):
        return value[1:-1].rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    if value.startswith('"'):
        return value[1 : value.rindex('"')]
    return value
