"""Links into EU datasets are checked against, and suggested from, offline reference snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Triple

from sinlod.errors import InputError, SourceLocation
from sinlod.linking import check_links, load_reference, load_tables, suggest_links, target_named
from sinlod.sourcemap import SourceMap
from tests.conftest import FIXTURES

ID = "https://w3id.org/sinlod/id/"
DEF = "https://w3id.org/sinlod/def/"
TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL = NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")


@pytest.fixture(scope="module")
def index():  # type: ignore[no-untyped-def]
    return load_reference(FIXTURES / "linking" / "reference")


def _place(key: str, label: str, *links: tuple[str, str]) -> list[Triple]:
    s = NamedNode(ID + "place/" + key)
    out = [
        Triple(s, TYPE, NamedNode(DEF + "Place")),
        Triple(s, LABEL, Literal(label, language="en")),
    ]
    out += [Triple(s, NamedNode(p), NamedNode(o)) for p, o in links]
    return out


def test_unknown_nuts_code_is_reported_at_its_cell() -> None:
    bad = "http://data.europa.eu/nuts/code/BE1000"
    data = _place("brussels", "Brussels", (DEF + "nutsRegion", bad))
    data += _place(
        "leuven",
        "Leuven",
        (DEF + "country", "http://publications.europa.eu/resource/authority/country/BEL"),
    )
    data += _place(
        "x", "X", ("http://www.w3.org/2002/07/owl#sameAs", "http://www.wikidata.org/entity/Q1")
    )
    smap = SourceMap()
    where = SourceLocation("records/places.csv", 3, "nuts")
    smap.add(f"<{ID}place/brussels>", f"<{DEF}nutsRegion>", f"<{bad}>", where)
    problems = check_links(data, load_tables(FIXTURES / "linking" / "reference"), smap)
    assert [str(p) for p in problems] == [
        'records/places.csv:3 column "nuts": BE1000 is not a code of NUTS 2021; did you mean BE100?'
    ]


def test_suggestions_match_labels_ignoring_case_and_diacritics(index) -> None:  # type: ignore[no-untyped-def]
    data = _place("brussels", "BRUSSELS") + _place("essen", "essen")
    data += _place("dea", "Essen", (DEF + "nutsRegion", "http://data.europa.eu/nuts/code/DEA13"))
    got = [(s.subject, s.target_iri) for s in suggest_links(data, index, target_named("nuts"))]
    assert got == [
        (ID + "place/brussels", "http://data.europa.eu/nuts/code/BE100"),
        (ID + "place/essen", "http://data.europa.eu/nuts/code/DEA13"),
    ]


def test_unknown_target_and_broken_snapshot(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match="unknown link target 'nutz'; expected one of: nuts, country"
    ):
        target_named("nutz")
    (tmp_path / "bad.ttl").write_text("<a> <b> .\n")
    with pytest.raises(InputError, match=r"bad.ttl: not valid Turtle"):
        load_reference(tmp_path)
    with pytest.raises(InputError, match=r"bad.ttl: not valid Turtle"):
        load_tables(tmp_path)
