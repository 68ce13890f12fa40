"""Text that leaves this machine (tables, the page, committed metadata) carries no local path."""

from __future__ import annotations

import re

_PATH = re.compile(r"(?<![\w.~])(?:~|/)[^\s:,;()'\"`]*/[^\s:,;()'\"`]*|(?<![\w.])/[A-Za-z0-9_.-]+(?=[\s:,;)'\"`]|$)")


def scrub_paths(text: str) -> str:
    """`text` with every absolute or home-relative path replaced by '<local path>'."""
    return _PATH.sub("<local path>", text)
