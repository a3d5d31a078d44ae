"""Labels for people: choosing one by language, and the label index behind browse and search.

The index holds every thing under ``{base}id/`` with its types and labels. It is built with one
query per release and kept until the release changes, which is what makes search ignore case and
diacritics ("koln" finds "Kölner ...") without a full-text engine: SPARQL has no accent folding.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from sinlod.store import Store

FALLBACK_LANGUAGES = ("en", "nl", "de")
LABEL_PROPERTIES = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/title",
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
        """Things with a label (in any language) containing ``text``, ignoring case and accents."""
        needle = fold(text.strip())
        if not needle:
            return []
        hits = [
            e for e in self.entries.values() if any(needle in fold(v) for v in e.labels.values())
        ]
        ranked = sorted(
            hits,
            key=lambda e: (not fold(e.label(lang)).startswith(needle), sort_key(e.label(lang))),
        )
        return ranked[:limit]

    def counts(self) -> dict[str, int]:
        """Number of things per class."""
        counts: dict[str, int] = {}
        for entry in self.entries.values():
            for t in entry.types:
                counts[t] = counts.get(t, 0) + 1
        return counts


_INDEX_QUERY = """
SELECT ?s ?type ?label WHERE {{
  ?s a ?type .
  FILTER(STRSTARTS(STR(?s), "{prefix}"))
  OPTIONAL {{ VALUES ?lp {{ {labels} }} ?s ?lp ?label }}
}}
"""

_lock = threading.Lock()


def build(store: Store, base_iri: str) -> LabelIndex:
    """Read the index from the store (one query)."""
    query = _INDEX_QUERY.format(
        prefix=base_iri + "id/", labels=" ".join(f"<{p}>" for p in LABEL_PROPERTIES)
    )
    entries: dict[str, Entry] = {}
    for row in _rows(store.query(query, union_default_graph=True)):  # all graphs, either mode
        subject, type_, label = row
        entry = entries.setdefault(subject.value, Entry(subject.value))
        entry.types.add(type_.value)
        if isinstance(label, ox.Literal):
            entry.labels.setdefault(label.language or "", label.value)
    return LabelIndex(store.release_id, entries)


def _rows(results: object) -> Iterable[tuple[ox.NamedNode, ox.NamedNode, object]]:
    assert isinstance(results, ox.QuerySolutions)
    for solution in results:
        yield solution["s"], solution["type"], solution["label"]


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
