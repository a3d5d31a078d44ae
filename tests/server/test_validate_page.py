"""``/validate``: the grid marks exactly the cells ``sinlod validate`` names, the downloads are the
CLI's own reports, the limits answer with clear errors, nothing uploaded stays on disk, and the
write token previews and publishes.

The corpus: every records file the CLI validation tests break (``tests/fixtures/validate/records``
with that folder's shapes and mappings; ``tests/fixtures/records/bad`` with the shipped ones), and
an XLSX workbook made from the broken projects sheet. For each, the CLI runs in the file's folder
and its places (``file[sheet]:row column``) are compared with the cells the page marks.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import re
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from sinlod.config import Settings
from sinlod.server import create_app
from sinlod.store import Store
from tests.conftest import FIXTURES, run_cli
from tests.server.conftest import TOKEN, client_for

pytestmark = pytest.mark.anyio

VALIDATE = FIXTURES / "validate"
BAD = FIXTURES / "records" / "bad"
HTML = {"Accept": "text/html"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FOLDERS = {"shapes_dir": "shapes", "ontology_dir": "ontology", "data_dir": "data"}


def fixture_settings(store: Path, kind: str, **extra: Any) -> Settings:
    """The settings a corpus file is checked with: the validate folder's rules and mappings, or
    the shipped ones (``Settings`` defaults)."""
    if kind == "shipped":
        return Settings.load(env={}, store_path=store, update_token=TOKEN, **extra)
    dirs = {key: VALIDATE / folder for key, folder in FOLDERS.items()}
    return Settings.load(
        env={},
        store_path=store,
        mappings_dir=VALIDATE / "mappings",
        update_token=TOKEN,
        **dirs,
        **extra,
    )


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every temporary file of the process (the server's and the multipart parser's) goes here,
    so a test can see what was left behind."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield root


async def client_with(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for c in client_for(create_app(settings)):
        yield c


@pytest.fixture
async def client(tmp_path: Path, temp_root: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in client_with(fixture_settings(tmp_path / "store", "validate")):
        yield c


# -- the corpus and what the CLI says about it ---------------------------------------------------


def xlsx_from_csv(source: Path, target: Path, sheet: str, blank_after_header: bool) -> Path:
    """A workbook with one sheet holding the CSV's cells, optionally with a blank row between
    the header and the data (as stewards leave them)."""
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    with source.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.reader(f)):
            ws.append(row)
            if n == 0 and blank_after_header:
                ws.append([])
    book.save(target)
    return target


#: Workbooks made in the test: name → (records file it is made from, a blank row after the header)
WORKBOOKS = {
    "projects.xlsx": (VALIDATE / "records" / "projects.csv", False),
    "bad.xlsx": (BAD / "projects.csv", True),
}


CORPUS = [
    ("validate", VALIDATE / "records" / "projects.csv"),
    ("validate", VALIDATE / "records" / "bad-date.csv"),
    ("validate", VALIDATE / "records" / "conforming.csv"),
    ("shipped", BAD / "projects.csv"),
    ("shipped", BAD / "organisations.csv"),
    ("validate", Path("projects.xlsx")),  # WORKBOOKS: made in the test
    ("shipped", Path("bad.xlsx")),
]

_PLACE = re.compile(
    r"^(?P<file>[^\[:\s]+)(?:\[(?P<sheet>[^\]]*)\])?(?::(?P<row>\d+))?"
    r'(?: column "(?P<column>[^"]*)")?: '
)


def cli_places(
    kind: str, path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> set[tuple[str | None, int | None, str | None]]:
    """(sheet, row, column) of every place ``sinlod validate FILE`` names, run in the file's
    folder: from ``--format json`` when the records convert, else from the problem lines."""
    for name in ("SINLOD_CONFIG", "SINLOD_SHAPES_DIR", "SINLOD_ONTOLOGY_DIR", "SINLOD_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    args: list[str] = []
    if kind == "validate":
        config = tmp_path / "sinlod.toml"
        lines = [f'{k} = "{VALIDATE / f}"\n' for k, f in FOLDERS.items()]
        lines.append(f'mappings_dir = "{VALIDATE / "mappings"}"\n')
        config.write_text("[sinlod]\n" + "".join(lines), encoding="utf-8")
        args = ["--config", str(config)]
    with monkeypatch.context() as m:
        m.chdir(path.parent)
        result = run_cli([*args, "validate", "--quiet", "--format", "json", path.name])
    places: set[tuple[str | None, int | None, str | None]] = set()
    if result.stdout.startswith("{"):
        for finding in json.loads(result.stdout)["findings"]:
            for loc in finding["locations"]:
                assert loc["file"] == path.name
                places.add((loc["sheet"], loc["row"], loc["column"]))
        return places
    assert result.exit_code == 1, result.stderr
    for line in result.stderr.splitlines():
        match = _PLACE.match(line)
        if match and match["file"] == path.name:
            row = int(match["row"]) if match["row"] else None
            places.add((match["sheet"], row, match["column"]))
    assert places, result.stderr
    return places


def header_of(path: Path) -> dict[str | None, tuple[int, list[str]]]:
    """Each table's header row number and columns, read without sinlod."""
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        out: dict[str | None, tuple[int, list[str]]] = {}
        for ws in book.worksheets:
            for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
                if any(v is not None for v in row):
                    out[ws.title] = (number, [str(v) for v in row if v is not None])
                    break
        return out
    with path.open(encoding="utf-8", newline="") as f:
        return {None: (1, next(csv.reader(f)))}


def expected_cells(
    places: set[tuple[str | None, int | None, str | None]], path: Path
) -> set[tuple[str, str, str]]:
    """The grid cells the places name (``sheet``, ``row``, ``column``; ``""`` for the header
    row and for the row-number column): the rule ``/validate`` documents."""
    headers = header_of(path)
    cells = set()
    for sheet, row, column in places:
        header_row, columns = headers[sheet]
        row_key = "" if row is None or row == header_row else str(row)
        cells.add((sheet or "", row_key, column if column in columns else ""))
    return cells


class MarkedCells(HTMLParser):
    """The cells of ``table.grid`` elements that carry a severity class."""

    def __init__(self) -> None:
        super().__init__()
        self.sheet = ""
        self.cells: dict[tuple[str, str, str], str] = {}
        self.all_cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table" and "grid" in a.get("class", "").split():
            self.sheet = a.get("data-sheet", "")
        if tag in ("td", "th") and "data-row" in a:
            self.all_cells += 1
            severity = [c for c in a.get("class", "").split() if c.startswith("sev-")]
            if severity:
                self.cells[(self.sheet, a["data-row"], a["data-column"])] = severity[0]


def marked(page: str) -> MarkedCells:
    parser = MarkedCells()
    parser.feed(page)
    return parser


@pytest.mark.parametrize(("kind", "source"), CORPUS, ids=[p.name for _, p in CORPUS])
async def test_grid_marks_exactly_the_cells_the_cli_names(
    kind: str, source: Path, tmp_path: Path, temp_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if source.suffix == ".xlsx":
        folder = tmp_path / "book"
        folder.mkdir()
        made_from, blank = WORKBOOKS[source.name]
        source = xlsx_from_csv(made_from, folder / source.name, "projects", blank)
    places = cli_places(kind, source, tmp_path, monkeypatch)
    expected = expected_cells(places, source)
    upload = {"file": (source.name, source.read_bytes(), "application/octet-stream")}
    async for client in client_with(fixture_settings(tmp_path / "store", kind)):
        page = await client.post("/validate", files=upload, headers=HTML)
        api = await client.post("/validate", files=upload)
    assert page.status_code == 200, page.text
    found = marked(page.text)
    assert set(found.cells) == expected
    assert found.all_cells > len(expected)  # the whole table is shown, not only marked cells
    body = api.json()
    tables = body["tables"]
    from_api = {
        (
            tables[m["table"]]["sheet"] or "",
            "" if m["row"] is None else str(m["row"]),
            m["column"] or "",
        )
        for m in body["marks"]
    }
    assert from_api == expected
    located = {
        (loc["sheet"], loc["row"], loc["column"])
        for f in body["report"]["findings"]
        for loc in f["locations"]
    }
    assert located == places  # the same file:row:column the CLI names, no more
    assert {loc["file"] for f in body["report"]["findings"] for loc in f["locations"]} <= {
        source.name
    }
    assert list(temp_root.iterdir()) == []


async def test_severities_and_messages_on_the_cells(client: httpx.AsyncClient) -> None:
    data = (VALIDATE / "records" / "projects.csv").read_bytes()
    page = await client.post("/validate", files={"file": ("projects.csv", data)}, headers=HTML)
    cells = marked(page.text).cells
    assert cells == {
        ("", "10", ""): "sev-warning",
        ("", "11", "start"): "sev-violation",
        ("", "12", "end"): "sev-violation",
    }
    assert (
        'id="cell-0-12-end" data-row="12" data-column="end" class="sev-violation"'
        ' title="Violation: Project end date must not be before its start date">2015</td>'
        in page.text
    )
    # The list beside the grid links each finding to its cell.
    assert '<a href="#cell-0-11-start" data-cell="cell-0-11-start">projects.csv:11 column' in (
        page.text
    )
    assert 'data-violations="2" data-warnings="1" data-infos="0"' in page.text


async def test_conforming_file_has_no_marks(client: httpx.AsyncClient) -> None:
    data = (VALIDATE / "records" / "conforming.csv").read_bytes()
    page = await client.post("/validate", files={"file": ("conforming.csv", data)}, headers=HTML)
    assert page.status_code == 200
    assert marked(page.text).cells == {}
    assert 'id="no-findings"' in page.text
    assert '<table class="grid clean"' in page.text


async def test_a_mapping_sent_with_the_file_is_used(client: httpx.AsyncClient) -> None:
    """bad-date.csv under another name: no server mapping reads it, the one sent does."""
    data = (VALIDATE / "records" / "bad-date.csv").read_bytes()
    mapping = (VALIDATE / "mappings" / "bad-date.csv-metadata.json").read_text(encoding="utf-8")
    renamed = mapping.replace('"url": "bad-date.csv"', '"url": "dates.csv"')
    without = await client.post("/validate", files={"file": ("dates.csv", data)})
    assert without.status_code == 400
    assert 'no mapping for table "dates"' in without.json()["detail"]
    files = {"file": ("dates.csv", data), "mapping": ("dates.json", renamed.encode())}
    with_mapping = await client.post("/validate", files=files)
    assert with_mapping.status_code == 200, with_mapping.text
    marks = with_mapping.json()["marks"]
    assert [(m["row"], m["column"], m["severity"]) for m in marks] == [(2, "start", "Violation")]


# -- downloads: the CLI's own renderers -----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["sarif", "json", "ttl"])
async def test_downloads_are_the_cli_reports(
    fmt: str, client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = VALIDATE / "records" / "projects.csv"
    page = await client.post(
        "/validate", files={"file": ("projects.csv", source.read_bytes())}, headers=HTML
    )
    report = html.unescape(re.search(r'name="report" value="([^"]*)"', page.text)[1])  # type: ignore[index]
    got = await client.post(
        "/validate/report", data={"report": report, "format": fmt, "file": "projects.csv"}
    )
    assert got.status_code == 200
    assert got.headers["content-disposition"] == (
        f'attachment; filename="projects.validation.{fmt}"'
    )
    config = tmp_path / "sinlod.toml"
    config.write_text(
        "[sinlod]\n"
        + "".join(f'{k} = "{VALIDATE / f}"\n' for k, f in FOLDERS.items())
        + f'mappings_dir = "{VALIDATE / "mappings"}"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(source.parent)
    cli = run_cli(["--config", str(config), "validate", "-q", "--format", fmt, source.name])
    assert cli.exit_code == 1
    if fmt == "ttl":
        assert got.text == cli.stdout
    else:
        assert got.json() == json.loads(cli.stdout)


async def test_a_report_that_is_not_one_is_422(client: httpx.AsyncClient) -> None:
    got = await client.post("/validate/report", data={"report": "{}", "format": "sarif"})
    assert got.status_code == 422
    assert "expected the JSON report" in got.json()["detail"]
    other = await client.post("/validate/report", data={"report": "{}", "format": "pdf"})
    assert other.status_code == 422
    assert "expected one of sarif, json, ttl" in other.json()["detail"]


# -- limits and refusals ------------------------------------------------------------------------


async def test_a_file_over_the_limit_is_413(tmp_path: Path, temp_root: Path) -> None:
    settings = fixture_settings(tmp_path / "store", "validate", validate_max_bytes=100)
    data = (VALIDATE / "records" / "projects.csv").read_bytes()
    assert len(data) > 100
    async for client in client_with(settings):
        got = await client.post("/validate", files={"file": ("projects.csv", data)})
        page = await client.post("/validate", files={"file": ("projects.csv", data)}, headers=HTML)
        huge = await client.post(
            "/validate",
            content=b"x" * 70_000,  # past twice the limit and the form's allowance
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
    assert got.status_code == 413
    assert got.json()["detail"] == (
        "projects.csv is larger than 100 bytes, the most /validate checks here"
        " (setting validate_max_bytes); check a bigger file with `sinlod validate FILE`"
    )
    assert page.status_code == 413 and "validate_max_bytes" in page.text
    assert huge.status_code == 413
    assert list(temp_root.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("report.pdf", b"%PDF-1.4", "a CSV (.csv) or XLSX (.xlsx) file (got .pdf)"),
        ("projects", b"id\n1\n", "(got a file without an extension)"),
        ("projects.xlsx", b"id,title\n1,x\n", "not an XLSX workbook (expected a ZIP archive)"),
        ("projects.csv", b"PK\x03\x04rest", "not CSV text"),
    ],
)
async def test_a_file_that_is_not_csv_or_xlsx_is_415(
    client: httpx.AsyncClient, name: str, data: bytes, words: str
) -> None:
    got = await client.post("/validate", files={"file": (name, data)})
    assert got.status_code == 415
    assert words in got.json()["detail"]


async def test_a_mapping_that_is_not_json_is_415(client: httpx.AsyncClient) -> None:
    files = {"file": ("projects.csv", b"id\n"), "mapping": ("m.json", b"{not json")}
    got = await client.post("/validate", files=files)
    assert got.status_code == 415
    assert "not JSON" in got.json()["detail"]


async def test_no_file_is_422(client: httpx.AsyncClient) -> None:
    got = await client.post("/validate", data={"x": "y"})
    assert got.status_code == 422
    assert "choose a CSV (.csv) or XLSX (.xlsx) file" in got.json()["detail"]


async def test_an_unreadable_workbook_is_a_clear_400(
    client: httpx.AsyncClient, temp_root: Path
) -> None:
    data = (FIXTURES / "records" / "readers" / "broken.xlsx").read_bytes()
    got = await client.post("/validate", files={"file": ("broken.xlsx", data)})
    assert got.status_code in (400, 415)
    assert "broken.xlsx" in got.json()["detail"]
    assert list(temp_root.iterdir()) == []


async def test_a_check_over_the_time_limit_is_503_and_leaves_nothing(
    tmp_path: Path, temp_root: Path
) -> None:
    settings = fixture_settings(tmp_path / "store", "validate", validate_timeout=0.001)
    data = (VALIDATE / "records" / "projects.csv").read_bytes()
    async for client in client_with(settings):
        got = await client.post("/validate", files={"file": ("projects.csv", data)})
    assert got.status_code == 503
    assert got.json()["code"] == "validate-timeout"
    assert got.json()["detail"].startswith(
        "checking the file took longer than 0.001 s, the limit here (setting validate_timeout)"
    )
    # The abandoned check still removes its folder when it ends.
    deadline = time.monotonic() + 60
    while list(temp_root.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(temp_root.iterdir()) == []


async def test_the_uploaded_file_is_written_then_removed(
    client: httpx.AsyncClient, temp_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check does read a file on disk (so the test above means something): it sees the
    folder while it runs, and the folder is gone after."""
    from sinlod.server.workbench import validate as workbench

    seen: list[list[str]] = []
    real = workbench.check_file  # type: ignore[attr-defined]

    def spy(paths: list[Path], settings: Settings, options: Any) -> Any:
        seen.append(sorted(p.name for p in temp_root.rglob("*")))
        return real(paths, settings, options)

    monkeypatch.setattr(workbench, "check_file", spy)
    data = (VALIDATE / "records" / "projects.csv").read_bytes()
    got = await client.post("/validate", files={"file": ("projects.csv", data)})
    assert got.status_code == 200
    assert len(seen) == 1 and "projects.csv" in seen[0]
    assert list(temp_root.iterdir()) == []


# -- the write token: preview and publish --------------------------------------------------------


def release_count(settings: Settings) -> int:
    with Store.open(settings.store_path, read_only=True) as store:
        return len(store.releases())


async def test_preview_and_publish_need_the_token(tmp_path: Path, temp_root: Path) -> None:
    settings = fixture_settings(tmp_path / "store", "validate")
    data = (VALIDATE / "records" / "conforming.csv").read_bytes()
    files = {"file": ("conforming.csv", data)}
    async for client in client_with(settings):
        none = await client.post("/validate/publish", files=files, data={"action": "preview"})
        wrong = await client.post(
            "/validate/publish", files=files, data={"action": "publish", "token": "nope"}
        )
    assert none.status_code == 401 and wrong.status_code == 401
    async for client in client_with(dataclasses.replace(settings, update_token="")):
        off = await client.post("/validate/publish", files=files, headers=AUTH)
    assert off.status_code == 403


async def test_preview_changes_nothing_then_publish_writes(tmp_path: Path, temp_root: Path) -> None:
    settings = fixture_settings(tmp_path / "store", "validate")
    data = (VALIDATE / "records" / "conforming.csv").read_bytes()
    files = {"file": ("conforming.csv", data)}
    async for client in client_with(settings):
        preview = await client.post(
            "/validate/publish", files=files, data={"dataset": "mine"}, headers=AUTH
        )
        assert preview.status_code == 200, preview.text
        result = preview.json()["result"]
        assert result["dry_run"] is True and result["release"] is None
        graph = "https://w3id.org/sinlod/graph/mine/conforming"
        assert {"graph": graph, "before": 0, "after": 5, "added": 5, "removed": 0} in result[
            "changes"
        ]["graphs"]
        before = await client.get("/healthz")
        published = await client.post(
            "/validate/publish",
            files=files,
            data={"dataset": "mine", "action": "publish"},
            headers=AUTH,
        )
        assert published.status_code == 200, published.text
        release = published.json()["result"]["release"]
        assert release["agent"] == "default"
        assert release["comment"] == "published from /validate (conforming.csv)"
        sources = [f["path"] for f in release["files"] if f["role"] == "source"]
        assert sources == ["/validate:conforming.csv"]  # not the temporary folder it was read from
        again = await client.post(
            "/validate/publish",
            files={"file": ("conforming.csv", data.replace(b"A network", b"The network"))},
            data={"dataset": "mine", "action": "preview"},
            headers=AUTH,
        )
        assert again.json()["result"]["elsewhere"] == {}  # the same file, uploaded again
        after = await client.get("/healthz")
        asked = await client.get(
            "/sparql",
            params={"query": f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"},
            headers={"Accept": "application/sparql-results+json"},
        )
    assert before.json()["release"] != after.json()["release"] == release["id"]
    assert asked.json()["boolean"] is True
    assert list(temp_root.iterdir()) == []


async def test_a_file_with_violations_is_not_published(tmp_path: Path, temp_root: Path) -> None:
    settings = fixture_settings(tmp_path / "store", "validate")
    data = (VALIDATE / "records" / "projects.csv").read_bytes()
    async for client in client_with(settings):
        before = (await client.get("/healthz")).json()["release"]
        got = await client.post(
            "/validate/publish",
            files={"file": ("projects.csv", data)},
            data={"action": "publish"},
            headers=AUTH,
        )
        after = (await client.get("/healthz")).json()["release"]
    assert got.status_code == 200
    assert got.json()["result"] == {"refused": "the file has violations: fix them first"}
    assert before == after


async def test_without_script_the_preview_carries_the_file_back(
    tmp_path: Path, temp_root: Path
) -> None:
    """The form flow: check → preview (token typed in the form) → publish from the hidden copy
    of the file, the token typed again (the page never holds it)."""
    settings = fixture_settings(tmp_path / "store", "validate")
    data = (VALIDATE / "records" / "conforming.csv").read_bytes()
    async for client in client_with(settings):
        page = await client.post(
            "/validate", files={"file": ("conforming.csv", data)}, headers=HTML
        )
        hidden = dict(
            re.findall(r'type="hidden" name="(content|filename)" value="([^"]*)"', page.text)
        )
        preview = await client.post(
            "/validate/publish",
            data={**hidden, "dataset": "mine", "token": TOKEN, "action": "preview"},
            files={"unused": ("", b"")},
            headers=HTML,
        )
        assert preview.status_code == 200, preview.text
        assert "would change" in preview.text and "graph/mine/conforming" in preview.text
        assert TOKEN not in preview.text
        assert preview.headers["cache-control"] == "no-store"
        hidden = dict(
            re.findall(r'type="hidden" name="(content|filename)" value="([^"]*)"', preview.text)
        )
        done = await client.post(
            "/validate/publish",
            data={**hidden, "dataset": "mine", "token": TOKEN, "action": "publish"},
            files={"unused": ("", b"")},
            headers=HTML,
        )
    assert done.status_code == 200, done.text
    assert 'id="published"' in done.text and "release <code>" in done.text
    assert release_count(settings) >= 1
    assert list(temp_root.iterdir()) == []


async def test_the_page_without_a_file(client: httpx.AsyncClient) -> None:
    page = await client.get("/validate")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'id="result"' in page.text and "table" not in page.text.split('id="result"')[1]


async def test_cell_text_is_never_markup(client: httpx.AsyncClient) -> None:
    """A cell holding markup shows as text in the grid, the titles and the list."""
    data = (
        b"id,title,description,start,end\n"
        b'p1,<script>alert(1)</script>,"<img src=x onerror=alert(2)>",next spring,2019\n'
    )
    page = await client.post("/validate", files={"file": ("bad-date.csv", data)}, headers=HTML)
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert marked(page.text).cells  # the date is still marked


async def test_no_publish_form_where_writes_are_off(tmp_path: Path, temp_root: Path) -> None:
    settings = dataclasses.replace(
        fixture_settings(tmp_path / "store", "validate"), update_token=""
    )
    data = (VALIDATE / "records" / "conforming.csv").read_bytes()
    async for client in client_with(settings):
        page = await client.post(
            "/validate", files={"file": ("conforming.csv", data)}, headers=HTML
        )
    assert page.status_code == 200
    assert 'id="publish-form"' not in page.text and 'data-writes="no"' in page.text
