"""bench/core/text.py: names from outside printed as GitHub workflow commands and terminal lines
cannot start a command or a line of their own."""

from __future__ import annotations

from bench.core.text import one_line, workflow_data, workflow_property

HOSTILE = "box\n::add-mask::secret\r\n::stop-commands::x 100%"


def test_a_message_cannot_end_its_command_line():
    escaped = workflow_data(HOSTILE)
    assert "\n" not in escaped and "\r" not in escaped
    assert escaped == "box%0A::add-mask::secret%0D%0A::stop-commands::x 100%25"


def test_a_property_escapes_its_separators_too():
    assert workflow_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_a_terminal_line_shows_control_characters_as_escapes():
    shown = one_line(HOSTILE)
    assert "\n" not in shown and "\r" not in shown and shown.startswith("box\\n::add-mask::")
    assert one_line("plain name-1.0") == "plain name-1.0"


def test_a_stored_formula_reaches_a_csv_as_text():
    """host.cpu_model '=HYPERLINK(...)' filled 80 cells of results.csv with a formula: quoted as OWASP
    advises; numbers, negative ones included, and plain names stay as they are."""
    import pandas as pd

    from bench.core.text import csv_cell, csv_frame

    assert csv_cell('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert [csv_cell(v) for v in ("+1+1", "@SUM(A1)", "\tx", "-cmd")] == ["'+1+1", "'@SUM(A1)", "'\tx", "'-cmd"]
    assert [csv_cell(v) for v in ("-0.5", "-12%", "AMD EPYC", 3.5, None)] == ["-0.5", "-12%", "AMD EPYC", 3.5, None]
    frame = csv_frame(pd.DataFrame({"cpu_model": ["=1+1", "ok"], "value": [1.0, -2.0]}))
    assert list(frame.cpu_model) == ["'=1+1", "ok"] and list(frame.value) == [1.0, -2.0]
