"""Errors shared by the command-line entry points (a leaf module: it imports
nothing of bnlint, so `cli` and `runtime.command` both use it without an
import cycle)."""

from __future__ import annotations


class UsageError(Exception):
    """A mistake on the command line; the CLI prints it and exits 2."""
