"""The task contract: each planned value reaches a task by its @task signature, or the copy is refused.

The signatures come from the fixture task files (tests/fixtures/tasks/), read as the plan reads
them. The planned values are those a cell of tests/fixtures/yaml/v0.3.4 carries.
"""

from __future__ import annotations

import pytest

from extensions import contract
from extensions.errors import InputError
from extensions.notes import Warnings
from extensions.task_file import read_task_functions
from tests.conftest import ROOT

TASKS = ROOT / "tests" / "fixtures" / "tasks"
DATA = "/scratch/gpfs/MSALGANIK/mjs3/ck-data/capitalization/words_5L_80P_1000.json"
PROMPT = "Capitalize the given word: {input}\n"
SYSTEM_PROMPT = "You capitalize words. Reply with the word only."
# The cell's eval.yaml form, as plan._eval_config writes it (an excerpt).
CONFIG = {"prompt": PROMPT, "system_prompt": SYSTEM_PROMPT, "task_name": "capitalization", "epoch": 0}


def functions(file: str):
    path = TASKS / file
    return str(path), read_task_functions(path.read_text(encoding="utf-8"), str(path))


def planned(**changes) -> dict:
    """The values of a YAML-era cell (rank4, capitalization, epoch 0), as plan._add_cell builds them."""
    values = {
        "data_path": DATA,
        "prompt": PROMPT,
        "system_prompt": SYSTEM_PROMPT,
        "assistant_prefix": None,
        "max_tokens": 12,
        "temperature": None,
        "vis_label": "r4 (capitalization)",
        "use_chat_template": True,
    }
    values.update(changes)
    return values


def deliver(file: str, values: dict, function: str = "capitalization"):
    path, found = functions(file)
    return contract.deliver(found[function], function, path, values, dict(CONFIG), contract.YAML_FALLBACK)


def refused(file: str, values: dict, function: str = "capitalization") -> str:
    with pytest.raises(InputError) as caught:
        deliver(file, values, function)
    assert caught.value.file == str(TASKS / file)
    return str(caught.value)


# -- delivered ----------------------------------------------------------------------------------


def test_config_task_reads_prompts_from_its_config_file():
    """A task with config_path gets prompt and system prompt through the config file, never as
    arguments; what it has a parameter for is an argument."""
    delivery = deliver("config_task.py", planned())
    assert delivery.arguments == {
        "data_path": DATA,
        "max_tokens": 12,
        "vis_label": "r4 (capitalization)",
        "use_chat_template": True,
    }
    assert delivery.config == CONFIG
    assert (delivery.function, delivery.checked) == ("capitalization", True)


def test_config_task_gets_temperature_only_when_planned():
    """temperature is sent to a task that takes it, when the plan has one (do_sample: true)."""
    assert "temperature" not in deliver("config_task.py", planned()).arguments
    assert deliver("config_task.py", planned(temperature=0.7)).arguments["temperature"] == 0.7


def test_args_task_takes_prompts_as_arguments():
    """A task with prompt and system_prompt parameters gets them as arguments, and no config file;
    what it has no parameter for (max_tokens, vis_label) is not sent, and not refused."""
    delivery = deliver("args_task.py", planned())
    assert delivery.arguments == {"data_path": DATA, "prompt": PROMPT, "system_prompt": SYSTEM_PROMPT}
    assert delivery.config is None
    assert delivery.checked is True


def test_data_only_task_with_empty_system_prompt():
    """An empty system prompt planned for a task without one loses nothing."""
    values = {"data_path": DATA, "system_prompt": "", "max_tokens": 12}
    delivery = deliver("data_only_task.py", values)
    assert delivery.arguments == {"data_path": DATA}
    assert delivery.config is None


def test_acs_task_takes_assistant_prefix():
    """A task with an assistant_prefix parameter gets it as an argument, next to its config file."""
    delivery = deliver("acs_task.py", planned(assistant_prefix="Answer: "), function="acs_income")
    assert delivery.arguments["assistant_prefix"] == "Answer: "
    assert "prompt" not in delivery.arguments
    assert delivery.config == CONFIG


# -- refused ------------------------------------------------------------------------------------


def test_config_dir_task_cannot_receive_a_prompt():
    """A task taking only config_dir would drop the planned prompt: refused, naming the file,
    the function, its parameters and the value."""
    message = refused("config_dir_task.py", {"prompt": "Word: {input}\nCapitalized:", "system_prompt": ""})
    assert str(TASKS / "config_dir_task.py") in message
    assert "@task capitalization(config_dir) cannot receive the planned prompt 'Word: {input}\\nCapitalized:'" in message


def test_config_dir_task_cannot_receive_the_data_path():
    """With a whole cell's values, the data path is the first one it cannot take."""
    message = refused("config_dir_task.py", planned())
    assert f"@task capitalization(config_dir) cannot receive the planned data_path '{DATA}'" in message


def test_data_only_task_cannot_receive_a_prompt():
    message = refused("data_only_task.py", {"data_path": DATA, "prompt": PROMPT})
    assert "@task capitalization(data_path, split=…) cannot receive the planned prompt" in message
    assert repr(PROMPT) in message


def test_data_only_task_cannot_receive_a_system_prompt():
    """A non-empty system prompt would be lost: refused."""
    message = refused("data_only_task.py", {"data_path": DATA, "system_prompt": SYSTEM_PROMPT})
    assert f"cannot receive the planned system_prompt {SYSTEM_PROMPT!r}" in message


def test_a_positional_only_parameter_is_named_as_such():
    """The signature shows data_path: saying the task has no parameter of that name, and to add
    it, would be wrong. inspect gives task arguments by keyword, which cannot fill it."""
    source = 'from inspect_ai import task\n@task\ndef capitalization(data_path, /, config_path=""):\n    pass\n'
    task = read_task_functions(source)["capitalization"]
    with pytest.raises(InputError) as caught:
        contract.deliver(task, "capitalization", "cap_task.py", planned(), dict(CONFIG), contract.YAML_FALLBACK)
    message = str(caught.value)
    assert (f"@task capitalization(data_path, /, config_path=…) cannot receive the planned data_path '{DATA}': its "
            "parameter data_path is positional-only (before the `/`), and inspect passes every task argument by "
            "keyword") in message
    assert "fix: remove the `/` from capitalization's signature (or move it before data_path)" in message
    assert "no parameter of that name" not in message


def test_required_parameter_the_plan_does_not_fill():
    """`shots` has no default and nothing plans it: inspect would stop at load time."""
    values = {"data_path": DATA, "prompt": PROMPT, "system_prompt": ""}
    message = refused("required_param_task.py", values)
    assert "@task capitalization(data_path, prompt, system_prompt, shots) requires shots" in message


def test_assistant_prefix_needs_its_own_parameter():
    """No task reads assistant_prefix from the config file: config_path does not carry it."""
    message = refused("config_task.py", planned(assistant_prefix="Answer: "))
    assert "cannot receive the planned assistant_prefix 'Answer: '" in message


# -- a task file that does not exist yet ------------------------------------------------------


def test_missing_task_file_sends_the_yaml_fallback_unchecked():
    """Without the file, a YAML-era cell sends what cruijff_kit's tasks take, config file included;
    the job checks the real file before evaluating."""
    path = "/scratch/gpfs/MSALGANIK/mjs3/tasks/not_yet.py"
    delivery = contract.deliver(None, "capitalization", path, planned(assistant_prefix="Answer: "), dict(CONFIG),
                                contract.YAML_FALLBACK)
    assert delivery.arguments == {
        "data_path": DATA,
        "vis_label": "r4 (capitalization)",
        "use_chat_template": True,
        "max_tokens": 12,
        "assistant_prefix": "Answer: ",
    }
    assert delivery.config == CONFIG
    assert delivery.checked is False


def test_missing_task_file_sends_the_markdown_fallback_unchecked():
    """A Markdown-era cell sends data_path, prompt, system_prompt and max_tokens as arguments, no config."""
    path = "/scratch/gpfs/MSALGANIK/mjs3/tasks/not_yet.py"
    values = {"data_path": DATA, "prompt": PROMPT, "system_prompt": "", "assistant_prefix": None,
              "max_tokens": 20, "temperature": 0.0}
    delivery = contract.deliver(None, "capitalization", path, values, dict(CONFIG), contract.MARKDOWN_FALLBACK)
    assert delivery.arguments == {"data_path": DATA, "prompt": PROMPT, "system_prompt": "", "max_tokens": 20}
    assert delivery.config is None
    assert delivery.checked is False


# -- which @task ----------------------------------------------------------------------------------


def test_resolve_explicit_function():
    """`acs_task.py@acs_income` runs acs_income whatever the task is called, without a warning."""
    path, found = functions("acs_task.py")
    warnings = Warnings()
    assert contract.resolve_function("acs_income_cue", "acs_income", found, path, "acs_task.py", warnings) == "acs_income"
    assert warnings.as_list() == []


def test_resolve_the_tasks_own_name():
    path, found = functions("acs_task.py")
    warnings = Warnings()
    assert contract.resolve_function("acs_employment", None, found, path, "acs_task.py", warnings) == "acs_employment"
    assert warnings.as_list() == []


def test_resolve_the_only_task_with_a_warning():
    """A prompt-sweep task name (capitalization_terse) on a file with one @task runs that one, said."""
    path, found = functions("config_task.py")
    warnings = Warnings()
    assert contract.resolve_function("capitalization_terse", None, found, path, "acs_task.py", warnings) == "capitalization"
    assert warnings.as_list() == [f"task capitalization_terse runs @task capitalization, the only one in {path}"]


def test_resolve_refuses_when_several_tasks_and_none_matches():
    """With two @tasks and neither named, guessing could run the wrong one: refused, listing both."""
    path, found = functions("acs_task.py")
    with pytest.raises(InputError) as caught:
        contract.resolve_function("acs_income_cue", None, found, path, "acs_task.py", Warnings())
    message = str(caught.value)
    assert caught.value.file == path
    assert "has no @task named 'acs_income_cue' for task acs_income_cue" in message
    assert "its @task functions: acs_income, acs_employment" in message


def test_resolve_refuses_an_explicit_function_the_file_lacks():
    """An explicit `@fn` is never replaced by the file's only @task."""
    path, found = functions("config_task.py")
    with pytest.raises(InputError) as caught:
        contract.resolve_function("capitalization", "capitalise", found, path, "acs_task.py", Warnings())
    assert "has no @task named 'capitalise'" in str(caught.value)
    assert "its @task functions: capitalization" in str(caught.value)


def test_resolve_without_the_file():
    """A file that does not exist yet: the named function, else the task's name (checked later)."""
    assert contract.resolve_function("capitalization_6L", "capitalization", None, "x.py", "x.py", Warnings()) == "capitalization"
    assert contract.resolve_function("capitalization_6L", None, None, "x.py", "x.py", Warnings()) == "capitalization_6L"


def test_scorers_reach_only_a_task_with_config_path():
    """evaluation.scorers travel in the config file alone: a task without config_path would
    score with its own scorer, so the copy stops naming the task and the fix."""
    config = {**CONFIG, "scorers": [{"name": "match"}, {"name": "includes", "params": {"ignore_case": True}}]}
    path, found = functions("config_task.py")
    delivery = contract.deliver(found["capitalization"], "capitalization", path, planned(), config, contract.YAML_FALLBACK)
    assert delivery.config["scorers"] == config["scorers"]
    path, found = functions("args_task.py")
    with pytest.raises(InputError) as caught:
        contract.deliver(found["capitalization"], "capitalization", path, planned(), config, contract.YAML_FALLBACK)
    assert caught.value.file == path
    assert "cannot receive the planned scorers (match, includes, the summary's evaluation.scorers)" in str(caught.value)
    assert "remove evaluation.scorers" in caught.value.fix


def test_text_completion_to_a_task_without_use_chat_template_is_refused():
    """true (chat_completion) is the default of cruijff_kit's tasks and is not sent to a task
    without the parameter; false would be lost: refused (docs/INPUTS.md, the task contract)."""
    assert "use_chat_template" not in deliver("args_task.py", planned()).arguments
    message = refused("args_task.py", planned(use_chat_template=False))
    assert "cannot receive the planned use_chat_template False" in message


HARD_CODED = """\
from inspect_ai import Task, task
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import generate

SETTINGS = generate(temperature=0.5)  # not in a @task function: not what the task runs with


@task
def hard(data_path: str, temperature: float = 1e-7, max_tokens: int = 20):
    return Task(solver=[generate(temperature=1e-7, max_tokens=max_tokens)], config=GenerateConfig(seed=3))


@task
def passes_its_parameters(data_path: str, temperature: float = 1e-7, max_tokens: int = 20):
    return Task(solver=generate(temperature=temperature, max_tokens=max_tokens))
"""
DECODING = {"do_sample": True, "temperature": 0.7, "max_tokens": 20, "seed": 3, "max_connections": None,
            "enable_thinking": None}


def test_a_hard_coded_decoding_setting_that_differs_from_the_plan_is_refused():
    """The task's own generate config overrides --temperature: 1e-7 would win in silence."""
    found = read_task_functions(HARD_CODED)
    assert [(h.setting, h.value, h.line) for h in found["hard"].hard_coded] == [
        ("temperature", 1e-7, 10), ("seed", 3, 10)]
    assert found["passes_its_parameters"].hard_coded == ()
    with pytest.raises(InputError) as caught:
        contract.check_decoding(found["hard"], "hard", "task.py", DECODING)
    assert str(caught.value) == (
        "task.py: @task hard hard-codes temperature=1e-07 at line 10, which overrides the planned temperature 0.7: "
        "a task's own generate config wins over inspect's option\n"
        "  fix: take temperature as a parameter of hard and pass it on (`generate(temperature=temperature)`, as "
        "cruijff_kit's tasks do), or remove temperature= from line 10")
    # Greedy decoding plans no temperature; a setting equal to the plan's loses nothing.
    contract.check_decoding(found["hard"], "hard", "task.py", {**DECODING, "temperature": None})
    contract.check_decoding(found["passes_its_parameters"], "passes_its_parameters", "task.py", DECODING)
    with pytest.raises(InputError, match="hard-codes seed=3 at line 10, which overrides the planned seed 14"):
        contract.check_decoding(found["hard"], "hard", "task.py", {**DECODING, "temperature": None, "seed": 14})
