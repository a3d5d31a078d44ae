"""YAML records: a top-level list of flat mappings.

The document is composed into nodes first, so each record knows the line where it starts; each
item is then constructed on its own with the safe loader (no arbitrary Python objects).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from sinlod.errors import InputError, RecordError, SourceLocation
from sinlod.records import Record, decode, read_bytes
from sinlod.records.from_json import flat_record

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path, display_name: str, *, encoding: str | None = None) -> Iterator[Record]:
    """Yield one record per item of the top-level list. See ``read_records``."""
    text = decode(read_bytes(path, display_name), display_name, encoding)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:  # comments only: no records, and not an empty list either
            raise InputError(f"{display_name}: no YAML document, expected a YAML list of records")
        if not isinstance(root, yaml.SequenceNode):
            raise RecordError(
                "expected a YAML list of records",
                SourceLocation(display_name, root.start_mark.line + 1),
            )
        for node in root.value:
            where = SourceLocation(display_name, node.start_mark.line + 1)
            if not isinstance(node, yaml.MappingNode):
                yield Record({}, where, (), (RecordError("expected a mapping (a record)", where),))
                continue
            yield flat_record(loader.construct_object(node, deep=True), where)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = f" (column {mark.column + 1})" if mark is not None else ""
        raise RecordError(
            f"not valid YAML{column}: {exc.problem or exc.context}",
            SourceLocation(display_name, line),
        ) from exc
    except yaml.YAMLError as exc:
        raise RecordError(f"not valid YAML: {exc}", SourceLocation(display_name)) from exc
    finally:
        loader.dispose()
