"""A deeply nested query or update is refused with 400 before any parser sees it (issue 13, item 2).

Before: 3,000 nested ``{`` (6 KB), 10,000 nested parentheses in a FILTER or 5,000 nested OPTIONALs
overflowed pyoxigraph's stack and killed the worker (segfault). Measured in a subprocess with
pyoxigraph 0.5.13, 8 MB stack (main thread and a Python thread alike): 2,200 nested groups, 4,800
parentheses, 2,700 OPTIONALs, 6,600 chained UNIONs, 9,600 chained ``||`` or ``!``. The default
``max_query_depth`` is 100 (chains: 1,000).

The app is driven from a subprocess, so a regression shows as a failed test, not a dead pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sinlod.server.protocol.query_policy import check_nesting, nesting_depth
from tests.hardening.conftest import AUTH

pytestmark = pytest.mark.anyio

KILLERS = {
    "braces": "SELECT * WHERE " + "{" * 3000 + "}" * 3000,
    "parens": "SELECT * WHERE { FILTER(" + "(" * 10000 + "1" + ")" * 10000 + ") }",
    "optionals": "SELECT * { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * 5000 + "}" * 5000 + "}",
    "unions": "SELECT * { " + " UNION ".join(["{?s ?p ?o}"] * 8000) + "}",
    "ors": "SELECT * { FILTER(" + " || ".join(["true"] * 12000) + ") }",
    "nots": "SELECT * { FILTER(" + "!" * 12000 + "true) }",
    "bnodes": "SELECT * { ?s ?p " + "[ ?p " * 3000 + "?o" + " ]" * 3000 + "}",
    "lt-hidden": "SELECT * { FILTER(?a<" + "(" * 3000 + "1>2" + ")" * 3000 + ") }",
}

_DRIVER = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    import httpx
    from sinlod.config import Settings
    from sinlod.server import create_app

    QUERY = {"Content-Type": "application/sparql-query"}
    UPDATE = {"Content-Type": "application/sparql-update", "Authorization": "Bearer t"}

    async def main() -> None:
        settings = Settings.load(env={}, store_path=Path(sys.argv[1]), update_token="t")
        app = create_app(settings)
        out = {}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
                for name, text in json.loads(sys.stdin.read()).items():
                    update = text.replace("SELECT *", "INSERT {} WHERE", 1)
                    answers = [
                        await c.post("/sparql", content=text.encode(), headers=QUERY),
                        await c.post("/sparql", data={"query": text}),
                        await c.post("/sparql", content=update.encode(), headers=UPDATE),
                    ]
                    if len(text) < 8000:  # a URL of any length is not sent by httpx
                        answers.append(await c.get("/sparql", params={"query": text}))
                    out[name] = [[r.status_code, r.json().get("detail", "")] for r in answers]
        print(json.dumps(out))

    asyncio.run(main())
    """
)


def test_killer_queries_get_400_and_the_process_lives(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(tmp_path / "store")],
        input=json.dumps(KILLERS),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"the server process died ({proc.returncode}): {proc.stderr[-2000:]}"
    )
    answers = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(answers) == set(KILLERS)
    for name, replies in answers.items():
        for status, detail in replies:
            assert status == 400, (name, detail)
            assert "max_query_depth" in detail, (name, detail)


_ENGINE = textwrap.dedent(
    """
    import sys, threading, pyoxigraph as ox
    text = sys.stdin.read()
    def run():
        try:
            list(ox.Store().query(text))
        except Exception as exc:
            print(type(exc).__name__)
    t = threading.Thread(target=run)
    t.start(); t.join()
    print("alive")
    """
)


@pytest.mark.parametrize("factor", [1, 5])
def test_the_limit_has_a_wide_margin_below_the_crash(factor: int) -> None:
    """pyoxigraph, in a worker thread, survives five times the default depth (groups,
    parentheses, OPTIONALs) and the default chain length: the limit sits well below the crash."""
    depth = 100 * factor
    text = (
        "SELECT * WHERE { FILTER("
        + "(" * depth
        + "1"
        + ")" * depth
        + ") "
        + "OPTIONAL { ?s ?p ?o " * depth
        + "}" * depth
        + " }"
    )
    text = "SELECT * WHERE " + "{" * depth + text[len("SELECT * WHERE ") :] + "}" * depth
    chain = "SELECT * { " + " UNION ".join(["{}"] * (1000 * factor)) + "}"
    for one in (text, chain):
        proc = subprocess.run(
            [sys.executable, "-c", _ENGINE], input=one, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0 and "alive" in proc.stdout, proc.stderr[-500:]


async def test_ordinary_nesting_still_answers(client: httpx.AsyncClient) -> None:
    query = "SELECT * WHERE " + "{" * 60 + " ?s ?p ?o " + "}" * 60 + " LIMIT 1"
    r = await client.get("/sparql", params={"query": query})
    assert r.status_code == 200, r.text


async def test_update_nesting_is_refused(client: httpx.AsyncClient) -> None:
    update = "INSERT DATA { <http://e/s> <http://e/p> " + "(" * 500 + "1" + ")" * 500 + " }"
    r = await client.post("/sparql", data={"update": update}, headers=AUTH)
    assert r.status_code == 400
    assert "nests" in r.json()["detail"]


# -- the scan is conservative ---------------------------------------------------------------------

#: Text that a careless scan misreads, none of which changes the real nesting.
DECOYS = [
    ' "}}}" ',
    " '))' ",
    ' """ ] } ) """ ',
    " ''' } ''' ",
    " # }}}\n ",
    " # }}}\r ",
    " <http://x/)>",
    " <http://x/#)> ",
    " ?a<?b ",
    " 1<2 ",
    " ex:a\\) ",
    ' "\\"}" ',
    " <2)x#> ",
    " 'a\\'}' ",
]


@st.composite
def nested(draw: st.DrawFn, depth: int = 0) -> tuple[str, int]:
    """SPARQL-ish text and the depth a lexer that reads it right finds."""
    kind = draw(st.sampled_from(["leaf", "group", "seq"]) if depth < 12 else st.just("leaf"))
    if kind == "leaf":
        return draw(st.sampled_from([*DECOYS, " ?s ?p ?o ", " ?x "])), 0
    if kind == "group":
        inner, d = draw(nested(depth + 1))
        opening, closing = draw(st.sampled_from([("{", "}"), ("(", ")"), ("[", "]")]))
        return opening + inner + closing, d + 1
    parts = draw(st.lists(nested(depth + 1), min_size=1, max_size=3))
    return "".join(p for p, _ in parts), max(d for _, d in parts)


@settings(max_examples=300, deadline=None)
@given(nested())
def test_scan_never_counts_less_than_the_real_depth(case: tuple[str, int]) -> None:
    text, depth = case
    assert nesting_depth(text) >= depth


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="{}()[]<>\"'#\\\n\r ?a1.:;", max_size=200))
def test_scan_of_any_text_is_at_least_the_plain_bracket_depth_outside_quotes(text: str) -> None:
    """On text with no quotes, comments or ``<``, the scan is exactly the bracket depth."""
    plain = "".join(c for c in text if c not in "<\"'#\\")
    depth = best = 0
    for c in plain:
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth = max(0, depth - 1)
        best = max(best, depth)
    assert nesting_depth(plain) == best


def test_hidden_brackets_are_counted() -> None:
    # '<' read as less-than: the parentheses after it are real.
    assert nesting_depth("FILTER(?a<" + "(" * 50 + "1>2" + ")" * 50 + ")") >= 51
    # A quote opened inside what could be an IRI: both readings are followed.
    assert nesting_depth("?a<'> " + "{" * 40 + " '") >= 40
    # Escaped closers in a local name do not lower the count.
    assert nesting_depth("{" * 30 + " ex:a" + "\\)" * 30 + " " + "{" * 30) >= 60
    with pytest.raises(Exception, match="max_query_depth"):
        check_nesting("{" * 30 + " ex:a" + "\\)" * 30 + " " + "{" * 30, 50)
