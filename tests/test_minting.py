"""IRIs for things: readable, stable slugs and the {base}id|doc|graph/... patterns."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sinlod.minting
from sinlod.minting import TYPES, doc_iri, graph_iri, is_slug, slugify, thing_iri

BASE = "https://w3id.org/sinlod/"


def test_doctests() -> None:
    assert doctest.testmod(sinlod.minting).failed == 0


@pytest.mark.parametrize(
    "text,slug",
    [
        ("Adrian Götting", "adrian-goetting"),
        ("Straße der Ökonomie", "strasse-der-oekonomie"),
        ("Łódź", "lodz"),
        ("SI-DRIVE", "si-drive"),
        ("  R.R.E.S.I.  ", "r-r-e-s-i"),
        ("Café Ünïcode", "cafe-uenicode"),
        ("--", ""),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


@given(st.text())
def test_slugify_gives_a_slug_or_nothing_and_is_idempotent(text: str) -> None:
    slug = slugify(text)
    assert slug == "" or is_slug(slug)
    assert slugify(slug) == slug


@given(st.from_regex(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", fullmatch=True))
def test_slugs_are_kept_as_they_are(key: str) -> None:
    assert is_slug(key)
    assert slugify(key) == key


keys = st.from_regex(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", fullmatch=True)


@given(st.sampled_from(TYPES), keys, st.sampled_from(TYPES), keys)
def test_thing_iris_are_injective_over_type_and_key(t1: str, k1: str, t2: str, k2: str) -> None:
    assert (thing_iri(BASE, t1, k1) == thing_iri(BASE, t2, k2)) == ((t1, k1) == (t2, k2))


def test_patterns() -> None:
    assert thing_iri(BASE, "organisation", "drift") == BASE + "id/organisation/drift"
    assert doc_iri(BASE, "organisation", "drift") == BASE + "doc/organisation/drift"
    assert graph_iri("http://localhost:8000/", "projects") == "http://localhost:8000/graph/projects"


@pytest.mark.parametrize("key", ["Sic", "-x", "x-", "a b", "", "ä"])
def test_not_slugs(key: str) -> None:
    assert not is_slug(key)
