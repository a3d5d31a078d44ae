"""The reference tables as sets of codes, for checking every link of a batch in microseconds.

Validation must not get slower because the tables are complete (11 000 codes, 110 000 triples,
0.3 s to parse). So ``make reference`` also writes ``index.json``: the codes of every concept
scheme, with the SHA-256 of the Turtle files it was made from. ``load_tables`` uses the index
when the hashes still match (hashing 4 MB takes a few milliseconds) and parses the Turtle files
otherwise, so a table edited by hand is never judged by a stale index. Labels, hidden labels
(codes in other notations) and replacements are only needed to explain a problem; they are
parsed from the Turtle files on first use (``details``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse

from sinlod.errors import InputError

SKOS = "http://www.w3.org/2004/02/skos/core#"
IN_SCHEME = SKOS + "inScheme"
HIDDEN = SKOS + "hiddenLabel"
PREF = SKOS + "prefLabel"
ALT = SKOS + "altLabel"
REPLACED_BY = "http://purl.org/dc/terms/isReplacedBy"
INDEX_FILE = "index.json"
_IN_SCHEME = NamedNode(IN_SCHEME)
INDEX_FORMAT = "sinlod-reference-index/1"


@dataclass
class Details:
    """What explains a problem: labels, codes in other notations, replacements."""

    labels: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    alt: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    hidden: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # label -> IRIs
    replaced_by: dict[str, str] = field(default_factory=dict)


@dataclass
class CodeTables:
    """Concept IRIs per concept scheme of ``data/reference/`` (or another directory)."""

    directory: Path
    files: tuple[Path, ...]
    members: Mapping[str, frozenset[str]]
    #: True when the codes came from ``index.json`` rather than from parsing the Turtle.
    from_index: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def has(self, scheme: str) -> bool:
        return scheme in self.members

    def schemes_of(self, iri: str) -> list[str]:
        return sorted(s for s, codes in self.members.items() if iri in codes)

    def __len__(self) -> int:
        return sum(len(codes) for codes in self.members.values())

    @cached_property
    def details(self) -> Details:
        with self._lock:
            details = Details()
            for path in self.files:
                for t in _parse(path):
                    s, p, o = t.subject, t.predicate.value, t.object
                    if not isinstance(s, NamedNode):
                        continue
                    if p in (PREF, ALT, HIDDEN) and isinstance(o, Literal):
                        if p == PREF:
                            details.labels[s.value].setdefault(o.language or "", o.value)
                        elif p == ALT:
                            details.alt[s.value].append(o.value)
                        else:
                            details.hidden[o.value.casefold()].add(s.value)
                    elif p == REPLACED_BY and isinstance(o, NamedNode):
                        details.replaced_by[s.value] = o.value
            return details

    def label(self, iri: str, lang: str = "en") -> str | None:
        labels = self.details.labels.get(iri, {})
        for choice in (lang, "en", ""):
            if choice in labels:
                return labels[choice]
        return next(iter(labels.values()), None)


def _parse(path: Path) -> list[Triple]:
    try:
        return [q.triple for q in parse(path=str(path), format=RdfFormat.TURTLE)]
    except SyntaxError as exc:
        raise InputError(f"{path}: not valid Turtle: {exc}") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


_cache: dict[tuple[str, tuple[tuple[str, int, int], ...]], CodeTables] = {}
_cache_lock = threading.Lock()


def load_tables(directory: Path) -> CodeTables:
    """The code tables of ``directory`` (``*.ttl``); a missing directory has none.

    Kept per process until a file changes (the server checks every write). Raises
    ``InputError`` for a table that does not parse.
    """
    files = tuple(sorted(directory.glob("*.ttl"))) if directory.is_dir() else ()
    stamps = []
    for p in (*files, directory / INDEX_FILE):
        try:
            st = p.stat()
            stamps.append((p.name, st.st_size, st.st_mtime_ns))
        except OSError:
            stamps.append((p.name, -1, -1))
    key = (str(directory.resolve()), tuple(stamps))
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None:
            cached = _read_index(directory, files) or _read_turtle(directory, files)
            if len(_cache) >= 8:
                _cache.clear()
            _cache[key] = cached
        return cached


def _read_turtle(directory: Path, files: tuple[Path, ...]) -> CodeTables:
    members: dict[str, set[str]] = defaultdict(set)
    for path in files:
        for t in _parse(path):
            s, o = t.subject, t.object
            if t.predicate == _IN_SCHEME and isinstance(s, NamedNode) and isinstance(o, NamedNode):
                members[o.value].add(s.value)
    return CodeTables(directory, files, {s: frozenset(c) for s, c in members.items()})


def _read_index(directory: Path, files: tuple[Path, ...]) -> CodeTables | None:
    """The tables from ``index.json`` if it was made from exactly these files, else None."""
    path = directory / INDEX_FILE
    if not path.is_file():
        return None
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(index, dict) or index.get("format") != INDEX_FORMAT:
        return None
    if index.get("files") != {p.name: _sha256(p) for p in files}:
        return None
    members = {
        scheme: frozenset(entry["namespace"] + code for code in entry["codes"].split())
        for scheme, entry in index["schemes"].items()
    }
    return CodeTables(directory, files, members, from_index=True)


def index_text(directory: Path) -> str:
    """``index.json`` for the Turtle files of ``directory``, deterministic (``make reference``)."""
    files = tuple(sorted(directory.glob("*.ttl")))
    tables = _read_turtle(directory, files)
    schemes = {}
    for scheme, iris in sorted(tables.members.items()):
        namespace = _common_prefix(iris)
        codes = sorted(iri[len(namespace) :] for iri in iris)
        schemes[scheme] = {"namespace": namespace, "codes": " ".join(codes)}
    index = {
        "format": INDEX_FORMAT,
        "about": "Codes per concept scheme of the *.ttl files beside it; written by "
        "`make reference`, used only while the SHA-256 of every file matches.",
        "files": {p.name: _sha256(p) for p in files},
        "schemes": schemes,
    }
    return json.dumps(index, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def _common_prefix(iris: Iterable[str]) -> str:
    """The namespace of a scheme's codes: the common prefix, up to its last ``/`` or ``#``."""
    items = sorted(iris)
    if not items:
        return ""
    first, last = items[0], items[-1]
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    prefix = first[:n]
    cut = max(prefix.rfind("/"), prefix.rfind("#"))
    return prefix[: cut + 1]
