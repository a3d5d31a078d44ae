"""How to fix a value outside its list: the closest values a shape allows, added to its finding.

A shape's message says what is wrong ("Subject must be a concept of the topics scheme"); a
steward who typed ``social-inovation`` also wants to know what to type instead. Two kinds of
shape name a closed list of values, and for both the hint lists the nearest allowed ones:

- ``sh:in ( ... )`` (SHACL §4.8.3): the list itself;
- ``sh:node`` a node shape that requires ``skos:inScheme`` to have a value (``sh:hasValue``),
  the "scheme rule" of sinlod's shapes: the concepts of that scheme in the ontology's
  vocabularies.

Closeness is rapidfuzz's normalised edit similarity (``fuzz.ratio``, a few microseconds per
list) over what a person types: the last segment of an IRI (the slug in a record's cell), a
literal's text. Both engines' results go through here (``engines._hint``), so their findings
stay identical. 2 000 distinct misspelled topics add about 0.1 s to a 1.4 s validation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
import rdflib
from rapidfuzz import fuzz, process, utils
from rdflib.namespace import SH, SKOS

from sinlod.validate.render import compact
from sinlod.validate.rules import Rules

_IN = rdflib.URIRef("http://www.w3.org/ns/shacl#in")  # `in` is a keyword: no SH.in
_SHOWN = 3


@dataclass(frozen=True)
class Allowed:
    """One allowed value as a person writes it: in a record's cell, an IRI's slug when the
    wrong value is in the same namespace (``namespace`` + ``slug``); else ``written`` (the IRI
    compacted, a literal's text). Computed once per shape."""

    namespace: str | None
    slug: str
    written: str


def allowed_values(rules: Rules, shape: Any, component: Any) -> list[Allowed]:
    """The values ``shape`` allows when its ``component`` failed on a list, else ``[]``."""
    g = rules.shapes
    terms: list[rdflib.term.Node] = []
    if component == SH.InConstraintComponent:
        items = g.value(shape, _IN)
        terms = list(rdflib.collection.Collection(g, items)) if items is not None else []
    elif component == SH.NodeConstraintComponent:
        for node in g.objects(shape, SH.node):
            for scheme in _schemes(g, node):
                query = f"SELECT ?c WHERE {{ ?c <{SKOS.inScheme}> <{scheme}> }} ORDER BY ?c"
                solutions = rules.lookup.query(query)
                assert isinstance(solutions, ox.QuerySolutions)
                terms += [rdflib.URIRef(row["c"].value) for row in solutions]
    return [_allowed(t, rules.prefixes) for t in terms]


def _allowed(term: rdflib.term.Node, prefixes: dict[str, str]) -> Allowed:
    if isinstance(term, rdflib.URIRef):
        iri = str(term)
        namespace, _, slug = iri.rpartition("/")
        return Allowed(namespace + "/", slug, compact(prefixes, iri))
    return Allowed(None, str(term), str(term))


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


def closest_allowed(value: str, allowed: list[Allowed]) -> str:
    """``"; closest allowed values: `social-innovation`, ..."`` for ``value`` (N-Triples) among
    ``allowed``: up to three, the closest first; ``""`` when there is nothing else to offer."""
    namespace, typed = _typed(value)
    if any((a.namespace, a.slug) == (namespace, typed) for a in allowed):
        return ""  # in the list: the shape failed for another reason, no value to suggest
    shown = [
        a.slug if namespace is not None and a.namespace == namespace else a.written for a in allowed
    ]
    choices = sorted({text for text in shown if text != typed})
    if not choices:
        return ""
    keys = [_folded(text) for text in choices]
    best = process.extract(_folded(typed), keys, scorer=fuzz.ratio, processor=None, limit=_SHOWN)
    ranked = sorted(best, key=lambda m: (-m[1], m[2]))
    return "; closest allowed values: " + ", ".join(f"`{choices[i]}`" for _, _, i in ranked)


@functools.lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    """Lower case, punctuation as spaces: ``social-innovation`` and ``Social Innovation`` meet."""
    return str(utils.default_process(text))


def _typed(value: str) -> tuple[str | None, str]:
    """(namespace, what was typed) of a value in N-Triples: an IRI's namespace and last
    segment; no namespace and a literal's text."""
    if value.startswith("<"):
        namespace, _, slug = value[1:-1].rpartition("/")
        return namespace + "/", slug
    if value.startswith('"'):
        return None, value[1 : value.rindex('"')]
    return None, value
