"""The ``sinlod`` command: a thin layer over the library.

Each command parses its options, calls one library function, prints the result and exits with a
meaningful code: 0 ok, 1 invalid data, 2 usage or unreadable input. Library errors are turned into
messages in one place (``Command.invoke``, through ``_show_failure``), never shown as tracebacks:
a command body raises and never catches ``SinlodError``. Options that several commands share are
declared once, as decorators (``source_options``, ``store_option``, ``format_option``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar, cast

import click

from sinlod import __version__
from sinlod.config import Settings, settings_table
from sinlod.errors import (
    ConversionFailed,
    DatasetConflict,
    InvalidData,
    SinlodError,
    SourceLocation,
)

if TYPE_CHECKING:
    from sinlod.convert import SourceOptions

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
    """1 for data that is wrong (fix the data) or a write refused to protect another dataset;
    2 for input, usage or a store that is wrong."""
    if isinstance(error, InvalidData | ConversionFailed | DatasetConflict):
        return 1
    return 2


def _show_failure(ctx: click.Context, error: SinlodError) -> NoReturn:
    """What the user sees of a library error, and the exit code: the one place that maps them.

    Problems in the records are listed one per line (``--format-errors`` where the command has
    it) and exit 1; a refusal that carries its validation report shows the report first, in the
    command's ``--format`` (nothing with ``--quiet``); any other error is one ``Error:`` line.
    """
    if isinstance(error, ConversionFailed):
        _print_problems(error, ctx.params.get("format_errors") or "human", ctx)
        ctx.exit(1)
    if isinstance(error, InvalidData) and error.report is not None:
        if ctx.params.get("fmt") == "json":
            click.echo(json.dumps(error.report.to_json(), indent=2, ensure_ascii=False))
        elif not ctx.params.get("quiet"):
            click.echo(error.report.render_human(color=True))
    raise Failure(str(error), exit_code_for(error)) from error


class Command(click.Command):
    """A sinlod command: library errors raised by its body become messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SinlodError as exc:
            _show_failure(ctx, exc)


class Group(click.Group):
    """The ``sinlod`` group: its commands and subgroups are of the classes above."""

    command_class = Command
    group_class = type  # subgroups (``sinlod link``) are Groups too


def settings_from(
    ctx: click.Context, folder_config: Path | None = None, **overrides: Any
) -> Settings:
    """Settings from the group's --config (else a dataset folder's sinlod.toml) plus a
    command's own options."""
    root = ctx.find_root()
    config = root.params.get("config") or folder_config
    return Settings.load(config_file=config, **overrides)


def dataset_option(f: F) -> F:
    """``--dataset NAME``: the dataset whose graphs ({base}graph/{dataset}/{table}) a command
    names (the ``dataset`` setting for this run; ``publish`` and ``convert``)."""
    return click.option(
        "--dataset",
        default=None,
        help="Dataset the sources belong to (a slug; default: the dataset setting, `sinlod`).",
    )(f)


def store_option(f: F) -> F:
    return click.option(
        "--store",
        "store_path",
        type=click.Path(path_type=Path),
        default=None,
        help="Store directory (default: var/store or SINLOD_STORE_PATH).",
    )(f)


def message_option(f: F) -> F:
    """``--message TEXT``: why a write is made, recorded with its release (``rdfs:comment``)."""
    return click.option(
        "--message",
        "-m",
        default=None,
        help="Why: recorded in the release log, shown by `sinlod releases` and on /releases.",
    )(f)


def release_option(f: F) -> F:
    """``--release ID``: read a kept past release instead of the current one."""
    return click.option(
        "--release",
        "release_id",
        default=None,
        help="Read this kept release (an id or a unique prefix of one) instead of the current.",
    )(f)


@contextlib.contextmanager
def _reading(store: Any, release_id: str | None) -> Iterator[Any]:
    """The store itself, or with ``release_id`` a read-only view of that kept release."""
    if release_id is None:
        yield store
        return
    with store.at_release(release_id) as view:
        yield view


def format_option(*choices: str, default: str | None, help: str | None = None) -> Callable[[F], F]:
    """``--format`` (the ``fmt`` parameter): how a command prints what it made."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=default is not None,
        help=help,
    )


#: The source options, declared once: where record files find their CSVW mappings, and how
#: they are read. The parameter names are ``SourceOptions``' fields.
_SOURCE_OPTIONS: dict[str, Callable[[F], F]] = {
    "mappings_dir": click.option(
        "--mappings",
        "mappings_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Directory of CSVW mappings for records (default: the mappings_dir setting).",
    ),
    "mapping_files": click.option(
        "--mapping",
        "mapping_files",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="A CSVW mapping file for records (repeatable; without --mappings, only these).",
    ),
    "sheet": click.option("--sheet", default=None, help="Read only this sheet of XLSX workbooks."),
    "encoding": click.option(
        "--encoding", default=None, help="Text encoding of CSV/JSON/YAML (default UTF-8)."
    ),
    "delimiter": click.option(
        "--delimiter", default=None, help="CSV delimiter (default: sniffed from the header)."
    ),
}


def source_options(f: F) -> F:
    """``--mappings``, ``--mapping``, ``--sheet``, ``--encoding``, ``--delimiter``: how record
    files are mapped and read.

    Every command that converts records (convert, validate, publish, link check, link suggest)
    takes all five. The command receives them as one ``SourceOptions`` (its ``source``
    parameter), which the library carries down to the readers; so a hint in a message ("use
    --encoding", "use --mappings DIR or --mapping FILE") names options the command has.
    """
    return _collapsed(f, list(_SOURCE_OPTIONS))


def reading_options(f: F) -> F:
    """``--sheet``, ``--encoding``, ``--delimiter`` alone, as ``SourceOptions`` (``source``): for
    a command that reads records without mapping them (``mapping infer``)."""
    return _collapsed(f, ["sheet", "encoding", "delimiter"])


def _collapsed(f: F, names: list[str]) -> F:
    """``f`` with the source options ``names``, passed to it as one ``SourceOptions``."""

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        from sinlod.convert import SourceOptions

        given = {name: kwargs.pop(name) for name in names}
        if "mapping_files" in given:
            given["mapping_files"] = tuple(given["mapping_files"])
        return f(*args, source=SourceOptions(**given), **kwargs)

    for name in reversed(names):
        command = _SOURCE_OPTIONS[name](command)
    return cast(F, command)


def reference_option(f: F) -> F:
    return click.option(
        "--reference",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        default=None,
        help="Directory of reference snapshots (*.ttl; default: data/reference).",
    )(f)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sinlod")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
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
@format_option(
    "human",
    "json",
    "sarif",
    "ttl",
    default="human",
    help="human: grouped by file and record; json; sarif (SARIF 2.1.0); ttl (sh:ValidationReport).",
)
@click.option(
    "--context",
    "context",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Published store whose resources the data may refer to (only what it needs is read).",
)
@source_options
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option(
    "--engine",
    type=click.Choice(["fast", "pyshacl"]),
    default=None,
    help="SHACL engine (default: the validation_engine setting, fast); pyshacl is the reference.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; human format: summary only.")
@click.pass_context
def validate_command(
    ctx: click.Context,
    sources: tuple[Path, ...],
    fmt: str,
    context: Path | None,
    source: SourceOptions,
    strict: bool,
    engine: str | None,
    quiet: bool,
) -> None:
    """Validate records or RDF files against the SHACL shapes and the ontology.

    Records are converted on the fly; RDF files (.ttl .nt .nq .trig .jsonld .rdf) are read as
    they are; a dataset folder (made by `sinlod init`) as its records with its mappings and
    settings. Each finding names the file, row and column it came from. Exit 1 on violations
    (on warnings too with --strict), 0 otherwise, 2 for unreadable input.

    \b
    Example:
      sinlod validate data/records
      sinlod validate --format sarif data/records > validation.sarif
      sinlod validate --context var/store new-projects.csv
    """
    from sinlod.scaffold import folder_sources
    from sinlod.validate import validate
    from sinlod.validate.render import summary

    paths, source, folder_config = folder_sources(sources, source)
    settings = settings_from(ctx, folder_config, validation_engine=engine)
    with _stage_progress(enabled=not quiet, length=5, label="Validating") as step:
        report = validate(
            paths,
            settings,
            context=context,
            progress=step,
            options=source,
        )
    if fmt == "human":
        click.echo(summary(report, color=True) if quiet else report.render_human(color=True))
    elif fmt == "ttl":
        click.echo(report.to_turtle(), nl=False)
    else:
        data = report.to_json() if fmt == "json" else report.to_sarif()
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    if report.failed(strict):
        ctx.exit(1)


@cli.command("settings")
@click.option(
    "--markdown", is_flag=True, help="Print the settings table of the README instead of values."
)
@click.pass_context
def settings_command(ctx: click.Context, markdown: bool) -> None:
    """Show the effective settings (defaults, settings file, SINLOD_* variables).

    \b
    Example:
      SINLOD_PORT=9000 sinlod settings
      sinlod settings --markdown
    """
    from sinlod.config import settings_markdown

    if markdown:
        click.echo(settings_markdown(), nl=False)
        return
    settings = settings_from(ctx)
    for name, env, _default, _help in settings_table():
        value = getattr(settings, name)
        if name == "update_token" and value:
            value = "(set)"
        if name == "update_tokens" and value:  # show who may write, never the tokens
            value = ", ".join(
                f"{e.partition(':')[0]}:(set)" if ":" in e else "(not name:token)" for e in value
            )
        click.echo(f"{name} = {value!s}  [{env}]")


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
@reference_option
@source_options
@click.pass_context
def link_check_command(
    ctx: click.Context,
    sources: tuple[Path, ...],
    reference: Path | None,
    source: SourceOptions,
) -> None:
    """Report links into closed EU code lists (NUTS, authority tables) that the snapshots lack.

    Each problem names the file, row and column of the link. Exit 1 when there is any.

    \b
    Example:
      sinlod link check data/records
    """
    from sinlod.linking import check_links, load_tables

    settings = settings_from(ctx)
    quads, source_map = _link_inputs(sources, settings, source)
    tables = load_tables(reference or settings.reference_dir)
    problems = check_links(quads, tables, source_map)
    for problem in problems:
        click.echo(str(problem))
    n = len(problems)
    click.echo(f"{n} unknown link target{'s' * (n != 1)} ({len(tables)} reference codes)")
    if problems:
        ctx.exit(1)


def _link_inputs(
    sources: tuple[Path, ...], settings: Settings, source: SourceOptions
) -> tuple[list[Any], Any]:
    """Quads and source map of SOURCES (records converted, RDF files read)."""
    from sinlod.inputs import read_inputs

    return read_inputs(list(sources), settings, source)


@link_group.command("suggest")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--target",
    default="nuts",
    show_default=True,
    help="Table to link into: nuts (NUTS 2021), country, language, corporate-body.",
)
@click.option(
    "--class",
    "of_class",
    default="Place",
    show_default=True,
    help="Class (sinlod: local name or full IRI) of the things to link.",
)
@click.option(
    "--level",
    type=click.IntRange(0, 3),
    default=None,
    help="NUTS level to link to (default 3, the region of a city; 0 for countries).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 100),
    default=90.0,
    show_default=True,
    help="Score (0-100) a candidate needs to be a match.",
)
@format_option("csv", "json", default="csv")
@click.option(
    "--accept",
    type=click.FloatRange(0, 100),
    default=None,
    help="Write matches scoring at least this into the CSV records (see --column).",
)
@click.option(
    "--column",
    default=None,
    help="Record column --accept fills (default: the target, e.g. nuts); only empty cells.",
)
@click.option(
    "--service",
    "service_url",
    default=None,
    metavar="URL",
    help="Ask a reconciliation service (W3C API, as OpenRefine uses: Wikidata's, a sinlod "
    "server's /reconcile) instead of the offline tables; --target and --level do not apply.",
)
@click.option(
    "--service-type",
    default=None,
    metavar="TYPE",
    help="With --service: the type id to reconcile against (e.g. Q515 on Wikidata).",
)
@reference_option
@source_options
@click.pass_context
def link_suggest_command(
    ctx: click.Context,
    sources: tuple[Path, ...],
    target: str,
    of_class: str,
    level: int | None,
    threshold: float,
    fmt: str,
    accept: float | None,
    column: str | None,
    reference: Path | None,
    source: SourceOptions,
    service_url: str | None,
    service_type: str | None,
) -> None:
    """Suggest links for things that have none into TARGET: scored, ambiguous cases flagged.

    Names are compared transliterated and fuzzily with every name the table gives a code (in
    the EU languages); a place's country narrows its region and a postcode gives it. A
    suggestion is a match only when no other code comes close; ambiguous ones list the
    candidates for a person to decide.

    \b
    Example:
      sinlod link suggest data/records --target nuts
      sinlod link suggest records/ --target country --class Organisation --format json
      sinlod link suggest records/ --target nuts --accept 95     # fills the nuts column
      sinlod link suggest records/ --service https://wikidata.reconci.link/en/api \\
          --service-type Q515 --column wikidata
    """
    import csv
    import io

    from sinlod.linking import load_tables, suggest_links, target_named
    from sinlod.linking.suggest import table_named
    from sinlod.linking.writeback import write_back
    from sinlod.namespaces import PREFIXES

    cls = of_class if ":" in of_class else PREFIXES["sinlod"] + of_class
    settings = settings_from(ctx)
    if service_url is not None:  # a reconciliation service instead of the offline tables
        from sinlod.linking.service import Service, suggest_with_service

        service = Service.connect(service_url)
        quads, source_map = _link_inputs(sources, settings, source)
        found = suggest_with_service(
            quads, service, of_class=cls, type_id=service_type, threshold=threshold
        )
        namespace = None  # from the accepted targets (a service may name several tables)
    else:
        link_target = target_named(target)
        tables = load_tables(reference or settings.reference_dir)
        quads, source_map = _link_inputs(sources, settings, source)
        wanted = level if level is not None else (3 if link_target.key == "nuts" else None)
        found = suggest_links(
            quads, tables, link_target, of_class=cls, level=wanted, threshold=threshold
        )
        namespace = table_named(link_target.key).namespace  # codes, not the dataset
    written = {}
    if accept is not None:
        chosen = [s for s in found if s.status == "match" and s.score >= accept]
        if namespace is None:
            from sinlod.linking.service import shared_namespace

            namespace = shared_namespace(chosen)
        written = write_back(
            chosen,
            source_map,
            column or target,
            namespace,
            encoding=source.encoding,
            delimiter=source.delimiter,
        )
    if fmt == "json":
        click.echo(json.dumps([s.as_dict() for s in found], indent=2, ensure_ascii=False))
    else:
        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\n")
        header = ["subject", "label", "status", "score", "target", "target_label", "candidates"]
        out.writerow(header)
        for s in found:
            candidates = " ".join(f"{c.code}:{c.score:.0f}" for c in s.candidates)
            row = [s.subject, s.label, s.status, f"{s.score:.0f}", s.target_iri or ""]
            out.writerow([*row, s.target_label or "", candidates])
        click.echo(buffer.getvalue(), nl=False)
    for path, n in written.items():
        where = f"column {column or target}"
        click.echo(f"{path}: {n} link{'s' * (n != 1)} written to {where}", err=True)


@cli.command("convert")
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output file (written only if conversion succeeds); default: stdout.",
)
@format_option(
    "ttl",
    "nt",
    "nq",
    "jsonld",
    "rdf",
    "trig",
    default=None,
    help="Output format (default: from the -o extension, else ttl).",
)
@source_options
@dataset_option
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
    source: SourceOptions,
    dataset: str | None,
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

    settings = settings_from(ctx, dataset=dataset)  # N-Quads and TriG name each source's graph
    total = len(expand_sources(sources))
    with _stage_progress(enabled=not quiet, length=total, label="Converting") as step:
        count = convert_to_file(
            list(sources),
            settings,
            output,
            fmt,
            max_errors=max_errors,
            progress=step,
            **source.keywords(),
        )
    if not quiet and output is not None:
        click.echo(f"{count} triples written to {output}", err=True)


def _print_problems(exc: ConversionFailed, how: str, ctx: click.Context) -> None:
    """One problem per line on stderr, then ``N problems in M files``.

    A conversion cut short is said so by the option that sets the limit where the command has
    it, else by the number it stopped at.
    """
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
    limit = "--max-errors" if "max_errors" in ctx.params else str(n)
    more = f" (stopped at {limit})" if exc.truncated else ""
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
    help="Worker processes; each opens the store and serves its current release (its own"
    " memory copy), and new connections are dealt to them in turn. The parent supervises"
    " them: a worker that dies, or is recycled after a query past its limits, is replaced"
    " (by a warm spare, setting warm_spare).",
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
    from sinlod.server.operations.run import (  # the server stack loads only when serving
        check_store,
        serve,
    )

    settings = settings_from(ctx, store_path=store_path, host=host, port=port)
    check_store(settings)
    click.echo(
        f"Serving {_store_name(settings)} on http://{settings.host}:{settings.port}/", err=True
    )
    serve(settings, workers=workers)


# -- the store: publish, releases, query, dump, restore, stats -----------------------------------

#: ``sinlod query --format`` names: SPARQL result formats, then RDF formats (CONSTRUCT/DESCRIBE).
RESULT_FORMATS = ("json", "xml", "csv", "tsv")
GRAPH_FORMATS = ("ttl", "nt", "nq", "trig", "jsonld", "rdf", "n3")


def _store_settings(
    ctx: click.Context,
    store_path: Path | None,
    folder_config: Path | None = None,
    **overrides: Any,
) -> Settings:
    return settings_from(ctx, folder_config, store_path=store_path, **overrides)


def _store_name(settings: Settings) -> str:
    """The store as a person knows it: its directory, or the remote store's query URL."""
    if settings.backend == "remote":
        return f"the remote store at {settings.remote_query_url}"
    return str(settings.store_path)


def _open_store(settings: Settings, *, read_only: bool) -> Any:
    """Open the configured store (``backend``: embedded or remote); a reader refuses a path
    where nothing was ever published."""
    from sinlod.store.backend import open_backend

    path = settings.store_path
    if settings.backend == "embedded" and read_only and not path.exists():
        raise Failure(f"{path}: no store here (publish something first)", 2)
    return open_backend(settings, read_only=read_only)


@cli.command("publish")
@click.argument("sources", nargs=-1, required=True)
@store_option
@click.option(
    "--force", is_flag=True, help="Publish even if the data violates the shapes (recorded)."
)
@click.option(
    "--skip-validation", is_flag=True, help="Load without validating (recorded as not validated)."
)
@click.option(
    "--all", "republish", is_flag=True, help="Republish sources even when they are unchanged."
)
@click.option(
    "--no-ontology", is_flag=True, help="Do not (re)publish the ontology and vocabularies."
)
@dataset_option
@click.option(
    "--prune", is_flag=True, help="Remove the dataset's graphs whose source is not in SOURCES."
)
@click.option("--dry-run", is_flag=True, help="Validate and show what would change; write nothing.")
@format_option("human", "json", default="human")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no findings, only errors.")
@source_options
@message_option
@click.pass_context
def publish_command(
    ctx: click.Context,
    sources: tuple[str, ...],
    store_path: Path | None,
    force: bool,
    skip_validation: bool,
    republish: bool,
    no_ontology: bool,
    dataset: str | None,
    prune: bool,
    dry_run: bool,
    fmt: str,
    quiet: bool,
    source: SourceOptions,
    message: str | None,
) -> None:
    """Convert (records) or read (RDF files), validate with the store as context, and publish.

    Everything goes into one dataset (--dataset): each source to the dataset's own named graph
    ({base}graph/{dataset}/{file-stem}), replaced atomically; other datasets' graphs are never
    touched. Things another dataset describes too are reported; a value that contradicts another
    dataset's on a single-valued property is a violation. The ontology and vocabularies go to
    their own graphs. Sources unchanged since they were last published (same SHA-256 of source,
    mappings, shapes and ontology) are skipped; if nothing changed, nothing is written.
    --dry-run prints what would change per graph and per thing and writes nothing. Exit 1 on
    violations (nothing is published unless --force).

    \b
    Example:
      sinlod publish data/records --store var/store
      sinlod publish steward/places.csv --dataset steward --dry-run
      sinlod publish extra/projects.nt --force
    """
    from sinlod.publish import publish
    from sinlod.scaffold import folder_sources

    paths, source, folder_config = folder_sources(sources, source)
    settings = _store_settings(ctx, store_path, folder_config=folder_config)
    store = _open_for_publish(settings, dry_run=dry_run)
    with store, _stage_progress(not quiet, len(sources) + 20, "Publishing") as step:
        result = publish(
            paths,
            settings,
            store,
            force=force,
            validate=not skip_validation,
            ontology=not no_ontology,
            skip_unchanged=not republish,
            progress=step,
            options=source,
            dataset=dataset,
            prune=prune,
            dry_run=dry_run,
            message=message,
        )
    refused = result.report is not None and not result.report.conforms and not force
    if fmt == "json":
        data = result.to_json()
        if dry_run:
            data["report"] = result.report.to_json() if result.report else None
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        if dry_run and refused:
            ctx.exit(1)
        return
    if dry_run:
        _print_dry_run(result, quiet, refused)
        return
    _print_publish_notes(result)
    if result.report is not None and not quiet:
        from sinlod.validate.render import summary

        click.echo(summary(result.report, color=True), err=True)
    if result.release is None:
        click.echo(f"Nothing changed: {len(result.skipped)} graphs already published; no release.")
        return
    release = result.release
    changed = sum(release.graphs.get(g, 0) for g in result.published)
    click.echo(
        f"Published release {release.id}: {len(result.published)} graphs ({changed} triples)"
        f", {len(result.skipped)} unchanged; {release.triples} triples in the store."
    )
    if release.forced:
        click.secho(f"Forced despite {release.violations} violations.", fg="yellow", err=True)


def _open_for_publish(settings: Settings, *, dry_run: bool) -> Any:
    """The store to publish into; a dry run opens it read-only (nothing on disk may change, not
    even a format upgrade), or an empty store in memory when there is none yet."""
    from sinlod.store import Store

    if not dry_run:
        return _open_store(settings, read_only=False)
    if settings.backend == "embedded" and not settings.store_path.exists():
        return Store.in_memory(base_iri=settings.base_iri)
    return _open_store(settings, read_only=True)


def _print_publish_notes(result: Any) -> None:
    """What a publish did besides replacing graphs: pruned, moved, shared things."""
    for graph in result.pruned:
        click.echo(f"Pruned <{graph}> (its source is not among the sources given).")
    for old, new in result.migrated.items():
        click.echo(f"Moved <{old}> (published before datasets) to <{new}>.")
    for graph, path in result.elsewhere.items():
        click.secho(
            f"Note: <{graph}> was last published from {path}; this replaces it"
            " (to publish beside it instead: --dataset NAME).",
            fg="yellow",
        )
    if result.overlaps:
        click.echo(
            f"{len(result.overlaps)} things are also described by another dataset"
            " (reported, not refused):"
        )
        for overlap in result.overlaps:
            click.echo(f"  {overlap}")


def _print_dry_run(result: Any, quiet: bool, refused: bool) -> None:
    """A dry run: the changes, per graph and per thing, and the findings; exit 1 when a publish
    would be refused."""
    click.echo(f"Dry run, dataset {result.dataset}: nothing was written.")
    if result.summary is None:
        click.echo(f"Nothing would change: {len(result.skipped)} graphs already published.")
        return
    _print_publish_notes(result)
    click.echo(result.summary.render_human())
    report = result.report
    if report is None:
        return
    if not quiet and report.findings:
        click.echo(report.render_human(color=True))
    if refused:
        n = report.counts()["Violation"]
        raise Failure(
            f"{n} violation{'s' * (n != 1)}: a publish would be refused (--force publishes anyway)",
            1,
        )


@cli.command("releases")
@store_option
@format_option("table", "json", default="table")
@click.pass_context
def releases_command(ctx: click.Context, store_path: Path | None, fmt: str) -> None:
    """List the releases recorded in the store, oldest first.

    "data" says whether a release's data is still kept (so `sinlod diff`, `rollback`, `dump
    --release` and `query --release` can read it) or was pruned; the log itself keeps every
    release. "why" is the release's comment (`--message`).

    \b
    Example:
      sinlod releases --store var/store
      sinlod releases --format json | jq '.[-1].files'
    """
    store = _open_store(_store_settings(ctx, store_path), read_only=True)
    with store:
        releases = store.releases()
        kept = set(store.kept_releases())
    if fmt == "json":
        listed = [r.to_json() | {"kept": r.id in kept} for r in releases]
        click.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    rows = [
        (
            r.id,
            r.ended.strftime("%Y-%m-%d %H:%M:%S"),
            r.agent,
            "any" if r.changed is None else str(len(r.changed)),
            str(r.triples),
            _outcome(r),
            "kept" if r.id in kept else "pruned",
            r.comment or "",
        )
        for r in releases
    ]
    header = ("release", "ended (UTC)", "agent", "graphs", "triples", "validation", "data", "why")
    click.echo(_table(header, rows) if rows else "No releases yet.")


def _outcome(release: Any) -> str:
    if release.conforms is None:
        return "not validated"
    if release.conforms:
        return "conforms"
    forced = " (forced)" if release.forced else ""
    return f"{release.violations} violations{forced}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], width: int = 60) -> str:
    """A plain text table, each cell cut at ``width`` characters."""
    cells = [[c if len(c) <= width else c[: width - 1] + "…" for c in row] for row in rows]
    widths = [max(len(x) for x in col) for col in zip(header, *cells, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)


@cli.command("diff")
@click.argument("old", required=False)
@click.argument("new", required=False)
@store_option
@format_option("human", "json", "nq", "patch", default="human")
@click.option(
    "--limit",
    type=int,
    default=50,
    show_default=True,
    help="Things listed by the human format (0: all).",
)
@click.pass_context
def diff_command(
    ctx: click.Context,
    old: str | None,
    new: str | None,
    store_path: Path | None,
    fmt: str,
    limit: int,
) -> None:
    """What changed from release OLD to release NEW: per graph, per thing, or the exact quads.

    Without arguments, the release before the current one against the current one; with OLD
    only, OLD against the current one. An id may be shortened to a unique prefix (000003).
    Only releases whose data is kept can be compared (`sinlod releases` shows which).

    --format nq prints the removed quads, then the added ones, each N-Quads line after "- " or
    "+ "; --format patch an RDF Patch (H id / H prev, TX, D and A rows, TC) that turns OLD's
    data into NEW's; --format json the summary for tools.

    \b
    Example:
      sinlod diff
      sinlod diff 000003 000005 --format patch > changes.rdfp
    """
    from sinlod.history import diff_releases, render_nq, render_patch

    settings = _store_settings(ctx, store_path)
    store = _open_store(settings, read_only=True)
    with store:
        diff = diff_releases(store, old, new)
    if fmt == "json":
        click.echo(json.dumps(diff.to_json(), indent=2, ensure_ascii=False))
    elif fmt == "nq":
        click.echo(render_nq(diff), nl=False)
    elif fmt == "patch":
        click.echo(render_patch(diff, settings.base_iri), nl=False)
    else:
        click.echo(f"From release {diff.old} to release {diff.new}: ", nl=False)
        click.echo(diff.summary.render_human(limit=limit or None))


@cli.command("rollback")
@click.argument("release")
@store_option
@message_option
@format_option("human", "json", default="human")
@click.pass_context
def rollback_command(
    ctx: click.Context, release: str, store_path: Path | None, message: str | None, fmt: str
) -> None:
    """Publish the data of RELEASE again, as a new release: nothing is erased.

    RELEASE is an id or a unique prefix of one, whose data is kept (`sinlod releases`). The new
    release is recorded with who, when and why (--message); the release log only grows. When
    the data already is RELEASE's, nothing is written.

    \b
    Example:
      sinlod rollback 000003 --message "the partner's import was wrong"
    """
    from sinlod.history import rollback

    store = _open_store(_store_settings(ctx, store_path), read_only=False)
    with store:
        done = rollback(store, release, message=message)
        logged = len(store.releases())
    if fmt == "json":
        data = {
            "target": done.target,
            "release": done.release.to_json() if done.release else None,
            "changes": done.summary.to_json(),
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if done.release is None:
        click.echo(f"Nothing to do: the data already is release {done.target}'s; no release.")
        return
    changes = done.summary
    click.echo(
        f"Rolled back: release {done.release.id} has the data of release {done.target}"
        f" (+{changes.added} -{changes.removed} triples); {logged} releases in the log."
    )


@cli.command("query")
@click.argument("query")
@store_option
@release_option
@format_option(
    "table",
    *RESULT_FORMATS,
    *GRAPH_FORMATS,
    default=None,
    help="table on a terminal; otherwise json (SELECT/ASK) or nt (CONSTRUCT/DESCRIBE).",
)
@click.pass_context
def query_command(
    ctx: click.Context,
    query: str,
    store_path: Path | None,
    release_id: str | None,
    fmt: str | None,
) -> None:
    """Run a SPARQL query (text, or @FILE) against the store; the default graph is all graphs.

    --release queries a past release whose data is kept, as it was published.

    \b
    Example:
      sinlod query 'SELECT ?p WHERE { ?p a <https://w3id.org/sinlod/def/Project> }'
      sinlod query @report.rq --format csv > report.csv
      sinlod query --release 000003 'SELECT (COUNT(*) AS ?n) { ?s ?p ?o }'
    """
    from sinlod.namespaces import PREFIXES

    text = _query_text(query)
    store = _open_store(_store_settings(ctx, store_path), read_only=True)
    with store, _reading(store, release_id) as source:
        try:
            result = source.query(text)
            if fmt is None:
                fmt = "table" if sys.stdout.isatty() else None
            out = _serialize_result(result, fmt, PREFIXES)
        except (OSError, RuntimeError) as exc:  # raised while evaluating, e.g. a SERVICE call
            raise Failure(f"query failed: {exc}", 2) from exc
    data = out if isinstance(out, bytes) else out.encode("utf-8")
    click.echo(data if data.endswith(b"\n") else data + b"\n", nl=False)  # bytes: CRLF kept


def _query_text(query: str) -> str:
    if not query.startswith("@"):
        return query
    path = Path(query[1:])
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise Failure(f"cannot read query file {path}: {exc.strerror}", 2) from exc


def _serialize_result(result: Any, fmt: str | None, prefixes: dict[str, str]) -> bytes | str:
    """Serialize with pyoxigraph's own writers; ``table`` is the one human rendering."""
    import pyoxigraph as ox

    from sinlod.convert import FORMATS

    graph = isinstance(result, ox.QueryTriples)
    if fmt == "table":
        if graph:
            return bytes(result.serialize(format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b"")
        if isinstance(result, ox.QueryBoolean):
            return "true" if bool(result) else "false"
        return _solutions_table(result, prefixes)
    if graph:
        name = fmt or "nt"
        if name not in GRAPH_FORMATS:
            raise Failure(
                f"--format {name} is for SELECT and ASK; use one of {', '.join(GRAPH_FORMATS)}", 2
            )
        rdf = FORMATS.get(name) or ox.RdfFormat.N3
        return bytes(result.serialize(format=rdf) or b"")
    name = fmt or "json"
    if name not in RESULT_FORMATS:
        raise Failure(
            f"--format {name} is for CONSTRUCT and DESCRIBE; "
            f"use one of {', '.join(RESULT_FORMATS)}",
            2,
        )
    formats = {
        "json": ox.QueryResultsFormat.JSON,
        "xml": ox.QueryResultsFormat.XML,
        "csv": ox.QueryResultsFormat.CSV,
        "tsv": ox.QueryResultsFormat.TSV,
    }
    return bytes(result.serialize(format=formats[name]) or b"")


def _solutions_table(result: Any, prefixes: dict[str, str]) -> str:
    names = tuple(v.value for v in result.variables)
    rows = [tuple(_show_term(s[n], prefixes) for n in names) for s in result]
    n = len(rows)
    return _table(names, rows) + f"\n{n} row{'s' * (n != 1)}"


def _show_term(term: Any, prefixes: dict[str, str]) -> str:
    """A term as a person reads it: prefixed names, plain literals with their language."""
    import pyoxigraph as ox

    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, ns in prefixes.items():
            if term.value.startswith(ns) and "/" not in term.value[len(ns) :]:
                return f"{prefix}:{term.value[len(ns) :]}"
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        return term.value + (f"@{term.language}" if term.language else "")
    return str(term)


@cli.command("dump")
@store_option
@click.option("--graph", default=None, help="Dump only this named graph (IRI).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output file (.nq, .nq.gz, .trig, with --graph also .nt, .ttl); default: stdout.",
)
@click.option("--quiet", "-q", is_flag=True, help="No summary on stderr.")
@release_option
@click.pass_context
def dump_command(
    ctx: click.Context,
    store_path: Path | None,
    graph: str | None,
    output: Path | None,
    quiet: bool,
    release_id: str | None,
) -> None:
    """Dump the store (or one graph) as N-Quads, for backups and `sinlod restore`.

    --release dumps a past release whose data is kept, with its release log as it was then.

    \b
    Example:
      sinlod dump -o backup.nq.gz
      sinlod dump --graph https://w3id.org/sinlod/graph/sinlod/projects -o projects.ttl
      sinlod dump --release 000003 -o before-the-import.nq.gz
    """
    import pyoxigraph as ox

    fmt = ox.RdfFormat.N_QUADS
    if output is not None:
        name = output.name.removesuffix(".gz")
        try:
            fmt = ox.RdfFormat.from_extension(name.rsplit(".", 1)[-1]) or fmt
        except ValueError:
            raise Failure(
                f"{output}: unknown RDF format (use .nq, .nq.gz, .trig, .nt, .ttl)", 2
            ) from None
    store = _open_store(_store_settings(ctx, store_path), read_only=True)
    with store, _reading(store, release_id) as source:
        target = output if output is not None else sys.stdout.buffer
        count = source.dump(target, graph=graph, format=fmt)
    if not quiet and output is not None:
        click.echo(f"{count} quads written to {output}", err=True)


@cli.command("restore")
@click.argument("dump", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@store_option
@message_option
@click.pass_context
def restore_command(
    ctx: click.Context, dump: Path, store_path: Path | None, message: str | None
) -> None:
    """Replace all the data in the store by a dump's (N-Quads, .gz too), atomically.

    Into an empty store the dump comes back exactly, release log included. Into a store with
    data the restore is a new release (who, when, why: --message), and nothing of the release
    log is erased: the dump's releases it lacks are added to it.

    \b
    Example:
      sinlod restore backup.nq.gz --store var/store
      sinlod restore before-the-import.nq.gz -m "undo the partner's import"
    """
    from sinlod.history import restore

    settings = _store_settings(ctx, store_path)
    store = _open_store(settings, read_only=False)
    where = _store_name(settings)
    with store:
        before = store.release_id
        done = restore(store, dump, message=message)
        logged = len(store.releases())
        if done.release is not None:
            click.echo(
                f"Restored {done.quads} quads into {where} as release {done.release.id};"
                f" {logged} releases in the log."
            )
        elif before is not None and store.release_id == before:
            click.echo("Nothing changed: the store already holds the dump's data and releases.")
        else:
            click.echo(f"Restored {done.quads} quads into {where} (snapshot {store.release_id}).")


@cli.command("replicate")
@click.option(
    "--from",
    "source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="The store to copy from (a local path; rsync a remote one here first: docs/deploy.md).",
)
@click.option(
    "--to",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The replica's store directory (created if missing); a server may be serving it.",
)
@click.option(
    "--stage",
    is_flag=True,
    help="Copy the release but do not switch to it yet; a run without --stage switches.",
)
@click.option(
    "--link",
    is_flag=True,
    help="Hard-link the release's files from --from instead of copying them (same file system:"
    " a staging copy made by rsync).",
)
@click.option("--quiet", "-q", is_flag=True, help="No summary.")
@click.pass_context
def replicate_command(
    ctx: click.Context, source: Path, target: Path, stage: bool, link: bool, quiet: bool
) -> None:
    """Copy the release published in one store to another, switching the target last.

    A server on the target keeps answering from its release until the new one is complete
    there. Safe to run again (nothing to do) or after an interruption (it resumes).

    \b
    Example:
      sinlod replicate --from /srv/sinlod/store --to /srv/replica/store
      sinlod replicate --from staging/store --to /srv/sinlod/store --stage
    """
    from sinlod.store.replicate import replicate

    keep = settings_from(ctx).keep_releases
    done = replicate(source, target, switch=not stage, keep=keep, link=link)
    if quiet:
        return
    if done.previous == done.release:
        click.echo(f"{target}: already serves release {done.release}; nothing to copy.")
        return
    what = "staged (run again without --stage to serve it)" if stage else "now served"
    click.echo(
        f"{target}: release {done.release} {what}; {done.files_copied} files copied "
        f"({done.bytes_copied / 1e6:.1f} MB), {done.files_linked} hard-linked "
        f"({'from --from' if link else 'unchanged since its previous release'}), "
        f"{done.files_kept} already there; {done.log_bytes} bytes of release log."
    )


@cli.command("stats")
@store_option
@format_option("human", "json", default="human")
@click.pass_context
def stats_command(ctx: click.Context, store_path: Path | None, fmt: str) -> None:
    """Datasets, triples per graph, instances per class and links per external dataset.

    \b
    Example:
      sinlod stats --store var/store
    """
    from sinlod.namespaces import PREFIXES
    from sinlod.store import group_datasets

    store = _open_store(_store_settings(ctx, store_path), read_only=True)
    with store:
        stats = store.stats()
        found = group_datasets(stats.graphs, store.base_iri, store.releases())
    if fmt == "json":
        data = stats.to_json() | {"datasets": [d.to_json() for d in found]}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"Release {stats.release_id or '(none)'}: {stats.triples} triples\n")
    rows = [
        (d.name, str(len(d.graphs)), str(d.triples), d.last_release.id if d.last_release else "")
        for d in found
    ]
    click.echo(_table(("dataset", "graphs", "triples", "last release"), rows, 80) + "\n")
    click.echo(_table(("graph", "triples"), [(g, str(n)) for g, n in stats.graphs.items()], 80))
    classes = [(_show_term_iri(c, PREFIXES), str(n)) for c, n in stats.classes.items()]
    click.echo("\n" + _table(("class", "instances"), classes, 80))
    click.echo(
        "\n" + _table(("links to", "triples"), [(d, str(n)) for d, n in stats.links.items()])
    )


def _show_term_iri(iri: str, prefixes: dict[str, str]) -> str:
    import pyoxigraph as ox

    return _show_term(ox.NamedNode(iri), prefixes)


@cli.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--dataset", default=None, help="Dataset name (default: the folder's name).")
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
@click.pass_context
def init_command(ctx: click.Context, directory: Path, dataset: str | None, force: bool) -> None:
    """Start a dataset: a folder with record templates, their mappings, settings and a README.

    records/ holds one CSV per table of the model (header and an example row),
    templates/records.xlsx the same as sheets with drop-downs and header comments, mappings/
    the CSVW descriptions, sinlod.toml the dataset's name. The fresh folder validates and
    publishes as it is. Refuses a folder that is not empty unless --force (exit 2).

    \b
    Example:
      sinlod init my-dataset
      sinlod validate my-dataset
      sinlod publish my-dataset --dry-run
    """
    from sinlod.scaffold import init_dataset

    scaffold = init_dataset(directory, settings_from(ctx), dataset=dataset, force=force)
    click.echo(
        f'Created dataset "{scaffold.dataset}" in {directory}: {len(scaffold.tables)} record '
        f"templates in records/, their mappings in mappings/, templates/records.xlsx with "
        "drop-downs, sinlod.toml, README.md."
    )
    # Quoted for the shell, so "my data" is a command the steward can paste as it is.
    import shlex

    click.echo(f"Next: edit the templates, then `sinlod validate {shlex.quote(str(directory))}`.")


@cli.group("mapping")
def mapping_group() -> None:
    """Work with CSVW mappings: propose one for a spreadsheet you already have.

    \b
    Example:
      sinlod mapping infer projecten.xlsx -o mappings/projecten.csv-metadata.json
    """


@mapping_group.command("infer")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--table", default=None, help="Table of the model (projects, organisations, ...).")
@reading_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the mapping here (default: standard output).",
)
@click.option("--quiet", "-q", is_flag=True, help="Do not print the report on standard error.")
@click.pass_context
def mapping_infer_command(
    ctx: click.Context,
    file: Path,
    table: str | None,
    source: SourceOptions,
    output: Path | None,
    quiet: bool,
) -> None:
    """Propose a CSVW mapping for a CSV or XLSX sheet: headers matched to the model's columns
    (English, Dutch, German; fuzzy), date and number formats and code fixes read from the cells.

    The report on standard error lists what each header became and what was not matched
    (kept as suppressed columns). Review the mapping, then use it with --mapping.

    \b
    Example:
      sinlod mapping infer projecten.xlsx --table projects -o projecten.json
      sinlod validate projecten.xlsx --mapping projecten.json
    """
    from sinlod.mapping.infer import Model, infer_mapping

    settings = settings_from(ctx)
    model = Model(settings.mappings_dir, settings.ontology_file, settings.shape_files())
    proposal = infer_mapping(
        file,
        model,
        table=table,
        sheet=source.sheet,
        encoding=source.encoding,
        delimiter=source.delimiter,
        display_name=str(file),
    )
    text = json.dumps(proposal.metadata, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    if not quiet:
        click.echo(proposal.report(), err=True)


def main() -> None:  # pragma: no cover - exercised through the console script
    cli(prog_name="sinlod")


if __name__ == "__main__":  # pragma: no cover
    main()
