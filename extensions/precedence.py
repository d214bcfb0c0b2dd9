"""Where each value of a run comes from when several input files could give it.

One small pure function per value: it takes the candidates, returns the value with the file
it came from (errors and the `#SBATCH` checks name that file), and says in `warnings` every
fallback it takes. Nothing here reads a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from .errors import InputError
from .finetune import FinetuneSetup
from .notes import Warnings
from .resources import time_limit
from .site import Site
from .summary import Summary


class Sourced(NamedTuple):
    value: object
    source: Path | str | None


def common(setups: dict[str, FinetuneSetup], get) -> object:
    """The value every fine-tuned run's setup file agrees on, or None."""
    values = {get(setup) for setup in setups.values()}
    return values.pop() if len(values) == 1 else None


# -- fine-tuned runs: the run's own setup file first ----------------------------------------


def prompt(setup: FinetuneSetup, summary: Summary, warnings: Warnings) -> Sourced:
    return _own_or_summary("prompt", setup, setup.prompt, summary.prompt, "Prompt", warnings)


def system_prompt(setup: FinetuneSetup, summary: Summary, warnings: Warnings) -> Sourced:
    return _own_or_summary("system_prompt", setup, setup.system_prompt, summary.system_prompt, "System prompt", warnings)


def _own_or_summary(key, setup, own, summarized, label, warnings) -> Sourced:
    if summarized is not None and own != summarized:
        warnings.add(
            f"{setup.path}: {key} {own!r} differs from the summary's Training {label.lower()} "
            f"{summarized!r}: {setup.path.parent.name} is evaluated with the run's own"
        )
    return Sourced(own, setup.path)


def account(setup: FinetuneSetup | None, site: Site, setups: dict[str, FinetuneSetup]) -> Sourced:
    """The setup file's, else claude.local.md's; a base run: the one all fine-tuned runs share."""
    if setup is not None and setup.account:
        return Sourced(setup.account, setup.path)
    if site.account:
        return Sourced(site.account, site.path)
    if setup is None:
        shared = common(setups, lambda s: s.account)
        if shared:
            return Sourced(shared, next(iter(setups.values())).path)
    return Sourced(None, None)


def conda_env(setup: FinetuneSetup | None, site: Site, setups: dict[str, FinetuneSetup]) -> Sourced:
    if setup is not None and setup.conda_env:
        return Sourced(setup.conda_env, setup.path)
    if site.conda_env:
        return Sourced(site.conda_env, site.path)
    if setup is None:
        shared = common(setups, lambda s: s.conda_env)
        if shared:
            return Sourced(shared, next(iter(setups.values())).path)
    return Sourced(None, None)


def time(summary: Summary, warnings: Warnings) -> Sourced:
    """Twice the summary's per-eval estimate (30 minutes at least); 30 minutes without one."""
    if summary.per_eval_minutes is None:
        warnings.add(
            f"the summary gives no per-eval time under Compute Estimates → Evaluation: "
            f"every script gets --time={time_limit(None)}"
        )
    return Sourced(time_limit(summary.per_eval_minutes), summary.path)


def sbatch_options(resources: dict, setup: FinetuneSetup | None, summary: Summary, site: Site,
                   setups: dict[str, FinetuneSetup], warnings: Warnings) -> dict[str, Sourced]:
    """Every `#SBATCH` option of a run, each with the file it came from (sbatch.run_header
    checks and orders them). A new site setting that becomes an option is one line here."""
    tier = "the model's size tier (extensions/resources.py)"
    return {
        "nodes": Sourced(1, "the seed"),
        "ntasks": Sourced(1, "the seed"),
        "cpus-per-task": Sourced(resources["cpus"], tier),
        "mem": Sourced(resources["mem"], tier),
        "time": time(summary, warnings),
        "gres": Sourced(f"gpu:{resources['gpus']}", tier),
        "account": account(setup, site, setups),
        "partition": Sourced(site.partition, site.path),
        "constraint": Sourced(resources["constraint"], tier),
    }


# -- base runs: the summary first -----------------------------------------------------------


def base_model_path(run_name: str, model: str, summary: Summary, find) -> Sourced:
    path = find(model)
    if not path:
        raise InputError(
            summary.path,
            f"base run {run_name} uses model {model!r}, which has no path under Resources → Models",
            f"add `- **{model}**: `/path/to/{model}`` under ### Models",
        )
    return Sourced(path, summary.path)


def base_text(what: str, run_name: str, summarized: str | None, where: str, summary: Summary,
              setups: dict[str, FinetuneSetup], get, warnings: Warnings) -> Sourced:
    """A base run's prompt or data path: the summary's, else the one every fine-tuned run shares."""
    if summarized is not None:
        return Sourced(summarized, summary.path)
    shared = common(setups, get)
    if shared is None:
        raise InputError(
            summary.path,
            f"base run {run_name} needs a {what} and the summary has no {where}",
            f"add {where} to experiment_summary.md",
        )
    warnings.add(f"the summary has no {where}: base runs use the fine-tuned runs' {what} {shared!r}")
    return Sourced(shared, next(iter(setups.values())).path)


def base_system_prompt(summary: Summary, setups: dict[str, FinetuneSetup], warnings: Warnings) -> Sourced:
    for value, label in ((summary.system_prompt, "Training"), (summary.eval_system_prompt, "Evaluation")):
        if value is not None:
            return Sourced(value, summary.path)
    shared = common(setups, lambda s: s.system_prompt)
    if shared is not None:
        warnings.add(f"the summary has no System prompt: base runs use the fine-tuned runs' {shared!r}")
        return Sourced(shared, next(iter(setups.values())).path)
    warnings.add("the summary has no System prompt and the runs disagree: base runs use an empty one")
    return Sourced("", summary.path)


# -- the whole experiment --------------------------------------------------------------------


def decoding(summary: Summary, warnings: Warnings) -> dict:
    """Greedy unless the summary asks for a temperature above 0, as cruijff_kit decodes.

    inspect's hf provider samples by default, and transformers refuses temperature 0 while
    sampling: greedy is `do_sample=false`, and then a temperature means nothing.
    """
    temperature = summary.temperature
    if temperature is None:
        warnings.add(
            "the summary gives no Temperature under Configuration → Evaluation: decoding greedily (do_sample=false)"
        )
    sampling = bool(temperature)
    return {
        "do_sample": sampling,
        "temperature": temperature if sampling else None,
        "max_tokens": summary.max_tokens,
    }
