"""Facts about SPARQL text that pyoxigraph does not expose (it gives Python no algebra).

A careful token scan: strings (all four quote styles), comments and IRIs are skipped, so
``"FROM"`` in a literal or ``<http://x/#LOAD>`` is never mistaken for a keyword.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
             | '''(?:[^'\\]|\\.|'(?!''))*'''
             | "(?:[^"\\\n\r]|\\.)*"
             | '(?:[^'\\\n\r]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][^\s{}()\[\];,.<>"'=!|&*+/^-]+)
  | (?P<word>[^\s{}()\[\];,<>"'=!|&*+/^?$#]+)
  | (?P<open>\{)
  | (?P<close>\})
  | (?P<other>\S)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    depth: int  # nesting of { } at the token

    def is_keyword(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def tokens(text: str) -> Iterator[Token]:
    """The significant tokens of SPARQL text (comments dropped), with their brace depth.

    >>> [t.text for t in tokens('SELECT * { ?s ?p "SERVICE" } # LOAD')]
    ['SELECT', '*', '{', '?s', '?p', '"SERVICE"', '}']
    """
    depth = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind == "comment":
            continue
        if kind == "close":
            depth = max(0, depth - 1)
        yield Token(kind, match.group(), match.start(), depth)
        if kind == "open":
            depth += 1


def declared_prefixes(toks: Sequence[Token]) -> dict[str, str]:
    """The ``PREFIX p: <iri>`` declarations among ``toks``, as ``{"p": "iri"}``.

    >>> declared_prefixes(list(tokens("PREFIX ex: <http://ex/> SELECT * {}")))
    {'ex': 'http://ex/'}
    """
    found = {}
    for i, tok in enumerate(toks[:-2]):
        if tok.is_keyword("PREFIX") and toks[i + 1].kind == "word" and toks[i + 2].kind == "iri":
            found[toks[i + 1].text.rstrip(":")] = toks[i + 2].text[1:-1]
    return found


def may_contain(text: str, *keywords: str) -> bool:
    """False only when none of the upper-case ``keywords`` can occur in ``text`` as a keyword:
    a substring test, so the tokenizer (~30 µs for a short query) runs only when it might
    matter. Keywords are ASCII and case-insensitive, and ``str.upper`` keeps every ASCII letter
    where it was, so a keyword in the text is always found.

    >>> may_contain("select * { ?s ?p ?o }", "SERVICE", "LOAD")
    False
    >>> may_contain('SELECT * { ?s ?p "a service" }', "SERVICE")  # a string: tokens decide
    True
    """
    upper = text.upper()
    return any(word in upper for word in keywords)


def declares_dataset(text: str) -> bool:
    """True when a query names its own dataset with ``FROM`` or ``FROM NAMED``.

    Such a query must be evaluated on that dataset, not on the union default graph.

    >>> declares_dataset("SELECT * FROM <http://ex/g> { ?s ?p ?o }")
    True
    >>> declares_dataset('SELECT * { ?s ?p "FROM" } # FROM <x>')
    False
    """
    if not may_contain(text, "FROM"):
        return False
    return any(t.depth == 0 and t.is_keyword("FROM") for t in tokens(text))
