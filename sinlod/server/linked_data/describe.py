"""The RDF served for one resource: its concise bounded description, widened for people.

For a resource R the description holds (DESIGN.md 2):

* R's own triples, and those of blank nodes R points at (the CBD proper);
* R's qualified relations: involvements and memberships whose ``sinlod:involvedIn``,
  ``m8g:hasParticipant``, ``org:member`` or ``org:organization`` is R, with their own triples;
* the labels (``skos:prefLabel``, ``rdfs:label``, ``dct:title``, ``sinlod:acronym``) and types
  of everything those triples link to, so a reader of the Turtle sees names, not only IRIs;
* incoming links (``?x ?p R``), capped at ``MAX_INCOMING``, with the labels of their subjects.

It is one SPARQL CONSTRUCT, evaluated and serialised by Oxigraph.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from sinlod.store.backend import StoreBackend

MAX_INCOMING = 1000

QUALIFIERS = (
    "<https://w3id.org/sinlod/def/involvedIn>",
    "<http://data.europa.eu/m8g/hasParticipant>",
    "<http://www.w3.org/ns/org#member>",
    "<http://www.w3.org/ns/org#organization>",
)
LABELS = (
    "<http://www.w3.org/2004/02/skos/core#prefLabel> <http://www.w3.org/2000/01/rdf-schema#label>"
    " <http://purl.org/dc/terms/title> <https://w3id.org/sinlod/def/acronym>"
)
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"

_CORE = """
CONSTRUCT {{ <{iri}> ?p ?o . ?o ?bp ?bo . ?q ?qp ?qo . ?in ?ip <{iri}> . }}
WHERE {{
  {{ <{iri}> ?p ?o OPTIONAL {{ ?o ?bp ?bo FILTER isBlank(?o) }} }}
  UNION {{ ?q {qualifiers} <{iri}> . ?q ?qp ?qo }}
  UNION {{ SELECT ?in ?ip WHERE {{ ?in ?ip <{iri}> }} LIMIT {limit} }}
}}
"""

_LABELLED = """
CONSTRUCT {{ ?x ?lp ?label . ?x a ?type . }}
WHERE {{
  VALUES ?x {{ {things} }}
  {{ VALUES ?lp {{ {labels} }} ?x ?lp ?label }} UNION {{ ?x {rdf_type} ?type }}
}}
"""


@dataclass(frozen=True)
class Description:
    """The description of ``iri``: canonical N-Triples (one triple a line) and the triples."""

    iri: str
    ntriples: bytes

    def triples(self) -> list[ox.Triple]:
        return [q.triple for q in ox.parse(self.ntriples, ox.RdfFormat.N_TRIPLES)]

    def serialize(self, fmt: ox.RdfFormat, prefixes: dict[str, str]) -> bytes:
        """In any RDF format, by Oxigraph."""
        if fmt == ox.RdfFormat.N_TRIPLES:
            return self.ntriples
        quads = ox.parse(self.ntriples, ox.RdfFormat.N_TRIPLES)
        return bytes(ox.serialize(quads, format=fmt, prefixes=prefixes) or b"")


def exists(store: StoreBackend, iri: str) -> bool:
    """True when the store says anything about ``iri`` (it is the subject of a triple)."""
    # Every graph, whatever the endpoint's default graph is (setting union_default_graph).
    return bool(store.query(f"ASK {{ <{_checked(iri)}> ?p ?o }}", union_default_graph=True))


def describe(store: StoreBackend, iri: str) -> Description:
    """The description of ``iri`` (see the module docstring); empty if nothing is known.

    Two queries, the resource's neighbourhood and then the labels and types of the IRIs in it,
    each keyed on bound IRIs so that Oxigraph never scans the store (a few ms a page).
    """
    checked = _checked(iri)
    core = _construct(
        store,
        _CORE.format(iri=checked, qualifiers="|".join(QUALIFIERS), limit=MAX_INCOMING),
    )
    things = _iris(core) - {checked}
    labelled = b""
    if things:
        values = " ".join(f"<{t}>" for t in sorted(things))
        labelled = _construct(
            store, _LABELLED.format(things=values, labels=LABELS, rdf_type=RDF_TYPE)
        )
    lines = sorted(set((core + labelled).splitlines(keepends=True)))  # no triple twice
    return Description(iri, b"".join(lines))


def _construct(store: StoreBackend, query: str) -> bytes:
    results = store.query(query, union_default_graph=True)  # all graphs, in either mode
    assert isinstance(results, ox.QueryTriples)
    nt = bytes(results.serialize(format=ox.RdfFormat.N_TRIPLES) or b"")
    del results
    return nt


def _iris(ntriples: bytes) -> set[str]:
    """The IRIs in subject or object position: what the page links to or is linked from."""
    found = set()
    for quad in ox.parse(ntriples, ox.RdfFormat.N_TRIPLES):
        for term in (quad.subject, quad.object):
            if isinstance(term, ox.NamedNode):
                found.add(term.value)
    return found


def _checked(iri: str) -> str:
    """An IRI safe to put between ``<`` and ``>`` (the path came from a request)."""
    return ox.NamedNode(iri).value
