"""sinlod: Social Innovation Linked Open Data.

A library first, with a thin CLI (``sinlod``) and a FastAPI server over it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from sinlod.config import Settings
from sinlod.errors import (
    ConversionFailed,
    InputError,
    InvalidData,
    QueryError,
    RecordError,
    SinlodError,
    SourceLocation,
    StoreError,
)
from sinlod.store import Store

__all__ = [
    "ConversionFailed",
    "InputError",
    "InvalidData",
    "QueryError",
    "RecordError",
    "Settings",
    "SinlodError",
    "SourceLocation",
    "Store",
    "StoreError",
    "__version__",
]
