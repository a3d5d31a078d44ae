"""Which files a batch reads as RDF and which it converts as records (pyoxigraph's extension table
with the exceptions a steward's folder needs)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from sinlod.inputs import is_rdf, rdf_format
from sinlod.records import SUFFIXES


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.ttl", ox.RdfFormat.TURTLE),
        ("a.NT", ox.RdfFormat.N_TRIPLES),
        ("a.nq", ox.RdfFormat.N_QUADS),
        ("a.trig", ox.RdfFormat.TRIG),
        ("a.jsonld", ox.RdfFormat.JSON_LD),
        ("a.rdf", ox.RdfFormat.RDF_XML),
        ("a.owl", ox.RdfFormat.RDF_XML),  # pyoxigraph does not know .owl
        ("a.json", None),  # pyoxigraph would say JSON-LD: here a records file
        ("a.txt", None),  # pyoxigraph would say N-Triples
        ("a.xml", None),
        ("a.n3", None),
        ("README", None),
    ],
)
def test_rdf_format_by_extension(name: str, expected: ox.RdfFormat | None) -> None:
    assert rdf_format(Path(name)) == expected


def test_every_record_suffix_is_converted_not_parsed(tmp_path: Path) -> None:
    for suffix in SUFFIXES:
        assert not is_rdf(tmp_path / f"records{suffix}"), suffix
    folder = tmp_path / "records.ttl"
    folder.mkdir()
    assert not is_rdf(folder)  # a folder is records, whatever its name
