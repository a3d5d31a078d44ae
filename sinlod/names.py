"""Names of things, for people and for matching: which properties hold them, which one a reader
sees, and how they are folded so that "lodz" meets "Łódź" and "koln" meets "Köln".

One module below the store, the server and linking, so that the search index written at publish
(``sinlod.store.search_index``), the pages that read it and ``link suggest`` fold text the same
way. SPARQL has no accent folding and Unicode does not decompose "Ł", so folding transliterates
with ``anyascii`` after removing diacritics.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from anyascii import anyascii

#: The languages a label falls back to when there is none in the reader's language.
FALLBACK_LANGUAGES = ("en", "nl", "de")
#: Properties whose values are shown as a thing's label.
LABEL_PROPERTIES = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/title",
)
#: Names that search matches but pages do not show as the label: alternative names and
#: acronyms (``sinlod:acronym`` is a sub-property of ``skos:altLabel``).
SEARCH_ONLY_PROPERTIES = (
    "http://www.w3.org/2004/02/skos/core#altLabel",
    "https://w3id.org/sinlod/def/acronym",
)


def pick(labels: Mapping[str, str], lang: str) -> str | None:
    """The label in the reader's language, else English, Dutch, German, untagged, any.

    >>> pick({"nl": "Brussel", "en": "Brussels"}, "de")
    'Brussels'
    >>> pick({"fr": "Bruxelles"}, "en")
    'Bruxelles'
    """
    for choice in (lang, *FALLBACK_LANGUAGES, ""):
        if choice in labels:
            return labels[choice]
    return next(iter(labels.values()), None)


def local_name(iri: str) -> str:
    """The last segment of an IRI, as a label of last resort.

    >>> local_name("https://w3id.org/sinlod/id/place/lodz")
    'lodz'
    """
    return re.split(r"[/#]", iri.rstrip("/#"))[-1]


def fold(text: str) -> str:
    """Lower case without diacritics, for matching: ``fold("Kölner")`` is ``"kolner"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def to_ascii(text: str) -> str:
    """Transliterated to ASCII and lower case: ``to_ascii("Łódź")`` is ``"lodz"``."""
    return anyascii(text).casefold()


def search_fold(text: str) -> str:
    """``fold`` and transliterated to ASCII, for search: ``search_fold("Łódź")`` is ``"lodz"``.

    >>> search_fold("Łódź"), search_fold("Θεσσαλονίκη")
    ('lodz', 'thessaloniki')
    """
    if text.isascii():  # most labels: the same answer, ten times faster (index build time)
        return text.lower()
    return to_ascii(fold(text))


def ascii_words(text: str) -> str:
    """ASCII, lower case, punctuation as spaces: what ``link suggest`` compares.

    >>> ascii_words("Agglomeratie ’s-Gravenhage")
    'agglomeratie s gravenhage'
    """
    return " ".join(re.sub(r"[^a-z0-9]+", " ", to_ascii(text)).split())


def sort_key(text: str) -> str:
    """Folded and transliterated, without punctuation: "«Zeta»" sorts under z, "Évora" next
    to "Evora", "Łódź" next to "Lodz".

    >>> sorted(["Rotterdam", "Łódź", "«Zeta»", "Évora", "Lille"], key=sort_key)
    ['Évora', 'Lille', 'Łódź', 'Rotterdam', '«Zeta»']
    """
    folded = search_fold(text)
    return _PUNCTUATION.sub("", folded) or folded


_PUNCTUATION = re.compile(r"[\W_]+")
