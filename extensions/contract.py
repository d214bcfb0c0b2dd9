"""The task contract: how each planned value reaches a task, by the task's own signature.

inspect only warns when a task argument is not a parameter of the task, then runs the task
with its default: a prompt sent to a task that reads its prompt from a config file is lost,
and the job still succeeds. So each value goes the way the task can take it:
- a parameter of that name: a task argument (in the --task-config JSON);
- a prompt or system prompt, to a task with a `config_path` parameter: a per-cell config
  file in cruijff_kit's eval.yaml form, whose path the job passes (cruijff_kit's tasks read
  prompt, system_prompt and scorers from it);
- neither: the copy is refused, naming the file, the function, its parameters and the value.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .errors import InputError
from .notes import Warnings
from .task_file import TaskFunction

CONFIG_PATH = "config_path"
# What a task may read from the config file instead of a parameter (cruijff_kit's tasks).
BY_CONFIG = ("prompt", "system_prompt")
# What only a parameter can deliver: nothing reads these from the config file.
BY_ARGUMENT_ONLY = ("data_path", "assistant_prefix")
# Sent when the task has the parameter: a task passing its own max_tokens or temperature to
# generate() overrides inspect's --max-tokens and --temperature.
WHEN_ACCEPTED = ("max_tokens", "temperature", "vis_label", "use_chat_template")
# What a cell sends when its task file does not exist yet, by the design's era: the task
# files cruijff_kit's tools made for it. The job checks the real file before evaluating.
MARKDOWN_FALLBACK = ("data_path", "prompt", "system_prompt", "max_tokens")
YAML_FALLBACK = ("data_path", CONFIG_PATH, "vis_label", "use_chat_template", "max_tokens", "temperature", "assistant_prefix")
# cruijff_kit v0.1.x's scripts passed these as -T directly; config_path came with v0.2.0's
# setup_inspect.py (CRUIJFF_KIT_YAML.md §6.2).
YAML_V01_FALLBACK = ("data_path", "prompt", "system_prompt")


@dataclass(frozen=True)
class Delivery:
    function: str  # the registered @task the cell runs
    arguments: dict  # the task arguments, config_path aside
    config: dict | None  # the per-cell config file's content, when the task takes config_path
    checked: bool  # False: the task file did not exist; the job checks it before evaluating


def resolve_function(task: str, function: str | None, functions: dict[str, TaskFunction] | None,
                     path: str, written: str, warnings: Warnings) -> str:
    """Which registered @task a task of the summary runs.

    `file.py@fn` says it; else the @task of the task's own name; else the only @task in the
    file (cruijff_kit's prompt sweeps name tasks p1_baseline, p2_minority on one script)."""
    if functions is None:
        return function or task
    wanted = function or task
    if wanted in functions:
        return wanted
    if function is None and len(functions) == 1:
        only = next(iter(functions))
        warnings.add(f"task {task} runs @task {only}, the only one in {path}")
        return only
    names = ", ".join(functions) or "none"
    close = difflib.get_close_matches(wanted, list(functions), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise InputError(
        path,
        f"has no @task named {wanted!r} for task {task}{hint}; its @task functions: {names}",
        f"name one in the summary's script as `{written}@NAME`, with NAME as listed (the name inspect registers), "
        "or rename the task",
    )


def deliver(task: TaskFunction | None, function: str, path: str, values: dict, config: dict,
            fallback: tuple[str, ...]) -> Delivery:
    """The arguments and config file that bring `values` to the task.

    `values`: name -> planned value (None: nothing planned). `config`: the cell's eval.yaml
    form. `fallback`: what to send when the file does not exist yet.
    """
    planned = {name: value for name, value in values.items() if value is not None}
    if task is None:
        arguments = {name: planned[name] for name in fallback if name in planned}
        return Delivery(function, arguments, config if CONFIG_PATH in fallback else None, False)
    arguments = {}
    uses_config = task.accepts(CONFIG_PATH)
    for name, value in planned.items():
        if task.accepts(name):
            arguments[name] = value
        elif name in BY_CONFIG and uses_config:
            continue
        elif name in BY_CONFIG or name in BY_ARGUMENT_ONLY or (name == "use_chat_template" and value is False):
            # A text_completion design evaluated through a chat template would score another
            # input than the one trained on.
            if name in ("system_prompt", "assistant_prefix") and value == "":
                continue  # none planned: nothing is lost
            raise _cannot_receive(task, function, path, name, value, uses_config)
    missing = [p.name for p in task.parameters if p.required and p.name not in arguments and p.name != CONFIG_PATH]
    if missing:
        raise InputError(
            path,
            f"@task {function}({_signature(task)}) requires {', '.join(missing)}, which the plan does not fill "
            f"(it fills {', '.join(sorted(planned)) or 'nothing'})",
            "give the parameter a default in the task file, or evaluate with a task that needs only these values",
        )
    if config.get("scorers") and not uses_config:
        # Only the config file carries scorers: without one the task scores with its own.
        names = ", ".join(scorer["name"] for scorer in config["scorers"])
        raise InputError(
            path,
            f"@task {function}({_signature(task)}) cannot receive the planned scorers ({names}, the summary's "
            "evaluation.scorers): only a task with a config_path parameter reads them, from its config file, and this "
            "one would score with its own scorer",
            f"add a config_path parameter to {function} that reads scorers from the config file (as cruijff_kit's "
            "tasks do), or remove evaluation.scorers from experiment_summary.yaml",
        )
    return Delivery(function, arguments, config if uses_config else None, True)


def check_decoding(task: TaskFunction | None, function: str, path: str, decoding: dict) -> None:
    """Refuse a task whose generate(...) hard-codes a decoding setting the plan sets otherwise:
    a task's own GenerateConfig wins over inspect's --temperature, --max-tokens and --seed, so
    the summary's value would be lost without a word (FACTS.md). A setting the plan leaves
    unset (greedy decoding has no temperature) is the task's to choose."""
    for hard in task.hard_coded if task is not None else ():
        planned = decoding.get(hard.setting)
        if planned is None or hard.value == planned:
            continue
        raise InputError(
            path,
            f"@task {function} hard-codes {hard.setting}={hard.value!r} at line {hard.line}, which overrides the "
            f"planned {hard.setting} {planned!r}: a task's own generate config wins over inspect's option",
            f"take {hard.setting} as a parameter of {function} and pass it on (`generate({hard.setting}={hard.setting})`, "
            f"as cruijff_kit's tasks do), or remove {hard.setting}= from line {hard.line}",
        )


def _cannot_receive(task: TaskFunction, function: str, path: str, name: str, value, uses_config: bool) -> InputError:
    parameter = task.parameter(name)
    if parameter is not None and parameter.positional_only:
        # inspect passes every task argument by keyword: one before the `/` is never filled.
        return InputError(
            path,
            f"@task {function}({_signature(task)}) cannot receive the planned {name} {value!r}: its parameter "
            f"{name} is positional-only (before the `/`), and inspect passes every task argument by keyword",
            f"remove the `/` from {function}'s signature (or move it before {name}), so that {name} can be given by keyword",
        )
    how = "parameter of that name" + ("" if name not in BY_CONFIG else ", nor a config_path parameter")
    return InputError(
        path,
        f"@task {function}({_signature(task)}) cannot receive the planned {name} {value!r}: it has no {how}, "
        "and inspect would drop it with a warning and evaluate with the task's own default",
        f"add the parameter `{name}` to {function}"
        + (" (or a config_path one that reads it from the config file)" if name in BY_CONFIG else "")
        + ", or evaluate with a task that takes it",
    )


def _signature(task: TaskFunction) -> str:
    parts = [p.name if p.required else f"{p.name}=…" for p in task.parameters]
    positional_only = sum(p.positional_only for p in task.parameters)
    if positional_only:
        parts.insert(positional_only, "/")
    return ", ".join(parts + (["**kwargs"] if task.var_keyword else []))
