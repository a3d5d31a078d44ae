"""The ``sinlod`` command: a thin layer over the library.

Each command parses its options, calls one library function, prints the result and exits with a
meaningful code: 0 ok, 1 invalid data, 2 usage or unreadable input. Library errors are turned into
messages in one place (``main``), never shown as tracebacks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import click

from sinlod import __version__
from sinlod.config import Settings
from sinlod.errors import (
    ConversionFailed,
    InputError,
    InvalidData,
    QueryError,
    SinlodError,
    StoreError,
)

F = TypeVar("F", bound=Callable[..., Any])


class Failure(click.ClickException):
    """A library error shown to the user; ``exit_code`` says what kind."""

    exit_code: ClassVar[int] = 2  # type: ignore[misc]

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        click.echo(click.style("Error: ", fg="red", bold=True) + self.format_message(), err=True)


def exit_code_for(error: SinlodError) -> int:
    """1 for data that is wrong (fix the data), 2 for input or usage that is wrong (fix the call)."""
    if isinstance(error, InvalidData | ConversionFailed):
        return 1
    if isinstance(error, StoreError):
        return 2
    if isinstance(error, InputError | QueryError):
        return 2
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


def main() -> None:  # pragma: no cover - exercised through the console script
    cli(prog_name="sinlod")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
