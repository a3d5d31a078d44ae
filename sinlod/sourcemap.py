"""Which source cells each triple came from, so that findings point at rows and columns.

Conversion adds an entry per emitted triple; validation asks for the most precise place it can
find for a SHACL result: the exact triple (focus, path, value), else the property of the focus
node, else the rows that described the focus node at all.
"""

from __future__ import annotations

from collections import defaultdict

from sinlod.errors import SourceLocation


class SourceMap:
    """Triple → source cells. Terms are kept as N-Triples strings, which is cheap and exact."""

    def __init__(self) -> None:
        self._by_triple: dict[tuple[str, str, str], list[SourceLocation]] = defaultdict(list)
        self._by_property: dict[tuple[str, str], list[SourceLocation]] = defaultdict(list)
        self._by_subject: dict[str, list[SourceLocation]] = defaultdict(list)

    def add(self, s: str, p: str, o: str, where: SourceLocation) -> None:
        """Record that triple (s, p, o) came from cell ``where`` (terms in N-Triples syntax)."""
        _append_once(self._by_triple[(s, p, o)], where)
        _append_once(self._by_property[(s, p)], where)
        _append_once(self._by_subject[s], where.at(None))

    def add_subject(self, s: str, where: SourceLocation) -> None:
        """Record that the row at ``where`` describes ``s`` (even if it gave it no triple)."""
        _append_once(self._by_subject[s], where.at(None))

    def fill(self, nodes: set[str]) -> None:
        """Make sure the places of ``nodes`` (N-Triples terms) are known before ``locate``.

        A no-op here; maps that record places lazily (large RDF files) do the work in it.
        """

    def locate(self, s: str, p: str | None = None, o: str | None = None) -> list[SourceLocation]:
        """The most precise source places known for a focus node, a property, or a triple."""
        if p is not None and o is not None and (s, p, o) in self._by_triple:
            return list(self._by_triple[(s, p, o)])
        if p is not None and (s, p) in self._by_property:
            return list(self._by_property[(s, p)])
        return list(self._by_subject.get(s, ()))

    def update(self, other: SourceMap) -> None:
        for key, locs in other._by_triple.items():
            for loc in locs:
                _append_once(self._by_triple[key], loc)
        for pkey, locs in other._by_property.items():
            for loc in locs:
                _append_once(self._by_property[pkey], loc)
        for skey, locs in other._by_subject.items():
            for loc in locs:
                _append_once(self._by_subject[skey], loc)

    def __len__(self) -> int:
        return len(self._by_triple)


def _append_once(items: list[SourceLocation], loc: SourceLocation) -> None:
    if not items or items[-1] != loc and loc not in items:
        items.append(loc)
