"""``/validate``: a steward drops a CSV or XLSX file and sees it as a grid, each cell that a
finding names highlighted by severity; with the write token, a preview of what publishing it
would change, and the publish itself.

The checking is the library's (``sinlod.validate.cells``: what ``sinlod validate FILE`` finds,
conversion problems included), and so are the downloads (``Report.to_sarif``/``to_json``/
``to_turtle``). This module parses the upload, enforces the limits, decides which cell each
finding marks (``marks``: the one place, used by the HTML grid and by the JSON the page's script
reads) and answers as HTML or JSON.

Nothing uploaded is kept: the file is written to a fresh temporary folder for the readers, which
read paths, and the folder is removed in a ``finally`` of the same worker thread (so a check that
outlived ``validate_timeout`` still removes it when it ends). The page works without script: a
plain form POST answers with the grid; the preview carries the file back in a hidden field, so
the confirmation needs no copy on the server, and the token is asked for again, never echoed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData, UploadFile

from sinlod.config import Settings
from sinlod.convert import SourceOptions
from sinlod.errors import InputError, SourceLocation
from sinlod.minting import check_dataset
from sinlod.server.http.deps import SettingsDep, require_token, writes_enabled
from sinlod.server.http.negotiation import prefers_html
from sinlod.server.http.problems import HttpProblem, PayloadTooLarge, UnsupportedMediaType
from sinlod.server.http.templating import render
from sinlod.validate.cells import Grid, check_file, read_grid, relocated
from sinlod.validate.findings import SEVERITIES, Finding, Report

router = APIRouter()

#: What /validate reads: the spreadsheet formats stewards keep (JSON and YAML records are for
#: the command line).
SUFFIXES = (".csv", ".xlsx")
_XLSX_MAGIC = b"PK\x03\x04"  # an XLSX workbook is a ZIP archive
_SAFE_NAME = re.compile(r"[^\w.\- ]+")
#: The temporary folders' prefix (tests look for leftovers by it).
TEMP_PREFIX = "sinlod-validate-"
#: How the release log names a file published from /validate (``/validate:projects.csv``): its
#: temporary path would mean nothing, and a file of the steward's own disk is not known here.
UPLOADED = "/validate:"
DOWNLOADS = {
    "sarif": ("application/sarif+json", "sarif"),
    "json": ("application/json", "json"),
    "ttl": ("text/turtle; charset=utf-8", "ttl"),
}

T = TypeVar("T")


class ValidateTimeout(HttpProblem):
    """Checking one uploaded file took longer than ``validate_timeout``. 503, as for a query
    that ran too long (``QueryTimeout``): the server will not spend more on it now."""

    status = 503
    code = "validate-timeout"


class Unprocessable(HttpProblem):
    """A form without the file, or with a dataset name or report that cannot be used."""

    status = 422
    code = "unprocessable"


@dataclass(frozen=True)
class Upload:
    """The file a steward sent (and the mapping, when one was sent), held in memory only."""

    name: str
    data: bytes
    mapping_name: str | None = None
    mapping: bytes | None = None

    def encoded(self) -> str:
        """The file as base64, for the hidden field that carries it back to a confirmation."""
        return base64.b64encode(self.data).decode("ascii")

    def encoded_mapping(self) -> str:
        return base64.b64encode(self.mapping).decode("ascii") if self.mapping else ""


@dataclass
class Checked:
    """A file checked: the report (file names as the steward called them) and its tables."""

    upload: Upload
    report: Report
    tables: list[Grid]


@dataclass
class Mark:
    """One highlighted cell: the worst severity of the findings naming it, and those findings
    (indexes into the report)."""

    table: int
    row: int | None  # None: the header cell of the column
    column: str | None  # None: the row's number cell
    severity: str
    findings: list[int] = field(default_factory=list)

    @property
    def cell_id(self) -> str:
        row = "h" if self.row is None else str(self.row)
        return f"cell-{self.table}-{row}-{_column_key(self.column)}"


def _column_key(column: str | None) -> str:
    if column is None:
        return "r"
    return re.sub(r"[^A-Za-z0-9_-]", lambda m: f".{ord(m.group()):x}", column) or "."


# -- reading the form ------------------------------------------------------------------------------


async def read_upload(request: Request, settings: Settings) -> tuple[Upload, dict[str, str]]:
    """The uploaded file (field ``file``, or ``content`` + ``filename`` in base64 when a preview
    sends it back) and the optional mapping (``mapping``), with the size and type checks.

    Raises ``PayloadTooLarge`` (413) past ``validate_max_bytes``, ``UnsupportedMediaType`` (415)
    for a file that is not CSV or XLSX or a mapping that is not JSON, ``Unprocessable`` (422)
    when no file was sent. The form's other text fields come back as a dict; the parser's
    spooled files are closed before this returns.
    """
    limit = settings.validate_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > 2 * limit + 65536:  # base64 and the form's own
        raise PayloadTooLarge(_too_large("the upload", int(declared), limit))
    async with request.form(max_files=2, max_fields=20, max_part_size=3 * limit) as form:
        name, data = await _file_field(form, "file", limit)
        mapping_name, mapping = await _file_field(form, "mapping", limit)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if data is None:
        raise Unprocessable("no file: choose a CSV (.csv) or XLSX (.xlsx) file to check")
    _check_type(name, data)
    if mapping is not None:
        if not mapping_name.lower().endswith(".json"):
            raise UnsupportedMediaType(
                f"{mapping_name}: a mapping is a CSVW description in JSON (.json)"
            )
        try:
            json.loads(mapping)
        except ValueError as exc:
            raise UnsupportedMediaType(
                f"{mapping_name}: not JSON ({exc}); a mapping is a CSVW description in JSON"
            ) from exc
    upload = Upload(name, data, mapping_name if mapping is not None else None, mapping)
    return upload, fields


async def _file_field(form: FormData, field_name: str, limit: int) -> tuple[str, bytes | None]:
    """A file field's (safe name, bytes), else its base64 twin (``content``/``filename`` for
    ``file``, ``mapping_content``/``mapping_filename`` for ``mapping``), else (``""``, None)."""
    value = form.get(field_name)
    if isinstance(value, UploadFile) and (value.filename or value.size):
        name = safe_name(value.filename or field_name)
        data = await value.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(_too_large(name, None, limit))
        return name, data
    prefix = "" if field_name == "file" else field_name + "_"
    encoded = form.get(prefix + "content")
    if isinstance(encoded, str) and encoded:
        name = safe_name(str(form.get(prefix + "filename") or field_name))
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Unprocessable(f"{name}: the file sent back is not base64") from exc
        if len(data) > limit:
            raise PayloadTooLarge(_too_large(name, None, limit))
        return name, data
    return "", None


def _too_large(name: str, size: int | None, limit: int) -> str:
    got = f" ({size} bytes)" if size is not None else ""
    return (
        f"{name}{got} is larger than {limit} bytes, the most /validate checks here "
        "(setting validate_max_bytes); check a bigger file with `sinlod validate FILE`"
    )


def safe_name(filename: str) -> str:
    """The file's own name without any folder, and only letters, digits, ``.``, ``-``, ``_`` and
    spaces (a name never reaches outside the temporary folder).

    >>> safe_name("../../etc/projects.csv")
    'projects.csv'
    >>> safe_name("C:\\\\Users\\\\me\\\\Projecten 2024.xlsx")
    'Projecten 2024.xlsx'
    """
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip(" .")
    return cleaned or "upload"


def _check_type(name: str, data: bytes) -> None:
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UnsupportedMediaType(
            f"{name}: /validate checks a CSV (.csv) or XLSX (.xlsx) file"
            f" (got {suffix or 'a file without an extension'})"
        )
    if suffix == ".xlsx" and not data.startswith(_XLSX_MAGIC):
        raise UnsupportedMediaType(f"{name}: not an XLSX workbook (expected a ZIP archive)")
    if suffix == ".csv" and (data.startswith(_XLSX_MAGIC) or b"\x00" in data[:4096]):
        raise UnsupportedMediaType(f"{name}: not CSV text (expected comma-separated lines)")


# -- checking -------------------------------------------------------------------------------------


def in_folder(upload: Upload, work: Callable[[Path, SourceOptions], T]) -> T:
    """Run ``work`` on the upload written to a fresh temporary folder, which is removed after,
    whatever happens. Runs in a worker thread."""
    folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    try:
        path = folder / upload.name
        path.write_bytes(upload.data)
        options = SourceOptions()
        if upload.mapping is not None and upload.mapping_name is not None:
            (folder / "mapping").mkdir()
            mapping = folder / "mapping" / upload.mapping_name
            mapping.write_bytes(upload.mapping)
            options = SourceOptions(mapping_files=(mapping,))
        return work(path, options)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_upload(upload: Upload, settings: Settings) -> Checked:
    """What ``sinlod validate`` finds in the upload, and its tables. Worker thread."""

    def work(path: Path, options: SourceOptions) -> Checked:
        report = relocated(check_file([path], settings, options), path.parent)
        tables = read_grid(path, upload.name, options)
        return Checked(upload, report, tables)

    return in_folder(upload, work)


async def in_thread(settings: Settings, work: Callable[[], T]) -> T:
    """``work`` in a worker thread, given up after ``validate_timeout`` seconds (the thread
    finishes on its own and removes its folder; the answer does not wait for it)."""
    try:
        with anyio.fail_after(settings.validate_timeout):
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
    except TimeoutError as exc:
        raise ValidateTimeout(
            f"checking the file took longer than {settings.validate_timeout:g} s, the limit here "
            "(setting validate_timeout); check it with `sinlod validate FILE`"
        ) from exc


def marks(checked: Checked) -> list[Mark]:
    """The cells the findings name, in the tables shown: the cell at (row, column); the column's
    header cell when a finding names no row (or the header row); the row's number cell when it
    names no column, or a column the file does not have (the header row's number cell for a
    column the mapping expects and the header lacks). Places in other files are listed, not
    marked."""
    found: dict[tuple[int, int | None, str | None], Mark] = {}
    for index, finding in enumerate(checked.report.findings):
        for loc in finding.locations:
            key = _cell_of(checked, loc)
            if key is None:
                continue
            mark = found.get(key)
            if mark is None:
                mark = found[key] = Mark(*key, severity=finding.severity)
            elif _rank(finding.severity) < _rank(mark.severity):
                mark.severity = finding.severity
            if index not in mark.findings:
                mark.findings.append(index)
    return list(found.values())


def _cell_of(checked: Checked, loc: SourceLocation) -> tuple[int, int | None, str | None] | None:
    if loc.file != checked.upload.name:
        return None
    for number, table in enumerate(checked.tables):
        if table.sheet != loc.sheet:
            continue
        column = loc.column if loc.column in table.columns else None
        if loc.row is None or loc.row == table.header_row:
            return number, None, column
        return number, loc.row, column
    return None


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _place(loc: SourceLocation) -> str:
    return str(loc)


def result_json(checked: Checked) -> dict[str, Any]:
    """The JSON answer: the report exactly as ``sinlod validate --format json`` writes it, the
    tables, and the marks (which cell shows which findings)."""
    return {
        "file": checked.upload.name,
        "report": checked.report.to_json(),
        "prefixes": checked.report.prefixes,
        "tables": [
            {
                "sheet": t.sheet,
                "header_row": t.header_row,
                "columns": t.columns,
                "rows": [{"row": row, "values": values} for row, values in t.rows],
            }
            for t in checked.tables
        ],
        "marks": [
            {
                "table": m.table,
                "row": m.row,
                "column": m.column,
                "severity": m.severity,
                "findings": m.findings,
                "id": m.cell_id,
            }
            for m in marks(checked)
        ],
    }


# -- routes ---------------------------------------------------------------------------------------


def _wants_html(request: Request) -> bool:
    return prefers_html(request.headers.get("accept"))


@router.get("/validate", include_in_schema=False)
async def validate_page(request: Request, settings: SettingsDep) -> Response:
    """The upload form."""
    return render(
        request,
        "validate.html",
        checked=None,
        max_bytes=settings.validate_max_bytes,
        writes=writes_enabled(settings),
    )


@router.post("/validate")
async def validate_upload(request: Request, settings: SettingsDep) -> Response:
    """Check an uploaded CSV or XLSX file (multipart field ``file``; optional ``mapping``, a
    CSVW description in JSON). JSON: ``{"report": <sinlod validate --format json>, "tables",
    "marks"}``; HTML (a browser's form POST): the page with the grid."""
    upload, _form = await read_upload(request, settings)
    checked = await in_thread(settings, lambda: check_upload(upload, settings))
    if not _wants_html(request):
        return JSONResponse(result_json(checked))
    return _page(request, settings, checked)


def _page(
    request: Request,
    settings: Settings,
    checked: Checked,
    preview: dict[str, Any] | None = None,
    published: dict[str, Any] | None = None,
    dataset: str = "",
) -> Response:
    by_cell: dict[tuple[int, int | None, str | None], Mark] = {
        (m.table, m.row, m.column): m for m in marks(checked)
    }
    first_cell: dict[int, str] = {}
    for m in by_cell.values():
        for i in m.findings:
            first_cell.setdefault(i, m.cell_id)
    return render(
        request,
        "validate.html",
        checked=checked,
        report=checked.report,
        marks=by_cell,
        first_cell=first_cell,
        report_json=json.dumps(
            {"report": checked.report.to_json(), "prefixes": checked.report.prefixes}
        ),
        max_bytes=settings.validate_max_bytes,
        preview=preview,
        published=published,
        dataset=dataset,
        column_key=_column_key,
        writes=writes_enabled(settings),
        headers={"Cache-Control": "no-store"},
    )


@router.post("/validate/report", include_in_schema=False)
async def download_report(request: Request, settings: SettingsDep) -> Response:
    """The report of a check the page shows, as a download: SARIF, JSON or Turtle, written by
    the same renderers as ``sinlod validate --format``. The page sends the report back (field
    ``report``, the JSON it was given) with ``format``; nothing was kept to download from."""
    async with request.form(
        max_files=0, max_fields=5, max_part_size=4 * settings.validate_max_bytes
    ) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    fmt = fields.get("format") or "sarif"
    if fmt not in DOWNLOADS:
        raise Unprocessable(f"format {fmt!r}: expected one of {', '.join(DOWNLOADS)}")
    report = report_from_json(fields.get("report", ""))
    name = safe_name(fields.get("file") or "validation")
    media, suffix = DOWNLOADS[fmt]
    if fmt == "ttl":
        body = report.to_turtle()
    else:
        data = report.to_json() if fmt == "json" else report.to_sarif()
        body = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    stem = Path(name).stem or "validation"
    disposition = f'attachment; filename="{stem}.validation.{suffix}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


def report_from_json(text: str) -> Report:
    """A ``Report`` back from the JSON the page was given (``{"report": ..., "prefixes": ...}``).
    Raises ``Unprocessable`` for anything else."""
    try:
        data = json.loads(text)
        body = data["report"]
        findings = [
            Finding(
                severity=str(f["severity"]),
                message=str(f["message"]),
                focus=str(f["focus"]),
                path=f["path"],
                value=f["value"],
                source_shape=f["source_shape"],
                constraint=str(f["constraint"]),
                locations=tuple(
                    SourceLocation(str(loc["file"]), loc["row"], loc["column"], loc["sheet"])
                    for loc in f["locations"]
                ),
            )
            for f in body["findings"]
        ]
        prefixes = {str(k): str(v) for k, v in dict(data.get("prefixes") or {}).items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise Unprocessable("report: expected the JSON report this page was given") from exc
    return Report.of(findings, prefixes or None)


@router.post("/validate/publish", include_in_schema=False)
async def preview_or_publish(request: Request, settings: SettingsDep) -> Response:
    """With the write token (``Authorization: Bearer``, or the form's ``token`` field), what
    publishing the upload into ``dataset`` would change (``action=preview``, the library's dry
    run) or the publish itself (``action=publish``), through ``sinlod.publish``'s gated write."""
    upload, form = await read_upload(request, settings)
    header = request.headers.get("authorization")
    typed = form.get("token", "").strip()
    who = require_token(settings, header if header else (f"Bearer {typed}" if typed else None))
    dataset_text = form.get("dataset", "").strip() or settings.dataset
    try:
        dataset = check_dataset(dataset_text)
    except InputError as exc:
        raise Unprocessable(str(exc)) from exc
    action = form.get("action") or "preview"
    if action not in ("preview", "publish"):
        raise Unprocessable(f"action {action!r}: expected preview or publish")
    store = request.app.state.store
    store.refresh()
    dry_run = action == "preview"

    def work() -> tuple[Checked, dict[str, Any]]:
        from sinlod.publish import publish

        def run(path: Path, options: SourceOptions) -> tuple[Checked, dict[str, Any]]:
            report = relocated(check_file([path], settings, options), path.parent)
            checked = Checked(upload, report, read_grid(path, upload.name, options))
            if report.failed():
                return checked, {"refused": "the file has violations: fix them first"}
            message = f"published from /validate ({upload.name})"
            result = publish(
                [path],
                settings,
                store,
                agent=who,
                options=options,
                dataset=dataset,
                dry_run=dry_run,
                message=None if dry_run else message,
                source_names={str(path): f"{UPLOADED}{upload.name}"},
            )
            out = result.to_json()
            if result.summary is not None:
                out["summary_text"] = result.summary.render_human()
            return checked, out

        return in_folder(upload, run)

    checked, outcome = await in_thread(settings, work)
    if not _wants_html(request):
        return JSONResponse(
            {
                "action": action,
                "dataset": dataset,
                "result": outcome,
                **result_json(checked),
            },
            headers={"Cache-Control": "no-store"},
        )
    return _page(
        request,
        settings,
        checked,
        preview=outcome if dry_run else None,
        published=None if dry_run else outcome,
        dataset=dataset,
    )
