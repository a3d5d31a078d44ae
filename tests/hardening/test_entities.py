"""RDF bodies that would take a parser down are refused before it sees them (issue 13, items 2, 5).

Before: a 1.2 KB RDF/XML "billion laughs" PUT grew a worker to 17 GB; JSON-LD nested a few
thousand levels deep overflowed pyoxigraph's stack (segfault). Each case runs the app in a
subprocess with a 4 GB address-space limit, so a regression fails the test instead of taking
pytest (or the machine) down. RDF/XML nested 20,000 deep took 12 s of CPU to parse (100,000:
over 5 minutes) and is refused too; deep Turtle (100,000 levels) is shown safe the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from sinlod.errors import InputError
from sinlod.rdf_guard import check_rdf, check_rdf_file
from tests.conftest import run_cli
from tests.hardening.conftest import AUTH

pytestmark = pytest.mark.anyio

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def laughs(levels: int = 9) -> str:
    """The classic: each entity ten of the one before; ``&lol9;`` is 10^9 'lol's."""
    decls = ['<!ENTITY lol0 "lol">']
    for i in range(1, levels + 1):
        decls.append(f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">')
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n'
        + "\n".join(decls)
        + f'\n]>\n<rdf:RDF xmlns:rdf="{RDF}" xmlns:e="http://example.org/">'
        + f'<rdf:Description rdf:about="http://example.org/s"><e:p>&lol{levels};</e:p>'
        + "</rdf:Description></rdf:RDF>"
    )


def quadratic() -> str:
    """One 10 KB entity referenced 20,000 times: 200 MB from a 100 KB document, no nesting."""
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY a "{"a" * 10_000}">]>\n'
        f'<rdf:RDF xmlns:rdf="{RDF}" xmlns:e="http://example.org/">'
        '<rdf:Description rdf:about="http://example.org/s"><e:p>'
        + "&a;" * 20_000
        + "</e:p></rdf:Description></rdf:RDF>"
    )


def char_ref_nesting() -> str:
    """Nesting hidden behind character references (``&#38;`` is ``&`` once declared)."""
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY a "lol"><!ENTITY b "'
        + "&#38;a;" * 10
        + f'">]>\n<rdf:RDF xmlns:rdf="{RDF}" xmlns:e="http://example.org/">'
        '<rdf:Description rdf:about="http://example.org/s"><e:p>&b;</e:p>'
        "</rdf:Description></rdf:RDF>"
    )


def namespace_entities() -> str:
    """What ontology editors write: entities as namespace abbreviations; must keep working."""
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n'
        '  <!ENTITY owl "http://www.w3.org/2002/07/owl#" >\n'
        '  <!ENTITY ex "http://example.org/" >\n]>\n'
        f'<rdf:RDF xmlns:rdf="{RDF}" xmlns:owl="&owl;">'
        '<owl:Class rdf:about="&ex;Thing"/></rdf:RDF>'
    )


def deep_jsonld(depth: int) -> str:
    return (
        '{"@id": "http://example.org/s", "http://example.org/p": '
        + '{"http://example.org/p": ' * depth
        + '"x"'
        + "}" * depth
        + "}"
    )


def deep_turtle(depth: int) -> str:
    return (
        "<http://example.org/s> <http://example.org/p> "
        + "[ <http://example.org/p> " * depth
        + "( " * depth
        + "1"
        + " )" * depth
        + " ]" * depth
        + " ."
    )


def deep_rdfxml(depth: int) -> str:
    return (
        f'<rdf:RDF xmlns:rdf="{RDF}" xmlns:e="http://example.org/">'
        '<rdf:Description rdf:about="http://example.org/s">'
        + "<e:p><rdf:Description>" * depth
        + "</rdf:Description></e:p>" * depth
        + "</rdf:Description></rdf:RDF>"
    )


REFUSED = {
    "laughs": (laughs(), "application/rdf+xml"),
    "quadratic": (quadratic(), "application/rdf+xml"),
    "char-ref-nesting": (char_ref_nesting(), "application/rdf+xml"),
    "parameter-entity": (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p "x">]><r/>',
        "application/rdf+xml",
    ),
    "external-entity": (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<rdf:RDF xmlns:rdf="{RDF}" xmlns:e="http://example.org/">'
        '<rdf:Description rdf:about="http://example.org/s"><e:p>&x;</e:p>'
        "</rdf:Description></rdf:RDF>",
        "application/rdf+xml",
    ),
    "utf16-laughs": (laughs().replace('version="1.0"', 'version="1.0" encoding="UTF-16"'), "utf16"),
    "deep-jsonld": (deep_jsonld(20_000), "application/ld+json"),
    "deep-rdfxml": (deep_rdfxml(20_000), "application/rdf+xml"),
}
ACCEPTED = {
    "namespace-entities": (namespace_entities(), "application/rdf+xml"),
    "deep-turtle": (deep_turtle(3_000), "text/turtle"),
    "rdfxml-at-the-limit": (deep_rdfxml(120), "application/rdf+xml"),
    "jsonld-at-the-limit": (deep_jsonld(200), "application/ld+json"),
}

_DRIVER = textwrap.dedent(
    """
    import asyncio, json, resource, sys
    LIMIT = 4_000_000_000  # address space: the store's own reservations need ~2 GB
    from pathlib import Path
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))
    import httpx
    from sinlod.config import Settings
    from sinlod.server import create_app

    async def main() -> None:
        settings = Settings.load(
            env={}, store_path=Path(sys.argv[1]), update_token="t", shacl_gate=False
        )
        app = create_app(settings)
        out = {}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(
                transport=transport, base_url="http://localhost", timeout=120
            )
            async with client as c:
                for name, (text, media) in json.loads(sys.stdin.read()).items():
                    body = text.encode("utf-16") if media == "utf16" else text.encode()
                    if media == "utf16":
                        media = "application/rdf+xml"
                    r = await c.put(
                        "/graph-store", params={"graph": "http://example.org/g/" + name},
                        content=body,
                        headers={"Content-Type": media, "Authorization": "Bearer t"},
                    )
                    out[name] = [r.status_code, r.text[:300]]
        print(json.dumps(out))

    asyncio.run(main())
    """
)


def _drive(tmp_path: Path, cases: dict[str, tuple[str, str]]) -> dict[str, list[object]]:
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(tmp_path / "store")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"the server process died ({proc.returncode}): {proc.stderr[-1500:]}"
    )
    answers: dict[str, list[object]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return answers


def test_bombs_are_refused_with_400_and_the_process_lives(tmp_path: Path) -> None:
    answers = _drive(tmp_path, REFUSED)
    for name, (status, text) in answers.items():
        assert status == 400, (name, status, text)


def test_safe_documents_are_written(tmp_path: Path) -> None:
    answers = _drive(tmp_path, ACCEPTED)
    for name, (status, text) in answers.items():
        assert status in (200, 201, 204), (name, status, text)


async def test_namespace_entities_expand_as_written(ungated_client: httpx.AsyncClient) -> None:
    r = await ungated_client.put(
        "/graph-store",
        params={"graph": "http://example.org/g/ns"},
        content=namespace_entities().encode(),
        headers={**AUTH, "Content-Type": "application/rdf+xml"},
    )
    assert r.status_code in (201, 204), r.text
    r = await ungated_client.get(
        "/sparql",
        params={"query": "ASK { GRAPH ?g { <http://example.org/Thing> a ?c } }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert r.json()["boolean"] is True


@pytest.mark.parametrize(
    "name", ["laughs", "quadratic", "char-ref-nesting", "deep-jsonld", "deep-rdfxml"]
)
def test_guard_refuses(name: str) -> None:
    text, media = REFUSED[name]
    fmt = ox.RdfFormat.JSON_LD if "json" in media else ox.RdfFormat.RDF_XML
    with pytest.raises(InputError, match="refused"):
        check_rdf(text.encode(), fmt)


@pytest.mark.parametrize("command", ["validate", "publish"])
def test_cli_refuses_a_bomb_file(tmp_path: Path, command: str) -> None:
    """``validate`` and ``publish`` read RDF files through the same guard (exit code 2)."""
    bomb = tmp_path / "bomb.rdf"
    bomb.write_text(laughs())
    args = [command, str(bomb)]
    if command == "publish":
        args += ["--store", str(tmp_path / "store")]
    result = run_cli(args)
    assert result.exit_code == 2, result.output
    assert "refused" in result.output


def test_turtle_parser_does_not_recurse() -> None:
    """100,000 nested blank nodes and collections parse (in a subprocess, as it would crash)."""
    code = (
        "import sys, pyoxigraph as ox; "
        "print(sum(1 for _ in ox.parse(sys.stdin.buffer.read(), format=ox.RdfFormat.TURTLE)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=deep_turtle(100_000).encode(),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    assert int(proc.stdout) == 100_000 * 3 + 1


def test_bulk_load_path_is_guarded(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.rdf"
    bomb.write_text(laughs())
    with pytest.raises(InputError, match="refers to another entity"):
        check_rdf_file(bomb, ox.RdfFormat.RDF_XML)
