"""``python -m sinlod`` runs the CLI."""

from sinlod.cli import cli

cli(prog_name="sinlod")
