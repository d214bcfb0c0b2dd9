"""The formatting helpers the templates call."""

from __future__ import annotations

import json

import yaml
from hypothesis import given
from hypothesis import strategies as st

from extensions.render import answers_yaml, double_quoted, eval_yaml, shell_quote, task_config, with_conda_env

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
    arguments = {"data_path": data_path, "prompt": prompt, "system_prompt": system_prompt}
    text = task_config({"task_args": arguments})
    assert json.loads(text) == arguments
    assert "TASK_ARGS" not in text.splitlines()


_SCALAR = st.one_of(_TEXT, st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.none())


@given(
    prompt=_TEXT,
    system_prompt=_TEXT,
    temperature=st.floats(min_value=1e-12, max_value=10, allow_nan=False),
    scorers=st.lists(st.fixed_dictionaries({"name": _TEXT, "params": st.dictionaries(_TEXT, _SCALAR, max_size=3)}), max_size=3),
)
def test_a_cells_config_file_reads_back_exactly_as_a_task_reads_it(prompt, system_prompt, temperature, scorers):
    """cruijff_kit's tasks read their config with yaml.safe_load: every value comes back the
    same, a prompt with NEL or a line separator and a temperature of 1e-07 included."""
    config = {"prompt": prompt, "system_prompt": system_prompt, "temperature": temperature, "seed": 14,
              "do_sample": False, "scorers": scorers}
    assert yaml.safe_load(eval_yaml(config)) == config


def test_the_config_file_is_one_key_a_line():
    text = eval_yaml({"prompt": "a\nb\x85c", "temperature": 1e-07, "scorers": [{"name": "match"}]})
    assert text == 'prompt: "a\\nb\\Nc"\ntemperature: 1.0e-07\nscorers: [{"name": "match"}]\n'


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
