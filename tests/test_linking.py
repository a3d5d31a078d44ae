"""Links into EU datasets are checked against, and suggested from, offline reference snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Triple

from sinlod.config import PROJECT_ROOT
from sinlod.errors import InputError, SourceLocation
from sinlod.linking import check_links, load_tables, suggest_links, target_named
from sinlod.linking.check import closest
from sinlod.linking.suggest import Matcher, Query, fold, table_named, variants
from sinlod.sourcemap import SourceMap
from tests.conftest import FIXTURES

ID = "https://w3id.org/sinlod/id/"
DEF = "https://w3id.org/sinlod/def/"
TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL = NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")


COUNTRY = "http://publications.europa.eu/resource/authority/country/"
NUTS = "http://data.europa.eu/nuts/code/"


@pytest.fixture(scope="module")
def tables():  # type: ignore[no-untyped-def]
    return load_tables(FIXTURES / "linking" / "reference")


@pytest.fixture(scope="module")
def nuts():  # type: ignore[no-untyped-def]
    return Matcher(load_tables(PROJECT_ROOT / "data" / "reference"), table_named("nuts"))


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


def test_suggestions_for_unlinked_places_only(tables) -> None:  # type: ignore[no-untyped-def]
    data = _place("brussels", "BRUSSELS") + _place("essen", "essen")
    data += _place("dea", "Essen", (DEF + "nutsRegion", NUTS + "DEA13"))
    got = [
        (s.subject, s.status, s.target_iri)
        for s in suggest_links(data, tables, target_named("nuts"), level=3)
    ]
    assert got == [
        (ID + "place/brussels", "match", NUTS + "BE100"),
        (ID + "place/essen", "match", NUTS + "DEA13"),
    ]


@pytest.mark.parametrize(
    ("text", "country", "postcode", "code"),
    [
        ("Lodz", "POL", None, "PL711"),  # transliteration: Miasto Łódź
        ("Muenchen", "DEU", None, "DE212"),  # ue for ü; the city, not "München, Landkreis"
        ("Koeln", None, None, "DEA23"),
        ("Bruxelles", "BEL", None, "BE100"),  # one half of a bilingual label
        ("Den Haag", "NLD", "2511 AA", "NL332"),  # postcode -> NL361 (2024) -> NL332 (2021)
        ("Rotterdam", "NLD", "3011AA", "NL33C"),
    ],
)
def test_places_find_their_nuts_3_region(nuts, text, country, postcode, code) -> None:  # type: ignore[no-untyped-def]
    query = Query("x", (text,), COUNTRY + country if country else None, postcode, 3)
    got = nuts.suggest(query)
    assert (got.status, got.target_iri) == ("match", NUTS + code)


def test_ambiguous_names_are_flagged_not_decided(nuts) -> None:  # type: ignore[no-untyped-def]
    got = nuts.suggest(Query("x", ("Frankfurt",), COUNTRY + "DEU", None, 3))
    assert got.status == "ambiguous" and got.target_iri is None
    assert {c.code for c in got.candidates} == {"DE712", "DE403"}  # am Main, (Oder)


def test_context_narrows_or_empties_the_candidates(nuts) -> None:  # type: ignore[no-untyped-def]
    assert nuts.suggest(Query("x", ("Den Haag",), COUNTRY + "NLD", None, 3)).status == "none"
    turkey = nuts.suggest(Query("x", ("Samsun",), COUNTRY + "TUR", None, 3))
    assert (turkey.status, turkey.candidates) == ("none", ())  # Türkiye is not in NUTS
    # the level picks the unit: NUTS 2 "Hannover" (DE92), NUTS 3 "Region Hannover" (DE929)
    for level, code in ((2, "DE92"), (3, "DE929")):
        got = nuts.suggest(Query("x", ("Hannover",), COUNTRY + "DEU", None, level))
        assert got.target_iri == NUTS + code


def test_countries_by_their_names_in_eu_languages_and_codes() -> None:
    tables = load_tables(PROJECT_ROOT / "data" / "reference")
    countries = Matcher(tables, table_named("country"))
    for text, code in [("Czech Republic", "CZE"), ("Deutschland", "DEU"), ("UK", "GBR")]:
        got = countries.suggest(Query("x", (text,)))
        assert (got.status, got.target_iri) == ("match", COUNTRY + code), text


def test_fold_and_variants() -> None:
    assert fold("Łódź") == "lodz"
    assert {"munchen", "muenchen"} <= set(variants("München, Kreisfreie Stadt"))
    assert variants("München, Landkreis")["muenchen"] > 0  # the district is penalised


def test_unknown_target_and_broken_snapshot(tmp_path: Path, tables) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        InputError, match="unknown link target 'nutz'; expected one of: nuts, country"
    ):
        target_named("nutz")
    with pytest.raises(InputError, match="cannot suggest links into Wikidata: no offline table"):
        suggest_links([], tables, target_named("wikidata"))
    with pytest.raises(InputError, match="cannot suggest links into EU authority table: lang"):
        suggest_links([], tables, target_named("language"))  # no language table there
    (tmp_path / "bad.ttl").write_text("<a> <b> .\n")
    with pytest.raises(InputError, match=r"bad.ttl: not valid Turtle"):
        load_tables(tmp_path)


@given(st.text(max_size=40))
def test_fold_is_ascii_lower_case_words_and_idempotent(text: str) -> None:
    folded = fold(text)
    assert folded == fold(folded)
    assert all(c.isascii() and (c.isdigit() or c.islower() or c == " ") for c in folded)
    assert "  " not in folded and folded == folded.strip()


@given(
    st.text(alphabet="ABCDEFZ0123", min_size=1, max_size=5),
    st.lists(st.text("ABDEZ12", min_size=2, max_size=5), max_size=30),
)
def test_closest_answers_with_candidates_only(code: str, candidates: list[str]) -> None:
    near = closest(code, candidates)
    assert len(near) <= 3 and set(near) <= set(candidates)
