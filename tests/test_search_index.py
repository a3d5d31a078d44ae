"""The search index of a release (issue 14): written at publish into the snapshot, opened
read-only by every reader, folding case, diacritics and scripts, ranking exact and prefix matches
in the reader's language first, and browse lists paged from it."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sinlod.names import fold, search_fold, sort_key, to_ascii
from sinlod.store import ReleaseInfo, Store
from sinlod.store.layout import StoreDirectory
from sinlod.store.search_index import INDEX_FILE, SearchIndex

BASE = "https://w3id.org/sinlod/"
GRAPH = BASE + "graph/data"
DATA = """
@prefix sinlod: <https://w3id.org/sinlod/def/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix place: <https://w3id.org/sinlod/id/place/> .
@prefix org: <https://w3id.org/sinlod/id/organisation/> .
@prefix project: <https://w3id.org/sinlod/id/project/> .
place:lodz a sinlod:Place ; skos:prefLabel "Łódź"@pl ; skos:altLabel "Litzmannstadt"@de .
place:koln a sinlod:Place ; skos:prefLabel "Köln"@de , "Cologne"@en .
place:rotterdam a sinlod:Place ; skos:prefLabel "Rotterdam"@nl .
place:bergamo a sinlod:Place ; skos:prefLabel "Bergamo"@it .
place:bergen a sinlod:Place ; skos:prefLabel "Bergen"@nl .
org:berg-de a sinlod:Organisation ; skos:prefLabel "Berg"@de .
org:berg-nl a sinlod:Organisation ; skos:prefLabel "Berg"@nl .
project:sic a sinlod:Project ;
    skos:prefLabel "Social Innovation Community"@en ; sinlod:acronym "SIC" .
project:music a sinlod:Project ; skos:prefLabel "Basic music for all"@en .
project:unlabelled a sinlod:Project .
<https://elsewhere.example/lodz> a sinlod:Place ; skos:prefLabel "Łódź"@pl .
"""
ID = BASE + "id/"


def triples(text: str = DATA) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(text, format=ox.RdfFormat.TURTLE)]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    with Store.open(path) as store:
        store.replace_graphs({GRAPH: triples()}, release=ReleaseInfo(agent="tests"))
    return path


@pytest.fixture
def index(path: Path) -> SearchIndex:
    with Store.open(path, read_only=True) as store:
        return store.search_index()


def iris(things: list) -> list[str]:  # type: ignore[type-arg]
    return [t.iri.removeprefix(ID) for t in things]


def test_a_publish_writes_the_index_into_its_snapshot(path: Path) -> None:
    with Store.open(path, read_only=True) as store:
        index = store.search_index()
        assert store.release_id is not None
        assert index.path == path / "snapshots" / store.release_id / INDEX_FILE
        assert not index.temporary
        assert store.search_index() is index  # opened once per release


@pytest.mark.parametrize("q", ["lodz", "Lodz", "łódź", "ŁÓDŹ", " lodz "])
def test_case_diacritics_and_script_are_folded(index: SearchIndex, q: str) -> None:
    assert iris(index.search(q, "en")) == ["place/lodz"]  # not the thing outside {base}id/


def test_transliteration_and_alternative_names(index: SearchIndex) -> None:
    assert iris(index.search("koln", "en")) == ["place/koln"]
    assert iris(index.search("litzmann", "en")) == ["place/lodz"]  # an alternative name
    assert index.search("koln", "de")[0].label("de") == "Köln"
    assert index.search("koln", "en")[0].label("en") == "Cologne"


def test_prefix_and_infix_matching(index: SearchIndex) -> None:
    assert iris(index.search("rott", "en")) == ["place/rotterdam"]
    assert iris(index.search("r", "en")) == ["place/rotterdam"]  # one letter: name starts only
    assert iris(index.search("terda", "en")) == ["place/rotterdam"]  # inside a name
    assert index.search("te", "en") == []  # two letters inside a name: too short for trigrams
    assert index.search("warsaw", "en") == []
    assert index.search("  ", "en") == []


def test_an_acronym_ranks_before_names_that_contain_it(index: SearchIndex) -> None:
    assert iris(index.search("sic", "en")) == ["project/sic", "project/music"]
    assert iris(index.search("SIC", "en", limit=1)) == ["project/sic"]


def test_exact_and_prefix_matches_in_the_readers_language_come_first(index: SearchIndex) -> None:
    assert iris(index.search("berg", "de"))[:2] == ["organisation/berg-de", "organisation/berg-nl"]
    assert iris(index.search("berg", "nl"))[:2] == ["organisation/berg-nl", "organisation/berg-de"]
    # then names that start with it: the reader's language first, else alphabetical
    assert iris(index.search("berg", "nl"))[2:] == ["place/bergen", "place/bergamo"]
    assert iris(index.search("berg", "it"))[2:] == ["place/bergamo", "place/bergen"]
    assert iris(index.search("berg", "en"))[2:] == ["place/bergamo", "place/bergen"]


def test_browse_pages_and_counts(index: SearchIndex) -> None:
    place = BASE + "def/Place"
    assert index.counts()[place] == 5  # not the place outside {base}id/
    assert index.count(place) == 5 and index.count(BASE + "def/Nothing") == 0
    # sorted by the label the reader sees: "Cologne" in English, "Köln" in German
    en = [t.label("en") for t in index.of_type(place, "en", 0, 10)]
    assert en == ["Bergamo", "Bergen", "Cologne", "Łódź", "Rotterdam"]
    de = [t.label("de") for t in index.of_type(place, "de", 0, 10)]
    assert de == ["Bergamo", "Bergen", "Köln", "Łódź", "Rotterdam"]
    assert [t.label("en") for t in index.of_type(place, "en", 2, 2)] == ["Cologne", "Łódź"]
    assert index.of_type(place, "en", 10, 10) == []
    projects = index.of_type(BASE + "def/Project", "en", 0, 10)
    assert [t.label("en") for t in projects] == [
        "Basic music for all",
        "Social Innovation Community",
        "unlabelled",  # no label: its IRI's last segment
    ]


def test_two_processes_read_the_same_index(path: Path) -> None:
    """Each server worker is a process that opens the release's file read-only."""
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from sinlod.store import Store
        with Store.open(Path({str(path)!r}), read_only=True) as store:
            index = store.search_index()
            hits = index.search("lodz", "en")
            print(index.temporary, index.path, hits[0].iri)
        """
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=60)[0].split() for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    assert outputs[0] == outputs[1]
    temporary, file, iri = outputs[0]
    assert temporary == "False" and file.endswith(INDEX_FILE) and iri == ID + "place/lodz"


def test_a_new_release_changes_the_results(path: Path) -> None:
    with Store.open(path, read_only=True) as reader:
        assert iris(reader.search_index().search("lodz", "en")) == ["place/lodz"]
        with Store.open(path) as writer:
            renamed = DATA.replace('"Łódź"@pl ;', '"Lodsch"@de ;', 1)
            writer.replace_graphs({GRAPH: triples(renamed)}, release=ReleaseInfo(agent="t"))
        assert reader.refresh()
        assert reader.search_index().search("lodz", "en") == []
        assert iris(reader.search_index().search("lodsch", "en")) == ["place/lodz"]


def test_a_store_in_memory_builds_its_index(tmp_path: Path) -> None:
    store = Store.in_memory()
    store.replace_graphs({GRAPH: triples()}, release=ReleaseInfo(agent="t"))
    index = store.search_index()
    assert index.temporary and iris(index.search("rott", "en")) == ["place/rotterdam"]
    store.replace_graphs({GRAPH: []}, release=ReleaseInfo(agent="t"))
    assert store.search_index().search("rott", "en") == []


def test_a_release_without_an_index_falls_back_then_gets_one(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A release written by an older sinlod: readers build a private index (and say so); the
    first writable open writes it into the snapshot."""
    (file,) = path.glob(f"snapshots/*/{INDEX_FILE}")
    file.unlink()
    with caplog.at_level(logging.WARNING), Store.open(path, read_only=True) as reader:
        index = reader.search_index()
        assert index.temporary and iris(index.search("lodz", "en")) == ["place/lodz"]
    assert "has no search index" in caplog.text
    with StoreDirectory(path).write_lock(0):  # another process writing: the open never waits
        start = time.monotonic()
        with Store.open(path, lock_timeout=30):
            assert not file.is_file()
        assert time.monotonic() - start < 10
    with Store.open(path):
        assert file.is_file()
    with Store.open(path, read_only=True) as reader:
        assert not reader.search_index().temporary


# -- folding ------------------------------------------------------------------------------------


@given(st.text())
def test_search_fold_is_ascii_lower_case_and_idempotent(text: str) -> None:
    folded = search_fold(text)
    assert folded.isascii() and folded == folded.lower()
    assert search_fold(folded) == folded


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_the_ascii_fast_path_folds_as_the_general_one(text: str) -> None:
    assert search_fold(text) == to_ascii(fold(text))
    assert sort_key(text) == (re.sub(r"[\W_]+", "", text.lower()) or text.lower())


LATIN = st.characters(min_codepoint=0x41, max_codepoint=0x24F, categories=["Lu", "Ll"])


@given(st.text(alphabet=LATIN, min_size=1, max_size=12))
def test_case_and_accents_do_not_matter(text: str) -> None:
    assert search_fold(text.upper()) == search_fold(text.lower())
    plain = "".join(c for c in text if c.isascii())
    assert search_fold(plain) == plain.lower()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=8),
    st.data(),
)
def test_every_label_is_found_whole_by_its_start_and_inside(
    labels: list[str], data: st.DataObject
) -> None:
    """Whatever the labels, a thing is found by its whole label, by any start of its folded
    form, and by any three or more characters of it."""
    store = ox.Store()
    pref = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    kind = ox.NamedNode(BASE + "def/Thing")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    for i, label in enumerate(labels):
        s = ox.NamedNode(f"{ID}thing/{i}")
        store.add(ox.Quad(s, rdf_type, kind, ox.DefaultGraph()))
        store.add(ox.Quad(s, pref, ox.Literal(label), ox.DefaultGraph()))
    index = SearchIndex.build(store, BASE)
    i = data.draw(st.integers(0, len(labels) - 1))
    folded = " ".join(search_fold(labels[i]).split())
    if not folded:
        return
    mine = f"{ID}thing/{i}"
    found = {t.iri: t for t in index.search(labels[i], "en", limit=100)}
    assert found[mine].labels == {"": labels[i]}  # the label as written, escapes and all
    start = data.draw(st.integers(1, len(folded)))
    assert mine in [t.iri for t in index.search(folded[:start], "en", limit=100)]
    if len(folded) >= 3:
        a = data.draw(st.integers(0, len(folded) - 3))
        inside = folded[a : data.draw(st.integers(a + 3, len(folded)))].strip()
        if len(inside) >= 3:
            assert mine in [t.iri for t in index.search(inside, "en", limit=100)]
    index.close()


def test_a_name_many_things_share_reads_a_page_of_them() -> None:
    """Exact matches are read per language rank with a cap: the reader's language still first."""
    store = ox.Store()
    pref = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    for i in range(300):
        s = ox.NamedNode(f"{ID}hub/{i:03d}")
        store.add(ox.Quad(s, rdf_type, ox.NamedNode(BASE + "def/Hub"), ox.DefaultGraph()))
        label = ox.Literal("Hub", language="nl") if i == 299 else ox.Literal("Hub")
        store.add(ox.Quad(s, pref, label, ox.DefaultGraph()))
    index = SearchIndex.build(store, BASE)
    assert iris(index.search("hub", "nl", limit=3)) == ["hub/299", "hub/000", "hub/001"]
    assert len(index.search("hub", "en", limit=200)) == 200
    index.close()
