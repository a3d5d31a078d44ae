"""What a validation found: one ``Finding`` per SHACL result, gathered in a ``Report`` (rendered
by ``render``, which knows the types only for type checking: no import circle).

The fields are plain strings so that a report can be compared, cached, sent over HTTP and rendered
without rdflib: IRIs as themselves, values in N-Triples syntax, shapes and constraint components
as compact names (``shapes:ProjectShape``, ``sh:MinCountConstraintComponent``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sinlod.errors import InvalidData, SourceLocation
from sinlod.namespaces import PREFIXES
from sinlod.validate import render

#: Severities from the most to the least serious (SHACL §3.4.1 ``sh:Violation``, ...).
SEVERITIES = ("Violation", "Warning", "Info")


@dataclass(frozen=True)
class Finding:
    """One SHACL validation result, with the source cells it came from.

    ``focus`` is an IRI or a blank node label (``_:b0``). ``path`` is the property IRI, or a
    SPARQL property path (``^<iri>``) when the shape's path is not a single property. ``value``
    is in N-Triples syntax (``"2015"^^<http://www.w3.org/2001/XMLSchema#gYear>``).
    ``source_shape`` names the shape: its compact IRI, or for a blank-node property shape the
    named shape holding it and its path (``shapes:ProjectShape/sinlod:endDate``).
    ``locations`` holds every source place known for the result; empty when none is known.
    """

    severity: str
    message: str
    focus: str
    path: str | None
    value: str | None
    source_shape: str | None
    constraint: str
    locations: tuple[SourceLocation, ...] = ()

    @property
    def record(self) -> str:
        """The record key: the focus IRI's last segment (``drift`` for ``…/organisation/drift``)."""
        if self.focus.startswith("_:"):
            return self.focus
        return self.focus.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]

    def sort_key(self) -> tuple[Any, ...]:
        first = self.locations[0] if self.locations else None
        place = (
            (0, first.file, first.sheet or "", first.row or 0, first.column or "")
            if first
            else (1, "", "", 0, "")
        )
        rank = SEVERITIES.index(self.severity) if self.severity in SEVERITIES else len(SEVERITIES)
        return (place, self.focus, rank, self.path or "", self.message)


@dataclass
class Report:
    """The outcome of one validation: the findings, and whether the data conforms.

    ``conforms`` is true when there is no ``Violation``; warnings and infos do not break
    conformance (``sinlod validate --strict`` makes warnings fail the run). ``prefixes`` are used
    to show IRIs compactly and to expand shape names in ``to_turtle``.
    """

    findings: list[Finding]
    conforms: bool
    prefixes: dict[str, str] = field(default_factory=lambda: dict(PREFIXES))
    #: The engine that produced the findings (``fast`` or ``pyshacl``); not part of the output.
    engine: str = "pyshacl"

    @classmethod
    def of(
        cls,
        findings: list[Finding],
        prefixes: dict[str, str] | None = None,
        *,
        engine: str = "pyshacl",
    ) -> Report:
        """A report over ``findings`` in a stable order, ``conforms`` computed from them."""
        ordered = sorted(findings, key=Finding.sort_key)
        conforms = not any(f.severity == "Violation" for f in ordered)
        return cls(ordered, conforms, dict(PREFIXES if prefixes is None else prefixes), engine)

    def counts(self) -> dict[str, int]:
        """Findings per severity, each severity present: ``{"Violation": 1, "Warning": 0, ...}``."""
        counts = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        return counts

    def worst(self) -> str | None:
        """The most serious severity found (``Violation``, ``Warning``, ``Info``), None if none."""
        counts = self.counts()
        return next((s for s in SEVERITIES if counts[s]), None)

    def failed(self, strict: bool = False) -> bool:
        """True when the data must be refused: any violation, or with ``strict`` any warning."""
        counts = self.counts()
        return bool(counts["Violation"] or (strict and counts["Warning"]))

    def raise_for_violations(self, strict: bool = False) -> None:
        """Raise ``InvalidData`` (carrying the findings) when ``failed(strict)``; for publish."""
        if self.failed(strict):
            raise InvalidData(
                f"the data does not conform to the shapes: {render.summary(self)}", self.findings
            )

    def render_human(self, color: bool = False) -> str:
        return render.render_human(self, color=color)

    def to_json(self) -> dict[str, Any]:
        return render.to_json(self)

    def to_sarif(self) -> dict[str, Any]:
        return render.to_sarif(self)

    def to_turtle(self) -> str:
        return render.to_turtle(self)
