"""IRIs for things and the documents about them (DESIGN.md decision 1).

Pure functions: the same key always gives the same IRI, so converting the same records twice gives
identical triples. Keys come from the record's own identifier, never from row numbers.
"""

from __future__ import annotations

import re
import unicodedata

from sinlod.errors import InputError

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")

#: The ``{type}`` segments sinlod mints; a mapping may use others, these are the documented ones.
TYPES = (
    "organisation",
    "person",
    "project",
    "programme",
    "grant",
    "event",
    "involvement",
    "membership",
    "practice-case",
    "network",
    "place",
    "document",
)

_TRANSLITERATE = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})


def slugify(text: str) -> str:
    """A stable, readable key from a name or identifier: lower case ASCII, words joined by '-'.

    German umlauts keep their conventional spelling (ö → oe), as people write the names.

    >>> slugify("Adrian Götting")
    'adrian-goetting'
    >>> slugify("R.R.E.S.I.")
    'r-r-e-s-i'
    >>> slugify("  KD 11/13 ")
    'kd-11-13'
    >>> slugify("sic--aeidl--coordinator")
    'sic--aeidl--coordinator'
    """
    if is_slug(text.strip()):
        return text.strip()  # already a key (e.g. "sic--aeidl--coordinator"): keep it exactly
    text = text.strip().lower().translate(_TRANSLITERATE)
    text = re.sub(r"([äöü])", lambda m: {"ä": "ae", "ö": "oe", "ü": "ue"}[m.group(1)], text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def is_slug(key: str) -> bool:
    """True when ``key`` can stand as the last segment of a minted IRI as it is.

    >>> is_slug("sic--aeidl--coordinator"), is_slug("Sic"), is_slug("-x")
    (True, False, False)
    """
    return bool(SLUG_PATTERN.match(key))


def thing_iri(base: str, type_: str, key: str) -> str:
    """``{base}id/{type}/{key}``.

    >>> thing_iri("https://w3id.org/sinlod/", "project", "sic")
    'https://w3id.org/sinlod/id/project/sic'
    """
    return f"{base}id/{type_}/{key}"


def doc_iri(base: str, type_: str, key: str) -> str:
    """``{base}doc/{type}/{key}``: the document about the thing ``thing_iri`` names."""
    return f"{base}doc/{type_}/{key}"


def graph_iri(base: str, source_key: str) -> str:
    """``{base}graph/{key}``: a graph sinlod names (``store/graphs.py`` says which)."""
    return f"{base}graph/{source_key}"


#: Graph names under ``{base}graph/`` that sinlod's own graphs use (``store/graphs.py``): a
#: dataset of that name would share their IRI prefix, so it cannot be one.
RESERVED_DATASETS = frozenset({"ontology", "vocabularies", "reference", "releases"})


def check_dataset(name: str) -> str:
    """``name`` if it can name a dataset (a slug, not one of sinlod's own graph names), else
    ``InputError`` saying what a name looks like.

    >>> check_dataset("steward-2026")
    'steward-2026'
    >>> check_dataset("My Data")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sinlod.errors.InputError: dataset name 'My Data': expected a slug ...
    """
    if not is_slug(name):
        raise InputError(
            f"dataset name {name!r}: expected a slug (lower-case letters, digits and '-',"
            " such as steward-2026)"
        )
    if name in RESERVED_DATASETS:
        reserved = ", ".join(sorted(RESERVED_DATASETS))
        raise InputError(f"dataset name {name!r} is sinlod's own graph name ({reserved})")
    return name


def dataset_graph_iri(base: str, dataset: str, table: str) -> str:
    """``{base}graph/{dataset}/{table}``: the named graph of one source of a dataset, so that two
    datasets never share a graph (issue 11). The rule lives here, beside the other IRIs, because
    ``convert`` names graphs and must not reach the store; ``store/graphs.py`` reads it back.

    >>> dataset_graph_iri("https://w3id.org/sinlod/", "sinlod", "places")
    'https://w3id.org/sinlod/graph/sinlod/places'
    """
    return graph_iri(base, f"{dataset}/{table}")
