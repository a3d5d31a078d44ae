"""Source readers, one per format. Each yields ``Record``s that remember where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field

from sinlod.errors import SourceLocation


@dataclass(frozen=True)
class Record:
    """One row of a table: its values by column name, and where the row is in its file.

    ``values`` keep the source's column order. A value is the cell's text as written (numbers and
    dates from typed formats such as XLSX, JSON or YAML are turned into their canonical text), or
    ``None`` for an empty cell.
    """

    values: dict[str, str | None]
    location: SourceLocation
    columns: tuple[str, ...] = field(default=())

    def cell(self, column: str) -> SourceLocation:
        return self.location.at(column)
