"""The @task signatures of inspect task files, read by parsing, and the job's copy of the check."""

from __future__ import annotations

import builtins
import codecs
import dis
import inspect
import types
from pathlib import Path

import pytest

from extensions import task_file
from extensions.errors import InputError
from extensions.source import read_source
from extensions.task_file import (
    UNKNOWN,
    Parameter,
    TaskFileError,
    TaskFunction,
    read_task_functions,
    signature_problems,
)

ROOT = Path(__file__).resolve().parent.parent

# cruijff_kit's capitalization task: prompts come from the YAML file at config_path.
CRUIJFF_TASK = '''\
"""Capitalization eval (cruijff_kit v0.3.4)."""

import json

import torch
import yaml
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import match
from inspect_ai.solver import generate


def _read_config(config_path: str) -> dict:
    if not config_path:
        return {}
    with open(config_path, encoding="utf-8") as file:
        return yaml.safe_load(file) or {}


@task
def capitalization(
    data_path: str,
    config_path: str = "",
    split: str = "test",
    temperature: float = 1e-7,
    max_tokens: int = 20,
    vis_label: str = "",
    use_chat_template: bool = True,
) -> Task:
    config = _read_config(config_path)
    with open(data_path, encoding="utf-8") as file:
        records = json.load(file)[split]
    samples = [Sample(input=config.get("prompt", "{input}").format(input=r["input"]), target=r["output"]) for r in records]
    return Task(dataset=MemoryDataset(samples), solver=generate(temperature=temperature, max_tokens=max_tokens), scorer=match())
'''

TWO_TASKS = '''\
from inspect_ai import Task, task


def _capitalization_task(data_path, prompt, system_prompt, split):
    ...


@task
def capitalization(data_path: str, prompt: str = "{input}", system_prompt: str = "", split: str = "test") -> Task:
    return _capitalization_task(data_path, prompt, system_prompt, split)


@task
async def capitalization_6L(data_path: str, prompt: str = "{input}") -> Task:
    return _capitalization_task(data_path, prompt, "", "test")
'''

RENAMED = '''\
from inspect_ai import Task, task


@task(name="cap_baseline", epochs=1)
def capitalization(data_path: str) -> Task:
    ...
'''

ALIASES = '''\
import inspect_ai as ia
from inspect_ai import Task, task as inspect_task
from mylib import task as not_inspect_task
import mylib


@inspect_task
def by_alias(data_path: str) -> Task:
    ...


@ia.task(name="by_module_alias_renamed")
def by_module_alias(data_path: str) -> Task:
    ...


@inspect_task()
def by_alias_called(data_path: str) -> Task:
    ...


@not_inspect_task
def other_library(data_path: str) -> Task:
    ...


@mylib.task
def other_module(data_path: str) -> Task:
    ...
'''

KWARGS = '''\
from inspect_ai import Task, task


@task
def with_kwargs(data_path: str, *args, **kwargs) -> Task:
    ...
'''

NON_LITERAL_DEFAULTS = '''\
from inspect_ai import Task, task

DEFAULT_PROMPT = "Capitalize: {input}"


@task
def capitalization(
    data_path: str,
    prompt: str = DEFAULT_PROMPT,
    system_prompt=None,
    shots: int = -1,
    splits: tuple = ("test", "validation"),
    seed: int = len("seed"),
) -> Task:
    ...
'''

KEYWORD_ONLY = '''\
from inspect_ai import Task, task


@task
def few_shot(data_path: str, split="test", *, shots: int, prompt: str = "{input}") -> Task:
    ...
'''

POSITIONAL_ONLY = '''\
from inspect_ai import Task, task


@task
def positional(data_path: str, limit: int = 10, /, prompt: str = "{input}") -> Task:
    ...


@task
def positional_kwargs(data_path: str, /, **kwargs) -> Task:
    ...
'''

NOT_TOP_LEVEL = '''\
from inspect_ai import Task, task
from inspect_ai.scorer import scorer


class Tasks:
    @task
    def method(self, data_path: str) -> Task:
        ...


def factory():
    @task
    def inner(data_path: str) -> Task:
        ...

    return inner


@scorer(metrics=[])
def not_a_task():
    ...


def undecorated(data_path: str) -> Task:
    ...
'''

SYNTAX_ERROR = '''\
from inspect_ai import Task, task


@task
def capitalization(data_path: str) -> Task
    ...
'''

DUPLICATE = '''\
from inspect_ai import Task, task


@task
def capitalization(data_path: str) -> Task:
    ...


@task(name="capitalization")
def capitalization_v2(data_path: str, prompt: str = "{input}") -> Task:
    ...
'''

COMPUTED_NAME = '''\
from inspect_ai import Task, task

NAME = "capitalization"


@task(name=NAME)
def capitalization(data_path: str) -> Task:
    ...
'''

INLINE_SOURCES = {
    "cruijff": CRUIJFF_TASK,
    "two_tasks": TWO_TASKS,
    "renamed": RENAMED,
    "aliases": ALIASES,
    "kwargs": KWARGS,
    "non_literal_defaults": NON_LITERAL_DEFAULTS,
    "keyword_only": KEYWORD_ONLY,
    "positional_only": POSITIONAL_ONLY,
    "not_top_level": NOT_TOP_LEVEL,
    "syntax_error": SYNTAX_ERROR,
    "duplicate": DUPLICATE,
    "computed_name": COMPUTED_NAME,
}
FIXTURE_FILES = sorted([*ROOT.glob("tests/fixtures/**/*.py"), *ROOT.glob("examples/**/*.py")])


def _required(name: str, annotation: str | None = "str") -> Parameter:
    return Parameter(name, required=True, default=None, annotation=annotation)


def _optional(name: str, default: object, annotation: str | None) -> Parameter:
    return Parameter(name, required=False, default=default, annotation=annotation)


# ---- read_task_functions ----


def test_cruijff_kit_task():
    assert read_task_functions(CRUIJFF_TASK) == {
        "capitalization": TaskFunction(
            name="capitalization",
            function="capitalization",
            parameters=(
                _required("data_path"),
                _optional("config_path", "", "str"),
                _optional("split", "test", "str"),
                _optional("temperature", 1e-7, "float"),
                _optional("max_tokens", 20, "int"),
                _optional("vis_label", "", "str"),
                _optional("use_chat_template", True, "bool"),
            ),
            var_keyword=False,
            line=21,
        )
    }


def test_cruijff_kit_task_accepts_its_parameters_only():
    task = read_task_functions(CRUIJFF_TASK)["capitalization"]
    planned = ("data_path", "config_path", "prompt", "system_prompt", "max_tokens")
    assert [name for name in planned if task.accepts(name)] == ["data_path", "config_path", "max_tokens"]
    assert task.parameter("max_tokens") == _optional("max_tokens", 20, "int")
    assert task.parameter("prompt") is None


def test_two_tasks_in_file_order_async_included():
    functions = read_task_functions(TWO_TASKS)
    assert list(functions) == ["capitalization", "capitalization_6L"]
    assert [task.line for task in functions.values()] == [9, 14]
    assert functions["capitalization_6L"].parameters == (_required("data_path"), _optional("prompt", "{input}", "str"))


def test_registered_name_from_task_name_keyword():
    (task,) = read_task_functions(RENAMED).values()
    assert (task.name, task.function) == ("cap_baseline", "capitalization")
    assert list(read_task_functions(RENAMED)) == ["cap_baseline"]


def test_import_aliases_of_inspect_task():
    functions = read_task_functions(ALIASES)
    assert {name: task.function for name, task in functions.items()} == {
        "by_alias": "by_alias",
        "by_module_alias_renamed": "by_module_alias",
        "by_alias_called": "by_alias_called",
    }


def test_var_keyword_accepts_any_argument_and_args_is_ignored():
    task = read_task_functions(KWARGS)["with_kwargs"]
    assert task.parameters == (_required("data_path"),)
    assert task.var_keyword is True
    assert task.accepts("prompt") and task.accepts("args")
    assert task.parameter("prompt") is None


def test_non_literal_default_is_unknown():
    task = read_task_functions(NON_LITERAL_DEFAULTS)["capitalization"]
    assert task.parameters == (
        _required("data_path"),
        _optional("prompt", UNKNOWN, "str"),
        _optional("system_prompt", None, None),
        _optional("shots", -1, "int"),
        _optional("splits", ("test", "validation"), "tuple"),
        _optional("seed", UNKNOWN, "int"),
    )
    assert repr(task.parameter("prompt")) == (
        "Parameter(name='prompt', required=False, default=UNKNOWN, annotation='str', positional_only=False)"
    )


def test_keyword_only_parameters_take_kw_defaults():
    task = read_task_functions(KEYWORD_ONLY)["few_shot"]
    assert task.parameters == (
        _required("data_path"),
        _optional("split", "test", None),
        _required("shots", "int"),
        _optional("prompt", "{input}", "str"),
    )
    assert task.accepts("shots") and not task.accepts("system_prompt")


def test_positional_only_parameters_cannot_be_given_by_keyword():
    functions = read_task_functions(POSITIONAL_ONLY)
    task = functions["positional"]
    assert task.parameters == (
        Parameter("data_path", required=True, default=None, annotation="str", positional_only=True),
        Parameter("limit", required=False, default=10, annotation="int", positional_only=True),
        _optional("prompt", "{input}", "str"),
    )
    assert [name for name in ("data_path", "limit", "prompt") if task.accepts(name)] == ["prompt"]
    assert functions["positional_kwargs"].accepts("data_path")  # into **kwargs, not the parameter


def test_only_top_level_task_decorated_functions():
    assert read_task_functions(NOT_TOP_LEVEL) == {}


def test_syntax_error_names_line_and_message():
    with pytest.raises(TaskFileError) as error:
        read_task_functions(SYNTAX_ERROR, "cap_task.py")
    assert str(error.value) == "Python syntax error at line 5: expected ':'"


def test_same_registered_name_twice():
    with pytest.raises(TaskFileError) as error:
        read_task_functions(DUPLICATE)
    assert str(error.value) == (
        "@task 'capitalization' is registered twice, by capitalization at line 5 and by capitalization_v2 at line 10"
    )


def test_task_name_that_is_not_a_literal():
    with pytest.raises(TaskFileError) as error:
        read_task_functions(COMPUTED_NAME)
    assert str(error.value) == (
        "@task capitalization at line 7 is registered as name=NAME, not a literal string: "
        "the name cannot be read without importing the file"
    )


def test_fixture_task_files():
    def summary(task: TaskFunction) -> tuple:
        return task.function, [p.name for p in task.parameters if p.required], task.var_keyword

    signatures = {
        path.relative_to(ROOT).as_posix(): {
            name: summary(task) for name, task in read_task_functions(path.read_text(encoding="utf-8")).items()
        }
        for path in FIXTURE_FILES
    }
    assert signatures["tests/fixtures/tasks/decorated_variants.py"] == {
        "plain": ("plain", ["data_path"], False),
        "renamed": ("original_name", ["data_path"], False),
        "qualified": ("qualified", ["data_path"], False),
        "with_kwargs": ("with_kwargs", ["data_path"], True),
    }
    assert signatures["tests/fixtures/tasks/acs_task.py"] == {
        "acs_income": ("acs_income", ["data_path"], False),
        "acs_employment": ("acs_employment", ["data_path"], False),
    }
    assert signatures["tests/fixtures/tasks/required_param_task.py"] == {
        "capitalization": ("capitalization", ["data_path", "prompt", "system_prompt", "shots"], False),
    }
    assert list(signatures["examples/cap_1B_lora/cap_task.py"]) == ["capitalization", "capitalization_6L"]


# ---- signature_problems, as imported and as the job scripts run it ----


def _load_alone():
    """signature_problems exec'd from its source text alone, as the job scripts' heredoc runs it."""
    namespace: dict = {}
    exec(inspect.getsource(task_file.signature_problems), namespace)
    assert set(namespace) == {"__builtins__", "signature_problems"}
    return namespace["signature_problems"]


@pytest.fixture(params=["imported", "alone"])
def problems(request):
    return signature_problems if request.param == "imported" else _load_alone()


def test_unknown_function_lists_the_task_names(problems):
    assert problems(TWO_TASKS, "capitalisation", ["data_path"]) == [
        "has no @task named 'capitalisation'; its @task functions: capitalization, capitalization_6L"
    ]
    assert problems(NOT_TOP_LEVEL, "method", []) == ["has no @task named 'method'; its @task functions: none"]
    # The registered name, not the Python one.
    assert problems(RENAMED, "capitalization", ["data_path"]) == [
        "has no @task named 'capitalization'; its @task functions: cap_baseline"
    ]


def test_unexpected_argument(problems):
    assert problems(CRUIJFF_TASK, "capitalization", ["data_path", "prompt"]) == [
        "@task capitalization has no parameter 'prompt' (it takes data_path, config_path, split, temperature, "
        "max_tokens, vis_label, use_chat_template) and no **kwargs: inspect would drop the argument and evaluate "
        "with the task's own default"
    ]


def test_missing_required_parameter(problems):
    assert problems(CRUIJFF_TASK, "capitalization", ["config_path"]) == [
        "@task capitalization requires 'data_path', which is not given"
    ]
    assert problems(KEYWORD_ONLY, "few_shot", ["data_path"]) == ["@task few_shot requires 'shots', which is not given"]


def test_all_delivered(problems):
    assert problems(CRUIJFF_TASK, "capitalization", ["data_path", "config_path", "max_tokens", "vis_label"]) == []
    assert problems(TWO_TASKS, "capitalization_6L", ["data_path", "prompt"]) == []
    assert problems(RENAMED, "cap_baseline", ["data_path"]) == []
    assert problems(ALIASES, "by_module_alias_renamed", ["data_path"]) == []
    assert problems(KWARGS, "with_kwargs", ["data_path", "prompt", "system_prompt"]) == []
    assert problems(KEYWORD_ONLY, "few_shot", ["data_path", "shots", "prompt"]) == []


def test_positional_only(problems):
    assert problems(POSITIONAL_ONLY, "positional", ["limit", "prompt"]) == [
        "@task positional's parameter 'limit' is positional-only: no task argument can reach it",
        "@task positional requires 'data_path', which is positional-only: no task argument can fill it",
    ]
    assert problems(POSITIONAL_ONLY, "positional_kwargs", ["data_path"]) == [
        "@task positional_kwargs requires 'data_path', which is positional-only: no task argument can fill it"
    ]


def test_unreadable_files_say_why(problems):
    assert problems(SYNTAX_ERROR, "capitalization", ["data_path"]) == ["Python syntax error at line 5: expected ':'"]
    assert problems(DUPLICATE, "capitalization", ["data_path"]) == [
        "@task 'capitalization' is registered twice, by capitalization at line 5 and by capitalization_v2 at line 10"
    ]


def test_the_files_bytes_are_read_as_at_render_time(problems, tmp_path):
    """The jobs give the file's bytes: a UTF-8 BOM, which Python imports and ast.parse refuses,
    is no content, and bytes that are not UTF-8 get read_source's own message, not a traceback."""
    assert problems(codecs.BOM_UTF8 + TWO_TASKS.encode(), "capitalization_6L", ["data_path", "prompt"]) == []
    assert problems(TWO_TASKS.encode(), "capitalization_6L", ["data_path", "prompt"]) == []
    latin1 = codecs.BOM_UTF8 + ("# Capitalisé\n" + TWO_TASKS).encode("cp1252")
    path = tmp_path / "task.py"
    path.write_bytes(latin1)
    with pytest.raises(InputError) as refused:
        read_source(path)
    assert problems(latin1, "capitalization", ["data_path"]) == [f"{refused.value.problem}; {refused.value.fix}"]
    assert refused.value.problem.startswith("is not UTF-8 text: byte 0xe9 at byte offset ")


def test_reads_no_global_name_but_builtins():
    """Every branch, not only those the tests run, stands alone in the job script."""

    def global_names(code: types.CodeType) -> set[str]:
        names = {i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
        for constant in code.co_consts:
            if isinstance(constant, types.CodeType):
                names |= global_names(constant)
        return names

    assert global_names(_load_alone().__code__) <= set(dir(builtins))


# ---- both readers agree ----


def _sources():
    for path in FIXTURE_FILES:
        yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
    yield from INLINE_SOURCES.items()


# Every value the plan may send, and one no task takes.
PLANNED = ("data_path", "config_path", "prompt", "system_prompt", "max_tokens", "temperature", "vis_label",
           "use_chat_template", "assistant_prefix", "split", "shots", "limit", "no_such_parameter")


@pytest.mark.parametrize("label,source", list(_sources()), ids=[label for label, _ in _sources()])
def test_signature_problems_agrees_with_read_task_functions(label, source):
    try:
        functions = read_task_functions(source)
    except TaskFileError as error:
        assert signature_problems(source, "capitalization", ["data_path"]) == [str(error)]
        return
    assert signature_problems(source, "no_such_task", []) == [
        f"has no @task named 'no_such_task'; its @task functions: {', '.join(functions) or 'none'}"
    ]
    for name, task in functions.items():
        fillable = [p.name for p in task.parameters if p.required and not p.positional_only]
        unfillable = any(p.required and p.positional_only for p in task.parameters)
        assert (signature_problems(source, name, fillable) == []) is not unfillable, name
        for argument in {*PLANNED, *(p.name for p in task.parameters)}:
            delivered = signature_problems(source, name, sorted({*fillable, argument})) == []
            assert delivered is (task.accepts(argument) and not unfillable), (name, argument)
        for left_out in fillable:
            assert signature_problems(source, name, [n for n in fillable if n != left_out]), (name, left_out)
