"""The one exception tree of sinlod.

Library code raises these; the edges (``cli.py`` and ``server/http/problems.py``) turn them into
exit codes and HTTP statuses, each in one place::

    SinlodError
    ├── InputError          unreadable or malformed input (file missing, bad syntax, bad mapping)
    │   └── RecordError     a problem in one record, with the SourceLocation of the cell
    ├── ConversionFailed    a conversion found problems; carries every RecordError found
    ├── InvalidData         SHACL violations; carries the findings
    ├── StoreError          the store cannot be opened, read or written
    ├── ReleaseLogProtected a write that would put data under the release log's graph name
    ├── DatasetConflict     a write of one dataset that would replace or remove another's graph
    └── QueryError          a SPARQL query or update that cannot be parsed
        └── QueryEvaluationError  one that parses but fails when run (unknown function, ...)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class SourceLocation:
    """Where a value came from: a file, a row (the line a person sees) and a column.

    ``row`` is 1-based and counts what an editor shows: for CSV the physical line (the header is
    line 1), for XLSX the sheet row, for JSON Lines the line, for JSON and YAML the line where the
    record starts. ``column`` is the column (field) name as written in the source.
    """

    file: str
    row: int | None = None
    column: str | None = None
    sheet: str | None = None

    def at(self, column: str | None) -> SourceLocation:
        """The same row, one cell."""
        return SourceLocation(self.file, self.row, column, self.sheet)

    def __str__(self) -> str:
        place = self.file
        if self.sheet:
            place += f"[{self.sheet}]"
        if self.row is not None:
            place += f":{self.row}"
        if self.column is not None:
            place += f' column "{self.column}"'
        return place


class SinlodError(Exception):
    """Base of every error sinlod raises on purpose."""


class InputError(SinlodError):
    """Input that cannot be read or is malformed: a missing file, bad syntax, a bad mapping."""

    def __init__(self, message: str, location: SourceLocation | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"


class RecordError(InputError):
    """A problem with one value of one record, e.g. a date that is not a date."""

    def __init__(self, message: str, location: SourceLocation, value: str | None = None) -> None:
        super().__init__(message, location)
        self.value = value


class ConversionFailed(SinlodError):
    """Conversion found problems in the records; ``errors`` holds every one found."""

    def __init__(self, errors: Sequence[RecordError], truncated: bool = False) -> None:
        self.errors = list(errors)
        self.truncated = truncated
        n = len(self.errors)
        more = " (stopped at --max-errors)" if truncated else ""
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the records{more}")


class InvalidData(SinlodError):
    """The data violates the shapes; ``findings`` holds the validation results.

    ``report`` is the whole validation report when the raiser has one (a refused publish), so
    the CLI can show it before the error line without knowing which command raised it.
    """

    report: Any = None

    def __init__(self, message: str, findings: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.findings = list(findings)


class StoreError(SinlodError):
    """The store cannot be opened, read or written."""


class ReleaseLogProtected(SinlodError):
    """A write that would create or change the graph named ``{base}graph/releases``.

    The release log lives beside the data (``sinlod.store.layout``) and is written by sinlod
    alone; a dump carries it under that graph name, so data there would be taken for the log on
    restore. Refused by policy, whoever asks (HTTP 403)."""


class DatasetConflict(SinlodError):
    """A write on behalf of ``dataset`` that would replace or remove ``graph``, which belongs to
    the dataset ``owner``: datasets never overwrite each other (issue 11). Nothing was written."""

    def __init__(self, dataset: str, owner: str, graph: str) -> None:
        super().__init__(
            f"dataset {dataset!r} may not replace or remove graph <{graph}>, which belongs to"
            f" dataset {owner!r}; nothing was written"
        )
        self.dataset, self.owner, self.graph = dataset, owner, graph


class QueryError(SinlodError):
    """A SPARQL query or update that cannot be parsed or evaluated."""


class QueryEvaluationError(QueryError):
    """A query or update that parses but fails when run: an unsupported function, ``DROP`` of a
    graph that does not exist, a ``LOAD`` that cannot fetch. The request was well-formed (HTTP 500,
    not 400, as the SPARQL 1.1 Protocol distinguishes them)."""
