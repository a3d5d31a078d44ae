"""The change feed: every release's changes as a Linked Data Event Stream (LDES).

Harvesters (EU portals, other stores) follow the feed to replicate the data incrementally instead
of downloading dumps again. It follows SEMIC's LDES specification
(https://w3id.org/ldes/specification) on the TREE hypermedia specification
(https://w3id.org/tree/specification); ``tests/test_ldes.py`` validates it with the TREE and LDES
SHACL shapes (``tests/data/ldes/``).

**Members are version objects.** Each write records, for every thing it created, updated or
deleted, the thing's new state (``sinlod.store.versions``). In the feed each such version is a
member ``{base}ldes/{release}/{n}`` that carries the thing's triples (its IRI as subject,
blank nodes as they are) and four more::

    <{base}ldes/{release}/{n}> a as:Update ;              # as:Create, as:Update or as:Delete
        dcterms:isVersionOf <{thing}> ;                   # ldes:versionOfPath
        prov:generatedAtTime "…"^^xsd:dateTime ;          # ldes:timestampPath: the release's end
        prov:wasGeneratedBy <{base}release/{release}> ;   # the release, in the release log
        … the thing's own triples …

A deletion (a *tombstone*) is typed ``as:Delete`` and carries nothing else: the event stream
says so with ``ldes:versionDeleteObject as:Delete`` (and ``versionCreateObject`` /
``versionUpdateObject``, each on ``rdf:type``), as the specification's "Versions and transactions"
section describes. A consumer replaces a thing's state by each newer version and removes it on a
tombstone. The feed covers the data graphs (not the ontology, vocabularies or reference tables)
and their union: a thing's state is everything said about it in any data graph.

**Pages.** A release's versions are split into pages of ``PAGE_SIZE`` (``{release}.1``,
``{release}.2`` …), oldest release first; each page links the next with a
``tree:GreaterThanOrEqualToRelation`` on ``prov:generatedAtTime`` whose value is the time of the
next page's members (timestamps never go down along the chain). Every page but the newest is
full and final: ``ldes:immutable true`` (and ``Cache-Control: immutable`` on the server). The
newest page may still gain its link to the next release's first page, so it is mutable. Each
page repeats the event stream's context (paths, shape, retention) and names itself as the
stream's ``tree:view``, so a client may start from any page.

``stream_triples`` describes the stream and points at the first page (``tree:view``); the server
redirects ``/ldes`` to that page instead, where a client finds the stream as the subject of
``tree:view <page>`` whatever the base IRI. IRIs of pages use the public URL the server is
reached at (a harvester fetches them); the stream and its members are identifiers under the base
IRI, like the data.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

import pyoxigraph as ox

from sinlod.errors import SinlodError
from sinlod.namespaces import PREFIXES
from sinlod.store import Release
from sinlod.store.versions import AS, DELETE, ThingVersion

LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
SH = PREFIXES["sh"]
XSD = PREFIXES["xsd"]
RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
VERSION_OF = ox.NamedNode(PREFIXES["dct"] + "isVersionOf")
GENERATED_AT = ox.NamedNode(PREFIXES["prov"] + "generatedAtTime")
GENERATED_BY = ox.NamedNode(PREFIXES["prov"] + "wasGeneratedBy")
#: The predicates and types a version object adds to the thing's own triples.
FEED_PREDICATES = frozenset({VERSION_OF, GENERATED_AT, GENERATED_BY})
FEED_TYPES = frozenset(ox.NamedNode(AS + kind) for kind in ("Create", "Update", "Delete"))
SPECIFICATION = "https://w3id.org/ldes/specification"
#: Prefixes the feed's documents are written with.
FEED_PREFIXES = {
    "ldes": LDES,
    "tree": TREE,
    "as": AS,
    "sh": SH,
    "xsd": XSD,
    **{k: PREFIXES[k] for k in ("rdf", "rdfs", "dct", "prov")},
}


@runtime_checkable
class FeedStore(Protocol):
    """What the feed reads of a store: the release log and the versions each release recorded
    (``sinlod.store.Store``; a store that records none, such as the remote backend, has no
    feed)."""

    def releases(self) -> list[Release]: ...

    def version_pages(self, release_id: str) -> int: ...

    def versions(self, release_id: str, page: int) -> list[ThingVersion]: ...

    def version_count(self, release_id: str, page: int) -> int: ...


class PageNotFound(SinlodError):
    """A page of the change feed that does not exist (the server's 404)."""


@dataclass(frozen=True)
class PageRef:
    """One page of the feed: part ``part`` (from 1) of the versions of ``release``."""

    release: Release
    part: int

    @property
    def id(self) -> str:
        return f"{self.release.id}.{self.part}"


@dataclass(frozen=True)
class FeedPage:
    """A page as served: its triples, whether it is final, and its neighbours."""

    ref: PageRef
    next: PageRef | None
    immutable: bool
    versions: tuple[ThingVersion, ...]
    triples: tuple[ox.Triple, ...]


@dataclass(frozen=True)
class FeedUrls:
    """Where the feed lives: ``public`` is the server's URL (ends in ``/``), ``base`` the IRI
    base of the data (``Settings.base_iri``)."""

    public: str
    base: str

    @property
    def stream(self) -> str:
        return f"{self.base}ldes"

    @property
    def stream_page(self) -> str:
        """Where the stream's description is fetched."""
        return f"{self.public}ldes"

    def page(self, page_id: str) -> str:
        return f"{self.public}ldes/{page_id}"

    def member(self, release_id: str, n: int) -> str:
        return f"{self.base}ldes/{release_id}/{n}"

    @property
    def shape(self) -> str:
        return f"{self.base}ldes#member-shape"


# -- the pages ------------------------------------------------------------------------------------


def pages(store: FeedStore) -> Iterator[PageRef]:
    """Every page of the feed, oldest first (releases without recorded versions have none)."""
    for release in store.releases():
        for part in range(1, store.version_pages(release.id) + 1):
            yield PageRef(release, part)


def find_page(store: FeedStore, page_id: str) -> tuple[PageRef, PageRef | None]:
    """The page ``page_id`` (``{release}.{part}``) and the page after it (None for the newest).

    Raises ``PageNotFound`` for a page that does not exist."""
    release_id, _, part_text = page_id.rpartition(".")
    if not part_text.isdigit() or not release_id:
        raise PageNotFound(f"no page {page_id!r} in the change feed; see /ldes")
    part = int(part_text)
    releases = store.releases()
    for i, release in enumerate(releases):
        if release.id != release_id:
            continue
        count = store.version_pages(release.id)
        if not 1 <= part <= count:
            break
        if part < count:
            return PageRef(release, part), PageRef(release, part + 1)
        later = (r for r in releases[i + 1 :] if store.version_pages(r.id) > 0)
        following = next(later, None)
        return PageRef(release, part), None if following is None else PageRef(following, 1)
    raise PageNotFound(f"no page {page_id!r} in the change feed; see /ldes")


def first_page(store: FeedStore) -> PageRef | None:
    return next(pages(store), None)


def member_page(store: FeedStore, release_id: str, n: int) -> PageRef:
    """The page that holds member ``n`` (from 1) of release ``release_id``.

    Raises ``PageNotFound`` when there is no such member."""
    release = next((r for r in store.releases() if r.id == release_id), None)
    if release is not None and n >= 1:
        for part in range(1, store.version_pages(release_id) + 1):
            size = store.version_count(release_id, part)
            if n <= size:
                return PageRef(release, part)
            n -= size
    raise PageNotFound("no such member in the change feed; see /ldes")


def feed_page(store: FeedStore, urls: FeedUrls, page_id: str) -> FeedPage:
    """Page ``page_id`` with its members, the context of the stream and the link onwards."""
    ref, following = find_page(store, page_id)
    versions = tuple(store.versions(ref.release.id, ref.part))
    first = first_page(store)
    assert first is not None  # ``ref`` exists
    page = ox.NamedNode(urls.page(ref.id))
    triples = _context(urls, page, first.release)
    triples.append(ox.Triple(page, RDF_TYPE, ox.NamedNode(TREE + "Node")))
    if following is not None:
        triples.append(ox.Triple(page, ox.NamedNode(LDES + "immutable"), _bool(True)))
        triples += _relation(urls, page, following)
    start = _first_number(store, ref)
    for n, version in enumerate(versions, start=start):
        triples += _member(urls, ref.release, n, version)
    return FeedPage(ref, following, following is not None, versions, tuple(triples))


def _first_number(store: FeedStore, ref: PageRef) -> int:
    """The number of the page's first member within its release (members count on across the
    release's pages)."""
    before = sum(store.version_count(ref.release.id, p) for p in range(1, ref.part))
    return before + 1


def stream_triples(store: FeedStore, urls: FeedUrls) -> list[ox.Triple]:
    """The event stream itself: its context, and its first page as ``tree:view``.

    With nothing recorded yet the stream has no view (and no members)."""
    first = first_page(store)
    if first is None:
        return _description(urls) + _stream_context(urls)
    return _context(urls, ox.NamedNode(urls.page(first.id)), first.release)


def _context(urls: FeedUrls, page: ox.NamedNode, first: Release) -> list[ox.Triple]:
    """What every document of the feed says about the stream: its description, how members are
    read, which page is the view here, and what the view keeps."""
    stream = ox.NamedNode(urls.stream)
    policy = ox.NamedNode(urls.stream + "#retention")
    return [
        *_description(urls),
        *_stream_context(urls),
        ox.Triple(stream, ox.NamedNode(TREE + "view"), page),
        # Everything since the first recorded release is kept (the spec asks for properties on
        # a policy, or the client assumes nothing is kept).
        ox.Triple(page, ox.NamedNode(LDES + "retentionPolicy"), policy),
        ox.Triple(policy, RDF_TYPE, ox.NamedNode(LDES + "RetentionPolicy")),
        ox.Triple(policy, ox.NamedNode(LDES + "startingFrom"), _time(first.ended)),
    ]


def _description(urls: FeedUrls) -> list[ox.Triple]:
    stream = ox.NamedNode(urls.stream)
    return [
        ox.Triple(stream, RDF_TYPE, ox.NamedNode(LDES + "EventStream")),
        ox.Triple(
            stream,
            ox.NamedNode(PREFIXES["dct"] + "title"),
            ox.Literal("sinlod change feed", language="en"),
        ),
        ox.Triple(
            stream,
            ox.NamedNode(PREFIXES["dct"] + "description"),
            ox.Literal(
                "Every release's changes to the published data: one version per thing created,"
                " updated or deleted.",
                language="en",
            ),
        ),
        ox.Triple(
            stream, ox.NamedNode(PREFIXES["dct"] + "conformsTo"), ox.NamedNode(SPECIFICATION)
        ),
    ]


def _stream_context(urls: FeedUrls) -> list[ox.Triple]:
    stream = ox.NamedNode(urls.stream)
    shape = ox.NamedNode(urls.shape)
    out = [
        ox.Triple(stream, ox.NamedNode(LDES + "timestampPath"), GENERATED_AT),
        ox.Triple(stream, ox.NamedNode(LDES + "versionOfPath"), VERSION_OF),
        ox.Triple(stream, ox.NamedNode(TREE + "shape"), shape),
    ]
    for kind in ("Create", "Update", "Delete"):
        out.append(ox.Triple(stream, ox.NamedNode(LDES + f"version{kind}Path"), RDF_TYPE))
        out.append(
            ox.Triple(stream, ox.NamedNode(LDES + f"version{kind}Object"), ox.NamedNode(AS + kind))
        )
    out.append(ox.Triple(shape, RDF_TYPE, ox.NamedNode(SH + "NodeShape")))
    for path, constraint, value in (
        (VERSION_OF, "nodeKind", ox.NamedNode(SH + "IRI")),
        (GENERATED_AT, "datatype", ox.NamedNode(XSD + "dateTime")),
    ):
        prop = ox.BlankNode()
        out += [
            ox.Triple(shape, ox.NamedNode(SH + "property"), prop),
            ox.Triple(prop, ox.NamedNode(SH + "path"), path),
            ox.Triple(prop, ox.NamedNode(SH + "minCount"), _int(1)),
            ox.Triple(prop, ox.NamedNode(SH + "maxCount"), _int(1)),
            ox.Triple(prop, ox.NamedNode(SH + constraint), value),
        ]
    return out


def _relation(urls: FeedUrls, page: ox.NamedNode, following: PageRef) -> list[ox.Triple]:
    relation = ox.BlankNode()
    return [
        ox.Triple(page, ox.NamedNode(TREE + "relation"), relation),
        ox.Triple(relation, RDF_TYPE, ox.NamedNode(TREE + "GreaterThanOrEqualToRelation")),
        ox.Triple(relation, ox.NamedNode(TREE + "node"), ox.NamedNode(urls.page(following.id))),
        ox.Triple(relation, ox.NamedNode(TREE + "path"), GENERATED_AT),
        ox.Triple(relation, ox.NamedNode(TREE + "value"), _time(following.release.ended)),
    ]


def _member(urls: FeedUrls, release: Release, n: int, version: ThingVersion) -> list[ox.Triple]:
    member = ox.NamedNode(urls.member(release.id, n))
    thing = ox.NamedNode(version.thing)
    out = [
        ox.Triple(ox.NamedNode(urls.stream), ox.NamedNode(TREE + "member"), member),
        ox.Triple(member, RDF_TYPE, ox.NamedNode(AS + version.kind)),
        ox.Triple(member, VERSION_OF, thing),
        ox.Triple(member, GENERATED_AT, _time(release.ended)),
        ox.Triple(member, GENERATED_BY, ox.NamedNode(release.iri)),
    ]
    if version.kind != DELETE:
        out += [
            ox.Triple(member if t.subject == thing else t.subject, t.predicate, t.object)
            for t in version.triples
        ]
    return out


def _time(moment: datetime) -> ox.Literal:
    text = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return ox.Literal(text, datatype=ox.NamedNode(XSD + "dateTime"))


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def _bool(value: bool) -> ox.Literal:
    return ox.Literal("true" if value else "false", datatype=ox.NamedNode(XSD + "boolean"))


# -- reading the feed back (what a harvester does) ----------------------------------------------


@dataclass(frozen=True)
class ReadVersion:
    """A member as a consumer reads it: which thing, what kind, when, and the thing's state."""

    member: str
    thing: str
    kind: str
    time: datetime
    triples: tuple[ox.Triple, ...]


def read_members(triples: Sequence[ox.Triple], stream: str) -> list[ReadVersion]:
    """The members of one page, each with its thing's state: the member's triples (subject
    renamed back to the thing) without the feed's own, and the blank nodes they reach. Ordered
    by time, then member IRI (the order the specification's ordered mode emits)."""
    by_subject: dict[ox.NamedNode | ox.BlankNode | ox.Triple, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    out = []
    for t in by_subject.get(ox.NamedNode(stream), ()):
        if t.predicate != ox.NamedNode(TREE + "member") or not isinstance(t.object, ox.NamedNode):
            continue
        out.append(_read(t.object, by_subject))
    return sorted(out, key=lambda v: (v.time, v.member))


def _read(
    member: ox.NamedNode,
    by_subject: dict[ox.NamedNode | ox.BlankNode | ox.Triple, list[ox.Triple]],
) -> ReadVersion:
    own = by_subject.get(member, [])
    thing = next(t.object for t in own if t.predicate == VERSION_OF)
    assert isinstance(thing, ox.NamedNode)
    time = next(t.object for t in own if t.predicate == GENERATED_AT)
    assert isinstance(time, ox.Literal)
    kinds = [
        t.object.value
        for t in own
        if t.predicate == RDF_TYPE and isinstance(t.object, ox.NamedNode) and t.object in FEED_TYPES
    ]
    state = [
        ox.Triple(thing, t.predicate, t.object)
        for t in own
        if t.predicate not in FEED_PREDICATES
        and not (t.predicate == RDF_TYPE and t.object in FEED_TYPES)
    ]
    seen: set[ox.BlankNode] = set()
    todo = [t.object for t in state if isinstance(t.object, ox.BlankNode)]
    while todo:
        node = todo.pop()
        if not isinstance(node, ox.BlankNode) or node in seen:
            continue
        seen.add(node)
        more = by_subject.get(node, [])
        state += more
        todo += [t.object for t in more if isinstance(t.object, ox.BlankNode)]
    kind = kinds[0].removeprefix(AS) if kinds else "Update"
    return ReadVersion(
        member.value,
        thing.value,
        kind,
        datetime.fromisoformat(time.value),
        tuple(state),
    )


__all__ = [
    "FEED_PREFIXES",
    "FeedPage",
    "FeedStore",
    "FeedUrls",
    "PageNotFound",
    "PageRef",
    "ReadVersion",
    "feed_page",
    "find_page",
    "first_page",
    "member_page",
    "pages",
    "read_members",
    "stream_triples",
]
