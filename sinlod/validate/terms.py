"""Terms between pyoxigraph (the batch, the source map's N-Triples keys) and rdflib (pySHACL)."""

from __future__ import annotations

import logging
from typing import Any

import pyoxigraph as ox
import rdflib

from sinlod.errors import InputError

# rdflib logs every ill-typed literal ("Failed to convert Literal lexical form") through
# logging's last-resort handler, i.e. to stderr; the finding about it is what users should see.
logging.getLogger("rdflib.term").addHandler(logging.NullHandler())

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def to_rdflib_triple(t: ox.Triple | ox.Quad) -> tuple[Any, Any, Any]:
    return (to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))


def to_rdflib(term: Any) -> Any:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language, normalize=False)
        dt = term.datatype.value
        datatype = None if dt == _XSD_STRING else rdflib.URIRef(dt)
        # normalize=False keeps the lexical form, so the value matches the source map exactly
        return rdflib.Literal(term.value, datatype=datatype, normalize=False)
    raise InputError(f"cannot validate RDF-star triple terms: {term}")


def to_nt(term: Any) -> str:
    """An rdflib term in N-Triples syntax, as pyoxigraph writes it (the source map's keys)."""
    if isinstance(term, rdflib.URIRef):
        return str(ox.NamedNode(str(term)))
    if isinstance(term, rdflib.BNode):
        return str(ox.BlankNode(str(term)))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return str(ox.Literal(str(term), language=term.language))
        dt = ox.NamedNode(str(term.datatype)) if term.datatype else None
        return str(ox.Literal(str(term), datatype=dt))
    return str(term)


def focus_nt(focus: str) -> str:
    return focus if focus.startswith("_:") else f"<{focus}>"


def rdflib_node(term: str) -> Any:
    return rdflib.BNode(term[2:]) if term.startswith("_:") else rdflib.URIRef(term[1:-1])
