"""The formatting helpers the templates call."""

from __future__ import annotations

import json

import yaml
from hypothesis import given
from hypothesis import strategies as st

from extensions.render import answers_yaml, double_quoted, shell_quote, task_config, with_conda_env

_TEXT = st.text(st.characters(exclude_categories=("Cs",)))


@given(value=_TEXT, nested=st.lists(_TEXT, max_size=3))
def test_answers_file_reads_back_exactly(value, nested):
    answers = {"_commit": "v1.0.0", "env_setup": value, "plan": {"runs": [{"prompt": v} for v in nested]}}
    assert yaml.safe_load(answers_yaml(answers)) == answers


def test_line_separators_survive_the_answers_file():
    answers = {"prompt": "a\x85b\u2028c\u2029d"}
    assert yaml.safe_load(answers_yaml(answers)) == answers


@given(prompt=_TEXT, system_prompt=_TEXT, data_path=_TEXT)
def test_task_config_is_json_no_line_of_which_ends_the_heredoc(prompt, system_prompt, data_path):
    text = task_config({"data_path": data_path}, {"prompt": prompt, "system_prompt": system_prompt})
    assert json.loads(text) == {"data_path": data_path, "prompt": prompt, "system_prompt": system_prompt}
    assert "TASK_ARGS" not in text.splitlines()


def test_conda_env_is_quoted_into_the_setup_lines():
    setup = "module load anaconda3/2025.6\nconda activate {conda_env}\n"
    assert with_conda_env(setup, "my env") == "module load anaconda3/2025.6\nconda activate 'my env'"
    assert with_conda_env("source /opt/venv/bin/activate", None) == "source /opt/venv/bin/activate"


def test_shell_quote():
    assert shell_quote("/plain/path") == "/plain/path"
    assert shell_quote("it's $HOME") == "'it'\"'\"'s $HOME'"


@given(value=_TEXT)
def test_double_quoted_is_one_line_that_reads_back_exactly(value):
    text = double_quoted(value)
    assert "\n" not in text and "\r" not in text
    assert text.startswith('"') and text.endswith('"')
    assert yaml.safe_load(text) == value
    if value.isascii() and value.isprintable():  # JSON too, as a reader expects
        assert json.loads(text) == value
