"""The command line: parses, calls the library, prints. The only layer that prints or exits.

Importing this package registers every command on the one :data:`app`.
"""

from __future__ import annotations

from narrator.cli import publish, render, sound, speech  # noqa: F401  (register the commands)
from narrator.cli.app import app, main

__all__ = ["app", "main"]
