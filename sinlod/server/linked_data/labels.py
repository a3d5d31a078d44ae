"""Labels for people: choosing one by language, and the label index behind browse and search.

The index holds every thing under ``{base}id/`` with its types and labels. It is built with one
query per release and kept until the release changes, which is what makes search ignore case and
diacritics ("koln" finds "Kölner ...") without a full-text engine: SPARQL has no accent folding.
Search also transliterates (``anyascii``: "lodz" finds "Łódź", which Unicode does not decompose)
and matches alternative names and acronyms (``skos:altLabel`` and its sub-property
``sinlod:acronym``: "SIC" finds the Social Innovation Community), which are searched, not shown.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from anyascii import anyascii

from sinlod.store import Store

FALLBACK_LANGUAGES = ("en", "nl", "de")
LABEL_PROPERTIES = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/title",
)
#: Names that search matches but pages do not show as the label.
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


def fold(text: str) -> str:
    """Lower case without diacritics, for matching: ``fold("Kölner")`` is ``"kolner"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_fold(text: str) -> str:
    """``fold`` and transliterated to ASCII, for search: ``search_fold("Łódź")`` is ``"lodz"``.

    >>> search_fold("Łódź"), search_fold("Θεσσαλονίκη")
    ('lodz', 'thessaloniki')
    """
    return anyascii(fold(text)).casefold()


def sort_key(text: str) -> str:
    """Folded, without punctuation: "<b>Zeta" sorts under z, "Évora" next to "Evora"."""
    return re.sub(r"[\W_]+", "", fold(text)) or fold(text)


def local_name(iri: str) -> str:
    """The last segment of an IRI, as a label of last resort."""
    return re.split(r"[/#]", iri.rstrip("/#"))[-1]


@dataclass
class Entry:
    iri: str
    types: set[str] = field(default_factory=set)
    labels: dict[str, str] = field(default_factory=dict)
    #: Every label and alternative name (acronyms too), ``search_fold``-ed: what search matches.
    names: set[str] = field(default_factory=set)

    def label(self, lang: str) -> str:
        return pick(self.labels, lang) or local_name(self.iri)


@dataclass(frozen=True)
class LabelIndex:
    release: str | None
    entries: dict[str, Entry]

    def of_type(self, class_iri: str, lang: str) -> list[Entry]:
        """The things of a class, sorted by their label in ``lang``."""
        found = [e for e in self.entries.values() if class_iri in e.types]
        return sorted(found, key=lambda e: sort_key(e.label(lang)))

    def search(self, text: str, lang: str, limit: int = 100) -> list[Entry]:
        """Things with a label or alternative name (any language, acronyms) containing ``text``,
        ignoring case and accents, transliterated. A name equal to ``text`` ranks first (the
        project whose acronym is "SIC" before every label containing "sic"), then names that
        start with it."""
        needle = search_fold(text.strip())
        if not needle:
            return []
        ranked: list[tuple[int, str, Entry]] = []
        for e in self.entries.values():
            hit = [n for n in e.names if needle in n]
            if hit:
                rank = 0 if needle in hit else 1 if any(n.startswith(needle) for n in hit) else 2
                ranked.append((rank, sort_key(e.label(lang)), e))
        ranked.sort(key=lambda r: (r[0], r[1], r[2].iri))
        return [e for _, _, e in ranked[:limit]]

    def counts(self) -> dict[str, int]:
        """Number of things per class."""
        counts: dict[str, int] = {}
        for entry in self.entries.values():
            for t in entry.types:
                counts[t] = counts.get(t, 0) + 1
        return counts


_INDEX_QUERY = """
SELECT ?s ?type ?lp ?label WHERE {{
  ?s a ?type .
  FILTER(STRSTARTS(STR(?s), "{prefix}"))
  OPTIONAL {{ VALUES ?lp {{ {labels} }} ?s ?lp ?label }}
}}
"""

_lock = threading.Lock()


def build(store: Store, base_iri: str) -> LabelIndex:
    """Read the index from the store (one query)."""
    query = _INDEX_QUERY.format(
        prefix=base_iri + "id/",
        labels=" ".join(f"<{p}>" for p in (*LABEL_PROPERTIES, *SEARCH_ONLY_PROPERTIES)),
    )
    entries: dict[str, Entry] = {}
    for row in _rows(store.query(query, union_default_graph=True)):  # all graphs, either mode
        subject, type_, prop, label = row
        entry = entries.setdefault(subject.value, Entry(subject.value))
        entry.types.add(type_.value)
        if isinstance(label, ox.Literal):
            if isinstance(prop, ox.NamedNode) and prop.value in LABEL_PROPERTIES:
                entry.labels.setdefault(label.language or "", label.value)
            entry.names.add(search_fold(label.value))
    return LabelIndex(store.release_id, entries)


def _rows(results: object) -> Iterable[tuple[ox.NamedNode, ox.NamedNode, object, object]]:
    assert isinstance(results, ox.QuerySolutions)
    for solution in results:
        yield solution["s"], solution["type"], solution["lp"], solution["label"]


def index_for(holder: Any, store: Store, base_iri: str) -> LabelIndex:
    """The index of the store's current release, kept on ``holder`` (the app's state) and
    rebuilt when the release changes."""
    with _lock:
        cached: LabelIndex | None = getattr(holder, "label_index", None)
        if cached is not None and cached.release == store.release_id:
            return cached
        index = build(store, base_iri)
        holder.label_index = index
        return index
