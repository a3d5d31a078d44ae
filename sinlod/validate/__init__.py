"""Validation with pySHACL, with findings that point at the source cell.

``validate`` takes a conversion or files, ``validate_triples`` a batch of triples (what ``publish``
and the server's write gate call). Both return a ``Report``; rendering lives in ``render``.

>>> from sinlod.validate import Finding, Report
>>> Report.of([Finding("Warning", "A project should have a description",
...                    "https://w3id.org/sinlod/id/project/sic", None, None, None,
...                    "sh:MinCountConstraintComponent")]).counts()
{'Violation': 0, 'Warning': 1, 'Info': 0}
"""

from __future__ import annotations

from sinlod.validate.findings import SEVERITIES, Finding, Report
from sinlod.validate.rules import load_rules
from sinlod.validate.run import validate, validate_triples

__all__ = [
    "SEVERITIES",
    "Finding",
    "Report",
    "load_rules",
    "validate",
    "validate_triples",
]
