"""``python -m narrator`` runs the CLI."""

from narrator.cli import main

main()
