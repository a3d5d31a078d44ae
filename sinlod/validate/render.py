"""A ``Report`` for people (grouped text), programs (JSON), CI and editors (SARIF), RDF (Turtle).

Library code never imports Click, so colour is written here as the ANSI codes ``click.style``
writes; ``click.echo`` in the CLI strips them when the output is not a terminal.

``findings.Report`` renders itself through this module (``report.to_json()``), so this module
does not import ``findings``: it renders whatever has the shape of a report (the protocols
``Report`` and ``Finding`` below), and the dependency runs one way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import quote

import pyoxigraph as ox

from sinlod import __version__
from sinlod.errors import SourceLocation


class Finding(Protocol):
    """What rendering reads of a finding (``findings.Finding``)."""

    @property
    def severity(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def focus(self) -> str: ...
    @property
    def path(self) -> str | None: ...
    @property
    def value(self) -> str | None: ...
    @property
    def source_shape(self) -> str | None: ...
    @property
    def constraint(self) -> str: ...
    @property
    def locations(self) -> tuple[SourceLocation, ...]: ...
    @property
    def record(self) -> str: ...


class Report(Protocol):
    """What rendering reads of a report (``findings.Report``)."""

    @property
    def findings(self) -> Sequence[Finding]: ...
    @property
    def conforms(self) -> bool: ...
    @property
    def prefixes(self) -> dict[str, str]: ...
    def counts(self) -> dict[str, int]: ...
    def worst(self) -> str | None: ...


JSON_FORMAT = "sinlod-validation-report/1"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SH = "http://www.w3.org/ns/shacl#"
_LEVELS = {"Violation": "error", "Warning": "warning", "Info": "note"}
_COLORS = {"Violation": 31, "Warning": 33, "Info": 34}  # red, yellow, blue
NO_SOURCE = "(no source file)"


# -- human ---------------------------------------------------------------------------------------


def render_human(report: Report, color: bool = False) -> str:
    """Findings grouped by file and record, one line each, then a summary line.

    ``records/projects.csv:12 column "end": Violation: Project end date must not be before its
    start date (got "2015")``: the place first, so that editors and terminals can jump to it.
    """
    groups: dict[str, dict[str, list[Finding]]] = {}
    for f in report.findings:  # keep the report's order: files, then first row of each record
        groups.setdefault(_file_of(f), {}).setdefault(f.focus, []).append(f)
    lines: list[str] = []
    for file, records in groups.items():
        lines.append(_style(file, bold=True, on=color))
        for focus, items in records.items():
            lines.append(f"  {items[0].record} ({_show_iri(report, focus)})")
            lines.extend("    " + _line(report, f, color) for f in items)
        lines.append("")
    lines.append(summary(report, color))
    return "\n".join(lines)


def summary(report: Report, color: bool = False) -> str:
    """``2 violations, 1 warning, 0 infos``, coloured by the most serious."""
    counts = report.counts()
    text = ", ".join(f"{n} {s.lower()}{'' if n == 1 else 's'}" for s, n in counts.items())
    worst = report.worst()
    return _style(text, fg=_COLORS[worst] if worst else 32, bold=True, on=color)


def _file_of(finding: Finding) -> str:
    return finding.locations[0].file if finding.locations else NO_SOURCE


def _line(report: Report, f: Finding, color: bool) -> str:
    place = ", ".join(str(loc) for loc in f.locations) or _show_iri(report, f.focus)
    if f.path and not any(loc.column for loc in f.locations):
        place += f" property {_show_path(report, f.path)}"
    severity = _style(f.severity, fg=_COLORS.get(f.severity), bold=True, on=color)
    got = f" (got {_show_value(report, f.value)})" if f.value is not None else ""
    return f"{place}: {severity}: {f.message}{got}"


def _show_iri(report: Report, iri: str) -> str:
    return iri if iri.startswith("_:") else f"<{iri}>"


def _show_path(report: Report, path: str) -> str:
    if path.startswith(("http://", "https://", "urn:")):
        return _compact(report, path)
    return re.sub(r"<([^>]*)>", lambda m: _compact(report, m.group(1)), path)


def _show_value(report: Report, value: str) -> str:
    """A literal as its quoted lexical form (``"2015"``), an IRI compacted or in brackets."""
    if value.startswith('"'):
        return value[: value.rindex('"') + 1]
    if value.startswith("<"):
        iri = value[1:-1]
        short = _compact(report, iri)
        return short if short != iri else value
    return value


def _compact(report: Report, iri: str) -> str:
    return compact(report.prefixes, iri)


def compact(prefixes: dict[str, str], iri: str) -> str:
    """``skos:prefLabel`` for the IRI, with the longest matching prefix; the IRI if none fits."""
    best: str | None = None
    for name, ns in prefixes.items():
        local = iri[len(ns) :]
        if iri.startswith(ns) and local and re.fullmatch(r"[\w.-]+", local):
            if best is None or len(ns) > len(prefixes[best]):
                best = name
    return f"{best}:{iri[len(prefixes[best]) :]}" if best is not None else iri


def _style(text: str, fg: int | None = None, bold: bool = False, on: bool = True) -> str:
    if not on:
        return text
    codes = (f"\x1b[{fg}m" if fg else "") + ("\x1b[1m" if bold else "")
    return f"{codes}{text}\x1b[0m" if codes else text


# -- JSON ----------------------------------------------------------------------------------------


def to_json(report: Report) -> dict[str, Any]:
    """The stable JSON form (``format`` names its version; fields are only ever added)::

    {"format": "sinlod-validation-report/1", "conforms": false,
     "counts": {"Violation": 1, "Warning": 0, "Info": 0},
     "findings": [{"severity": "Violation", "message": "...", "focus": "https://...",
                   "record": "sic", "path": "https://...", "value": "\\"2015\\"",
                   "source_shape": "shapes:ProjectShape/sinlod:endDate",
                   "constraint": "sh:SPARQLConstraintComponent",
                   "locations": [{"file": "records/projects.csv", "row": 12,
                                  "column": "end", "sheet": null}]}]}
    """
    return {
        "format": JSON_FORMAT,
        "conforms": report.conforms,
        "counts": report.counts(),
        "findings": [_finding_json(f) for f in report.findings],
    }


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "severity": f.severity,
        "message": f.message,
        "focus": f.focus,
        "record": f.record,
        "path": f.path,
        "value": f.value,
        "source_shape": f.source_shape,
        "constraint": f.constraint,
        "locations": [
            {"file": loc.file, "row": loc.row, "column": loc.column, "sheet": loc.sheet}
            for loc in f.locations
        ],
    }


# -- SARIF 2.1.0 -----------------------------------------------------------------------------------


def rule_id(f: Finding) -> str:
    """SARIF rule id: the source shape and the constraint component, together what broke."""
    return f"{f.source_shape}/{f.constraint}" if f.source_shape else f.constraint


def to_sarif(report: Report) -> dict[str, Any]:
    """SARIF 2.1.0: one run, one rule per shape + constraint, one result per finding.

    Each source place becomes a ``physicalLocation`` (the file, ``region.startLine`` = the row) so
    CI systems and editors annotate the record's line; the focus node is its ``logicalLocation``.
    A place in a workbook names its sheet, in the location's message (``sheet "places" column
    "country"``, as CI annotations show it) and its ``properties.sheet``: rows of two sheets of
    one file share line numbers.
    """
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in report.findings:
        rid = rule_id(f)
        if rid not in rules:
            rules[rid] = {
                "id": rid,
                "shortDescription": {"text": f.message or rid},
                "defaultConfiguration": {"level": _LEVELS.get(f.severity, "warning")},
                "properties": {"sourceShape": f.source_shape, "constraint": f.constraint},
            }
        results.append(_sarif_result(f, rid, list(rules).index(rid)))
    driver = {
        "name": "sinlod",
        "version": __version__,
        "informationUri": "https://w3id.org/sinlod/",
        "rules": list(rules.values()),
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }


def _sarif_result(f: Finding, rid: str, index: int) -> dict[str, Any]:
    logical = {"fullyQualifiedName": f.focus, "kind": "resource"}
    locations: list[dict[str, Any]] = []
    for loc in f.locations:
        physical: dict[str, Any] = {"artifactLocation": {"uri": quote(loc.file, safe="/:")}}
        if loc.row is not None:
            physical["region"] = {"startLine": loc.row}
        entry: dict[str, Any] = {"physicalLocation": physical, "logicalLocations": [logical]}
        cell = [f'sheet "{loc.sheet}"'] if loc.sheet else []  # a workbook: which of its sheets
        cell += [f'column "{loc.column}"'] if loc.column is not None else []
        if cell:
            entry["message"] = {"text": " ".join(cell)}
        if loc.sheet:
            entry["properties"] = {"sheet": loc.sheet}
        locations.append(entry)
    if not locations:
        locations.append({"logicalLocations": [logical]})
    got = f" (got {f.value})" if f.value is not None else ""
    result: dict[str, Any] = {
        "ruleId": rid,
        "ruleIndex": index,
        "level": _LEVELS.get(f.severity, "warning"),
        "message": {"text": f"{f.message}{got}"},
        "locations": locations,
        "properties": {"focus": f.focus, "path": f.path, "value": f.value},
    }
    return result


# -- Turtle: the SHACL validation report -----------------------------------------------------------


def to_turtle(report: Report) -> str:
    """The standard ``sh:ValidationReport`` (SHACL §3.6) in Turtle.

    ``sh:resultPath`` is written for single-property paths only; a blank-node source shape is
    written as a blank node labelled with its stable name (its triples live in the shapes graph).
    """
    sh = _Sh()
    root = ox.BlankNode("report")
    triples = [
        ox.Triple(root, sh.type, sh("ValidationReport")),
        ox.Triple(
            root,
            sh("conforms"),
            ox.Literal("true" if report.conforms else "false", datatype=_xsd("boolean")),
        ),
    ]
    for n, f in enumerate(report.findings):
        r = ox.BlankNode(f"r{n}")
        triples.append(ox.Triple(root, sh("result"), r))
        triples.append(ox.Triple(r, sh.type, sh("ValidationResult")))
        triples.append(ox.Triple(r, sh("resultSeverity"), sh(f.severity)))
        triples.append(ox.Triple(r, sh("focusNode"), _node(f.focus)))
        triples.append(ox.Triple(r, sh("resultMessage"), ox.Literal(f.message)))
        triples.append(ox.Triple(r, sh("sourceConstraintComponent"), _expand(report, f.constraint)))
        if f.path and f.path.startswith(("http://", "https://", "urn:")):
            triples.append(ox.Triple(r, sh("resultPath"), ox.NamedNode(f.path)))
        if f.value is not None:
            triples.append(ox.Triple(r, sh("value"), _term(f.value)))
        if f.source_shape is not None:
            triples.extend(_shape_triples(report, r, f.source_shape, n))
    used = {
        t.value for tr in triples for t in (tr.predicate, tr.object) if isinstance(t, ox.NamedNode)
    }
    used |= {tr.object.datatype.value for tr in triples if isinstance(tr.object, ox.Literal)}
    prefixes = {k: v for k, v in report.prefixes.items() if any(iri.startswith(v) for iri in used)}
    data = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    return data.decode("utf-8") if data else ""


class _Sh:
    type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

    def __call__(self, local: str) -> ox.NamedNode:
        return ox.NamedNode(SH + local)


def _xsd(local: str) -> ox.NamedNode:
    return ox.NamedNode("http://www.w3.org/2001/XMLSchema#" + local)


def _node(focus: str) -> ox.NamedNode | ox.BlankNode:
    return ox.BlankNode(focus[2:]) if focus.startswith("_:") else ox.NamedNode(focus)


def _term(nt: str) -> Any:
    """Parse one term written in N-Triples syntax."""
    triple = next(iter(ox.parse(f"<urn:s> <urn:p> {nt} .", format=ox.RdfFormat.N_TRIPLES)))
    return triple.object


def _expand(report: Report, name: str) -> ox.NamedNode:
    prefix, _, local = name.partition(":")
    if prefix in report.prefixes and not local.startswith("//"):
        return ox.NamedNode(report.prefixes[prefix] + local)
    return ox.NamedNode(name)


def _shape_triples(report: Report, r: ox.BlankNode, name: str, n: int) -> list[ox.Triple]:
    prefix, _, local = name.partition(":")
    named = (prefix in report.prefixes and re.fullmatch(r"[\w.-]+", local)) or name.startswith(
        ("http://", "https://", "urn:")
    )
    if named:
        return [ox.Triple(r, ox.NamedNode(SH + "sourceShape"), _expand(report, name))]
    shape = ox.BlankNode(f"shape{n}")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    return [
        ox.Triple(r, ox.NamedNode(SH + "sourceShape"), shape),
        ox.Triple(shape, label, ox.Literal(name)),
    ]
