"""``python -m sinlod`` runs the CLI."""

from sinlod.cli import cli

if __name__ == "__main__":
    cli(prog_name="sinlod")
