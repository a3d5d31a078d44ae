"""Refuse RDF documents that would take a parser down, before the parser sees them.

Every RDF document sinlod reads from outside (Graph Store writes, ``publish``, ``validate``,
``convert``'s RDF inputs) goes through ``check_rdf`` or ``check_rdf_file`` first:

* **RDF/XML entity bombs.** pyoxigraph expands the internal entities of a DTD: a 1.2 KB
  "billion laughs" document grew a worker to 17 GB. A DTD is accepted only when its expansion is
  bounded and small: internal general entities whose values refer to no other entity (no
  nesting), no parameter or external entities, and at most ``MAX_ENTITY_EXPANSION`` characters
  produced by all references together. Plain namespace entities (``<!ENTITY owl
  "http://www.w3.org/2002/07/owl#">``, as ontology editors write them) pass.
* **Deep JSON-LD.** pyoxigraph's JSON-LD parser recurses per nested object or list and overflows
  its stack at a few thousand levels (measured: tests/hardening/test_entities.py). Deeper than
  ``MAX_JSON_DEPTH`` is refused.

Turtle, TriG, N-Triples and N-Quads need nothing: their parsers do not recurse on nesting
(a million nested ``[`` or ``(`` parse). RDF/XML nested deeper than ``MAX_XML_DEPTH`` is refused:
its parser does not crash but takes more than quadratic time in the depth.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pyoxigraph as ox

from sinlod.errors import InputError

#: Characters all entity references of one RDF/XML document may expand to together.
MAX_ENTITY_EXPANSION = 1_000_000
#: Deepest nesting of JSON objects and arrays in a JSON-LD document.
MAX_JSON_DEPTH = 256
#: Deepest nesting of elements in an RDF/XML document.
MAX_XML_DEPTH = 256

_XML_TOKEN = re.compile(
    r"""<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>
      |(?P<close></[^>]*>)|(?P<open><[^!?/](?:[^>"']|"[^"]*"|'[^']*')*>)""",
    re.DOTALL | re.VERBOSE | re.IGNORECASE,
)

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(
    r"""<!ENTITY\s+(?P<pe>%\s+)?(?P<name>[^\s"'>]+)\s+(?P<rest>"[^"]*"|'[^']*'|[^>]*)\s*>""",
    re.IGNORECASE,
)
_REFERENCE = re.compile(r"&([^\s&;#]+);")


def check_rdf(data: bytes, fmt: ox.RdfFormat, where: str = "the document") -> None:
    """Raise ``InputError`` for an RDF/XML document whose DTD can expand beyond a small bound,
    or a JSON-LD document nested deeper than ``MAX_JSON_DEPTH``; return for anything else."""
    if fmt == ox.RdfFormat.RDF_XML:
        _check_dtd(data, where)
        _check_xml_depth(data, where)
    elif fmt == ox.RdfFormat.JSON_LD:
        _check_json_depth(data, where)


def check_rdf_file(path: Path, fmt: ox.RdfFormat) -> None:
    """``check_rdf`` for a file (``.gz`` decompressed); only the formats at risk are read."""
    if fmt not in (ox.RdfFormat.RDF_XML, ox.RdfFormat.JSON_LD):
        return
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                data = f.read()
        else:
            data = path.read_bytes()
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    check_rdf(data, fmt, str(path))


def _check_dtd(data: bytes, where: str) -> None:
    text = _as_text(data)
    if text is None:
        return
    start = text.find("<!DOCTYPE")
    if start < 0:
        start = text.upper().find("<!DOCTYPE")
        if start < 0:
            return
    end = re.compile(r"\]\s*>").search(text, start)
    subset_end = end.end() if end else -1
    subset = text[start : subset_end if subset_end >= 0 else len(text)]
    values: dict[str, str] = {}
    for match in _ENTITY.finditer(subset):
        name, rest = match.group("name"), match.group("rest").strip()
        if match.group("pe"):
            raise InputError(f"{where}: the DTD declares a parameter entity (%{name}); refused")
        if not rest or rest[0] not in "\"'":
            raise InputError(f"{where}: the DTD declares an external entity ({name}); refused")
        value = rest[1:-1]
        if "&" in value or "%" in value:  # &#38; is a reference too, once declared
            raise InputError(
                f"{where}: the DTD's entity {name} refers to another entity; nested entities"
                " are refused (they expand exponentially: 'billion laughs')"
            )
        values[name] = value
    if len(re.findall("<!ENTITY", subset, re.IGNORECASE)) > len(values):
        raise InputError(f"{where}: the DTD declares an entity this server cannot check; refused")
    expansion = 0
    for match in _REFERENCE.finditer(text, subset_end if subset_end >= 0 else start):
        expansion += len(values.get(match.group(1), ""))
        if expansion > MAX_ENTITY_EXPANSION:
            raise InputError(
                f"{where}: the DTD's entities would expand to more than"
                f" {MAX_ENTITY_EXPANSION:,} characters; refused"
            )


def _check_xml_depth(data: bytes, where: str) -> None:
    """Element nesting: pyoxigraph's RDF/XML parser takes time more than quadratic in it (10,000
    levels: 0.85 s; 20,000: 12 s; 100,000: over 5 minutes), so a 1 MB body could hold a core for
    minutes. Quick when the document has few tags."""
    if data.count(b"<") <= MAX_XML_DEPTH and data.count(b"<\x00") <= MAX_XML_DEPTH:
        return
    text = _decoded(data)
    depth = 0
    for match in _XML_TOKEN.finditer(text):
        if match.group("close"):
            depth = max(0, depth - 1)
        elif match.group("open") and not match.group("open").endswith("/>"):
            depth += 1
            if depth > MAX_XML_DEPTH:
                raise InputError(
                    f"{where}: the RDF/XML nests elements deeper than {MAX_XML_DEPTH} levels;"
                    " refused"
                )


def _decoded(data: bytes) -> str:
    """XML text by its byte-order mark (UTF-16/32), else UTF-8."""
    for bom, encoding in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    return data.decode("utf-8", errors="replace")


def _as_text(data: bytes) -> str | None:
    """The document as text in the encodings an XML parser may read it in; None when it holds
    no DOCTYPE in any of them."""
    if _DOCTYPE.search(data):
        return data.decode("utf-8", errors="replace")
    for encoding in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        if "<!DOCTYPE".encode(encoding) in data or "<!doctype".encode(encoding) in data:
            return data.decode(encoding, errors="replace")
    return None


def _check_json_depth(data: bytes, where: str) -> None:
    """JSON nesting, with brackets inside strings skipped (JSON strings are unambiguous: ``"``
    to an unescaped ``"``). Quick when the document has few brackets."""
    if data.count(b"{") + data.count(b"[") <= MAX_JSON_DEPTH:
        return
    depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise InputError(
                    f"{where}: the JSON-LD nests deeper than {MAX_JSON_DEPTH} levels; refused"
                )
        elif byte in (0x7D, 0x5D):
            depth = max(0, depth - 1)
