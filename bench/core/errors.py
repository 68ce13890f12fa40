"""The one user-facing error of the harness: the command line prints it and exits 2."""

from __future__ import annotations


class RunError(Exception):
    """The command cannot start or cannot go on: a message for the user, exit status 2."""
