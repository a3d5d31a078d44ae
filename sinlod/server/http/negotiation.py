"""Content negotiation: ``Accept`` (q-values, wildcards), ``?format=`` and file extensions.

Formats are Oxigraph's own (``RdfFormat`` and ``QueryResultsFormat``) plus HTML for people; the
media types come from Oxigraph so that what we announce is what its serializers write. When nothing
acceptable can be made the caller gets ``NotAcceptable`` listing what *is* available (RFC 9110
§15.5.7 leaves the body to us; Oxigraph's server does the same).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from pyoxigraph import QueryResultsFormat, RdfFormat

from sinlod.errors import SinlodError

HTML = "text/html"


class NotAcceptable(SinlodError):
    """No format the client accepts can be produced; ``available`` lists those that can.

    Defined here, where it is raised, and answered 406 by ``problems.py`` (which imports this
    module, never the other way round).
    """

    def __init__(self, available: Sequence[str], names: Sequence[str] = ()) -> None:
        what = ", ".join(names or available)
        self.message = f"cannot produce an accepted format; available: {what}"
        super().__init__(self.message)
        self.available = list(available)
        self.extra = {"available": self.available}


@dataclass(frozen=True)
class Format:
    """One thing the server can produce: a media type, a short name, an extension and the
    Oxigraph format that writes it (``None`` for HTML)."""

    media_type: str
    name: str
    extension: str
    oxigraph: RdfFormat | QueryResultsFormat | None = None
    aliases: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value; textual types are always UTF-8."""
        if "charset" in self.media_type:
            return self.media_type
        return f"{self.media_type}; charset=utf-8"

    @property
    def essence(self) -> str:
        """The media type without parameters (``text/csv`` for ``text/csv; charset=utf-8``)."""
        return self.media_type.split(";")[0].strip().lower()


def _rdf(fmt: RdfFormat, name: str, *aliases: str) -> Format:
    return Format(fmt.media_type, name, fmt.file_extension, fmt, aliases)


def _results(fmt: QueryResultsFormat, name: str, *aliases: str) -> Format:
    return Format(fmt.media_type, name, fmt.file_extension, fmt, aliases)


HTML_FORMAT = Format(HTML, "html", "html", None, ("application/xhtml+xml",))
TURTLE = _rdf(RdfFormat.TURTLE, "turtle", "application/x-turtle")
N_TRIPLES = _rdf(RdfFormat.N_TRIPLES, "ntriples", "text/plain")
N_QUADS = _rdf(RdfFormat.N_QUADS, "nquads", "text/x-nquads")
TRIG = _rdf(RdfFormat.TRIG, "trig", "application/x-trig")
JSON_LD = _rdf(RdfFormat.JSON_LD, "jsonld", "application/json")
RDF_XML = _rdf(RdfFormat.RDF_XML, "rdfxml", "application/xml", "text/xml")
SPARQL_JSON = _results(QueryResultsFormat.JSON, "json", "application/json")
SPARQL_XML = _results(QueryResultsFormat.XML, "xml", "application/xml", "text/xml")
SPARQL_CSV = _results(QueryResultsFormat.CSV, "csv")
SPARQL_TSV = _results(QueryResultsFormat.TSV, "tsv")

#: What SELECT and ASK answer in; the first is the default for ``*/*`` or no ``Accept``.
RESULT_FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, SPARQL_CSV, SPARQL_TSV)
#: What CONSTRUCT and DESCRIBE answer in (graphs).
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, N_TRIPLES, JSON_LD, RDF_XML, N_QUADS, TRIG)
#: What a Linked Data document is served as: HTML for browsers first, then RDF.
DOCUMENT_FORMATS: tuple[Format, ...] = (HTML_FORMAT, TURTLE, N_TRIPLES, JSON_LD, RDF_XML)


@dataclass(frozen=True)
class _Range:
    """One media range of an ``Accept`` header."""

    type: str
    subtype: str
    q: float
    order: int

    def matches(self, media_type: str) -> int:
        """Specificity of the match (2 exact, 1 ``type/*``, 0 ``*/*``), -1 for no match."""
        type_, _, subtype = media_type.partition("/")
        if self.type == "*":
            return 0
        if self.type != type_:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == subtype else -1


def parse_accept(header: str | None) -> list[_Range]:
    """The media ranges of an ``Accept`` header; malformed entries and bad q-values are skipped.

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/html;q=0.5, */*;q=0.1")]
    [('text', 'html', 0.5), ('*', '*', 0.1)]
    """
    ranges = []
    for order, part in enumerate((header or "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        type_, sep, subtype = media.lower().partition("/")
        if not sep or not type_ or not subtype:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append(_Range(type_, subtype, q, order))
    return ranges


def _quality(ranges: Sequence[_Range], fmt: Format) -> float:
    """The q-value the client gives ``fmt``: that of the most specific range matching its media
    type (RFC 9110 §12.5.1). An alias (``application/json`` for SPARQL JSON) counts only when
    named exactly and nothing matched the real type, so ``text/*`` never picks XML via ``text/xml``.
    """
    best, q = -1, 0.0
    for r in ranges:
        specificity = r.matches(fmt.essence)
        if specificity > best or (specificity == best and specificity >= 0 and r.q > q):
            best, q = specificity, r.q
    if best >= 0:
        return q
    aliased = [r.q for r in ranges for a in fmt.aliases if r.matches(a) == 2]
    return max(aliased, default=0.0)


def negotiate(accept: str | None, available: Sequence[Format]) -> Format:
    """The best of ``available`` for an ``Accept`` header (see ``_negotiate``); remembered per
    header, since clients send the same few headers again and again."""
    return _negotiate(accept, tuple(available))


@functools.lru_cache(maxsize=512)
def _negotiate(accept: str | None, available: tuple[Format, ...]) -> Format:
    """The best of ``available`` for an ``Accept`` header; ties go to the server's order.

    No header (or an empty one) means anything goes. Raises ``NotAcceptable`` with the list of
    available media types when nothing matches.

    >>> negotiate("text/turtle;q=0.9, application/ld+json", GRAPH_FORMATS).name
    'jsonld'
    >>> negotiate("*/*", RESULT_FORMATS).name
    'json'
    """
    ranges = parse_accept(accept)
    if not ranges:
        return available[0]
    scored = [(_quality(ranges, fmt), -i, fmt) for i, fmt in enumerate(available)]
    q, _, best = max(scored, key=lambda s: (s[0], s[1]))
    if q <= 0:
        raise NotAcceptable([f.essence for f in available])
    return best


#: Names other endpoints use for graph results: SPARQLWrapper sends ``format=xml`` and
#: ``format=json`` with every query, CONSTRUCT too, as Virtuoso and Fuseki understand them.
_NICKNAMES = {"xml": ("rdfxml",), "json": ("jsonld",), "rdf": ("rdfxml",), "n3": ("turtle",)}


def by_name(name: str, available: Sequence[Format]) -> Format:
    """The format a ``?format=`` parameter names: a short name (``turtle``), an extension
    (``ttl``), a media type, or what other endpoints call it. Raises ``NotAcceptable`` listing
    the names that work.

    >>> by_name("xml", RESULT_FORMATS).name, by_name("xml", GRAPH_FORMATS).name
    ('xml', 'rdfxml')
    >>> by_name("json", GRAPH_FORMATS).name, by_name("text/xml", GRAPH_FORMATS).name
    ('jsonld', 'rdfxml')
    """
    wanted = name.strip().lower()
    for fmt in available:
        if wanted in (fmt.name, fmt.extension, fmt.essence):
            return fmt
    for fmt in available:
        if wanted in fmt.aliases or fmt.name in _NICKNAMES.get(wanted, ()):
            return fmt
    raise NotAcceptable([f.essence for f in available], names=[f.name for f in available])


def by_extension(extension: str, available: Sequence[Format]) -> Format | None:
    """The format a file extension (without the dot) stands for, or ``None``."""
    for fmt in available:
        if extension.lower() == fmt.extension:
            return fmt
    return None


def prefers_html(accept: str | None) -> bool:
    """True when the client names ``text/html`` itself (browsers do; ``*/*`` alone is not enough,
    so curl and SPARQL clients get data)."""
    ranges = parse_accept(accept)
    html = _quality(ranges, HTML_FORMAT)
    return html > 0 and any(r.type == "text" and r.subtype == "html" for r in ranges)
