"""Hostile values: what an attacker or a careless directory name could put into the inputs.

Every value that reaches a rendered file goes through one quoting or sanitizing filter
(extensions/render.py): `shell_quote` for bash words, `comment` for text in a `#` comment or
on the terminal, `task_config` for the heredoc, `answers_yaml` for the answers file.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from extensions.render import comment

_TEXT = st.text(st.characters(exclude_categories=("Cs",)))


@given(value=_TEXT)
def test_a_comment_is_one_line_of_printable_text(value):
    text = comment(value)
    assert text.isprintable()
    assert len(text.splitlines()) <= 1
    if value.isprintable():  # readable values are left as they are
        assert text == value


def test_a_comment_escapes_line_breaks_and_terminal_controls():
    value = "exp\n$(touch pwned)\r\x1b[2J\x85\u2028\u2029\u202e\tend ü"
    assert comment(value) == "exp\\n$(touch pwned)\\r\\x1b[2J\\x85\\u2028\\u2029\\u202e\\tend ü"
    assert all(unicodedata.category(c)[0] != "C" for c in comment(value))
