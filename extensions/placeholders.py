"""`{name}` in an input value: a factor of the run, expanded, or refused; never passed on.

A dataset written `/data/{scenario}.json` means each run's own file. Passed through as
written it would become a path nobody has, or (in a prompt) a KeyError inside the task hours
later. The `{input}` of a prompt is the task's to fill and stays; `{{` and `}}` are
str.format's escaped braces and stay too.
"""

from __future__ import annotations

import re

from .errors import InputError

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_ .-]*)\}")
TASK_INPUT = "input"  # the prompt's own placeholder, filled by the task per sample


def factor_key(name: str) -> str:
    """`LoRA Rank`, `lora_rank` and `lora-rank` are one factor."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def expand(value: str, factors: dict[str, str], file: object, what: str, run: str, keep_input: bool = False) -> str:
    """`value` with each `{factor}` replaced by the run's value of that factor."""
    if "{" not in value:
        return value
    by_key = {factor_key(name): text for name, text in factors.items()}

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name is None or (keep_input and name == TASK_INPUT):
            return match.group(0)
        text = by_key.get(factor_key(name))
        if text is None or text.strip() in ("", "-"):
            known = ", ".join(sorted(f"{{{key}}}" for key, text in by_key.items() if text.strip() not in ("", "-")))
            problem = (f"{what} {value!r} of run {run} has the placeholder {{{name}}}, "
                       + ("which the run gives no value" if text is not None else "which is not a factor of the run")
                       + (f" (its factors: {known})" if known else " (it has no factors)"))
            raise InputError(file, problem,
                             "write the value itself, or a placeholder named after something the run sets "
                             "(a column of All Runs in experiment_summary.md; a parameter of the run in "
                             "experiment_summary.yaml)")
        return text.strip()

    return _PLACEHOLDER.sub(replace, value)
