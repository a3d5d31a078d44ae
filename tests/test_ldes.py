"""The change feed (issue 11): each release's changes as a Linked Data Event Stream.

Three releases are published into a store on disk (things added, one changed, one deleted); the
feed's documents are validated with the TREE and LDES SHACL shapes (``tests/data/ldes/``), and a
harvester that starts at the stream, follows ``tree:relation`` and applies the member versions
ends with exactly the data of the store. Over HTTP: ``tests/server/test_ldes.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from sinlod.config import Settings
from sinlod.ldes import (
    TREE,
    FeedUrls,
    PageNotFound,
    feed_page,
    pages,
    read_members,
    stream_triples,
)
from sinlod.publish import publish
from sinlod.store import Store
from sinlod.store import versions as versions_module
from sinlod.store.graphs import is_data_graph
from tests.conftest import TEST_DATA

SHAPES = TEST_DATA / "ldes"
BASE = "https://w3id.org/sinlod/"
PUBLIC = "http://feed.test/"
PREFIXES = """\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix sinlod: <https://w3id.org/sinlod/def/> .
@prefix locn: <http://www.w3.org/ns/locn#> .
@prefix place: <https://w3id.org/sinlod/id/place/> .
@prefix org: <https://w3id.org/sinlod/id/organisation/> .
"""
PLACES = {
    "ghent": "Ghent",
    "bruges": "Bruges",
    "ostend": "Ostend",
    "leuven": "Leuven",
    "namur": "Namur",
}


def places_ttl(names: dict[str, str]) -> str:
    return PREFIXES + "".join(
        f'place:{key} a sinlod:Place ; skos:prefLabel "{label}"@en .\n'
        for key, label in names.items()
    )


def organisations_ttl(street: str) -> str:
    """Two organisations; one has an address as a blank node (its state reaches it)."""
    return PREFIXES + (
        'org:drift a sinlod:Organisation ; skos:prefLabel "DRIFT"@en ;\n'
        f'  locn:address [ a locn:Address ; locn:thoroughfare "{street}" ] .\n'
        'org:tudo a sinlod:Organisation ; skos:prefLabel "TU Dortmund"@en .\n'
    )


@dataclass
class Published:
    store: Store
    settings: Settings
    releases: list[str]


@pytest.fixture
def published(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Published]:
    """Three releases: seven things added; Bruges renamed and DRIFT's street changed; Ostend
    deleted. Pages of two versions, so that a release spans pages."""
    monkeypatch.setattr(versions_module, "PAGE_SIZE", 2)
    src = tmp_path / "src"
    src.mkdir()
    places, orgs = src / "places.ttl", src / "organisations.ttl"
    store = Store.open(settings.store_path)
    ids = []

    def release(place_names: dict[str, str], street: str) -> None:
        places.write_text(places_ttl(place_names), encoding="utf-8")
        orgs.write_text(organisations_ttl(street), encoding="utf-8")
        result = publish([places, orgs], settings, store, validate=False, ontology=False)
        assert result.release is not None
        ids.append(result.release.id)

    renamed = {**PLACES, "bruges": "Brugge"}
    release(PLACES, "Mandeville")
    release(renamed, "Burgemeester Oudlaan")
    release({k: v for k, v in renamed.items() if k != "ostend"}, "Burgemeester Oudlaan")
    yield Published(store, settings, ids)
    store.close()


# -- what each release recorded ----------------------------------------------------------------


def test_each_release_records_one_version_per_thing_it_created_changed_or_deleted(
    published: Published,
) -> None:
    store = published.store
    kinds = [
        [
            (v.thing.rsplit("/", 1)[-1], v.kind)
            for p in range(1, store.version_pages(r) + 1)
            for v in store.versions(r, p)
        ]
        for r in published.releases
    ]
    assert kinds == [
        [
            ("drift", "Create"),
            ("tudo", "Create"),
            ("bruges", "Create"),
            ("ghent", "Create"),
            ("leuven", "Create"),
            ("namur", "Create"),
            ("ostend", "Create"),
        ],
        [("drift", "Update"), ("bruges", "Update")],
        [("ostend", "Delete")],
    ]
    assert [store.version_pages(r) for r in published.releases] == [4, 1, 1]


def test_a_version_holds_the_whole_new_state_with_its_blank_nodes(published: Published) -> None:
    drift = published.store.versions(published.releases[1], 1)[0]
    assert drift.thing == BASE + "id/organisation/drift"
    texts = {
        (t.predicate.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1], str(t.object))
        for t in drift.triples
    }
    assert ("thoroughfare", '"Burgemeester Oudlaan"') in texts
    assert ("prefLabel", '"DRIFT"@en') in texts
    assert len(drift.triples) == 5  # type, label, address; the address's type and street


def test_republishing_the_same_content_records_no_version(published: Published) -> None:
    """A graph reloaded from its file gets new blank-node labels: still no version."""
    store, settings = published.store, published.settings
    src = Path(settings.store_path).parent / "src"
    (src / "organisations.ttl").write_text(
        organisations_ttl("Burgemeester Oudlaan") + "\n# touched\n", encoding="utf-8"
    )
    result = publish(
        [src / "places.ttl", src / "organisations.ttl"],
        settings,
        store,
        validate=False,
        ontology=False,
    )
    assert result.release is not None  # the file changed, so the graph was replaced
    assert store.version_pages(result.release.id) == 1
    assert store.versions(result.release.id, 1) == []


def test_versions_survive_the_pruning_of_snapshots(published: Published) -> None:
    """Snapshots are pruned (three kept besides the current); the versions are not."""
    store = published.store
    for n in range(4):
        thing, graph = f"<{BASE}id/x/{n}>", f"<{BASE}graph/sinlod/extra>"
        store.update(f"INSERT DATA {{ GRAPH {graph} {{ {thing} <{BASE}def/n> {n} }} }}")
    assert published.releases[0] not in store.kept_releases()
    assert store.version_pages(published.releases[0]) == 4
    assert len(list(pages(store))) == 6 + 4


def test_the_first_write_after_releases_without_versions_is_a_baseline(
    published: Published, tmp_path: Path
) -> None:
    """A store restored from a dump has a log but no versions: the next write records every
    thing, so a harvester starting there still ends with all the data."""
    dump = tmp_path / "dump.nq"
    published.store.dump(dump)
    fresh = Store.open(tmp_path / "restored")
    fresh.restore(dump)
    assert [fresh.version_pages(r.id) for r in fresh.releases()] == [0, 0, 0]
    fresh.update(
        f"INSERT DATA {{ GRAPH <{BASE}graph/sinlod/x> {{ <{BASE}id/x/1> <{BASE}def/n> 1 }} }}"
    )
    last = fresh.releases()[-1]
    things = {
        v.thing.rsplit("/", 1)[-1]
        for p in range(1, fresh.version_pages(last.id) + 1)
        for v in fresh.versions(last.id, p)
    }
    assert things == {"drift", "tudo", "bruges", "ghent", "leuven", "namur", "1"}
    assert harvest(fresh) == store_state(fresh)
    fresh.close()


def test_a_replica_gets_the_versions_with_the_release(published: Published, tmp_path: Path) -> None:
    """``sinlod replicate`` copies the versions a replica lacks before it switches, so a server
    on the replica serves the same feed."""
    from sinlod.store.replicate import replicate

    replicate(published.settings.store_path, tmp_path / "replica")
    urls = FeedUrls(PUBLIC, BASE)
    with Store.open(tmp_path / "replica", read_only=True) as replica:
        assert [p.id for p in pages(replica)] == [p.id for p in pages(published.store)]
        for ref in pages(replica):
            mine = feed_page(published.store, urls, ref.id)
            theirs = feed_page(replica, urls, ref.id)
            assert canonical(list(theirs.triples)) == canonical(list(mine.triples))


def test_an_unknown_page_is_not_found(published: Published) -> None:
    urls = FeedUrls(PUBLIC, BASE)
    for page_id in ("nope", f"{published.releases[0]}.9", f"{published.releases[0]}.0", ".1"):
        with pytest.raises(PageNotFound):
            feed_page(published.store, urls, page_id)


# -- the feed against the TREE and LDES shapes -------------------------------------------------


#: The build lists upstream does not have (ldes-shacl has no collection shapes of its own).
UPSTREAM_HAS_NO_LIST = {("ldes-shacl", "node-collection")}


def shapes(kind: str) -> Graph:
    """The shapes of one kind of document, combined as the upstream build scripts combine them
    (``build/shapes-common.txt`` + ``build/shapes-node-{kind}.txt``; tests/data/ldes/README.md)."""
    graph = Graph()
    for project, lists in (
        ("tree-shacl", ["common", f"node-{kind}"] if kind != "structure" else ["structure"]),
        ("ldes-shacl", ["common", f"node-{kind}"] if kind != "structure" else []),
    ):
        for name in lists:
            listing = SHAPES / project / "build" / f"shapes-{name}.txt"
            if (project, name) in UPSTREAM_HAS_NO_LIST:
                continue
            # a missing list would leave the shapes empty and every page "conforming"
            assert listing.is_file(), f"{listing} is missing from the copy"
            for line in listing.read_text(encoding="utf-8").split():
                graph.parse(SHAPES / project / "src" / line, format="turtle")
    assert len(graph) > 0, kind  # the real shapes, never an empty graph that passes everything
    return graph


def vocabularies() -> Graph:
    graph = Graph()
    for name in ("tree.ttl", "ldes.ttl"):
        graph.parse(SHAPES / "vocabularies" / name, format="turtle")
    return graph


def as_graph(triples: list[ox.Triple] | tuple[ox.Triple, ...]) -> Graph:
    graph = Graph()
    graph.parse(
        data=(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode(), format="nt"
    )
    return graph


def problems(data: Graph, shapes_graph: Graph) -> list[str]:
    """Violations and warnings (informational results are suggestions: a MAY not taken)."""
    from pyshacl import validate

    _, report, _ = validate(
        data, shacl_graph=shapes_graph, ont_graph=vocabularies(), inference="none", advanced=True
    )
    query = """
        PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT ?severity ?message ?focus WHERE {
          ?r a sh:ValidationResult ; sh:resultSeverity ?severity ; sh:focusNode ?focus .
          OPTIONAL { ?r sh:resultMessage ?message }
          FILTER (?severity != sh:Info)
        }"""
    return sorted(f"{row[0]}: {row[1]} ({row[2]})" for row in report.query(query))


def test_every_page_conforms_to_the_tree_and_ldes_shapes(published: Published) -> None:
    urls = FeedUrls(PUBLIC, BASE)
    refs = list(pages(published.store))
    assert len(refs) == 6
    root, subsequent = shapes("root"), shapes("subsequent")
    for n, ref in enumerate(refs):
        page = feed_page(published.store, urls, ref.id)
        assert problems(as_graph(page.triples), root if n == 0 else subsequent) == [], ref.id


def test_the_pages_form_a_tree(published: Published) -> None:
    """The structure shapes over every node and relation of the feed: no page links itself,
    no page is reached from two."""
    urls = FeedUrls(PUBLIC, BASE)
    all_triples: list[ox.Triple] = []
    for ref in pages(published.store):
        all_triples += feed_page(published.store, urls, ref.id).triples
    assert problems(as_graph(all_triples), shapes("structure")) == []


def test_the_stream_document_conforms_to_the_collection_shapes(published: Published) -> None:
    triples = stream_triples(published.store, FeedUrls(PUBLIC, BASE))
    assert problems(as_graph(triples), shapes("collection")) == []


def test_the_shapes_catch_a_broken_page(published: Published) -> None:
    """The check is real: a relation without its node, a member that is a blank node, a root
    page the stream does not name as its view."""
    urls = FeedUrls(PUBLIC, BASE)
    page = feed_page(published.store, urls, next(pages(published.store)).id)
    node, view = ox.NamedNode(TREE + "node"), ox.NamedNode(TREE + "view")
    broken = [t for t in page.triples if t.predicate not in (node, view)]
    broken.append(
        ox.Triple(ox.NamedNode(urls.stream), ox.NamedNode(TREE + "member"), ox.BlankNode())
    )
    found = problems(as_graph(broken), shapes("root"))
    assert any("TR5.6" in p for p in found), found
    assert any("LR2.9" in p for p in found), found
    assert any("TR3.2" in p for p in found), (
        found
    )  # the stream is a tree:Collection by the vocabulary


def test_every_member_conforms_to_the_streams_member_shape(published: Published) -> None:
    """The LDES spec: each tree:member is a target of the stream's tree:shape."""
    from pyshacl import validate

    urls = FeedUrls(PUBLIC, BASE)
    for ref in pages(published.store):
        page = as_graph(feed_page(published.store, urls, ref.id).triples)
        shape = Graph()
        for t in page.triples((None, None, None)):
            shape.add(t)
        shape.update(
            "PREFIX sh: <http://www.w3.org/ns/shacl#> PREFIX tree: <https://w3id.org/tree#>"
            " INSERT { ?shape sh:targetObjectsOf tree:member } WHERE { ?s tree:shape ?shape }"
        )
        conforms, _, text = validate(page, shacl_graph=shape, inference="none")
        assert conforms, text


# -- a harvester ends with the data --------------------------------------------------------------


def harvest(store: Store) -> dict[str, frozenset[str]]:
    """Follow the feed from the stream as a client does, through serialised documents, and
    apply each member in order: a thing's state is replaced by each version, removed by a
    tombstone."""
    urls = FeedUrls(PUBLIC, BASE)
    stream = parse(stream_triples(store, urls))
    view = [t.object for t in stream if t.predicate == ox.NamedNode(TREE + "view")]
    state: dict[str, frozenset[str]] = {}
    todo = [v.value for v in view if isinstance(v, ox.NamedNode)]
    seen = set()
    while todo:
        url = todo.pop(0)
        assert url not in seen
        seen.add(url)
        triples = parse(list(feed_page(store, urls, url.removeprefix(PUBLIC + "ldes/")).triples))
        for version in read_members(triples, urls.stream):
            if version.kind == "Delete":
                state.pop(version.thing, None)
            else:
                state[version.thing] = canonical(version.triples)
        relations = [t.object for t in triples if t.predicate == ox.NamedNode(TREE + "relation")]
        for r in relations:
            todo += [
                t.object.value
                for t in triples
                if t.subject == r
                and t.predicate == ox.NamedNode(TREE + "node")
                and isinstance(t.object, ox.NamedNode)
            ]
    return state


def parse(triples: list[ox.Triple]) -> list[ox.Triple]:
    """Through Turtle and back: what a client reads is the serialised page."""
    text = ox.serialize(triples, format=ox.RdfFormat.TURTLE) or b""
    return [q.triple for q in ox.parse(text, ox.RdfFormat.TURTLE)]


def canonical(triples: tuple[ox.Triple, ...] | list[ox.Triple]) -> frozenset[str]:
    return versions_module._canonical(triples)


def store_state(store: Store) -> dict[str, frozenset[str]]:
    """Every thing of the store's data graphs with its state, read from the store directly."""
    by_thing: dict[str, set[ox.Triple]] = {}
    bnodes: dict[ox.BlankNode, set[ox.Triple]] = {}
    for quad in store.quads():
        graph = quad.graph_name
        if isinstance(graph, ox.NamedNode) and not is_data_graph(graph.value, BASE):
            continue
        if isinstance(quad.subject, ox.NamedNode):
            by_thing.setdefault(quad.subject.value, set()).add(quad.triple)
        elif isinstance(quad.subject, ox.BlankNode):
            bnodes.setdefault(quad.subject, set()).add(quad.triple)
    out = {}
    for thing, triples in by_thing.items():
        closure = set(triples)
        todo = [t.object for t in triples if isinstance(t.object, ox.BlankNode)]
        while todo:
            node = todo.pop()
            more = bnodes.get(node, set()) - closure
            closure |= more
            todo += [t.object for t in more if isinstance(t.object, ox.BlankNode)]
        out[thing] = canonical(list(closure))
    return out


def test_a_harvester_that_follows_the_feed_ends_with_exactly_the_data(published: Published) -> None:
    state = harvest(published.store)
    expected = store_state(published.store)
    assert state == expected
    assert BASE + "id/place/ostend" not in state
    assert any('"Brugge"@en' in line for line in state[BASE + "id/place/bruges"])


def test_the_shapes_copy_is_attributed_and_complete() -> None:
    """Every file the build lists name is here, with the upstream licences and provenance."""
    readme = (SHAPES / "README.md").read_text(encoding="utf-8")
    licence = (SHAPES / "LICENSE.md").read_text(encoding="utf-8")
    assert (
        "github.com/rorlic/tree-shacl" in readme
        and "9db85bb4b40524a24b30c741d5b46145da08fea2" in readme
    )
    assert (
        "github.com/rorlic/ldes-shacl" in readme
        and "0cdde48d50472795e839f568785442e01d17619e" in readme
    )
    assert "EUPL" in licence and "CC BY 4.0" in licence
    for project in ("tree-shacl", "ldes-shacl"):
        assert "EUROPEAN UNION PUBLIC LICENCE v. 1.2" in (SHAPES / project / "LICENSE").read_text(
            encoding="utf-8"
        )
        listed = {
            name
            for listing in (SHAPES / project / "build").glob("shapes-*.txt")
            for name in listing.read_text(encoding="utf-8").split()
        }
        present = {p.name for p in (SHAPES / project / "src").glob("*.ttl")}
        assert listed <= present
