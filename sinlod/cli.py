"""The ``sinlod`` command: a thin layer over the library.

Each command parses its options, calls one library function, prints the result and exits with a
meaningful code: 0 ok, 1 invalid data, 2 usage or unreadable input. Library errors are turned into
messages in one place (``main``), never shown as tracebacks.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import click

from sinlod import __version__
from sinlod.config import Settings
from sinlod.errors import (
    ConversionFailed,
    InvalidData,
    SinlodError,
    SourceLocation,
)

F = TypeVar("F", bound=Callable[..., Any])


class Failure(click.ClickException):
    """A library error shown to the user; ``exit_code`` says what kind."""

    exit_code: ClassVar[int] = 2

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        click.echo(click.style("Error: ", fg="red", bold=True) + self.format_message(), err=True)


def exit_code_for(error: SinlodError) -> int:
    """1 for data that is wrong (fix the data); 2 for input, usage or a store that is wrong."""
    if isinstance(error, InvalidData | ConversionFailed):
        return 1
    return 2


def fail(error: SinlodError) -> Failure:
    return Failure(str(error), exit_code_for(error))


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    """Settings from the group's --config plus a command's own options."""
    root = ctx.find_root()
    config = root.params.get("config")
    try:
        return Settings.load(config_file=config, **overrides)
    except SinlodError as exc:
        raise fail(exc) from exc


def store_option(f: F) -> F:
    return click.option(
        "--store",
        "store_path",
        type=click.Path(file_okay=False, path_type=__import__("pathlib").Path),
        default=None,
        help="Store directory (default: var/store or SINLOD_STORE_PATH).",
    )(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sinlod")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=__import__("pathlib").Path),
    default=None,
    help="Settings file (TOML); default sinlod.toml if present.",
)
def cli(config: Any) -> None:
    """sinlod: turn social-innovation records into validated linked open data and serve it.

    \b
    Exit codes: 0 ok, 1 invalid data, 2 usage or unreadable input.
    """


@cli.command("validate")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["human", "json", "sarif", "ttl"]),
    default="human",
    show_default=True,
    help="human: grouped by file and record; json; sarif (SARIF 2.1.0); ttl (sh:ValidationReport).",
)
@click.option(
    "--context",
    "context",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Published store whose resources the data may refer to (only what it needs is read).",
)
@click.option(
    "--mappings",
    "mappings_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of CSVW mappings for records (default: the mappings_dir setting).",
)
@click.option(
    "--mapping",
    "mapping_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A CSVW mapping file for records (repeatable).",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; human format: summary only.")
@click.pass_context
def validate_command(
    ctx: click.Context,
    sources: tuple[Path, ...],
    fmt: str,
    context: Path | None,
    mappings_dir: Path | None,
    mapping_files: tuple[Path, ...],
    strict: bool,
    quiet: bool,
) -> None:
    """Validate records or RDF files against the SHACL shapes and the ontology.

    Records are converted on the fly; RDF files (.ttl .nt .nq .trig .jsonld .rdf) are read as
    they are. Each finding names the file, row and column it came from. Exit 1 on violations
    (on warnings too with --strict), 0 otherwise, 2 for unreadable input.

    \b
    Example:
      sinlod validate data/records
      sinlod validate --format sarif data/records > validation.sarif
      sinlod validate --context var/store new-projects.csv
    """
    import json

    from sinlod.validate import validate
    from sinlod.validate.render import summary

    settings = settings_from(ctx, mappings_dir=mappings_dir)
    try:
        with _stage_progress(enabled=not quiet, length=5, label="Validating") as step:
            report = validate(
                list(sources),
                settings,
                context=context,
                progress=step,
                mapping_files=mapping_files,
            )
    except ConversionFailed as exc:
        _print_problems(exc, "human")  # as `sinlod convert` reports them
        ctx.exit(1)
    except SinlodError as exc:
        raise fail(exc) from exc
    if fmt == "human":
        click.echo(summary(report, color=True) if quiet else report.render_human(color=True))
    elif fmt == "ttl":
        click.echo(report.to_turtle(), nl=False)
    else:
        data = report.to_json() if fmt == "json" else report.to_sarif()
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    if report.failed(strict):
        ctx.exit(1)


@cli.group("link")
def link_group() -> None:
    """Check and suggest links into EU open datasets, offline, from data/reference snapshots.

    \b
    Example:
      sinlod link check data/records
      sinlod link suggest data/records --target nuts > nuts-suggestions.csv
    """


@link_group.command("check")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--reference",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Directory of reference snapshots (*.ttl; default: data/reference).",
)
@click.pass_context
def link_check_command(
    ctx: click.Context, sources: tuple[Path, ...], reference: Path | None
) -> None:
    """Report links into closed EU code lists (NUTS, authority tables) that the snapshots lack.

    Each problem names the file, row and column of the link. Exit 1 when there is any.

    \b
    Example:
      sinlod link check data/records
    """
    from sinlod.linking import check_links, load_reference
    from sinlod.validate.run import read_inputs

    settings = settings_from(ctx)
    try:
        quads, source_map = read_inputs(list(sources), settings)
        index = load_reference(reference or settings.data_dir / "reference")
    except ConversionFailed as exc:
        _print_problems(exc, "human")
        ctx.exit(1)
    except SinlodError as exc:
        raise fail(exc) from exc
    problems = check_links(quads, index, source_map)
    for problem in problems:
        click.echo(str(problem))
    n = len(problems)
    click.echo(f"{n} unknown link target{'s' * (n != 1)} ({len(index.labels)} reference codes)")
    if problems:
        ctx.exit(1)


@link_group.command("suggest")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--target",
    default="nuts",
    show_default=True,
    help="Link target: nuts, country, corporate-body, place, language.",
)
@click.option(
    "--class",
    "of_class",
    default="Place",
    show_default=True,
    help="Class (sinlod: local name or full IRI) of the things to link.",
)
@click.option(
    "--reference",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Directory of reference snapshots (*.ttl; default: data/reference).",
)
@click.pass_context
def link_suggest_command(
    ctx: click.Context,
    sources: tuple[Path, ...],
    target: str,
    of_class: str,
    reference: Path | None,
) -> None:
    """Suggest links for things that have none into TARGET, matching labels (CSV on stdout).

    Labels match ignoring case and diacritics; review each suggestion before adding it to the
    records.

    \b
    Example:
      sinlod link suggest data/records --target nuts
    """
    import csv
    import io

    from sinlod.linking import load_reference, suggest_links, target_named
    from sinlod.namespaces import PREFIXES
    from sinlod.validate.run import read_inputs

    settings = settings_from(ctx)
    cls = of_class if ":" in of_class else PREFIXES["sinlod"] + of_class
    try:
        link_target = target_named(target)
        quads, _ = read_inputs(list(sources), settings)
        index = load_reference(reference or settings.data_dir / "reference")
    except ConversionFailed as exc:
        _print_problems(exc, "human")
        ctx.exit(1)
    except SinlodError as exc:
        raise fail(exc) from exc
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(["subject", "label", "target", "target_label"])
    for s in suggest_links(quads, index, link_target, of_class=cls):
        out.writerow([s.subject, s.label, s.target_iri, s.target_label])
    click.echo(buffer.getvalue(), nl=False)


@cli.command("convert")
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output file (written only if conversion succeeds); default: stdout.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["ttl", "nt", "nq", "jsonld", "rdf", "trig"]),
    default=None,
    help="Output format (default: from the -o extension, else ttl).",
)
@click.option(
    "--mappings",
    "mappings_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of CSVW mappings (default: the mappings_dir setting).",
)
@click.option(
    "--mapping",
    "mapping_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A CSVW mapping file (repeatable).",
)
@click.option("--sheet", default=None, help="Convert only this sheet of XLSX workbooks.")
@click.option("--encoding", default=None, help="Text encoding of CSV/JSON/YAML (default UTF-8).")
@click.option("--delimiter", default=None, help="CSV delimiter (default: sniffed from the header).")
@click.option(
    "--max-errors",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="Stop after this many problems.",
)
@click.option(
    "--format-errors",
    type=click.Choice(["human", "json"]),
    default="human",
    show_default=True,
    help="How problems are printed on stderr.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary on success.")
@click.pass_context
def convert_command(
    ctx: click.Context,
    sources: tuple[str, ...],
    output: Path | None,
    fmt: str | None,
    mappings_dir: Path | None,
    mapping_files: tuple[Path, ...],
    sheet: str | None,
    encoding: str | None,
    delimiter: str | None,
    max_errors: int,
    format_errors: str,
    quiet: bool,
) -> None:
    """Convert record files (CSV, XLSX, JSON, JSON Lines, YAML) to RDF with CSVW mappings.

    SOURCES are files, directories (all record files in them) or globs. Every problem is
    reported with its file, line and column; exit 1 when the records have problems, 2 when a
    file or mapping cannot be read.

    \b
    Example:
      sinlod convert data/records -o var/dataset.nq
      sinlod convert projects.csv --mapping my/projects.csv-metadata.json --format nt
    """
    from sinlod.convert import convert_to_file, expand_sources

    settings = settings_from(ctx)
    try:
        total = len(expand_sources(sources))
        with _stage_progress(enabled=not quiet, length=total, label="Converting") as step:
            count = convert_to_file(
                list(sources),
                settings,
                output,
                fmt,
                mappings_dir=mappings_dir,
                mapping_files=mapping_files,
                sheet=sheet,
                encoding=encoding,
                delimiter=delimiter,
                max_errors=max_errors,
                progress=step,
            )
    except ConversionFailed as exc:
        _print_problems(exc, format_errors)
        ctx.exit(1)
    except SinlodError as exc:
        raise fail(exc) from exc
    if not quiet and output is not None:
        click.echo(f"{count} triples written to {output}", err=True)


def _print_problems(exc: ConversionFailed, how: str) -> None:
    """One problem per line on stderr, then ``N problems in M files``."""
    import json

    for error in exc.errors:
        if how == "json":
            loc = error.location or SourceLocation("")
            fields = {"file": loc.file, "row": loc.row, "column": loc.column, "sheet": loc.sheet}
            fields.update(value=error.value, message=error.message)
            click.echo(json.dumps(fields, ensure_ascii=False), err=True)
        else:
            click.echo(str(error), err=True)
    files = {e.location.file for e in exc.errors if e.location is not None}
    n, m = len(exc.errors), len(files)
    more = " (stopped at --max-errors)" if exc.truncated else ""
    click.echo(f"{n} problem{'s' * (n != 1)} in {m} file{'s' * (m != 1)}{more}", err=True)


@contextlib.contextmanager
def _stage_progress(enabled: bool, length: int, label: str) -> Iterator[Callable[[str], None]]:
    """A progress bar over named stages, on stderr, only when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda stage: None
        return
    stage_name = [""]
    with click.progressbar(
        range(length),
        label=label,
        file=sys.stderr,
        item_show_func=lambda _: stage_name[0],
    ) as bar:

        def step(stage: str) -> None:
            stage_name[0] = stage
            bar.update(1)

        yield step


@cli.command("serve")
@store_option
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8000).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes; each opens the store read-only and serves the same release.",
)
@click.pass_context
def serve_command(
    ctx: click.Context, store_path: Path | None, host: str | None, port: int | None, workers: int
) -> None:
    """Serve the store: SPARQL at /sparql, pages and dereferenceable IRIs, until Ctrl-C.

    \b
    Example:
      sinlod serve --store var/store --port 8000
      curl -H 'Accept: text/turtle' -L http://127.0.0.1:8000/id/project/sic
    """
    from sinlod.server.run import check_store, serve  # the server stack loads only when serving

    settings = settings_from(ctx, store_path=store_path, host=host, port=port)
    try:
        check_store(settings)
    except SinlodError as exc:
        raise fail(exc) from exc
    click.echo(
        f"Serving {settings.store_path} on http://{settings.host}:{settings.port}/", err=True
    )
    serve(settings, workers=workers)


def main() -> None:  # pragma: no cover - exercised through the console script
    cli(prog_name="sinlod")


if __name__ == "__main__":  # pragma: no cover
    main()
