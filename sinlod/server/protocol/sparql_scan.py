"""A token scan of SPARQL text, for the rewriting pyoxigraph cannot do on an algebra.

pyoxigraph parses queries but gives Python no algebra, so two rewritings are done on tokens:

* making a refused ``SILENT`` ``SERVICE``/``LOAD`` fail silently (``silence_remote``); whether a
  remote call is allowed at all is decided on the parsed text (``query_policy.check_remote``),
  which also re-checks what this rewriting produced, and
* applying ``using-graph-uri`` / ``using-named-graph-uri`` to an update (SPARQL 1.1 Protocol §2.2.3)
  by adding ``USING`` clauses before each top-level ``WHERE`` of a modify operation; the result is
  checked for remote calls after that, so the clauses cannot smuggle one in.

The scanner skips strings (all four quote styles), comments and IRIs, so ``"SERVICE"`` in a literal
or ``<http://x/#LOAD>`` is never mistaken for a keyword.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import pyoxigraph as ox

from sinlod.errors import QueryError
from sinlod.sparql_text import Token, declared_prefixes, tokens


def _target(tok: Token, prefixes: dict[str, str]) -> str | None:
    """The absolute IRI a SERVICE/LOAD operand names, or ``None`` when it cannot be known."""
    if tok.kind == "iri":
        return tok.text[1:-1]
    if tok.kind == "word" and ":" in tok.text:
        prefix, _, local = tok.text.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + local
    return None


def silence_remote(text: str, allowed: set[str]) -> str:
    """The text with each ``SILENT`` ``SERVICE``/``LOAD`` whose target is not visibly on
    ``allowed`` made to fail silently, as SPARQL says a failed silent operation behaves:
    ``SERVICE SILENT <x> { ... }`` becomes ``{}`` (one empty solution, SPARQL 1.1 Federated Query
    §4) and ``LOAD SILENT <x>`` becomes the no-op ``INSERT DATA {}`` (SPARQL 1.1 Update §3.1.4).

    Only the rewriting is done on tokens; whether the result may run is decided again on its
    parse (``query_policy.check_remote``), so a text this scan misreads is refused, not run.

    >>> silence_remote("SELECT * { SERVICE SILENT <http://b.example/q> { ?s ?p ?o } }", set())
    'SELECT * { {} }'
    """
    toks = list(tokens(text))
    prefixes = declared_prefixes(toks)
    cuts: list[tuple[int, int, str]] = []
    for i, tok in enumerate(toks):
        if not tok.is_keyword("SERVICE", "LOAD"):
            continue
        if not (i + 2 < len(toks) and toks[i + 1].is_keyword("SILENT")):
            continue
        j = i + 2
        iri = _target(toks[j], prefixes)
        host = (urlsplit(iri).hostname or "") if iri else ""
        if host and host.lower() in allowed:
            continue
        cuts.append(_silenced(toks, i, j))
    for begin, end, replacement in reversed(cuts):
        text = text[:begin] + replacement + text[end:]
    return text


def _silenced(toks: Sequence[Token], i: int, j: int) -> tuple[int, int, str]:
    """The span of a silent SERVICE (up to its closing brace) or LOAD (up to its target graph),
    and what replaces it."""
    if toks[i].is_keyword("SERVICE"):
        k = j + 1
        while k < len(toks) and toks[k].kind != "open":
            k += 1
        close = next(
            (t for t in toks[k + 1 :] if t.kind == "close" and t.depth == toks[k].depth),
            toks[-1],
        )
        return toks[i].start, close.start + 1, "{}"
    end = j
    if end + 1 < len(toks) and toks[end + 1].is_keyword("INTO"):
        end += 3 if end + 2 < len(toks) and toks[end + 2].is_keyword("GRAPH") else 2
        end = min(end, len(toks) - 1)
    return toks[i].start, toks[end].start + len(toks[end].text), "INSERT DATA {}"


def add_using(update: str, using: Sequence[str], using_named: Sequence[str]) -> str:
    """The update with ``USING``/``USING NAMED`` clauses for the protocol's graph parameters.

    The protocol forbids combining the parameters with ``USING`` or ``WITH`` in the text
    (§2.2.3): that raises ``QueryError``. ``DELETE WHERE`` takes no ``USING`` and is left alone.

    >>> add_using("DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", ["http://g"], [])
    'DELETE { ?s ?p ?o } USING <http://g> WHERE { ?s ?p ?o }'
    """
    if not using and not using_named:
        return update
    toks = list(tokens(update))
    if any(t.depth == 0 and t.is_keyword("USING", "WITH") for t in toks):
        raise QueryError(
            "using-graph-uri and using-named-graph-uri cannot be combined with USING or WITH"
            " in the update"
        )
    for graph in (*using, *using_named):
        try:  # the IRIs go into the update text: they must be IRIs and nothing more
            ox.NamedNode(graph)
        except ValueError as exc:
            raise QueryError(f"not an absolute IRI: {graph!r} ({exc})") from exc
    clause = "".join(f"USING <{g}> " for g in using)
    clause += "".join(f"USING NAMED <{g}> " for g in using_named)
    out, last = [], 0
    for i, tok in enumerate(toks):
        if (
            tok.depth == 0
            and tok.is_keyword("WHERE")
            and not (i and toks[i - 1].is_keyword("DELETE"))
        ):
            out.append(update[last : tok.start] + clause)
            last = tok.start
    out.append(update[last:])
    return "".join(out)
