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
