"""Which column of the model a spreadsheet header names: the model's words, matched fuzzily.

The model is read, not restated: the columns a table may have come from the shipped mappings
(``data/mappings``: property, value template, datatype, language), the words a header may use
from the ontology's labels in English, Dutch and German plus the everyday words of ``WORDS``,
and the properties a class may carry beyond its own mapping from the SHACL shapes of the class
and its superclasses (a project's ``sinlod:country``, an organisation's web page). Headers are
matched to those words with rapidfuzz (``match_headers``), one header to one column, and only
to a column whose datatype the header's cells fit.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rapidfuzz import fuzz

from sinlod.mapping.cells import values_fit
from sinlod.mapping.tables import table_key
from sinlod.namespaces import expand

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
DCT_SOURCE = "http://purl.org/dc/terms/source"
SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LANGUAGES = ("en", "nl", "de")
#: A header must score this (0-100) against a word of the model to be matched.
THRESHOLD = 82.0

#: Everyday words stewards use in headers, per model column (its name without _en/_nl/_de) and
#: language; the ontology's labels are added to these. Lower case.
WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "id": {
        "en": ("id", "key", "identifier", "code", "ref"),
        "nl": ("kenmerk", "sleutel", "nummer", "code"),
        "de": ("kennung", "schlüssel", "kennziffer", "nummer"),
    },
    "name": {
        "en": ("name", "title", "project name", "organisation name", "organization name"),
        "nl": ("naam", "titel", "projectnaam", "organisatienaam", "naam project"),
        "de": ("name", "titel", "projektname", "bezeichnung", "organisationsname"),
    },
    "description": {
        "en": ("description", "summary", "about"),
        "nl": ("beschrijving", "omschrijving", "samenvatting"),
        "de": ("beschreibung", "kurzbeschreibung", "zusammenfassung"),
    },
    "acronym": {
        "en": ("acronym", "short name", "abbreviation"),
        "nl": ("acroniem", "afkorting", "korte naam"),
        "de": ("akronym", "abkürzung", "kurzname", "kürzel"),
    },
    "start": {
        "en": ("start", "start date", "begin", "from", "starts"),
        "nl": ("start", "startdatum", "begindatum", "begin", "vanaf"),
        "de": ("beginn", "start", "startdatum", "laufzeit von", "projektbeginn"),
    },
    "end": {
        "en": ("end", "end date", "until", "ends"),
        "nl": ("einde", "einddatum", "tot", "looptijd tot"),
        "de": ("ende", "enddatum", "laufzeit bis", "bis", "projektende"),
    },
    "page": {
        "en": ("website", "web site", "homepage", "url", "link", "web page"),
        "nl": ("website", "webpagina", "webadres", "site"),
        "de": ("webseite", "internetseite", "website", "homepage", "internetadresse"),
    },
    "country": {"en": ("country",), "nl": ("land",), "de": ("land", "staat")},
    "amount": {
        "en": ("budget", "amount", "funding", "total budget", "grant amount"),
        "nl": ("budget", "bedrag", "subsidie", "begroting", "totaal budget"),
        "de": ("budget", "betrag", "fördersumme", "gesamtbudget", "fördervolumen"),
    },
    "currency": {"en": ("currency",), "nl": ("valuta", "munt"), "de": ("währung",)},
    "topics": {
        "en": ("topics", "themes", "keywords", "tags"),
        "nl": ("thema's", "themas", "onderwerpen", "trefwoorden"),
        "de": ("themen", "schlagwörter", "stichwörter"),
    },
    "participant_count": {
        "en": ("participants", "number of participants"),
        "nl": ("deelnemers", "aantal deelnemers"),
        "de": ("teilnehmer", "teilnehmerzahl", "anzahl teilnehmer"),
    },
}
#: Words that name a table (for choosing one when --table is not given), per table.
TABLE_WORDS: dict[str, tuple[str, ...]] = {
    "projects": ("project", "projekt"),
    "organisations": ("organisation", "organization", "organisatie", "organisation"),
    "events": ("event", "evenement", "veranstaltung"),
    "people": ("person", "persoon", "person"),
    "places": ("place", "plaats", "ort"),
    "grants": ("grant", "subsidie", "förderung"),
}
_LANG_SUFFIX = re.compile(r"[\s_(\[-]+(en|nl|de|EN|NL|DE)[)\]]?$")
_PARENS = re.compile(r"\([^)]*\)|\[[^]]*\]")


@dataclass
class ModelColumn:
    """A column the model offers for a table: its shipped CSVW description and the words for it."""

    table: str
    key: str  # the shipped column name, e.g. name_nl
    description: dict[str, Any]
    words: dict[str, set[str]]  # language → words
    lang: str | None  # the language of its literals (name_nl → nl)
    via: str | None = None  # the foreign-key column of the target table that leads here


@dataclass
class Match:
    header: str
    column: ModelColumn
    score: float
    language: str | None


def normalise_header(text: str) -> str:
    """A header as it is compared: no parentheses, case-folded, words split on ``_`` and ``-``.

    >>> [normalise_header(h) for h in ("Budget (EUR)", "naam_NL", "Start-Datum:")]
    ['budget', 'naam nl', 'start datum']
    """
    text = _PARENS.sub(" ", text).casefold().replace("_", " ").replace("-", " ")
    return " ".join(re.sub(r"[^\w' ]+", " ", text).split())


class Model:
    """The tables of the shipped mappings, with the ontology's labels and the shapes' paths."""

    def __init__(self, mappings_dir: Path, ontology_file: Path, shape_files: Iterable[Path]):
        self.tables: dict[str, dict[str, Any]] = {}
        for path in sorted(mappings_dir.glob("*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            self.tables[table_key(doc["url"])] = doc
        labels: dict[str, dict[str, set[str]]] = {}
        self.parents: dict[str, set[str]] = {}
        for t in ox.parse(path=ontology_file, format=ox.RdfFormat.TURTLE):
            o = t.object
            if t.predicate.value == RDFS_LABEL and isinstance(o, ox.Literal) and o.language:
                labels.setdefault(t.subject.value, {}).setdefault(o.language, set()).add(o.value)
            elif t.predicate.value == SUBCLASS_OF and isinstance(o, ox.NamedNode):
                self.parents.setdefault(t.subject.value, set()).add(o.value)
        self.labels = labels
        self.paths = _shape_paths(shape_files)

    def schema(self, table: str) -> dict[str, Any]:
        schema: dict[str, Any] = self.tables[table]["tableSchema"]
        return schema

    def type_of(self, table: str) -> str | None:
        for c in self.schema(table)["columns"]:
            if c.get("virtual") and expand(c.get("propertyUrl", "")) == RDF_TYPE:
                return str(c["valueUrl"])
        return None

    def columns(self, table: str) -> list[ModelColumn]:
        """What a sheet of ``table`` may hold: its own columns, those its shapes allow from other
        tables' mappings, and the columns of tables one foreign key away."""
        # The sheet itself is every record's source (see _virtual_columns): no source column.
        own = [
            self._column(table, c)
            for c in self.schema(table)["columns"]
            if not c.get("virtual") and expand(c.get("propertyUrl", "")) != DCT_SOURCE
        ]
        props = {expand(c.description.get("propertyUrl", "")) for c in own} | {DCT_SOURCE}
        borrowed: list[ModelColumn] = []
        classes = self._with_superclasses(expand(self.type_of(table) or ""))
        for path in sorted({p for c in classes for p in self.paths.get(c, ())}):
            if path in props:
                continue
            for other in self.tables:
                for c in self.schema(other)["columns"]:
                    if not c.get("virtual") and expand(c.get("propertyUrl", "")) == path:
                        borrowed.append(self._column(table, c))
                        props.add(path)
                        break
                if path in props:
                    break
        linked: list[ModelColumn] = []
        for fk in self.schema(table).get("foreignKeys", []):
            target = table_key(fk["reference"]["resource"])
            if target == table or target not in self.tables or target == "documents":
                continue
            for c in self.schema(target)["columns"]:
                prop = expand(c.get("propertyUrl", ""))
                if c.get("virtual") or c.get("suppressOutput") or prop in props or c.get("lang"):
                    continue
                if c.get("valueUrl") and "{" in c["valueUrl"] and "id/" in c["valueUrl"]:
                    continue  # a reference onwards: two hops is too far to guess
                column = self._column(target, c)
                column.via = fk["columnReference"]
                linked.append(column)
        return own + borrowed + linked

    def _with_superclasses(self, cls: str) -> set[str]:
        """``cls`` and every class it is a subclass of (the shapes of Agent apply to Person)."""
        found, todo = {cls}, [cls]
        while todo:
            for parent in self.parents.get(todo.pop(), ()):
                if parent not in found:
                    found.add(parent)
                    todo.append(parent)
        return found

    def _column(self, table: str, c: dict[str, Any]) -> ModelColumn:
        key = str(c["name"])
        m = re.match(r"^(.*)_(en|nl|de)$", key)
        stem, lang = (m.group(1), m.group(2)) if m else (key, None)
        words: dict[str, set[str]] = {code: set() for code in LANGUAGES}
        words["en"].add(normalise_header(stem))
        for code, given in WORDS.get(stem, {}).items():
            words[code].update(given)
        prop = expand(c.get("propertyUrl", ""))
        if stem not in {"name", "description"}:  # their properties' labels are too general
            for code, items in self.labels.get(prop, {}).items():
                if code in words:
                    words[code].update(normalise_header(i) for i in items)
        return ModelColumn(table, key, dict(c), words, lang)


def _shape_paths(files: Iterable[Path]) -> dict[str, set[str]]:
    """Property paths (plain IRIs) each class's node shapes constrain."""
    triples = [t for f in files for t in ox.parse(path=f, format=ox.RdfFormat.TURTLE)]
    by_subject: dict[Any, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    out: dict[str, set[str]] = {}
    for ts in by_subject.values():
        targets = [
            t.object.value
            for t in ts
            if t.predicate.value == SH + "targetClass" and isinstance(t.object, ox.NamedNode)
        ]
        for target in targets:
            for t in ts:
                if t.predicate.value != SH + "property":
                    continue
                for p in by_subject.get(t.object, []):
                    if p.predicate.value == SH + "path" and isinstance(p.object, ox.NamedNode):
                        out.setdefault(target, set()).add(p.object.value)
    return out


def _score(header: str, column: ModelColumn) -> tuple[float, str | None]:
    """How well ``header`` names ``column`` (0-100), and the language of the best word."""
    h = normalise_header(_LANG_SUFFIX.sub("", header))
    best, lang = 0.0, None
    for code, words in column.words.items():
        for w in words:
            s = float(fuzz.ratio(h, w))
            if len(w) >= 4 and w in h.split() + [h.replace(" ", "")]:
                s = max(s, 95.0)
            elif len(w) >= 4 and " " not in w and (h.endswith(w) or h.startswith(w)):
                s = max(s, 90.0)  # a compound: "Projectcode", "Einddatum"
            elif len(w) >= 5 and len(h) >= len(w):  # a longer header around the word
                s = max(s, fuzz.partial_ratio(h, w) * 0.9)
            if s > best:
                best, lang = s, code
    return best, lang


def _header_language(header: str) -> str | None:
    m = _LANG_SUFFIX.search(header)
    return m.group(1).lower() if m else None


def match_headers(
    headers: list[str],
    columns: list[ModelColumn],
    values: dict[str, list[str]] | None = None,
) -> list[Match]:
    """The best one-to-one matches of headers to model columns above ``THRESHOLD``; with
    ``values``, only to columns whose datatype the header's cells fit ("Subsidiedatum" holds
    dates, so it is not the amount of a subsidy)."""
    scored = []
    for header in headers:
        for column in columns:
            s, lang = _score(header, column)
            if s >= THRESHOLD and (
                values is None or values_fit(column.description, values[header])
            ):
                scored.append((s, header, column, lang))
    scored.sort(key=lambda x: (-x[0], headers.index(x[1])))
    sheet_language = Counter(lang for _s, _h, _c, lang in scored if lang).most_common(1)
    default_lang = sheet_language[0][0] if sheet_language else "en"
    taken_headers: set[str] = set()
    taken_columns: set[tuple[str, str]] = set()
    out: list[Match] = []
    for s, header, column, lang in scored:
        if header in taken_headers:
            continue
        want = _header_language(header) or (lang if lang != "en" else None) or default_lang
        if column.lang is not None and column.lang != want:
            continue  # name_en is not the column for a Dutch "naam"
        key = (column.table, column.key)
        if key in taken_columns:
            continue
        taken_headers.add(header)
        taken_columns.add(key)
        out.append(Match(header, column, s, column.lang))
    return sorted(out, key=lambda m: headers.index(m.header))
