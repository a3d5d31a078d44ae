"""The fast engine: the ``shacl`` package (a SHACL Core + SHACL-SPARQL validator in Rust).

pySHACL stays the reference (``tests/test_shacl_engines.py`` runs the W3C SHACL suite, the shipped
shapes and the invalid corpus through both engines and requires identical findings). This module
only runs ``shacl`` and hands back its raw results with every term in N-Triples syntax and every
blank node under the label *we* gave it; ``run.py`` turns them into ``Finding`` objects with the
same helpers it uses for pySHACL's report.

Blank nodes: ``shacl`` re-labels them. Its term store numbers blank nodes in the order it first
meets them: the shapes text first (``_:1_b0``, ``_:1_b1``, ...), then, continuing the same
counter, the data text (``_:0_bN``, ...). We write both texts ourselves as N-Triples, so the
order of first appearance is known and each label maps back. When a label does not fit that
scheme, ``Declined`` is raised and the caller runs pySHACL instead: a wrong mapping would point a
finding at the wrong node, which is worse than being slow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
import shacl

_NT = ox.RdfFormat.N_TRIPLES
_LABEL = re.compile(r"_:([01])_b(\d+)")


class Declined(Exception):
    """The fast engine cannot give a result identical to pySHACL's here; run pySHACL."""


@dataclass(frozen=True)
class RawResult:
    """One result of the fast engine, terms in N-Triples syntax with our blank-node labels.

    ``shape`` is the source shape: ``<iri>`` or ``_:label`` as in the shapes we compiled.
    ``path`` is the result path as ``shacl`` renders it (SPARQL property path syntax).
    """

    focus: str
    path: str | None
    value: str | None
    shape: str
    component: str
    severity: str
    messages: tuple[str, ...]


@dataclass(frozen=True)
class FastShapes:
    """Shapes compiled once, with what is needed to map blank-node labels back."""

    compiled: shacl.Shapes | None  # None: the engine refused the shapes; pySHACL gets them
    shape_bnodes: tuple[str, ...]
    ontology_triples: tuple[ox.Triple, ...]


def compile_shapes(
    shapes: Sequence[ox.Triple | ox.Quad], ontology: Sequence[ox.Triple | ox.Quad]
) -> FastShapes:
    """Compile ``shapes``; ``ontology`` is kept to add to every data graph.

    The ontology goes into the data graph (and RDFS inference runs over both), which is what
    pySHACL does with ``ont_graph`` and ``inference="rdfs"``.
    """
    shape_triples = [_triple(t) for t in shapes]
    text = _nt_text(shape_triples)
    onto = tuple(_triple(t) for t in ontology)
    try:
        compiled: shacl.Shapes | None = shacl.Shapes.from_text(text, format="ntriples")
    except ValueError:
        compiled = None
    return FastShapes(
        compiled=compiled,
        shape_bnodes=tuple(_bnodes_in_order(shape_triples)),
        ontology_triples=onto,
    )


def run(
    fast: FastShapes, data: Sequence[ox.Triple | ox.Quad], inference: str = "rdfs"
) -> list[RawResult]:
    """Validate ``data`` (graph names dropped) plus the ontology, with RDFS inference by default.

    Raises ``Declined`` when the engine refused the shapes or the data (e.g. SPARQL it does not
    support), or when a blank-node label in a result cannot be mapped back.
    """
    if fast.compiled is None:
        raise Declined("the fast engine refused the shapes")
    # one text, data first and the ontology after it: the order blank nodes are numbered in
    text = (ox.serialize(_triples(data, fast.ontology_triples), format=_NT) or b"").decode()
    try:
        report = fast.compiled.validate_text(text, format="ntriples", inference=inference)
    except ValueError as exc:
        raise Declined(str(exc)) from exc
    del text
    labels = _Labels(fast, data)
    return [
        RawResult(
            focus=labels.back(r.focus_node),
            path=r.path,
            value=labels.back(r.value) if r.value is not None else None,
            shape=labels.back(r.source_shape or ""),
            component=r.component_iri,
            severity=r.severity_iri,
            messages=tuple(r.messages),
        )
        for r in report.results
    ]


class _Labels:
    """``_:1_bK`` → the K-th blank node of the shapes; ``_:0_bK`` → the (K - shapes)-th of the data.

    The data's order is computed only when a result names a blank node (rare in sinlod's data,
    whose records all have IRIs), so large batches do not pay for it.
    """

    def __init__(self, fast: FastShapes, data: Sequence[ox.Triple | ox.Quad]) -> None:
        self.fast = fast
        self.data = data
        self._data_bnodes: list[str] | None = None

    def back(self, term: str) -> str:
        if not term.startswith("_:"):
            return term
        match = _LABEL.fullmatch(term)
        if match is None:
            raise Declined(f"unexpected blank node label {term}")
        number = int(match.group(2))
        if match.group(1) == "1":
            return self._pick(self.fast.shape_bnodes, number, term)
        return self._pick(self._data_order(), number - len(self.fast.shape_bnodes), term)

    def _data_order(self) -> list[str]:
        if self._data_bnodes is None:
            self._data_bnodes = _bnodes_in_order(_triples(self.data, self.fast.ontology_triples))
        return self._data_bnodes

    @staticmethod
    def _pick(labels: Sequence[str], index: int, term: str) -> str:
        if not 0 <= index < len(labels):
            raise Declined(f"blank node {term} is not one we wrote")
        return f"_:{labels[index]}"


def _bnodes_in_order(triples: Iterable[ox.Triple]) -> list[str]:
    """Blank-node labels in the order an N-Triples reader first meets them (subject, object)."""
    seen: dict[str, None] = {}
    for t in triples:
        for term in (t.subject, t.object):
            if isinstance(term, ox.BlankNode) and term.value not in seen:
                seen[term.value] = None
    return list(seen)


def _triples(data: Iterable[ox.Triple | ox.Quad], then: Iterable[ox.Triple]) -> Iterator[ox.Triple]:
    for t in data:
        yield _triple(t)
    yield from then


def _nt_text(triples: Sequence[ox.Triple]) -> str:
    data = ox.serialize(triples, format=_NT) if triples else b""
    return (data or b"").decode("utf-8")


def _triple(t: ox.Triple | ox.Quad) -> ox.Triple:
    return t if isinstance(t, ox.Triple) else t.triple
