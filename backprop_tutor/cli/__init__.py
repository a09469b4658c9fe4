"""The `tutor` command line: the only layer that talks to the terminal (click, rich)."""

from backprop_tutor.cli.app import cli, main

__all__ = ["cli", "main"]
