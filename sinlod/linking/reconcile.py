"""Reconciliation over the published data and the reference tables: the library half of
``/reconcile`` (the W3C Entity Reconciliation Service API 0.2, the version OpenRefine speaks;
``sinlod.server.linked_data.reconcile`` is the HTTP half, ``sinlod.linking.service`` a client of
any service).

Two kinds of entity are reconciled:

* things of the published data (every IRI under ``{base}id/``), by their labels in any language,
  their ``skos:altLabel`` and acronyms (``sinlod:acronym`` is a sub-property of ``skos:altLabel``);
* codes of the reference tables (NUTS 2021, the EU country, language and corporate-body tables),
  through ``suggest.Matcher``: the same transliteration, fuzzy scores and context as
  ``sinlod link suggest``, so a steward gets the same answer in OpenRefine as on the command line.

Scores are 0-100. ``match`` is set only on an unambiguous top candidate: at least ``THRESHOLD``
and ``MARGIN`` ahead of the next; "Frankfurt" is never a match. A property the query gives
narrows a region by its country (``sinlod:country``), gives it by postcode (``locn:postCode``) or
level (``nutsLevel``); for things of the data, a property whose values differ from the query's
costs ``PROPERTY_PENALTY``. Everything here is bounded (``MAX_BATCH`` queries, ``MAX_LIMIT``
candidates) because the server runs it for anonymous callers.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from sinlod.errors import InputError
from sinlod.linking.check import AUTHORITY, NUTS_2021, TABLES
from sinlod.linking.suggest import (
    MARGIN,
    THRESHOLD,
    Candidate,
    Matcher,
    Query,
    _score,
    extract,
    fold,
)
from sinlod.linking.tables import CodeTables
from sinlod.namespaces import PREFIXES

MAX_BATCH = 50
MAX_LIMIT = 25
DEFAULT_LIMIT = 5
MAX_TEXT = 500
PROPERTY_PENALTY = 25.0

SKOS = PREFIXES["skos"]
RDFS = PREFIXES["rdfs"]
DCT = "http://purl.org/dc/terms/"
SINLOD = PREFIXES["sinlod"]
#: Names shown for a thing (the first in the reader's language wins) and names only matched.
SHOWN = (SKOS + "prefLabel", RDFS + "label", DCT + "title")
ALSO = (SKOS + "altLabel", SINLOD + "acronym")
DESCRIBED = (DCT + "description", SKOS + "definition", RDFS + "comment")

#: Context properties that the reference tables understand (pid → name).
COUNTRY = SINLOD + "country"
POSTCODE = PREFIXES["locn"] + "postCode"
LEVEL = "nutsLevel"
CONTEXT_PROPERTIES = {
    COUNTRY: "country (narrows NUTS regions; an EU country IRI, code or name)",
    POSTCODE: "postcode (gives the NUTS 3 region, with the country)",
    LEVEL: "NUTS level (0-3)",
}

TYPE_NAMES = {
    NUTS_2021: "NUTS 2021 region",
    AUTHORITY + "country": "Country (EU authority table)",
    AUTHORITY + "language": "Language (EU authority table)",
    AUTHORITY + "corporate-body": "EU institution or body (EU authority table)",
}


@dataclass(frozen=True)
class Entity:
    iri: str
    labels: Mapping[str, str]  # language tag ("" untagged) -> label
    types: tuple[str, ...]
    names: tuple[str, ...]  # folded, every label and alternative name

    def name(self, lang: str = "en") -> str:
        for choice in (lang, "en", ""):
            if choice in self.labels:
                return self.labels[choice]
        return next(iter(self.labels.values()), self.iri.rsplit("/", 1)[-1])


@dataclass(frozen=True)
class Result:
    """One candidate for a query, as the protocol shows it."""

    id: str
    name: str
    types: tuple[tuple[str, str], ...]
    score: float
    match: bool = False
    features: tuple[tuple[str, float | bool], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": [{"id": t, "name": n} for t, n in self.types],
            "score": round(self.score, 1),
            "match": self.match,
            "features": [{"id": k, "value": v} for k, v in self.features],
        }


@dataclass(frozen=True)
class ReconQuery:
    """One reconciliation query, checked: text, wanted types, property constraints."""

    text: str
    types: tuple[str, ...] = ()
    type_strict: str = "any"
    limit: int = DEFAULT_LIMIT
    properties: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_json(cls, value: object) -> ReconQuery:
        """A query of a batch; ``InputError`` saying what is wrong otherwise."""
        if not isinstance(value, dict):
            raise InputError("each reconciliation query must be a JSON object")
        unknown = set(value) - {"query", "type", "limit", "properties", "type_strict"}
        if unknown:
            raise InputError(f"unknown field(s) in a reconciliation query: {sorted(unknown)}")
        text = value.get("query", "")
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise InputError(f"'query' must be a string of at most {MAX_TEXT} characters")
        types = value.get("type", [])
        types = [types] if isinstance(types, str) else types
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise InputError("'type' must be a type id or a list of them")
        limit = value.get("limit", DEFAULT_LIMIT)
        if (
            isinstance(limit, bool)
            or not isinstance(limit, (int, float))
            or not math.isfinite(limit)  # json.loads reads "Infinity"
            or limit < 1
        ):
            raise InputError("'limit' must be a positive number")
        strict = value.get("type_strict", "any")
        if strict not in ("any", "should", "all"):
            raise InputError("'type_strict' must be any, should or all")
        props = []
        raw = value.get("properties", [])
        if not isinstance(raw, list):
            raise InputError("'properties' must be a list of {pid, v}")
        for item in raw:
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("pid"), str)
                or "v" not in item
            ):
                raise InputError("each property must be an object with 'pid' and 'v'")
            values = item["v"] if isinstance(item["v"], list) else [item["v"]]
            texts = []
            for v in values:
                if isinstance(v, dict) and isinstance(v.get("id"), str):
                    texts.append(v["id"])
                elif isinstance(v, (str, int, float)) and not isinstance(v, bool):
                    texts.append(str(v))
                elif isinstance(v, bool):
                    texts.append(str(v).lower())
                else:
                    raise InputError(f"property {item['pid']!r}: a value must be text or {{id}}")
            props.append((item["pid"], tuple(t[:MAX_TEXT] for t in texts)))
        if not text.strip() and not props:
            raise InputError("a reconciliation query needs 'query' or 'properties'")
        return cls(text, tuple(types), strict, min(int(limit), MAX_LIMIT), tuple(props))


def parse_batch(batch: object) -> dict[str, ReconQuery]:
    """A reconciliation query batch (``{"q0": {...}, ...}``), at most ``MAX_BATCH`` queries."""
    if not isinstance(batch, dict):
        raise InputError("'queries' must be a JSON object of queries keyed by id")
    if len(batch) > MAX_BATCH:
        raise InputError(f"at most {MAX_BATCH} queries in one batch, got {len(batch)}")
    return {str(key): ReconQuery.from_json(value) for key, value in batch.items()}


Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

#: Values of one property for some things: (things, property IRI) -> thing -> values.
ValueLookup = Callable[[Sequence[str], str], dict[str, list[Term]]]


@dataclass
class Reconciler:
    """Entities of one release and the reference tables, ready to answer queries."""

    entities: dict[str, Entity]
    type_names: dict[str, str]
    property_names: dict[str, str]
    tables: CodeTables | None
    values: ValueLookup = field(repr=False)
    describe: Callable[[str], dict[str, str]] = field(repr=False)
    _matchers: dict[str, Matcher] = field(default_factory=dict, repr=False)
    _names: list[str] = field(default_factory=list, repr=False)
    _owner: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for iri, entity in self.entities.items():
            for name in entity.names:
                self._names.append(name)
                self._owner.append(iri)
        if self.tables is not None:
            self._matchers.update(matchers_for(self.tables))
            for scheme in self._matchers:
                self.type_names.setdefault(scheme, TYPE_NAMES.get(scheme, ""))

    # -- reconciliation ---------------------------------------------------------------------

    def reconcile(self, query: ReconQuery) -> list[Result]:
        """Candidates for one query, best first; ``match`` on the top one only when clear."""
        if not query.text.strip():
            return []  # property-only queries: nothing to score a name against
        # "should" filters as "any" does: OpenRefine sends it with the one type a steward chose,
        # and candidates of other types would only make a clear match look ambiguous.
        wanted = set(query.types)
        every = query.type_strict == "all"
        results: list[Result] = []
        for scheme in self._matchers:  # a table's codes have one type: the table
            if not wanted or (wanted == {scheme} if every else scheme in wanted):
                results.extend(self._reference(scheme, query))
        data_types = wanted - set(self._matchers)
        if not wanted or (data_types and (data_types == wanted or not every)):
            results.extend(self._data(query, data_types))
        results.sort(key=lambda r: (-r.score, r.name, r.id))
        results = results[: query.limit]
        if results and results[0].score >= THRESHOLD:
            runner_up = results[1].score if len(results) > 1 else -1.0
            if results[0].score - runner_up >= MARGIN:
                top = results[0]
                results[0] = Result(top.id, top.name, top.types, top.score, True, top.features)
        return [
            Result(r.id, r.name, r.types, min(r.score, 100.0), r.match, r.features) for r in results
        ]

    def reconcile_batch(self, batch: Mapping[str, ReconQuery]) -> dict[str, Any]:
        return {
            key: {"result": [r.as_json() for r in self.reconcile(q)]} for key, q in batch.items()
        }

    def _type(self, iri: str) -> tuple[str, str]:
        return (iri, self.type_names.get(iri) or iri.rsplit("/", 1)[-1])

    def _reference(self, scheme: str, query: ReconQuery) -> list[Result]:
        matcher = self._matchers[scheme]
        props = dict(query.properties)
        country = self._country(props.get(COUNTRY, ()))
        postcode = next(iter(props.get(POSTCODE, ())), None)
        level = next((int(v) for v in props.get(LEVEL, ()) if v.strip().isdigit()), None)
        q = Query("", (query.text,), country, postcode, level)
        found = {c.iri: c for c in matcher.candidates(q, limit=query.limit)}
        code = query.text.strip()
        exact = matcher.table.namespace + (code if matcher.table.key == "nuts" else code.upper())
        if code.startswith(matcher.table.namespace):
            exact = code
        if self.tables is not None and exact in self.tables.members[scheme]:
            label = self.tables.label(exact) or code
            found[exact] = Candidate(exact, exact[len(matcher.table.namespace) :], label, 100.0)
        features: tuple[tuple[str, float | bool], ...]
        out = []
        for c in found.values():
            features = (("name", round(c.score, 1)),)
            if country is not None and matcher.table.key == "nuts":
                features += ((f"property:{COUNTRY}", True),)
            out.append(
                Result(
                    c.iri, f"{c.label} ({c.code})", (self._type(scheme),), c.score, False, features
                )
            )
        return out

    def _country(self, values: Sequence[str]) -> str | None:
        """The authority-table IRI of a country given as IRI, code (DEU, DE) or name."""
        matcher = self._matchers.get(AUTHORITY + "country")
        for value in values:
            if value.startswith(AUTHORITY + "country/"):
                return value
            if matcher is None:
                continue
            suggestion = matcher.suggest(Query("", (value,)))
            if suggestion.status == "match":
                return suggestion.target_iri
        return None

    def _data(self, query: ReconQuery, types: set[str]) -> list[Result]:
        allowed = [
            i
            for i, iri in enumerate(self._owner)
            if not types
            or (
                types <= set(self.entities[iri].types)
                if query.type_strict == "all"
                else bool(types & set(self.entities[iri].types))
            )
        ]
        choices = [self._names[i] for i in allowed]
        best: dict[str, float] = {}
        text = fold(query.text)
        if query.text.strip() in self.entities:  # an identifier as query
            best[query.text.strip()] = 100.0
        if text:
            for _, score, idx in extract(text, choices, query.limit * 4):
                iri = self._owner[allowed[idx]]
                best[iri] = max(best.get(iri, 0.0), float(score))
        ranked = sorted(best.items(), key=lambda kv: -kv[1])[: query.limit * 2]
        # one lookup per property for all candidates (bounded: 2 x limit things)
        things = [iri for iri, _ in ranked]
        values = {pid: self.values(things, pid) for pid, _ in query.properties if pid != LEVEL}
        out = []
        for iri, score in ranked:
            entity = self.entities[iri]
            features: list[tuple[str, float | bool]] = [("name", round(score, 1))]
            for pid, given in query.properties:
                if pid == LEVEL:
                    continue
                have = values[pid].get(iri, [])
                if not have:
                    continue
                ok = any(self._same(term, given, pid) for term in have)
                features.append((f"property:{pid}", ok))
                if not ok:
                    score -= PROPERTY_PENALTY
            shown = tuple(self._type(t) for t in sorted(entity.types))
            out.append(Result(iri, entity.name(), shown, score, False, tuple(features)))
        return out

    def _same(self, term: Term, given: Sequence[str], pid: str) -> bool:
        if isinstance(term, ox.NamedNode):
            wanted = set(given)
            if pid == COUNTRY:
                country = self._country(given)
                wanted |= {country} if country else set()
            return term.value in wanted or any(
                term.value.rsplit("/", 1)[-1].casefold() == g.casefold() for g in given
            )
        if isinstance(term, ox.Literal):
            mine = fold(term.value)
            return any(_score(mine, fold(g)) >= THRESHOLD for g in given)
        return False

    # -- suggest ----------------------------------------------------------------------------

    def suggest_entities(
        self, prefix: str, *, cursor: int = 0, limit: int = 10, type_: str | None = None
    ) -> list[dict[str, Any]]:
        """Entities whose name starts with ``prefix`` (then: has a word starting with it, then
        contains it), for auto-completion."""
        needle = fold(prefix[:MAX_TEXT])
        if not needle:
            return []
        limit = max(1, min(limit, MAX_LIMIT))
        ranked: dict[str, tuple[int, str, str, tuple[str, ...]]] = {}
        for iri, entity in self.entities.items():
            if type_ and type_ not in entity.types:
                continue
            rank = _prefix_rank(needle, entity.names)
            if rank is not None:
                ranked[iri] = (rank, fold(entity.name()), entity.name(), entity.types)
        for scheme, matcher in self._matchers.items():
            if type_ and type_ != scheme:
                continue
            for name, owner in zip(matcher.names, matcher.owner, strict=True):
                rank = _prefix_rank(needle, (name,))
                if rank is None:
                    continue
                entry = matcher.entries[owner]
                if rank == 0 and name == needle:
                    rank = -1
                old = ranked.get(entry.iri)
                if old is None or rank < old[0]:
                    shown = f"{entry.label} ({entry.code})"
                    ranked[entry.iri] = (rank, fold(entry.label), shown, (scheme,))
        order = sorted(ranked.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0]))
        return [
            {
                "id": iri,
                "name": shown,
                "notable": [{"id": t, "name": self._type(t)[1]} for t in sorted(types)],
            }
            for iri, (_, _, shown, types) in order[cursor : cursor + limit]
        ]

    def suggest_types(
        self, prefix: str, *, cursor: int = 0, limit: int = 10
    ) -> list[dict[str, str]]:
        return _suggest_named(self.type_names, prefix, cursor, limit)

    def suggest_properties(
        self, prefix: str, *, cursor: int = 0, limit: int = 10
    ) -> list[dict[str, str]]:
        return _suggest_named({**self.property_names, **CONTEXT_PROPERTIES}, prefix, cursor, limit)

    def default_types(self) -> list[dict[str, str]]:
        return [{"id": t, "name": self._type(t)[1]} for t in sorted(self.type_names)]

    # -- preview ----------------------------------------------------------------------------

    def preview(self, iri: str, lang: str = "en") -> dict[str, Any] | None:
        """Name, types and description of an entity, or None for an unknown id."""
        entity = self.entities.get(iri)
        if entity is not None:
            described = self.describe(iri)
            description = described.get(lang) or described.get("en") or described.get("")
            return {
                "id": iri,
                "name": entity.name(lang),
                "types": [self._type(t)[1] for t in sorted(entity.types)],
                "description": description or next(iter(described.values()), None),
                "alternative": sorted(set(entity.labels.values()) - {entity.name(lang)}),
            }
        if self.tables is not None:
            for scheme, codes in self.tables.members.items():
                if scheme in self._matchers and iri in codes:
                    labels = self.tables.details.labels.get(iri, {})
                    code = iri.rsplit("/", 1)[-1]
                    name = self.tables.label(iri, lang) or code
                    return {
                        "id": iri,
                        "name": f"{name} ({code})",
                        "types": [self._type(scheme)[1]],
                        "description": None,
                        "alternative": sorted(set(labels.values()) - {name})[:12],
                    }
        return None


_matcher_cache: dict[int, tuple[CodeTables, dict[str, Matcher]]] = {}
_matcher_lock = threading.Lock()


def matchers_for(tables: CodeTables) -> dict[str, Matcher]:
    """A ``Matcher`` per table (scheme IRI -> matcher), built once per loaded tables: building
    them parses the table labels (about 1.5 s), which a new release must not pay again."""
    with _matcher_lock:
        cached = _matcher_cache.get(id(tables))
        if cached is not None and cached[0] is tables:
            return cached[1]
        built = {}
        for table in TABLES:
            try:
                matcher = Matcher(tables, table)
            except LookupError:
                continue
            built[matcher.scheme] = matcher
        if len(_matcher_cache) >= 4:
            _matcher_cache.clear()
        _matcher_cache[id(tables)] = (tables, built)
        return built


def _prefix_rank(needle: str, names: Sequence[str]) -> int | None:
    """0: a name starts with ``needle``; 1: a word of a name does; 2: a name contains it."""
    best: int | None = None
    word = " " + needle
    for name in names:
        if needle not in name:
            continue
        rank = 0 if name.startswith(needle) else 1 if word in name else 2
        best = rank if best is None else min(best, rank)
    return best


def _suggest_named(
    named: Mapping[str, str], prefix: str, cursor: int, limit: int
) -> list[dict[str, str]]:
    needle = fold(prefix[:MAX_TEXT])
    limit = max(1, min(limit, MAX_LIMIT))
    ranked = []
    for iri, name in named.items():
        local = iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        rank = _prefix_rank(needle, (fold(name), fold(local), iri.casefold())) if needle else 0
        if rank is not None:
            ranked.append((rank, fold(name), iri, name or local))
    ranked.sort()
    return [{"id": iri, "name": name} for _, _, iri, name in ranked[cursor : cursor + limit]]


# -- building from a store ----------------------------------------------------------------------

#: A property id that can be written as ``<pid>`` in SPARQL: absolute, nothing to escape.
_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^<>\"{}|^`\\\s]*")

_ENTITIES = """
SELECT ?s ?type ?p ?label WHERE {{
  ?s a ?type .
  FILTER(STRSTARTS(STR(?s), "{prefix}"))
  OPTIONAL {{ VALUES ?p {{ {labels} }} ?s ?p ?label }}
}}
"""
_TERMS = """
SELECT ?t ?kind ?label WHERE {{
  VALUES ?kind {{ <http://www.w3.org/2002/07/owl#ObjectProperty>
                 <http://www.w3.org/2002/07/owl#DatatypeProperty>
                 <http://www.w3.org/2002/07/owl#Class> }}
  ?t a ?kind ; <{label}> ?label .
  FILTER(LANG(?label) = "en" || LANG(?label) = "")
}}
"""


def _iri(term: object) -> str:
    return term.value if isinstance(term, ox.NamedNode) else ""


def from_store(store: Any, base_iri: str, tables: CodeTables | None) -> Reconciler:
    """The reconciler of the store's current release (two queries; the server keeps it per
    release). ``store`` is a ``sinlod.store.Store``."""
    query = _ENTITIES.format(
        prefix=base_iri + "id/", labels=" ".join(f"<{p}>" for p in (*SHOWN, *ALSO))
    )
    types: dict[str, set[str]] = {}
    labels: dict[str, dict[str, str]] = {}
    names: dict[str, set[str]] = {}
    for row in store.query(query, union_default_graph=True):
        s = _iri(row["s"])
        types.setdefault(s, set()).add(_iri(row["type"]))
        label = row["label"]
        if isinstance(label, ox.Literal):
            if _iri(row["p"]) in SHOWN:
                labels.setdefault(s, {}).setdefault(label.language or "", label.value)
            names.setdefault(s, set()).add(fold(label.value))
    entities = {
        s: Entity(s, labels.get(s, {}), tuple(sorted(t)), tuple(sorted(names.get(s, set()) - {""})))
        for s, t in types.items()
    }
    used = {t for e in entities.values() for t in e.types}
    type_names: dict[str, str] = {}
    property_names: dict[str, str] = {}
    for row in store.query(_TERMS.format(label=RDFS + "label"), union_default_graph=True):
        iri, kind, label = _iri(row["t"]), _iri(row["kind"]), row["label"]
        text = label.value if isinstance(label, ox.Literal) else iri
        if kind.endswith("#Class"):
            if iri in used:
                type_names.setdefault(iri, text)
        else:
            property_names.setdefault(iri, text)
    for t in used:
        type_names.setdefault(t, t.rsplit("/", 1)[-1].rsplit("#", 1)[-1])

    def values(things: Sequence[str], pid: str) -> dict[str, list[Term]]:
        if not things or not _ABSOLUTE_IRI.fullmatch(pid):  # "P17" names nothing here
            return {}
        subjects = " ".join(f"<{t}>" for t in things)
        out: dict[str, list[Term]] = {}
        found = store.query(
            f"SELECT ?s ?o WHERE {{ VALUES ?s {{ {subjects} }} ?s <{pid}> ?o }} LIMIT 1000",
            union_default_graph=True,
        )
        for row in found:
            out.setdefault(_iri(row["s"]), []).append(row["o"])
        return out

    def describe(iri: str) -> dict[str, str]:
        preds = " ".join(f"<{p}>" for p in DESCRIBED)
        out: dict[str, str] = {}
        found = store.query(
            f"SELECT ?d WHERE {{ VALUES ?p {{ {preds} }} <{iri}> ?p ?d }} LIMIT 50",
            union_default_graph=True,
        )
        for row in found:
            d = row["d"]
            if isinstance(d, ox.Literal):
                out.setdefault(d.language or "", d.value)
        return out

    return Reconciler(entities, type_names, property_names, tables, values, describe)


__all__: Sequence[str] = (
    "CONTEXT_PROPERTIES",
    "MAX_BATCH",
    "MAX_LIMIT",
    "ReconQuery",
    "Reconciler",
    "Result",
    "from_store",
    "parse_batch",
)
