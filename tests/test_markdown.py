"""The Markdown walker's text extraction."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from extensions.markdown import inline_text, parsed_inline_text


# Table cells and labels: names, paths, ticks, emphasis markers, entities, links.
_CELLS = st.text(st.sampled_from(list("ab1_-./ :✓,*`[]()<>&;!~\\é")), max_size=30)


@given(_CELLS)
def test_the_shortcut_for_plain_text_agrees_with_markdown_it(source):
    assert inline_text(source) == parsed_inline_text(source)


def test_markup_is_dropped_and_code_kept():
    assert inline_text("**r8_lr1e-5**") == "r8_lr1e-5"
    assert inline_text("`a_b_` and _em_") == "a_b_ and em"
    assert inline_text("x &amp; y") == "x & y"
