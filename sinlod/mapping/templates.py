"""URI templates (RFC 6570) as CSVW uses them, compiled once per mapping.

Simple expressions are expanded here directly, which is what makes conversion fast; anything
else goes to the ``uritemplate`` package. Results are absolute IRIs: relative ones resolve against
the configured base (docs/model.md "CSVW as sinlod reads it").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urljoin

import uritemplate

from sinlod.namespaces import expand

_EXPRESSION = re.compile(r"\{([^{}]*)\}")
_SIMPLE_VAR = re.compile(r"^([+#]?)([A-Za-z0-9_.%]+)$")
_RESERVED = ":/?#[]@!$&'()*+,;="
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class Template:
    """A compiled URI template that expands to an absolute IRI string.

    Simple expressions (``{x}``, ``{+x}``, ``{#x}``) are expanded directly with ``quote``;
    anything else is handed to the ``uritemplate`` package. A relative result resolves against
    ``base``; when the template starts with literal text that already fixes the base, that
    resolution is done once here rather than per row.
    """

    def __init__(self, text: str, base: str) -> None:
        self.text = text
        expanded = expand(text)
        self.variables: tuple[str, ...] = ()
        self._fallback: uritemplate.URITemplate | None = None
        self._parts: list[tuple[str, str]] = []  # ("", literal) or (operator, variable)
        names: list[str] = []
        pos = 0
        for m in _EXPRESSION.finditer(expanded):
            if m.start() > pos:
                self._parts.append(("lit", expanded[pos : m.start()]))
            if not m.group(1).strip():
                raise ValueError(f"empty expression {{}} in URI template {text!r}")
            simple = _SIMPLE_VAR.match(m.group(1))
            if simple is None:
                self._fallback = uritemplate.URITemplate(expanded)
                names.extend(str(v) for v in self._fallback.variable_names)
            else:
                self._parts.append((simple.group(1), simple.group(2)))
                names.append(simple.group(2))
            pos = m.end()
        if "{" in expanded[pos:] or "}" in expanded[pos:]:
            raise ValueError(f"unbalanced braces in URI template {text!r}")
        if pos < len(expanded):
            self._parts.append(("lit", expanded[pos:]))
        self.variables = tuple(dict.fromkeys(names))
        self._absolute = True
        self._base = base
        head = self._parts[0][1] if self._parts and self._parts[0][0] == "lit" else ""
        if self._fallback is None and head and not SCHEME.match(head):
            self._parts[0] = ("lit", urljoin(base, head))
        elif not (head and SCHEME.match(head)):
            self._absolute = False

    @property
    def head(self) -> str:
        """The literal text before the first expression (after resolution against the base)."""
        if self._fallback is None and self._parts and self._parts[0][0] == "lit":
            return self._parts[0][1]
        return ""

    @property
    def is_constant(self) -> bool:
        return not self.variables

    def expand(self, values: Mapping[str, Any]) -> str:
        """The IRI for ``values`` (a value is a string, a list of strings or None)."""
        if self._fallback is not None:
            result = self._fallback.expand({k: v for k, v in values.items() if v is not None})
        else:
            out: list[str] = []
            for op, item in self._parts:
                if op == "lit":
                    out.append(item)
                else:
                    out.append(_expand_simple(op, values.get(item)))
            result = "".join(out)
        if not self._absolute and not SCHEME.match(result):
            result = urljoin(self._base, result)
        return result


def _expand_simple(op: str, value: Any) -> str:
    if value is None or value == []:
        return ""  # undefined: the expression disappears (RFC 6570 §3.2.1)
    if value == "":
        return "#" if op == "#" else ""
    items = value if isinstance(value, list) else [value]
    if op == "":
        return ",".join(quote(v, safe="") for v in items)
    if any("%" in v for v in items):
        return str(uritemplate.expand("{" + op + "x}", {"x": value}))
    text = ",".join(quote(v, safe=_RESERVED) for v in items)
    return "#" + text if op == "#" else text
