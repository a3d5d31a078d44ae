"""Scoping a query to one release of a remote store: logical graph names to stored ones.

On a remote backend each release's graphs are stored under names of their own
(``{base}store/graph/{release}/{n}``, see ``remote.py``), and a query must see one release's graphs
under the names the data has (``{base}graph/{dataset}/{table}``). pyoxigraph gives Python no
algebra, so the rewriting is done on the token scan of ``sinlod.sparql_text`` (strings, comments
and IRIs are never mistaken for keywords), in the three places a graph is named:

* ``FROM <g>`` and ``FROM NAMED <g>``: the stored name of ``g`` in that release (a name no graph
  has when ``g`` is not in it, so it is empty as it should be);
* ``GRAPH <g> { … }``: the same; when ``g`` is not among the graphs the query may name (not in
  the release, or not among its ``FROM NAMED``/``named-graph-uri``), ``{ { GRAPH <none> { … } }
  FILTER(false) }``, which matches nothing, as SPARQL says: Virtuoso 7 reads the dataset's other
  graphs for a ``GRAPH <g>`` that is not in it, and drops a ``FILTER(false)`` inside that group;
* ``GRAPH ?g { … }`` becomes ``GRAPH ?h { VALUES (?h ?g) { (<stored> <logical>) … } … }``:
  ``?g`` is bound to the logical name, inside the block too (as pyoxigraph binds it there), so
  ``FILTER(?g = <…>)``, ``STR(?g)``, ``VALUES ?g`` and the results all see the names of the
  data. ``?h`` is a fresh variable; ``SELECT *`` would show it, so ``hidden`` names it and the
  caller drops it from the results.

``SERVICE`` blocks are left alone: the remote service reads them, not the store. A ``BASE`` or a
relative IRI after ``GRAPH``/``FROM`` is resolved against the base before the lookup.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from sinlod.sparql_text import Token, declared_prefixes, tokens


@dataclass(frozen=True)
class Scoped:
    """A query rewritten for one release: its text, and the helper variables ``SELECT *``
    would show (to be dropped from the results)."""

    text: str
    hidden: tuple[str, ...]


def scope_query(
    text: str,
    stored: Mapping[str, str],
    missing: str,
    base_iri: str | None = None,
    named: Collection[str] | None = None,
) -> Scoped:
    """``text`` with every graph it names by IRI or variable mapped through ``stored`` (logical
    name → stored name); ``missing`` is the stored name of graphs the release does not have.

    >>> stored = {"http://l/1": "urn:p1"}
    >>> scope_query("SELECT * { GRAPH <http://l/1> { ?s ?p ?o } }", stored, "urn:x").text
    'SELECT * { GRAPH <urn:p1> { ?s ?p ?o } }'
    >>> print(scope_query("SELECT ?g { GRAPH ?g { ?s ?p ?o } }", stored, "urn:x").text)
    SELECT ?g { GRAPH ?sinlod_graph_1 { VALUES (?sinlod_graph_1 ?g) { (<urn:p1> <http://l/1>) } \
?s ?p ?o } }
    """
    toks = list(tokens(text))
    prefixes = declared_prefixes(toks)
    base = _declared_base(toks, base_iri)
    visible = _named_graphs(toks, prefixes, base, named)
    stem = _fresh_stem(text)
    values = " ".join(f"(<{p}> <{g}>)" for g, p in sorted(stored.items()))
    edits: list[tuple[int, int, str]] = []
    hidden: list[str] = []
    skip_until = -1
    for i, tok in enumerate(toks):
        if i <= skip_until:
            continue
        if tok.is_keyword("SERVICE"):
            skip_until = _block_end(toks, i)
            continue
        if tok.is_keyword("FROM"):
            j = i + 2 if i + 1 < len(toks) and toks[i + 1].is_keyword("NAMED") else i + 1
            if j < len(toks):
                edits += _named(toks[j], prefixes, base, stored, missing)
            continue
        if not tok.is_keyword("GRAPH") or i + 1 >= len(toks):
            continue
        target = toks[i + 1]
        close = _block_end(toks, i)
        if target.kind != "var":
            iri = _iri(target, prefixes, base)
            if iri is None:
                continue
            if iri in stored and (visible is None or iri in visible):
                edits.append((target.start, target.start + len(target.text), f"<{stored[iri]}>"))
            elif close >= 0:  # Virtuoso reads other graphs for a GRAPH <g> not in the dataset
                edits.append(
                    (tok.start, target.start + len(target.text), f"{{ {{ GRAPH <{missing}>")
                )
                end = toks[close].start + 1
                edits.append((end, end, " } FILTER(false) }"))
            continue
        if close < 0:
            continue  # not a graph pattern pyoxigraph would accept; the store says why
        helper = f"{stem}{len(hidden) + 1}"
        hidden.append(helper)
        edits.append((target.start, target.start + len(target.text), f"?{helper}"))
        opening = toks[i + 2].start + 1  # inside the block: its FILTERs see ?g, as pyoxigraph's do
        edits.append((opening, opening, f" VALUES (?{helper} {target.text}) {{ {values} }}"))
    for begin, end, replacement in sorted(edits, reverse=True):
        text = text[:begin] + replacement + text[end:]
    return Scoped(text, tuple(hidden))


def _named(
    tok: Token,
    prefixes: Mapping[str, str],
    base: str | None,
    stored: Mapping[str, str],
    missing: str,
) -> list[tuple[int, int, str]]:
    iri = _iri(tok, prefixes, base)
    if iri is None:
        return []
    return [(tok.start, tok.start + len(tok.text), f"<{stored.get(iri, missing)}>")]


def declared_dataset(text: str, base_iri: str | None = None) -> tuple[list[str], list[str]]:
    """The graphs a query's own ``FROM`` and ``FROM NAMED`` clauses name, in that order.

    >>> declared_dataset("SELECT * FROM <http://g/1> FROM NAMED <http://g/2> { ?s ?p ?o }")
    (['http://g/1'], ['http://g/2'])
    """
    toks = list(tokens(text))
    prefixes = declared_prefixes(toks)
    base = _declared_base(toks, base_iri)
    default: list[str] = []
    named: list[str] = []
    for i, tok in enumerate(toks):
        if not tok.is_keyword("FROM") or i + 1 >= len(toks):
            continue
        is_named = toks[i + 1].is_keyword("NAMED")
        j = i + 2 if is_named else i + 1
        iri = _iri(toks[j], prefixes, base) if j < len(toks) else None
        if iri is not None:
            (named if is_named else default).append(iri)
    return default, named


def _named_graphs(
    toks: Sequence[Token],
    prefixes: Mapping[str, str],
    base: str | None,
    named: Collection[str] | None,
) -> set[str] | None:
    """The graphs ``GRAPH`` can reach: the protocol's named graphs, else the query's own
    ``FROM NAMED`` (none when it has only ``FROM``), else all (None)."""
    if named is not None:
        return set(named)
    found: set[str] | None = None
    for i, tok in enumerate(toks):
        if not tok.is_keyword("FROM") or i + 1 >= len(toks):
            continue
        found = found if found is not None else set()
        if toks[i + 1].is_keyword("NAMED") and i + 2 < len(toks):
            iri = _iri(toks[i + 2], prefixes, base)
            if iri is not None:
                found.add(iri)
    return found


def _iri(tok: Token, prefixes: Mapping[str, str], base: str | None) -> str | None:
    if tok.kind == "iri":
        value = tok.text[1:-1]
        return urljoin(base, value) if base else value
    if tok.kind == "word" and ":" in tok.text:
        prefix, _, local = tok.text.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + local
    return None


def _declared_base(toks: Sequence[Token], base_iri: str | None) -> str | None:
    base = base_iri
    for i, tok in enumerate(toks[:-1]):
        if tok.is_keyword("BASE") and toks[i + 1].kind == "iri":
            value = toks[i + 1].text[1:-1]
            base = urljoin(base, value) if base else value
    return base


def _block_end(toks: Sequence[Token], i: int) -> int:
    """The index of the ``}`` closing the first ``{`` after token ``i``; -1 if there is none."""
    k = i + 1
    while k < len(toks) and toks[k].kind != "open":
        if toks[k].kind == "close":
            return -1
        k += 1
    if k >= len(toks):
        return -1
    depth = toks[k].depth
    for m in range(k + 1, len(toks)):
        if toks[m].kind == "close" and toks[m].depth == depth:
            return m
    return -1


def _fresh_stem(text: str) -> str:
    """A variable-name stem that does not occur in ``text``."""
    stem, n = "sinlod_graph_", 0
    while stem in text:
        n += 1
        stem = f"sinlod{n}_graph_"
    return stem
