"""Text that leaves this machine (tables, the page, committed metadata) carries no local path."""

from __future__ import annotations

import hashlib
import re

_PATH = re.compile(r"(?<![\w.~])(?:~|/)[^\s:,;()'\"`]*/[^\s:,;()'\"`]*|(?<![\w.])/[A-Za-z0-9_.-]+(?=[\s:,;)'\"`]|$)")


def scrub_paths(text: str) -> str:
    """`text` with every absolute or home-relative path replaced by '<local path>'."""
    return _PATH.sub("<local path>", text)


def md_text(text) -> str:
    """Text from outside (an exception message, a machine, framework or benchmark name) made inert in
    Markdown: one line, no raw HTML (every < an entity), no table break ('|'), code span or inline link,
    and no control character (shown as its escape: a table printed to a terminal sends it none)."""
    return _inert(one_line(" ".join(str(text).split())))


def _inert(text: str) -> str:
    escaped = text.replace("<", "&lt;")  # no tag can open; '>' and '&' alone are text (and read well in a terminal)
    return escaped.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("](", "]\\(")


def md_note(text) -> str:
    """A line of the tool's own text for Markdown: its `code spans` kept as code, everything else
    made inert as md_text makes it (no raw backticks shown where a code span was meant), the spaces
    around a code span kept."""
    parts = re.split(r"`([^`]+)`", one_line(" ".join(str(text).split())))
    return "".join(f"`{part}`" if i % 2 else _inert(part) for i, part in enumerate(parts))


def md_table(frame, index: bool = True) -> str:
    """frame.to_markdown with every cell, column name and row name passed through md_text."""
    safe = frame.map(md_text)
    safe.columns = [md_text(c) for c in frame.columns]
    if index:
        safe.index = [md_text(i) for i in frame.index]
        safe.index.name = None if frame.index.name is None else md_text(frame.index.name)
    return safe.to_markdown(index=index, disable_numparse=True)


def one_line(text) -> str:
    """Text from outside printed on one terminal line: line breaks and other control characters shown
    as escapes (a name holding a newline cannot start a line of its own)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def workflow_data(text) -> str:
    """A GitHub Actions workflow command's message, escaped as the runner expects (% CR LF), so that
    text from outside cannot end the command's line and start another (`::add-mask::`, `::stop-commands::`)."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text) -> str:
    """A workflow command's property value (`title=...`): the message escapes plus ':' and ','."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


_FILE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


def file_part(text) -> str:
    """A piece of a file name made from stored text (a machine, a device): the text itself where it is a
    plain name, else a slug of it and a hash of the whole (never a path separator, '..', a control or
    non-ASCII character), so two names never meet in one file and no name reaches outside its folder."""
    text = str(text)
    if _FILE_PART.fullmatch(text) and ".." not in text:
        return text
    slug = re.sub(r"[^A-Za-z0-9+-]+", "-", text).strip("-")[:40] or "x"
    return f"{slug}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


_FORMULA = re.compile(r"[=+@\t\r]|-(?![\d.])")


def csv_cell(value):
    """A CSV cell from outside text that a spreadsheet would run as a formula ('=HYPERLINK(...)', '@SUM',
    '+', '-' not starting a number, a tab): quoted as text with a leading apostrophe, as OWASP advises;
    anything else as it is."""
    return "'" + value if isinstance(value, str) and _FORMULA.match(value) else value


def csv_frame(frame):
    """Every text cell of a frame (and its column names) through csv_cell, for a CSV file."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
            out[col] = out[col].map(csv_cell)
    out.columns = [csv_cell(c) for c in out.columns]
    return out
