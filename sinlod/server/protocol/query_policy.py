"""What a public endpoint refuses before a query or update reaches the engine.

Two duties, both decided before anything runs:

* **Nesting.** pyoxigraph's parser and evaluator recurse once per nested group, parenthesis,
  blank-node bracket or chained operator, and a deep enough text overflows the thread's stack: the
  whole worker dies (measured in a subprocess: about 2,200 nested ``{``, 4,800 parentheses, 2,700
  nested ``OPTIONAL``, 6,600 chained ``UNION`` or 9,600 chained ``||`` with an 8 MB stack).
  ``check_nesting`` refuses a text nested deeper than ``max_query_depth`` or with more chained
  operators than ``max_query_depth * CHAIN_FACTOR``. It over-counts rather than under-counts (see
  ``nesting_depth``).
* **Remote calls.** ``SERVICE`` and ``LOAD`` make Oxigraph open HTTP connections. Whether each one
  goes to an allowed host is decided on the *parsed* text (rdflib's SPARQL 1.1 parser; pyoxigraph
  gives Python no algebra), never on a token scan, and before the text runs: a refused query makes
  no connection. See ``check_remote``.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator, Sequence
from itertools import zip_longest
from typing import Any
from urllib.parse import urljoin, urlsplit

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.parser import Query as _QueryGrammar
from rdflib.plugins.sparql.parser import UpdateUnit as _UpdateGrammar
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef, Variable

from sinlod.errors import QueryError
from sinlod.server.http.problems import ServiceNotAllowed
from sinlod.server.protocol.sparql_scan import silence_remote

# -- nesting --------------------------------------------------------------------------------------

#: How many chained operators (UNION, OPTIONAL, MINUS, ||, &&, !) a text may hold per unit of
#: ``max_query_depth``: a chain builds a left-deep tree as deep as it is long, but each link costs
#: less stack than a nested group (crash at 6,600-9,600 links against 2,200 groups).
CHAIN_FACTOR = 10

_OPENS = "{(["
_BRACKETS = "{([})]"
_CHAIN = re.compile(r"UNION|OPTIONAL|MINUS|\|\||&&|!", re.IGNORECASE)
# Every character that can change the state of some reading of the text (see nesting_depth).
_SPECIAL = re.compile(r"[{}()\[\]#\"'<>\\\n\r]")

_NORMAL, _COMMENT, _IRI, _S1, _S2, _L1, _L2 = range(7)


def check_nesting(text: str, max_depth: int) -> None:
    """Raise ``QueryError`` (400) when ``text`` nests deeper than ``max_depth`` or chains more
    operators than ``max_depth * CHAIN_FACTOR``, before any parser sees it.

    Free for ordinary queries: the full scan runs only when the text holds more opening brackets
    than ``max_depth`` (a text cannot nest deeper than it has brackets).

    >>> check_nesting("SELECT * {{{ }}}", 2)
    Traceback (most recent call last):
    ...
    sinlod.errors.QueryError: the query nests 3 levels deep; this endpoint allows at most 2 ...
    """
    if max_depth <= 0:
        return
    opens = sum(text.count(c) for c in _OPENS)
    if opens > max_depth:
        depth = nesting_depth(text)
        if depth > max_depth:
            raise QueryError(
                f"the query nests {depth} levels deep; this endpoint allows at most {max_depth}"
                " (groups, parentheses and brackets count; setting max_query_depth)"
            )
    chain_limit = max_depth * CHAIN_FACTOR
    if len(text) > chain_limit:  # each link is at least one character
        links = sum(1 for _ in _CHAIN.finditer(text))
        if links > chain_limit:
            raise QueryError(
                f"the query chains {links} operators (UNION, OPTIONAL, MINUS, ||, &&, !); this"
                f" endpoint allows at most {chain_limit} (setting max_query_depth x {CHAIN_FACTOR})"
            )


def nesting_depth(text: str) -> int:
    """An upper bound of how deeply any SPARQL lexer can find ``text`` nested.

    Brackets inside strings, comments and IRIs do not nest, but a scan cannot always know where
    those are: ``<`` opens an IRI or is less-than (``FILTER(1<2)SERVICE#>`` is the classic
    confusion), ``\\`` may escape the next character, ``\"\"\"`` opens a long string or an empty
    string and a quote. So the scan follows every reading at once, as a small non-deterministic
    automaton (normal text, comment, IRI, four string kinds), keeping for each state the deepest
    nesting any reading reaches it with. Extra readings can only raise the result, so a bracket
    hidden from the real parser may be counted, but one the parser sees is never missed.

    >>> nesting_depth('SELECT * { FILTER(?a < (1)) { "{{{" } }')
    3
    >>> nesting_depth("SELECT * { FILTER(1<((((2)))) > 0) }")  # '<' as less-than counts too
    6
    """
    live: dict[int, int] = {_NORMAL: 0}
    later: list[tuple[int, int, int]] = []  # (resume position, state, depth)
    best = 0
    for match in _SPECIAL.finditer(text):
        at = match.start()
        while later and later[0][0] <= at:
            _, state, depth = heapq.heappop(later)
            if live.get(state, -1) < depth:
                live[state] = depth
        if not live:
            continue
        char = text[at]
        if len(live) == 1 and _NORMAL in live and char in _BRACKETS:  # the common case, quickly
            depth = live[_NORMAL] + 1 if char in _OPENS else max(0, live[_NORMAL] - 1)
            live[_NORMAL] = depth
            best = max(best, depth)
            continue
        now: dict[int, int] = {}
        for state, depth in live.items():
            for new_state, new_depth, skip in _moves(state, depth, char, text, at):
                if skip:
                    heapq.heappush(later, (at + 1 + skip, new_state, new_depth))
                elif now.get(new_state, -1) < new_depth:
                    now[new_state] = new_depth
        live = now
        if live:
            best = max(best, max(live.values()))
    return best


def _moves(state: int, depth: int, char: str, text: str, at: int) -> Iterator[tuple[int, int, int]]:
    """The states one reading can be in after ``char``: (state, depth, characters skipped)."""
    if state == _NORMAL:
        if char in "{([":
            yield _NORMAL, depth + 1, 0
        elif char in "})]":
            yield _NORMAL, max(0, depth - 1), 0
        elif char == "#":
            yield _COMMENT, depth, 0
        elif char in "\"'":
            yield (_S2 if char == '"' else _S1), depth, 0
            if text.startswith(char * 3, at):
                yield (_L2 if char == '"' else _L1), depth, 2
        elif char == "<":
            yield _IRI, depth, 0
            yield _NORMAL, depth, 0
        elif char == "\\":  # a local-name escape (ex:a\)) hides the next character
            yield _NORMAL, depth, 1
            yield _NORMAL, depth, 0
        else:
            yield _NORMAL, depth, 0
    elif state == _COMMENT:
        yield (_NORMAL if char in "\n\r" else _COMMENT), depth, 0
    elif state == _IRI:
        if char == ">":
            yield _NORMAL, depth, 0
        elif char not in '<"{}\n\r':
            yield _IRI, depth, 0
    elif state in (_S1, _S2):
        quote = '"' if state == _S2 else "'"
        if char == "\\":
            yield state, depth, 1
        elif char == quote:
            yield _NORMAL, depth, 0
        elif char not in "\n\r":
            yield state, depth, 0
    else:  # long strings
        quote = '"' if state == _L2 else "'"
        if char == "\\":
            yield state, depth, 1
        elif char == quote and text.startswith(quote * 3, at):
            yield _NORMAL, depth, 2
            yield state, depth, 0
        else:
            yield state, depth, 0


# -- remote calls ---------------------------------------------------------------------------------

# A codepoint escape outside an escaped backslash (``\\u0041`` is a backslash and ``u0041``).
_ESCAPE = re.compile(r"\\\\|\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# What an escape must not spell for the parsed reading to match Oxigraph's: Oxigraph decodes
# escapes inside IRIs and strings only, where a decoded delimiter is content, not syntax.
_DELIMITERS = frozenset("\"'<>\\")


def decode_escapes(text: str) -> str:
    """``text`` with ``\\uXXXX``/``\\UXXXXXXXX`` decoded, as Oxigraph decodes them inside IRIs and
    strings; ``QueryError`` for an escape of a delimiter, a control character or a surrogate,
    whose decoded form would read differently from the escaped one.

    >>> decode_escapes(r"SERVICE <http://a/\\u0062> { }")
    'SERVICE <http://a/b> { }'
    """
    if "\\u" not in text and "\\U" not in text:
        return text

    def decode(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        if code is None:
            return match.group()  # an escaped backslash stays as it is
        value = int(code, 16)
        if value <= 0x20 or 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
            raise QueryError(f"codepoint escape {match.group()} is not allowed in this query")
        char = chr(value)
        if char in _DELIMITERS:
            raise QueryError(
                f"codepoint escape {match.group()} spells a delimiter ({char}); write the"
                " character, or its string escape, instead"
            )
        return char

    return _ESCAPE.sub(decode, text)


#: ``SERVICE`` or ``LOAD`` where SPARQL could read it as a keyword: not inside a name (a letter,
#: digit, ``_``, ``:`` or ``-`` next to it) and not right after ``/`` or ``#`` (inside an IRI or a
#: comment, or a path or division, where no keyword can stand). Anything else may be one: ``.``,
#: ``)``, ``}``, ``>`` (``<o>SERVICE <x> {}`` is valid), whitespace, a non-ASCII character.
_KEYWORD = re.compile(r"(?<![A-Za-z0-9_:/#-])(?:SERVICE|LOAD)(?![A-Za-z0-9_:-])", re.IGNORECASE)


def mentions_remote(text: str) -> bool:
    """False only when no reading of ``text`` can hold ``SERVICE`` or ``LOAD`` as a keyword: a
    regular-expression test (case-insensitive, so every spelling Oxigraph accepts is found), also
    on the text with codepoint escapes decoded. ``sd:Service`` or ``<http://x/load>`` do not
    count, so the common texts that name such terms are not parsed.

    >>> [mentions_remote(t) for t in ("{ ?s a sd:Service }", "{ ?s ?p <o>SERVICE <x> {} }",
    ...  "?o.sErViCe <x>", "<http://w3.org/ns/sparql-service-description#>", "LOAD<x>")]
    [False, True, True, False, True]
    """
    if _KEYWORD.search(text):
        return True
    if "\\u" in text or "\\U" in text:
        try:
            return _KEYWORD.search(decode_escapes(text)) is not None
        except QueryError:
            return True
    return False


def check_remote(text: str, allowlist: Sequence[str], base_iri: str | None, *, update: bool) -> str:
    """Refuse ``SERVICE`` and ``LOAD`` unless they go to an http(s) host on ``allowlist``; returns
    the text to run.

    The decision is made on rdflib's parse of the text. A ``SERVICE`` to a variable, or an IRI
    whose host cannot be known, is refused. A text that mentions ``SERVICE`` or ``LOAD`` and does
    not parse is refused with ``QueryError`` (400) rather than guessed at.

    A ``SILENT`` operation is not refused but made to fail silently, as SPARQL says a failed
    silent operation behaves: ``SERVICE SILENT <x> { ... }`` becomes ``{}`` (one empty solution,
    SPARQL 1.1 Federated Query §4) and ``LOAD SILENT <x>`` becomes the no-op ``INSERT DATA {}``
    (SPARQL 1.1 Update §3.1.4); the rewritten text is parsed and checked again, and refused if
    anything remote is left. Otherwise raises ``ServiceNotAllowed`` (403) naming the host.

    >>> check_remote("SELECT * { SERVICE SILENT <http://b.example/q> { ?s ?p ?o } }", [], None,
    ...              update=False)
    'SELECT * { {} }'
    """
    if not mentions_remote(text):
        return text
    decoded = decode_escapes(text)
    allowed = {h.lower() for h in allowlist}
    refused = _refused(decoded, allowed, base_iri, update=update)
    if not refused:
        return decoded
    loud = [op for op in refused if not op.silent]
    if loud:
        raise loud[0].refusal(allowed)
    # Every refused operation is silent: cut them out, then decide again on the new text.
    rewritten = silence_remote(decoded, allowed)
    left = _refused(rewritten, allowed, base_iri, update=update)
    if left:
        raise left[0].refusal(allowed)
    return rewritten


def _refused(
    text: str, allowed: set[str], base_iri: str | None, *, update: bool
) -> list[RemoteOperation]:
    return [
        op for op in remote_operations(text, base_iri, update=update) if not op.allowed(allowed)
    ]


class RemoteOperation:
    """One ``SERVICE`` or ``LOAD`` of a parsed text, with its target resolved."""

    def __init__(self, keyword: str, target: str | None, silent: bool, shown: str) -> None:
        self.keyword = keyword
        self.target = target  # the absolute IRI, or None for a variable or an unknown IRI
        self.silent = silent
        self.shown = shown  # how the text names the target, for messages

    @property
    def host(self) -> str:
        if self.target is None:
            return ""
        parts = urlsplit(self.target)
        if parts.scheme.lower() not in ("http", "https"):
            return ""
        try:
            return (parts.hostname or "").lower()
        except ValueError:
            return ""

    def allowed(self, hosts: set[str]) -> bool:
        return bool(self.host) and self.host in hosts

    def refusal(self, hosts: set[str]) -> ServiceNotAllowed:
        listed = ", ".join(sorted(hosts)) or "none"
        if not self.host:
            return ServiceNotAllowed(
                f"{self.keyword} {self.shown} is not allowed on this endpoint: only http(s) IRIs"
                f" to allowed hosts are (allowed hosts: {listed})"
            )
        verb = "to" if self.keyword == "SERVICE" else "from"
        return ServiceNotAllowed(
            f"{self.keyword} {verb} {self.host} is not allowed on this endpoint"
            f" (allowed hosts: {listed})"
        )


def remote_operations(text: str, base_iri: str | None, *, update: bool) -> list[RemoteOperation]:
    """Every ``SERVICE`` and ``LOAD`` in ``text`` (escapes already decoded), by rdflib's parse.

    rdflib's own entry points decode escapes over the whole text first, which Oxigraph does not
    do; so the grammar is called directly on text decoded as Oxigraph decodes it. rdflib ends a
    comment at a line feed only, Oxigraph at a carriage return too: the parser reads a copy with
    every CR made an LF (same length, same positions).
    """
    grammar = _UpdateGrammar if update else _QueryGrammar
    try:
        tree = grammar.parse_string(text.replace("\r", "\n"), parse_all=True)
    except (ParseBaseException, RecursionError, ValueError) as exc:
        what = "update" if update else "query"
        raise QueryError(
            f"the {what} names SERVICE or LOAD and does not parse as SPARQL 1.1, so its remote"
            f" calls cannot be checked: {exc}"
        ) from exc
    found: list[RemoteOperation] = []
    _walk(tree, _Prologue(base_iri), found)
    return found


class _Prologue:
    """``BASE`` and ``PREFIX`` declarations in force, in text order."""

    def __init__(self, base: str | None) -> None:
        self.base = base
        self.prefixes: dict[str, str] = {}

    def resolve(self, iri: str) -> str | None:
        if urlsplit(iri).scheme:
            return iri
        return urljoin(self.base, iri) if self.base else None

    def term(self, value: object) -> str | None:
        """The absolute IRI of an IRI or prefixed name in the tree; None for anything else."""
        if isinstance(value, URIRef):
            return self.resolve(str(value))
        if isinstance(value, CompValue) and value.name == "pname":
            prefix = str(_field(value, "prefix") or "")
            local = re.sub(r"\\(.)", r"\1", str(_field(value, "localname") or ""))
            if prefix not in self.prefixes:
                return None
            return self.prefixes[prefix] + local
        return None


def _walk(node: object, prologue: _Prologue, found: list[RemoteOperation]) -> None:
    if isinstance(node, CompValue) and node.name == "Update":
        # One prologue per operation, in force from there on (not the last one for all).
        pairs = zip_longest(_field(node, "prologue") or [], _field(node, "request") or [])
        for declared, operation in pairs:
            _walk(declared, prologue, found)
            _walk(operation, prologue, found)
        return
    if isinstance(node, CompValue):
        if node.name == "Base":
            prologue.base = prologue.resolve(str(node["iri"])) or str(node["iri"])
            return
        if node.name == "PrefixDecl":
            iri = prologue.resolve(str(node["iri"]))
            prologue.prefixes[str(_field(node, "prefix") or "")] = iri or str(node["iri"])
            return
        if node.name in ("ServiceGraphPattern", "Load"):
            term = _field(node, "term" if node.name == "ServiceGraphPattern" else "iri")
            shown = f"?{term}" if isinstance(term, Variable) else str(term)
            found.append(
                RemoteOperation(
                    "SERVICE" if node.name == "ServiceGraphPattern" else "LOAD",
                    prologue.term(term),
                    bool(_field(node, "silent")),
                    shown,
                )
            )
        for value in node.values():
            _walk(value, prologue, found)
    elif isinstance(node, (ParseResults, list, tuple)):
        for item in node:
            _walk(item, prologue, found)
    elif isinstance(node, dict):
        for value in node.values():
            _walk(value, prologue, found)


def _field(node: CompValue, key: str) -> Any:
    """A member of a parse node, or None (``CompValue.get`` answers a missing key with the key)."""
    return dict.get(node, key)
