"""The context of a batch: what it refers to without describing it, pulled from elsewhere.

A batch is validated *alone*, with only the context it needs: for every IRI the batch refers to
but does not describe, its types, labels and ``skos:inScheme`` are pulled (one SPARQL query) from
the vocabularies, the reference snapshots and, optionally, a published store, so that
``sh:class`` on a reference resolves without validating the whole store again. The write gate
(``sinlod.changes``) pulls it from the graphs a write leaves as they are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from sinlod.config import Settings
from sinlod.errors import InputError, StoreError

#: What the context query pulls about each referenced IRI.
CONTEXT_PREDICATES = (
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2004/02/skos/core#inScheme",
)


#: IRIs per context query: one query for any usual batch, bounded text for huge ones.
CONTEXT_CHUNK = 50_000


_RDF_TYPE = ox.NamedNode(CONTEXT_PREDICATES[0])


_IN_SCHEME = ox.NamedNode(CONTEXT_PREDICATES[3])


_SKOS_CONCEPT = ox.NamedNode("http://www.w3.org/2004/02/skos/core#Concept")


def referenced_iris(triples: Sequence[ox.Triple | ox.Quad]) -> list[ox.NamedNode]:
    """IRIs the batch points at (objects, not classes) without describing them itself."""
    subjects = {t.subject for t in triples}
    seen: dict[ox.NamedNode, None] = {}
    for t in triples:
        o = t.object
        if isinstance(o, ox.NamedNode) and o not in subjects and t.predicate != _RDF_TYPE:
            seen[o] = None
    return list(seen)


def context_triples(
    store: ox.Store,
    iris: Sequence[ox.NamedNode],
    *,
    outside: Sequence[str | None] | None = None,
) -> list[ox.Triple]:
    """Types, labels and ``skos:inScheme`` of ``iris`` in ``store``, all graphs: one query.

    ``outside`` names graphs to leave out (``None`` is the default graph): a write that replaces
    them brings their new content itself, so the old content must not answer for it.
    """
    found: list[ox.Triple] = []
    # FILTER, not a second VALUES: Oxigraph joins two VALUES blocks with ?s ?p ?o by scanning
    # the store (13 s against a million triples) but this form by index look-ups (0.1 s)
    predicates = ", ".join(f"<{p}>" for p in CONTEXT_PREDICATES)
    inner = f"?s ?p ?o FILTER (?p IN ({predicates}))"
    if outside is None:
        pattern = inner
    else:
        skip = ", ".join(f"<{g}>" for g in outside if g is not None)
        graph_filter = f"FILTER (?g NOT IN ({skip}))" if skip else ""
        default = "" if None in outside else f"{{ {inner} }} UNION "
        pattern = f"{default}{{ GRAPH ?g {{ {inner} }} {graph_filter} }}"
    for start in range(0, len(iris), CONTEXT_CHUNK):
        values = " ".join(str(i) for i in iris[start : start + CONTEXT_CHUNK])
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} {pattern} }}"
        try:
            result = store.query(query, use_default_graph_as_union=outside is None)
        except OSError as exc:
            raise StoreError(f"cannot read the context store: {exc}") from exc
        if not isinstance(result, ox.QueryTriples):
            raise AssertionError("a CONSTRUCT query returns triples")
        found.extend(result)
    return found


@contextlib.contextmanager
def open_context(context: Any) -> Iterator[ox.Store]:
    """The pyoxigraph store to pull context from, for the time of a ``with`` block.

    ``context`` is a pyoxigraph store, a ``sinlod.store.Store`` (its published snapshot), or the
    path of a store directory, then opened read-only at its published snapshot and closed after.
    Raises ``InputError`` when the path is no store directory, ``StoreError`` when the store
    cannot be read (corrupt, or written by a newer sinlod).
    """
    if isinstance(context, ox.Store):
        yield context
        return
    if isinstance(context, Path):
        from sinlod.store import Store
        from sinlod.store.layout import StoreDirectory

        if not context.is_dir() or not StoreDirectory(context).format_file.is_file():
            # said here, not by the store: its message would point a reader at --store
            raise InputError(f"no store at {context} (--context expects a store directory)")
        with Store.open(context, read_only=True) as store:
            yield store.oxigraph
        return
    snapshot = getattr(context, "oxigraph", None)
    if not isinstance(snapshot, ox.Store):
        raise TypeError(f"context must be a store or a store directory, not {context!r}")
    yield snapshot


def reference_context(settings: Settings, iris: Sequence[ox.NamedNode]) -> list[ox.Triple]:
    """``a skos:Concept ; skos:inScheme`` of the referenced codes of the reference tables, so
    that shapes such as ``sh:class skos:Concept`` resolve as when the tables were ontology."""
    from sinlod.linking.tables import load_tables

    tables = load_tables(settings.reference_dir)
    out = []
    for iri in iris:
        for scheme in tables.schemes_of(iri.value):
            out.append(ox.Triple(iri, _RDF_TYPE, _SKOS_CONCEPT))
            out.append(ox.Triple(iri, _IN_SCHEME, ox.NamedNode(scheme)))
    return out
