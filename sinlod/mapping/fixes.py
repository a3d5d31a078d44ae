"""Value fixes declared in a mapping (``sinlod:normalise``), applied to a cell before it is typed.

A steward's spreadsheet says ``NL`` where the model wants ``NLD`` and `` Rotterdam `` with the
spaces someone typed. Editing the data to fix that loses the link to what the source said; the
mapping says it instead, once per column::

    {"name": "country", "titles": "Land", "valueUrl": "country:{country}",
     "sinlod:normalise": ["trim", "upper", "country-alpha3"]}

Steps run in order on each cell (each item of a ``separator`` list), before ``null``, the
datatype and the URI templates see the value. A step that cannot fix a value raises ``BadValue``
and the cell is reported at its file, row and column like any other bad value. Dates and numbers
are not here: CSVW's own datatype ``format`` does those (``datatypes.py``). See docs/mappings.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sinlod.errors import InputError
from sinlod.mapping.countries import ALPHA2_TO_ALPHA3
from sinlod.mapping.datatypes import BadValue
from sinlod.mapping.languages import OTHER_TO_EU
from sinlod.mapping.templates import SCHEME
from sinlod.minting import slugify

Fix = Callable[[str], str]

_ALPHA3 = frozenset(ALPHA2_TO_ALPHA3.values())


def _country_alpha3(text: str) -> str:
    """An ISO 3166-1 alpha-2 code (or the EU's EL, UK) as alpha-3; alpha-3 stays as it is."""
    code = text.strip().upper()
    if code in _ALPHA3:
        return code
    found = ALPHA2_TO_ALPHA3.get(code)
    if found is None:
        raise BadValue("an ISO 3166-1 country code (alpha-2 such as NL, or alpha-3 such as NLD)")
    return found


def _language_alpha3(text: str) -> str:
    """An ISO 639-1 code (``nl``) as the EU table's code (``NLD``); those codes stay."""
    code = text.strip()
    found = OTHER_TO_EU.get(code.lower())
    if found is not None:
        return found
    if len(code) == 3 and code.isalpha():
        return code.upper()  # already the table's form; the link check knows the 7900 codes
    raise BadValue("a language code (ISO 639-1 such as nl, or the EU code such as NLD)")


def _web_address(text: str) -> str:
    """``www.example.org`` as ``https://www.example.org``; an address with a scheme stays."""
    text = text.strip()
    if SCHEME.match(text):
        return text
    if not text or any(c.isspace() for c in text) or "." not in text:
        raise BadValue("a web address (https://... or www....)")
    return "https://" + text


def _slug(text: str) -> str:
    slug = slugify(text)
    if not slug:
        raise BadValue("text with a letter or digit to make a key from")
    return slug


#: The steps ``sinlod:normalise`` may name, and what each does to a cell's text.
STEPS: dict[str, tuple[Fix, str]] = {
    "trim": (str.strip, "removes spaces, tabs and line breaks around the value"),
    "collapse-spaces": (lambda s: " ".join(s.split()), "trims and makes every run of spaces one"),
    "upper": (str.upper, "upper case"),
    "lower": (str.lower, "lower case"),
    "country-alpha3": (_country_alpha3, "ISO 3166-1 alpha-2 (NL, DE, EL, UK) to alpha-3 (NLD)"),
    "language-alpha3": (_language_alpha3, "ISO 639-1 (nl, en) to the EU code (NLD, ENG)"),
    "web-address": (_web_address, "adds https:// to an address without a scheme (www.x.org)"),
    "slug": (_slug, "a key for an IRI: lower case ASCII words joined by '-' (Götting → goetting)"),
}


def compile_fixes(spec: Any, where: str) -> Fix | None:
    """The function applying the steps of ``sinlod:normalise`` (a name or a list), or None.

    Raises ``InputError`` naming ``where`` for an unknown step.
    """
    if spec is None:
        return None
    names = [spec] if isinstance(spec, str) else spec
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InputError(f'{where}: "sinlod:normalise" must be a step name or a list of them')
    unknown = [n for n in names if n not in STEPS]
    if unknown:
        raise InputError(
            f'{where}: unknown "sinlod:normalise" step {json.dumps(unknown[0])}; '
            f"known steps: {', '.join(STEPS)}"
        )
    steps = [STEPS[n][0] for n in names]
    if len(steps) == 1:
        return steps[0]

    def run(text: str) -> str:
        for step in steps:
            text = step(text)
        return text

    return run
