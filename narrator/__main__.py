"""``python -m narrator`` runs the CLI."""

from narrator.console import run

run()
