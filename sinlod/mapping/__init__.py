"""CSVW table descriptions → triples, each with the source cell it came from.

sinlod reads standard W3C CSV on the Web metadata (https://www.w3.org/TR/tabular-metadata/) and
produces RDF as "Generating RDF from Tabular Data on the Web" (https://www.w3.org/TR/csv2rdf/)
describes in minimal mode, with the choices documented in ``docs/model.md``:

- relative URI templates resolve against ``Settings.base_iri`` (not the CSV's URL);
- compact IRIs expand with ``sinlod.namespaces.PREFIXES``;
- ``sinlod:partialDate`` types a value as xsd:date, xsd:gYearMonth or xsd:gYear by its precision;
- every row must have an ``aboutUrl`` (no blank nodes: the same records give the same triples);
- with a ``separator`` and a ``valueUrl`` the template is expanded once per item, so
  ``"valueUrl": "roles:{role}"`` over ``coordinator;partner`` gives two concept IRIs;
- header cells are matched to columns by ``name`` or ``titles`` in any order.

The engine compiles each table description once (templates, datatypes, terms) and then maps rows
with dictionary look-ups, caching the term built for each distinct cell value.
"""

from __future__ import annotations

from sinlod.mapping.datatypes import BadValue, datatype_parser, got
from sinlod.mapping.engine import KeyIndex, Problems, TableRun, TooManyProblems
from sinlod.mapping.tables import (
    Column,
    ForeignKey,
    TableMapping,
    compile_metadata,
    load_mapping,
    table_key,
)
from sinlod.mapping.templates import Template

__all__ = [
    "BadValue",
    "Column",
    "ForeignKey",
    "KeyIndex",
    "Problems",
    "TableMapping",
    "TableRun",
    "Template",
    "TooManyProblems",
    "compile_metadata",
    "datatype_parser",
    "got",
    "load_mapping",
    "table_key",
]
