"""The ``icetrack`` command line: one module per command group over the library, rendering results only."""

from icetrack.cli.main import cli, main

__all__ = ["cli", "main"]
