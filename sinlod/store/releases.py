"""Release records: what each write to the store did, as PROV-O and DCAT-AP in the store itself.

Every write (a publish, a graph replaced over HTTP, a SPARQL update) adds one release to the
graph ``{base}graph/releases`` in the same snapshot as the data it describes, so the log and the
data can never disagree. A release is::

    {base}release/{id}             prov:Activity: start, end, agent, files used, graphs replaced
      …/file/{n}                   prov:Entity: path, role, SHA-256 (spdx:checksum), owl:versionInfo
      …/validation                 sh:ValidationReport: sh:conforms, violation count
      …/dataset                    dcat:Dataset + void:Dataset: the whole store after the release
      …/dataset/graph/{n}          dcat:Distribution per named graph, with void:triples

Terms that PROV-O, DCAT and SPDX do not have are in the sinlod namespace (``sinlod:role``,
``sinlod:targetGraph``, ``sinlod:fingerprint``, ``sinlod:replacedGraph``,
``sinlod:anyGraphChanged``, ``sinlod:forced``, ``sinlod:violationCount``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyoxigraph as ox

from sinlod.minting import slugify
from sinlod.namespaces import PREFIXES
from sinlod.store.graphs import releases_graph

RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
XSD = PREFIXES["xsd"]
SPDX = "http://spdx.org/rdf/terms#"
SINLOD = PREFIXES["sinlod"]


def _n(prefix: str, local: str) -> ox.NamedNode:
    return ox.NamedNode(PREFIXES[prefix] + local)


def _s(local: str) -> ox.NamedNode:
    return ox.NamedNode(SINLOD + local)


@dataclass(frozen=True)
class FileInfo:
    """A file a release used: a source (``graph`` says where it went), the shapes, the ontology.

    ``fingerprint`` is the SHA-256 over everything that determines the source's triples (the
    source, its mapping, the shapes and the ontology): an unchanged fingerprint lets a publish
    skip the source.
    """

    path: str
    sha256: str
    role: str = "source"
    graph: str | None = None
    version: str | None = None
    fingerprint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class ReleaseInfo:
    """What the caller knows about a write: who, from which files, with what validation outcome.

    ``conforms`` is None when nothing was validated; ``forced`` says the data was published
    although it had ``violations``.
    """

    agent: str
    files: Sequence[FileInfo] = ()
    conforms: bool | None = None
    violations: int = 0
    forced: bool = False
    started: datetime | None = None
    comment: str | None = None


@dataclass(frozen=True)
class Release:
    """One recorded write, as read back from the releases graph.

    ``changed`` lists the graphs the write replaced; it is None for a SPARQL update, which may have
    touched any graph.
    """

    id: str
    iri: str
    started: datetime
    ended: datetime
    agent: str
    files: tuple[FileInfo, ...] = ()
    conforms: bool | None = None
    violations: int = 0
    forced: bool = False
    graphs: dict[str, int] = field(default_factory=dict)
    changed: tuple[str, ...] | None = ()
    comment: str | None = None

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "iri": self.iri,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat(),
            "agent": self.agent,
            "files": [f.to_json() for f in self.files],
            "conforms": self.conforms,
            "violations": self.violations,
            "forced": self.forced,
            "graphs": dict(self.graphs),
            "triples": self.triples,
            "changed": None if self.changed is None else list(self.changed),
            "comment": self.comment,
        }


def release_iri(base: str, release_id: str) -> str:
    return f"{base}release/{release_id}"


def _dt(value: datetime) -> ox.Literal:
    text = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return ox.Literal(text, datatype=ox.NamedNode(XSD + "dateTime"))


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def _bool(value: bool) -> ox.Literal:
    return ox.Literal("true" if value else "false", datatype=ox.NamedNode(XSD + "boolean"))


def record_release(
    base: str,
    release_id: str,
    info: ReleaseInfo,
    graphs: Mapping[str, int],
    changed: Sequence[str] | None,
) -> tuple[Release, list[ox.Quad]]:
    """A write's release as it ends now: the ``Release`` and its quads for the log (each store
    backend writes them its own way, but both record the same release)."""
    ended = datetime.now(UTC)
    release = Release(
        id=release_id,
        iri=release_iri(base, release_id),
        started=info.started or ended,
        ended=ended,
        agent=info.agent,
        files=tuple(info.files),
        conforms=info.conforms,
        violations=info.violations,
        forced=info.forced,
        graphs=dict(graphs),
        changed=None if changed is None else tuple(changed),
        comment=info.comment,
    )
    return release, release_quads(base, release_id, info, ended, graphs, changed)


def release_quads(
    base: str,
    release_id: str,
    info: ReleaseInfo,
    ended: datetime,
    graphs: Mapping[str, int],
    changed: Sequence[str] | None,
) -> list[ox.Quad]:
    """The PROV-O and DCAT-AP description of one release, in the releases graph."""
    g = ox.NamedNode(releases_graph(base))
    r = ox.NamedNode(release_iri(base, release_id))
    started = info.started or ended
    triples: list[tuple[ox.NamedNode, ox.NamedNode, Any]] = [
        (r, RDF_TYPE, _n("prov", "Activity")),
        (r, _n("rdfs", "label"), ox.Literal(f"release {release_id}")),
        (r, _n("dct", "identifier"), ox.Literal(release_id)),
        (r, _n("prov", "startedAtTime"), _dt(started)),
        (r, _n("prov", "endedAtTime"), _dt(ended)),
        (r, _s("forced"), _bool(info.forced)),
    ]
    triples += _agent(base, r, info.agent)
    if info.comment:
        triples.append((r, _n("rdfs", "comment"), ox.Literal(info.comment)))
    if changed is None:
        triples.append((r, _s("anyGraphChanged"), _bool(True)))
    else:
        triples += [(r, _s("replacedGraph"), ox.NamedNode(name)) for name in changed]
    for n, file in enumerate(info.files, start=1):
        triples += _file(ox.NamedNode(f"{r.value}/file/{n}"), r, file)
    if info.conforms is not None:
        v = ox.NamedNode(f"{r.value}/validation")
        triples += [
            (v, RDF_TYPE, _n("sh", "ValidationReport")),
            (v, _n("sh", "conforms"), _bool(info.conforms)),
            (v, _s("violationCount"), _int(info.violations)),
            (v, _n("prov", "wasGeneratedBy"), r),
        ]
    triples += _dataset(r, release_id, ended, graphs)
    return [ox.Quad(s, p, o, g) for s, p, o in triples]


def _agent(base: str, r: ox.NamedNode, name: str) -> list[tuple[ox.NamedNode, ox.NamedNode, Any]]:
    a = ox.NamedNode(f"{base}agent/{slugify(name) or 'unknown'}")
    return [
        (r, _n("prov", "wasAssociatedWith"), a),
        (a, RDF_TYPE, _n("prov", "Agent")),
        (a, _n("foaf", "name"), ox.Literal(name)),
    ]


def _file(
    f: ox.NamedNode, r: ox.NamedNode, file: FileInfo
) -> list[tuple[ox.NamedNode, ox.NamedNode, Any]]:
    c = ox.NamedNode(f.value + "/checksum")
    out: list[tuple[ox.NamedNode, ox.NamedNode, Any]] = [
        (r, _n("prov", "used"), f),
        (f, RDF_TYPE, _n("prov", "Entity")),
        (f, _n("dct", "title"), ox.Literal(file.path)),
        (f, _s("role"), ox.Literal(file.role)),
        (f, ox.NamedNode(SPDX + "checksum"), c),
        (c, RDF_TYPE, ox.NamedNode(SPDX + "Checksum")),
        (c, ox.NamedNode(SPDX + "algorithm"), ox.NamedNode(SPDX + "checksumAlgorithm_sha256")),
        (
            c,
            ox.NamedNode(SPDX + "checksumValue"),
            ox.Literal(file.sha256, datatype=ox.NamedNode(XSD + "hexBinary")),
        ),
    ]
    if file.graph:
        out.append((f, _s("targetGraph"), ox.NamedNode(file.graph)))
    if file.version:
        out.append((f, _n("owl", "versionInfo"), ox.Literal(file.version)))
    if file.fingerprint:
        out.append((f, _s("fingerprint"), ox.Literal(file.fingerprint)))
    return out


def _dataset(
    r: ox.NamedNode, release_id: str, ended: datetime, graphs: Mapping[str, int]
) -> list[tuple[ox.NamedNode, ox.NamedNode, Any]]:
    d = ox.NamedNode(f"{r.value}/dataset")
    out: list[tuple[ox.NamedNode, ox.NamedNode, Any]] = [
        (r, _n("prov", "generated"), d),
        (d, RDF_TYPE, _n("dcat", "Dataset")),
        (d, RDF_TYPE, _n("void", "Dataset")),
        (d, _n("dct", "title"), ox.Literal(f"sinlod data, release {release_id}", language="en")),
        (
            d,
            _n("dct", "description"),
            ox.Literal(
                "The social-innovation linked open data in the store after this release.",
                language="en",
            ),
        ),
        (d, _n("dct", "identifier"), ox.Literal(release_id)),
        (d, _n("dct", "issued"), _dt(ended)),
        (d, _n("prov", "wasGeneratedBy"), r),
        (d, _n("void", "triples"), _int(sum(graphs.values()))),
    ]
    for n, (name, count) in enumerate(sorted(graphs.items()), start=1):
        dist = ox.NamedNode(f"{d.value}/graph/{n}")
        out += [
            (d, _n("dcat", "distribution"), dist),
            (dist, RDF_TYPE, _n("dcat", "Distribution")),
            (dist, _n("dcat", "accessURL"), ox.NamedNode(name)),
            (dist, _n("dct", "identifier"), ox.Literal(name)),
            (dist, _n("void", "triples"), _int(count)),
        ]
    return out


# -- reading releases back ---------------------------------------------------------------------

_PREFIXES = {k: PREFIXES[k] for k in ("prov", "dct", "dcat", "void", "sh", "foaf", "owl", "rdfs")}
_PREFIXES |= {"sinlod": SINLOD, "spdx": SPDX}

_RELEASES = """
SELECT ?r ?id ?start ?end ?agent ?forced ?comment ?conforms ?violations WHERE {
  GRAPH RELEASES_GRAPH {
    ?r a prov:Activity ; dct:identifier ?id ; prov:startedAtTime ?start ;
       prov:endedAtTime ?end ; sinlod:forced ?forced ; prov:wasAssociatedWith/foaf:name ?agent .
    OPTIONAL { ?r rdfs:comment ?comment }
    OPTIONAL {
      ?v prov:wasGeneratedBy ?r ; sh:conforms ?conforms ; sinlod:violationCount ?violations
    }
  }
} ORDER BY ?end ?id
"""
_FILES = """
SELECT ?r ?f ?path ?sha ?role ?graph ?version ?fingerprint WHERE {
  GRAPH RELEASES_GRAPH {
    ?r prov:used ?f .
    ?f dct:title ?path ; sinlod:role ?role ; spdx:checksum/spdx:checksumValue ?sha .
    OPTIONAL { ?f sinlod:targetGraph ?graph }
    OPTIONAL { ?f owl:versionInfo ?version }
    OPTIONAL { ?f sinlod:fingerprint ?fingerprint }
  }
}
"""
_GRAPHS = """
SELECT ?r ?name ?n WHERE {
  GRAPH RELEASES_GRAPH {
    ?r prov:generated/dcat:distribution ?d . ?d dct:identifier ?name ; void:triples ?n
  }
}
"""
_CHANGED = "SELECT ?r ?name WHERE { GRAPH RELEASES_GRAPH { ?r sinlod:replacedGraph ?name } }"
_UPDATES = "SELECT ?r WHERE { GRAPH RELEASES_GRAPH { ?r sinlod:anyGraphChanged true } }"


def read_releases(store: ox.Store, base: str) -> list[Release]:
    """Every release recorded in ``store``'s releases graph, oldest first."""
    g = ox.NamedNode(releases_graph(base))
    if not store.contains_named_graph(g):
        return []

    def rows(query: str) -> Iterator[Any]:
        result = store.query(query.replace("RELEASES_GRAPH", str(g)), prefixes=_PREFIXES)
        assert isinstance(result, ox.QuerySolutions)
        return iter(result)

    files: dict[str, list[FileInfo]] = {}
    for row in sorted(rows(_FILES), key=lambda row: _file_number(row["f"].value)):
        files.setdefault(row["r"].value, []).append(_file_info(row))
    graphs: dict[str, dict[str, int]] = {}
    for row in rows(_GRAPHS):
        graphs.setdefault(row["r"].value, {})[row["name"].value] = int(row["n"].value)
    changed: dict[str, list[str]] = {}
    for row in rows(_CHANGED):
        changed.setdefault(row["r"].value, []).append(row["name"].value)
    updates = {row["r"].value for row in rows(_UPDATES)}
    out = []
    for row in rows(_RELEASES):
        iri = row["r"].value
        conforms = row["conforms"]
        out.append(
            Release(
                id=row["id"].value,
                iri=iri,
                started=datetime.fromisoformat(row["start"].value),
                ended=datetime.fromisoformat(row["end"].value),
                agent=row["agent"].value,
                files=tuple(files.get(iri, ())),
                conforms=None if conforms is None else conforms.value == "true",
                violations=int(row["violations"].value) if row["violations"] else 0,
                forced=row["forced"].value == "true",
                graphs=dict(sorted(graphs.get(iri, {}).items())),
                changed=None if iri in updates else tuple(sorted(changed.get(iri, ()))),
                comment=row["comment"].value if row["comment"] else None,
            )
        )
    return out


def _file_number(iri: str) -> int:
    tail = iri.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _file_info(row: Any) -> FileInfo:
    def opt(name: str) -> str | None:
        term = row[name]
        return None if term is None else str(term.value)

    return FileInfo(
        path=row["path"].value,
        sha256=row["sha"].value,
        role=row["role"].value,
        graph=opt("graph"),
        version=opt("version"),
        fingerprint=opt("fingerprint"),
    )


def current_fingerprints(releases: Iterable[Release]) -> dict[str, str]:
    """Graph → fingerprint of the source it was last published from, when still trustworthy.

    A release that may have touched any graph (a SPARQL update) forgets every fingerprint; a
    replacement without a fingerprint forgets that graph's.
    """
    known: dict[str, str] = {}
    for release in releases:
        if release.changed is None:
            known.clear()
            continue
        by_graph = {f.graph: f.fingerprint for f in release.files if f.graph and f.fingerprint}
        for name in release.changed:
            fingerprint = by_graph.get(name)
            if fingerprint is None:
                known.pop(name, None)
            else:
                known[name] = fingerprint
    return known


def release_triples(log: ox.Store, base: str, release_id: str | None = None) -> list[ox.Triple]:
    """The release log as triples (all of it, or one release: its activity, files, validation,
    dataset and distributions, and its agent), for serving as RDF."""
    g = ox.NamedNode(releases_graph(base))
    quads = list(log.quads_for_pattern(None, None, None, g))
    if release_id is None:
        return [q.triple for q in quads]
    r = release_iri(base, release_id)
    agents = {
        q.object
        for q in quads
        if q.subject == ox.NamedNode(r) and q.predicate == _n("prov", "wasAssociatedWith")
    }
    return [
        q.triple
        for q in quads
        if isinstance(q.subject, ox.NamedNode)
        and (q.subject.value == r or q.subject.value.startswith(r + "/") or q.subject in agents)
    ]


class ReleaseLog:
    """One snapshot's release log: N-Quads bytes that never change, parsed when first read.

    A write makes the next log by appending its release (as a new chunk of bytes, and to the
    parsed list of releases when known) instead of copying and re-reading the log: the log grows
    with every write, and a write's cost must not grow with it.
    """

    def __init__(
        self, data: bytes, base: str, releases: list[Release] | None = None, *more: bytes
    ) -> None:
        self._chunks = (data, *more)
        self.size = sum(len(c) for c in self._chunks)
        self.base = base
        self._releases = releases
        self._store: ox.Store | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, quads: Iterable[ox.Quad], base: str) -> ReleaseLog:
        return cls(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"", base)

    @property
    def data(self) -> bytes:
        """The whole log as N-Quads (joined once, when first asked for)."""
        with self._lock:
            if len(self._chunks) > 1:
                self._chunks = (b"".join(self._chunks),)
            return self._chunks[0]

    def store(self) -> ox.Store:
        """The log as a pyoxigraph store (the graph ``{base}graph/releases``); do not write."""
        data = self.data
        with self._lock:
            if self._store is None:
                store = ox.Store()
                if data:
                    store.extend(ox.parse(data, ox.RdfFormat.N_QUADS))
                self._store = store
            return self._store

    def releases(self) -> list[Release]:
        """Every release, oldest first (a new list each call)."""
        if self._releases is None:
            found = read_releases(self.store(), self.base)
            with self._lock:
                self._releases = found
        return list(self._releases)

    def last(self) -> Release | None:
        known = self._releases
        if known is not None:
            return known[-1] if known else None
        found = self.releases()
        return found[-1] if found else None

    def appended(self, added: bytes, release: Release) -> ReleaseLog:
        """The next log: these bytes, then ``added`` (the N-Quads of ``release``)."""
        known = None if self._releases is None else [*self._releases, release]
        with self._lock:
            chunks = self._chunks
        log = ReleaseLog(b"", self.base, known)
        log._chunks, log.size = (*chunks, added), self.size + len(added)
        return log
