"""Dataset descriptions that portals and crawlers harvest: VoID and a DCAT-AP 3 catalogue.

Both are computed from the store (counts, partitions, linksets, coverage) rather than kept by hand,
so they are true for whatever is published. They are graphs of ``pyoxigraph.Triple``; the server
serialises them with Oxigraph. IRIs of the catalogue's own resources live under ``{base}id/`` so
that they dereference like everything else; URLs of services and dumps use the public URL the
server is reached at.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pyoxigraph import BlankNode, Literal, NamedNode, Store, Triple

from sinlod.config import Settings
from sinlod.linking import AUTHORITY, LINK_TARGETS
from sinlod.namespaces import PREFIXES
from sinlod.store.datasets import Dataset, group_datasets
from sinlod.store.graphs import data_graphs, dataset_prefix
from sinlod.store.releases import Release

RDF_TYPE = NamedNode(PREFIXES["rdf"] + "type")
#: Named graphs a query ranges over (``GRAPH ?g``).
Graphs = list[NamedNode | BlankNode]
XSD = PREFIXES["xsd"]


def _n(curie: str) -> NamedNode:
    prefix, _, local = curie.partition(":")
    return NamedNode(PREFIXES[prefix] + local)


@dataclass(frozen=True)
class Urls:
    """Where the published things are reached: the server's public URL and the identifier base."""

    public: str  # e.g. "http://127.0.0.1:8000/" (always ends with "/")
    base: str  # Settings.base_iri

    @property
    def sparql(self) -> str:
        return self.public + "sparql"

    def dump(self, name: str) -> str:
        return self.public + "dumps/" + name

    @property
    def releases(self) -> str:
        """The release log's page (HTML, and RDF by negotiation)."""
        return self.public + "releases"

    @property
    def change_feed(self) -> str:
        """The change feed, a Linked Data Event Stream (``sinlod.ldes``)."""
        return self.public + "ldes"

    def thing(self, type_: str, key: str) -> NamedNode:
        return NamedNode(f"{self.base}id/{type_}/{key}")


def _select(store: Store, query: str, graphs: Graphs | None = None) -> Iterator[tuple[object, ...]]:
    """Rows of ``query``; with ``graphs``, ``GRAPH ?g`` ranges over those graphs only."""
    if graphs is None:
        results = store.query(query, use_default_graph_as_union=True)
    else:
        results = store.query(query, named_graphs=graphs)
    for row in results:  # type: ignore[union-attr]
        yield tuple(row)


def _count(store: Store, query: str, graphs: Graphs | None = None) -> int:
    for row in _select(store, query, graphs):
        value = row[0]
        return int(value.value) if isinstance(value, Literal) else 0
    return 0


def void_triples(store: Store, settings: Settings, urls: Urls) -> list[Triple]:
    """A VoID description of the published data, with class and property partitions and linksets."""
    ds = urls.thing("dataset", "sinlod")
    graphs = data_graphs(store, settings.base_iri)
    out: list[Triple] = []
    add = out.append
    add(Triple(ds, RDF_TYPE, _n("void:Dataset")))
    add(Triple(ds, _n("dct:title"), Literal(settings.dataset_title, language="en")))
    add(Triple(ds, _n("dct:description"), Literal(settings.dataset_description, language="en")))
    add(Triple(ds, _n("dct:license"), NamedNode(settings.license_iri)))
    add(Triple(ds, _n("void:sparqlEndpoint"), NamedNode(urls.sparql)))
    add(Triple(ds, _n("void:dataDump"), NamedNode(urls.dump("latest.nq.gz"))))
    add(Triple(ds, _n("void:uriSpace"), Literal(settings.base_iri + "id/")))
    add(Triple(ds, _n("void:feature"), NamedNode("http://www.w3.org/ns/formats/N-Quads")))
    add(Triple(ds, _n("void:feature"), NamedNode("http://www.w3.org/ns/formats/Turtle")))
    totals = (
        "SELECT (COUNT(*) AS ?t) (COUNT(DISTINCT ?s) AS ?s_) (COUNT(DISTINCT ?o) AS ?o_) "
        "(COUNT(DISTINCT ?p) AS ?p_) WHERE { GRAPH ?g { ?s ?p ?o } }"
    )
    for row in _select(store, totals, graphs):
        for prop, value in zip(
            ("void:triples", "void:distinctSubjects", "void:distinctObjects", "void:properties"),
            row,
            strict=True,
        ):
            add(Triple(ds, _n(prop), _int(value)))
    entities = _count(
        store,
        f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a ?c }} "
        f'FILTER(STRSTARTS(STR(?s), "{settings.base_iri}id/")) }}',
        graphs,
    )
    add(Triple(ds, _n("void:entities"), _int(Literal(str(entities)))))
    for part, dataset in _parts(store, ds, settings):
        out.extend(_void_part(ds, part, dataset, settings, urls))
    out.extend(_partitions(store, ds, graphs))
    out.extend(_vocabularies(store, ds, graphs))
    out.extend(_examples(store, ds, settings, graphs))
    out.extend(_linksets(store, ds, graphs))
    return out


def _int(value: object) -> Literal:
    text = value.value if isinstance(value, Literal) else str(value)
    return Literal(text, datatype=NamedNode(XSD + "integer"))


def _partition_node(ds: NamedNode, kind: str, iri: str) -> NamedNode:
    # Stable IRIs (not blank nodes) so that the description is the same on every request.
    return NamedNode(f"{ds.value}/{kind}/{iri.replace('#', '%23')}")


#: (partition kind, SPARQL select of (term, count), VoID link, VoID term, VoID count)
_PARTITIONS = (
    (
        "class",
        "SELECT ?t (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?t } }",
        "void:classPartition",
        "void:class",
        "void:entities",
    ),
    (
        "property",
        "SELECT ?t (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?t ?o } }",
        "void:propertyPartition",
        "void:property",
        "void:triples",
    ),
)


def _partitions(store: Store, ds: NamedNode, graphs: Graphs) -> Iterator[Triple]:
    """Class partitions (entities per class) and property partitions (triples per property)."""
    for kind, select, link, term, count in _PARTITIONS:
        query = select + " GROUP BY ?t ORDER BY ?t"
        for iri, n in _select(store, query, graphs):
            if not isinstance(iri, NamedNode):
                continue  # `?s a "text"` or a blank-node class: data, not a class partition
            part = _partition_node(ds, kind, iri.value)
            yield Triple(ds, _n(link), part)
            yield Triple(part, _n(term), iri)
            yield Triple(part, _n(count), _int(n))


def _vocabularies(store: Store, ds: NamedNode, graphs: Graphs) -> Iterator[Triple]:
    """The vocabularies whose terms are used as properties or classes (namespace of the term)."""
    query = "SELECT DISTINCT ?t WHERE { { GRAPH ?g { ?s ?t ?o } } UNION { GRAPH ?g { ?s a ?t } } }"
    namespaces = set()
    for (term,) in _select(store, query, graphs):
        if isinstance(term, NamedNode):
            namespaces.add(namespace_of(term.value))
    for ns in sorted(namespaces):
        try:
            yield Triple(ds, _n("void:vocabulary"), NamedNode(ns))
        except ValueError:  # what is left of an IRI that names no namespace (`urn:p` -> `urn:`)
            continue


def namespace_of(iri: str) -> str:
    """The namespace of a term: up to the last ``#`` or ``/``, else the last ``:`` (``urn:p``
    has the namespace ``urn:``), else the whole IRI.

    >>> namespace_of("http://xmlns.com/foaf/0.1/name"), namespace_of("urn:x:p"), namespace_of("p")
    ('http://xmlns.com/foaf/0.1/', 'urn:x:', 'p')
    """
    cut = max(iri.rfind("#"), iri.rfind("/"))
    if cut < 0:
        cut = iri.rfind(":")
    return iri[: cut + 1] if cut >= 0 else iri


def _examples(store: Store, ds: NamedNode, settings: Settings, graphs: Graphs) -> Iterator[Triple]:
    """One example resource per main class, so that a crawler can start somewhere real."""
    for cls in ("Project", "Organisation", "Event", "Place"):
        query = (
            f"SELECT ?s WHERE {{ GRAPH ?g {{ ?s a <{PREFIXES['sinlod']}{cls}> }} }} "
            "ORDER BY ?s LIMIT 1"
        )
        for (s,) in _select(store, query, graphs):
            if isinstance(s, NamedNode):  # a blank node is no place to start from
                yield Triple(ds, _n("void:exampleResource"), s)


def _linksets(store: Store, ds: NamedNode, graphs: Graphs) -> Iterator[Triple]:
    for target in LINK_TARGETS:
        query = (
            "SELECT ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{target.namespace}")) }} '
            "GROUP BY ?p ORDER BY ?p"
        )
        rows = list(_select(store, query, graphs))
        if not rows:
            continue
        linkset = NamedNode(f"{ds.value}/linkset/{target.key}")
        other = NamedNode(f"{ds.value}/target/{target.key}")
        yield Triple(ds, _n("void:subset"), linkset)
        yield Triple(linkset, RDF_TYPE, _n("void:Linkset"))
        yield Triple(linkset, _n("void:subjectsTarget"), ds)
        yield Triple(linkset, _n("void:objectsTarget"), other)
        yield Triple(other, RDF_TYPE, _n("void:Dataset"))
        yield Triple(other, _n("dct:title"), Literal(target.title, language="en"))
        yield Triple(other, _n("foaf:homepage"), NamedNode(target.homepage))
        yield Triple(other, _n("void:uriSpace"), Literal(target.namespace))
        total = 0
        for prop, n in rows:
            if not isinstance(prop, NamedNode):
                continue
            yield Triple(linkset, _n("void:linkPredicate"), prop)
            total += int(n.value) if isinstance(n, Literal) else 0
        yield Triple(linkset, _n("void:triples"), _int(Literal(str(total))))


def _concept(iri: str, scheme: str, label: str) -> Iterator[Triple]:
    """An authority-table concept with its scheme, as DCAT-AP's vocabulary shapes expect."""
    node = NamedNode(iri)
    yield Triple(node, RDF_TYPE, _n("skos:Concept"))
    yield Triple(node, _n("skos:inScheme"), NamedNode(scheme))
    yield Triple(node, _n("skos:prefLabel"), Literal(label, language="en"))


GZIP = "https://www.iana.org/assignments/media-types/application/gzip"

DISTRIBUTIONS = (
    # (key, file name, title, IANA media type, EU file-type code)
    (
        "nquads-gz",
        "latest.nq.gz",
        "All graphs as gzipped N-Quads",
        "application/n-quads",
        "RDF_N_QUADS",
    ),
    ("turtle", "latest.ttl", "All data as Turtle", "text/turtle", "RDF_TURTLE"),
)


def catalog_triples(
    store: Store,
    settings: Settings,
    urls: Urls,
    modified: datetime | None = None,
    release: Release | None = None,
    releases: Sequence[Release] = (),
) -> list[Triple]:
    """A DCAT-AP 3 catalogue: catalogue, dataset, dump distributions and the SPARQL data service.

    The catalogue lists the whole store (``id/dataset/sinlod``: every dump, the SPARQL endpoint,
    the change feed) and each dataset published into it (``id/dataset/sinlod/{name}``, a part of
    the whole, with one Turtle distribution per graph); ``releases`` (the release log) dates each.

    Spatial coverage is the set of EU country codes linked from the data; temporal coverage spans
    the earliest and latest dates stated; both are recomputed from the store. The dataset points
    at the release log (``foaf:page``) and, given the published ``release``, names it as its
    version (``dcat:version``) and the activity that generated it (``prov:wasGeneratedBy``).
    """
    out: list[Triple] = []
    add = out.append
    cat, ds = urls.thing("catalog", "sinlod"), urls.thing("dataset", "sinlod")
    service, publisher = urls.thing("service", "sparql"), urls.thing("agent", "publisher")
    contact = urls.thing("contact", "sinlod")
    when = Literal(
        (modified or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        datatype=NamedNode(XSD + "dateTime"),
    )
    en = "en"
    add(Triple(cat, RDF_TYPE, _n("dcat:Catalog")))
    add(Triple(cat, _n("dct:title"), Literal(settings.dataset_title + " catalogue", language=en)))
    add(Triple(cat, _n("dct:description"), Literal(settings.dataset_description, language=en)))
    add(Triple(cat, _n("dct:publisher"), publisher))
    add(Triple(cat, _n("dct:modified"), when))
    add(Triple(cat, _n("foaf:homepage"), NamedNode(urls.public)))
    add(Triple(cat, _n("dcat:dataset"), ds))
    add(Triple(cat, _n("dcat:service"), service))
    add(Triple(cat, _n("dct:license"), NamedNode(settings.license_iri)))
    add(Triple(cat, _n("dcat:themeTaxonomy"), NamedNode(AUTHORITY + "data-theme")))
    add(Triple(NamedNode(AUTHORITY + "data-theme"), RDF_TYPE, _n("skos:ConceptScheme")))
    add(
        Triple(
            NamedNode(AUTHORITY + "data-theme"), _n("dct:title"), Literal("Data theme", language=en)
        )
    )
    add(Triple(publisher, RDF_TYPE, _n("foaf:Agent")))
    add(Triple(publisher, _n("foaf:name"), Literal(settings.publisher_name, language=en)))

    add(Triple(ds, RDF_TYPE, _n("dcat:Dataset")))
    add(Triple(ds, _n("dct:title"), Literal(settings.dataset_title, language=en)))
    add(Triple(ds, _n("dct:description"), Literal(settings.dataset_description, language=en)))
    add(Triple(ds, _n("dct:publisher"), publisher))
    add(Triple(ds, _n("dct:modified"), when))
    add(Triple(ds, _n("dcat:landingPage"), NamedNode(urls.public)))
    add(Triple(ds, _n("dcat:contactPoint"), contact))
    add(Triple(contact, RDF_TYPE, NamedNode("http://www.w3.org/2006/vcard/ns#Kind")))
    add(
        Triple(
            contact,
            NamedNode("http://www.w3.org/2006/vcard/ns#fn"),
            Literal(settings.publisher_name),
        )
    )
    add(
        Triple(
            contact,
            NamedNode("http://www.w3.org/2006/vcard/ns#hasEmail"),
            NamedNode("mailto:" + settings.contact_email),
        )
    )
    theme = AUTHORITY + "data-theme/SOCI"
    add(Triple(ds, _n("dcat:theme"), NamedNode(theme)))
    out.extend(_concept(theme, AUTHORITY + "data-theme", "Population and society"))
    for code, label in (("ENG", "English"), ("NLD", "Dutch"), ("DEU", "German")):
        iri = AUTHORITY + "language/" + code
        add(Triple(ds, _n("dct:language"), NamedNode(iri)))
        out.extend(_concept(iri, AUTHORITY + "language", label))
    for iri in _countries(store, data_graphs(store, settings.base_iri)):
        add(Triple(ds, _n("dct:spatial"), NamedNode(iri)))
        add(Triple(NamedNode(iri), RDF_TYPE, _n("dct:Location")))
        out.extend(_country(store, iri))
    out.extend(_temporal(store, ds, urls))
    out.extend(_ranges(settings, urls))
    out.extend(_release_log(ds, urls, release))

    for key, name, title, media, filetype in DISTRIBUTIONS:
        dist = urls.thing("distribution", key)
        add(Triple(ds, _n("dcat:distribution"), dist))
        add(Triple(dist, RDF_TYPE, _n("dcat:Distribution")))
        add(Triple(dist, _n("dct:title"), Literal(title, language=en)))
        add(Triple(dist, _n("dcat:accessURL"), NamedNode(urls.dump(name))))
        add(Triple(dist, _n("dcat:downloadURL"), NamedNode(urls.dump(name))))
        add(
            Triple(
                dist,
                _n("dcat:mediaType"),
                NamedNode("https://www.iana.org/assignments/media-types/" + media),
            )
        )
        if name.endswith(".gz"):  # served as a gzip file of that media type
            add(Triple(dist, _n("dcat:compressFormat"), NamedNode(GZIP)))
        ft = AUTHORITY + "file-type/" + filetype
        add(Triple(dist, _n("dct:format"), NamedNode(ft)))
        out.extend(_concept(ft, AUTHORITY + "file-type", filetype.replace("_", " ")))
        add(Triple(dist, _n("dct:license"), NamedNode(settings.license_iri)))
    sparql_dist = urls.thing("distribution", "sparql")
    add(Triple(ds, _n("dcat:distribution"), sparql_dist))
    add(Triple(sparql_dist, RDF_TYPE, _n("dcat:Distribution")))
    add(Triple(sparql_dist, _n("dct:title"), Literal("SPARQL endpoint", language=en)))
    add(Triple(sparql_dist, _n("dcat:accessURL"), NamedNode(urls.sparql)))
    add(Triple(sparql_dist, _n("dcat:accessService"), service))
    add(Triple(sparql_dist, _n("dct:license"), NamedNode(settings.license_iri)))

    add(Triple(service, RDF_TYPE, _n("dcat:DataService")))
    add(Triple(service, _n("dct:title"), Literal("SPARQL 1.1 endpoint", language=en)))
    add(Triple(service, _n("dcat:endpointURL"), NamedNode(urls.sparql)))
    add(Triple(service, _n("dcat:endpointDescription"), NamedNode(urls.sparql)))
    add(Triple(service, _n("dcat:servesDataset"), ds))
    add(
        Triple(service, _n("dct:conformsTo"), NamedNode("https://www.w3.org/TR/sparql11-protocol/"))
    )
    add(Triple(service, _n("dct:license"), NamedNode(settings.license_iri)))
    out.extend(_change_feed(cat, ds, settings, urls))
    for part, dataset in _parts(store, ds, settings, releases):
        out.extend(_dcat_part(cat, ds, part, dataset, settings, urls))
    return out


# -- the datasets in the store (issue 11): each a part of the whole, with its own distributions --


def _parts(
    store: Store, ds: NamedNode, settings: Settings, releases: Sequence[Release] = ()
) -> list[tuple[NamedNode, Dataset]]:
    """Each dataset of the store and its IRI, ``{whole}/{name}``: triples counted per graph."""
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    counts = {
        g.value: int(n.value)
        for g, n in _select(store, query, data_graphs(store, settings.base_iri))
        if isinstance(g, NamedNode) and isinstance(n, Literal)
    }
    return [
        (NamedNode(f"{ds.value}/{d.name}"), d)
        for d in group_datasets(counts, settings.base_iri, releases)
    ]


def _graph_dumps(
    part: NamedNode, dataset: Dataset, settings: Settings, urls: Urls
) -> Iterator[tuple[NamedNode, str, str]]:
    """(distribution, table, dump URL) per graph of ``dataset``: ``/dumps/{dataset}/{table}.ttl``
    (``/dumps/`` serves each graph under its name after ``{base}graph/``)."""
    prefix = dataset_prefix(settings.base_iri, dataset.name)
    for graph in dataset.graphs:
        table = graph.removeprefix(prefix)
        key = f"{dataset.name}/{table}"
        yield urls.thing("distribution", key), table, urls.dump(key + ".ttl")


def _void_part(
    ds: NamedNode, part: NamedNode, dataset: Dataset, settings: Settings, urls: Urls
) -> Iterator[Triple]:
    yield Triple(ds, _n("void:subset"), part)
    yield Triple(part, RDF_TYPE, _n("void:Dataset"))
    yield Triple(part, _n("dct:title"), Literal(f"Dataset {dataset.name}", language="en"))
    yield Triple(part, _n("dct:identifier"), Literal(dataset.name))
    yield Triple(part, _n("void:triples"), _int(Literal(str(dataset.triples))))
    for _dist, _table, url in _graph_dumps(part, dataset, settings, urls):
        yield Triple(part, _n("void:dataDump"), NamedNode(url))


def _dcat_part(
    cat: NamedNode,
    ds: NamedNode,
    part: NamedNode,
    dataset: Dataset,
    settings: Settings,
    urls: Urls,
) -> Iterator[Triple]:
    """One dataset as a DCAT-AP dataset of the catalogue, part of the whole store."""
    en = "en"
    name = dataset.name
    graphs = len(dataset.graphs)
    yield Triple(cat, _n("dcat:dataset"), part)
    yield Triple(ds, _n("dct:hasPart"), part)
    yield Triple(part, RDF_TYPE, _n("dcat:Dataset"))
    yield Triple(part, _n("dct:isPartOf"), ds)
    yield Triple(part, _n("dct:identifier"), Literal(name))
    yield Triple(
        part, _n("dct:title"), Literal(f"{settings.dataset_title}: dataset {name}", language=en)
    )
    yield Triple(
        part,
        _n("dct:description"),
        Literal(
            f"The records published as the dataset {name}: {dataset.triples} triples in"
            f" {graphs} graph{'s' * (graphs != 1)}, one per source file.",
            language=en,
        ),
    )
    yield Triple(part, _n("dct:publisher"), urls.thing("agent", "publisher"))
    yield Triple(part, _n("dcat:contactPoint"), urls.thing("contact", "sinlod"))
    yield Triple(part, _n("dcat:landingPage"), NamedNode(urls.public))
    yield Triple(part, _n("dcat:theme"), NamedNode(AUTHORITY + "data-theme/SOCI"))
    last = dataset.last_release
    if last is not None:
        yield Triple(part, _n("dct:modified"), _dt(last.ended))
        yield Triple(part, _n("dcat:version"), Literal(last.id))
        yield Triple(part, _n("prov:wasGeneratedBy"), NamedNode(last.iri))
    for dist, table, url in _graph_dumps(part, dataset, settings, urls):
        yield Triple(part, _n("dcat:distribution"), dist)
        yield Triple(dist, RDF_TYPE, _n("dcat:Distribution"))
        yield Triple(dist, _n("dct:title"), Literal(f"{table} ({name}) as Turtle", language=en))
        yield Triple(dist, _n("dcat:accessURL"), NamedNode(url))
        yield Triple(dist, _n("dcat:downloadURL"), NamedNode(url))
        yield Triple(
            dist,
            _n("dcat:mediaType"),
            NamedNode("https://www.iana.org/assignments/media-types/text/turtle"),
        )
        yield Triple(dist, _n("dct:format"), NamedNode(AUTHORITY + "file-type/RDF_TURTLE"))
        yield Triple(dist, _n("dct:license"), NamedNode(settings.license_iri))


def _dt(value: datetime) -> Literal:
    return Literal(
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=NamedNode(XSD + "dateTime")
    )


#: The LDES specification, which the change feed conforms to.
LDES_SPECIFICATION = "https://w3id.org/ldes/specification"


def _change_feed(cat: NamedNode, ds: NamedNode, settings: Settings, urls: Urls) -> Iterator[Triple]:
    """The change feed as a data service serving the dataset, and a distribution through it, so
    that a portal harvesting the catalogue finds how to follow the changes (``/ldes``)."""
    feed, dist = urls.thing("service", "ldes"), urls.thing("distribution", "ldes")
    endpoint, spec = NamedNode(urls.change_feed), NamedNode(LDES_SPECIFICATION)
    en = "en"
    yield Triple(cat, _n("dcat:service"), feed)
    yield Triple(feed, RDF_TYPE, _n("dcat:DataService"))
    yield Triple(
        feed, _n("dct:title"), Literal("Change feed (Linked Data Event Stream)", language=en)
    )
    yield Triple(
        feed,
        _n("dct:description"),
        Literal(
            "Every release's changes as an LDES: one version per thing created, updated or"
            " deleted, in pages that never change once full.",
            language=en,
        ),
    )
    yield Triple(feed, _n("dcat:endpointURL"), endpoint)
    yield Triple(feed, _n("dcat:endpointDescription"), endpoint)
    yield Triple(feed, _n("dcat:servesDataset"), ds)
    yield Triple(feed, _n("dct:conformsTo"), spec)
    yield Triple(feed, _n("dct:license"), NamedNode(settings.license_iri))
    yield Triple(ds, _n("dcat:distribution"), dist)
    yield Triple(dist, RDF_TYPE, _n("dcat:Distribution"))
    yield Triple(dist, _n("dct:title"), Literal("Change feed (LDES)", language=en))
    yield Triple(dist, _n("dcat:accessURL"), endpoint)
    yield Triple(dist, _n("dcat:accessService"), feed)
    yield Triple(dist, _n("dct:conformsTo"), spec)
    yield Triple(dist, _n("dct:license"), NamedNode(settings.license_iri))
    yield Triple(spec, RDF_TYPE, _n("dct:Standard"))


def _ranges(settings: Settings, urls: Urls) -> Iterator[Triple]:
    """Classes of the objects used above, which DCAT-AP's range shapes check."""
    yield Triple(NamedNode(settings.license_iri), RDF_TYPE, _n("dct:LicenseDocument"))
    yield Triple(NamedNode(urls.public), RDF_TYPE, _n("foaf:Document"))
    for code in ("ENG", "NLD", "DEU"):
        yield Triple(
            NamedNode(AUTHORITY + "language/" + code), RDF_TYPE, _n("dct:LinguisticSystem")
        )
    for _key, _name, _title, media, filetype in DISTRIBUTIONS:
        iana = NamedNode("https://www.iana.org/assignments/media-types/" + media)
        yield Triple(iana, RDF_TYPE, _n("dct:MediaType"))
        ft = NamedNode(AUTHORITY + "file-type/" + filetype)
        yield Triple(ft, RDF_TYPE, _n("dct:MediaTypeOrExtent"))
    yield Triple(NamedNode(GZIP), RDF_TYPE, _n("dct:MediaType"))
    protocol = NamedNode("https://www.w3.org/TR/sparql11-protocol/")
    yield Triple(protocol, RDF_TYPE, _n("dct:Standard"))


def _release_log(ds: NamedNode, urls: Urls, release: Release | None) -> Iterator[Triple]:
    """Where the history of the dataset is read: the release log is beside the data, not in it."""
    page = NamedNode(urls.releases)
    yield Triple(ds, _n("foaf:page"), page)
    yield Triple(page, RDF_TYPE, _n("foaf:Document"))
    yield Triple(page, _n("dct:title"), Literal("Release log", language="en"))
    if release is None:
        return
    activity = NamedNode(release.iri)
    yield Triple(ds, _n("dcat:version"), Literal(release.id))
    yield Triple(ds, _n("prov:wasGeneratedBy"), activity)
    yield Triple(activity, RDF_TYPE, _n("prov:Activity"))


def _country(store: Store, iri: str) -> Iterator[Triple]:
    """A country of the data as a concept, named as the published reference tables name it (in
    every language they carry), or by its code where they do not know it."""
    node = NamedNode(iri)
    yield Triple(node, RDF_TYPE, _n("skos:Concept"))
    yield Triple(node, _n("skos:inScheme"), NamedNode(AUTHORITY + "country"))
    query = f"SELECT ?l WHERE {{ <{iri}> <{PREFIXES['skos']}prefLabel> ?l }} ORDER BY ?l"
    labels = [row[0] for row in _select(store, query) if isinstance(row[0], Literal)]
    for label in labels or [Literal(iri.rsplit("/", 1)[1], language="en")]:
        yield Triple(node, _n("skos:prefLabel"), label)


def _countries(store: Store, graphs: Graphs) -> list[str]:
    """The countries the data links to (not the reference tables, which name them all)."""
    query = (
        "SELECT DISTINCT ?o WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{AUTHORITY}country/")) }} ORDER BY ?o'
    )
    rows = _select(store, query, graphs)
    return [row[0].value for row in rows if isinstance(row[0], NamedNode)]


def _temporal(store: Store, ds: NamedNode, urls: Urls) -> Iterator[Triple]:
    """dct:temporal from the earliest start to the latest end stated in the data."""
    query = (
        "SELECT (MIN(?d) AS ?lo) (MAX(?d) AS ?hi) WHERE { "
        f"{{ ?s <{PREFIXES['sinlod']}startDate> ?v }} "
        f"UNION {{ ?s <{PREFIXES['sinlod']}endDate> ?v }} "
        'BIND(SUBSTR(STR(?v), 1, 4) AS ?d) FILTER(REGEX(?d, "^[0-9]{4}$")) }'
    )
    for lo, hi in _select(store, query):
        if not isinstance(lo, Literal) or not isinstance(hi, Literal):
            return
        period = urls.thing("period", f"{lo.value}-{hi.value}")
        yield Triple(ds, _n("dct:temporal"), period)
        yield Triple(period, RDF_TYPE, _n("dct:PeriodOfTime"))
        year = NamedNode(XSD + "gYear")
        yield Triple(period, _n("dcat:startDate"), Literal(lo.value, datatype=year))
        yield Triple(period, _n("dcat:endDate"), Literal(hi.value, datatype=year))


__all__ = ["Urls", "catalog_triples", "void_triples"]
