"""Where each value of a run comes from when several input files could give it.

One small pure function per value: it takes the candidates, returns the value with the file
it came from (errors and the `#SBATCH` checks name that file), and says in `warnings` every
fallback it takes. Nothing here reads a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from . import finetune
from .errors import InputError
from .finetune import FinetuneSetup
from .finetune_config import FinetuneConfig
from .notes import Warnings
from .resources import time_limit
from .site import Site
from .model import RunRow, Summary


class Sourced(NamedTuple):
    value: object
    source: Path | str | None


def common(setups: dict[str, FinetuneSetup], get) -> object:
    """The value every fine-tuned run's setup file agrees on, or None."""
    values = {get(setup) for setup in setups.values()}
    return values.pop() if len(values) == 1 else None


# -- fine-tuned runs: the run's own setup file first ----------------------------------------


def prompt(setup: FinetuneSetup, summary: Summary, warnings: Warnings) -> Sourced:
    """The run's own prompt (it formatted the training data), else the summary's, else the
    input as it is: setup_finetune.py of November 2025 had no prompt setting and fed each
    input to the model unchanged."""
    if setup.prompt is None:
        if summary.prompt is None:
            warnings.add(
                f"{setup.path} has no prompt and the summary no Training Prompt: setup_finetune.py "
                "trains on each input as it is, so the evaluation's prompt is '{input}'"
            )
            return Sourced("{input}", setup.path)
        warnings.add(f"{setup.path} has no prompt: evaluating with the summary's Training prompt {summary.prompt!r}")
        return Sourced(summary.prompt, summary.path)
    return _own_or_summary("prompt", setup, setup.prompt, summary.prompt, "Prompt", warnings)


def system_prompt(setup: FinetuneSetup, summary: Summary, warnings: Warnings) -> Sourced:
    """The run's own, else the summary's, else setup_finetune.py's default ''."""
    if setup.system_prompt is None:
        if summary.system_prompt is not None:
            warnings.add(
                f"{setup.path} has no system_prompt: evaluating with the summary's Training system prompt "
                f"{summary.system_prompt!r}"
            )
            return Sourced(summary.system_prompt, summary.path)
        warnings.add(f"{setup.path} has no system_prompt: evaluating with setup_finetune.py's default ''")
        return Sourced("", setup.path)
    return _own_or_summary("system_prompt", setup, setup.system_prompt, summary.system_prompt, "System prompt", warnings)


def _own_or_summary(key, setup, own, summarized, label, warnings) -> Sourced:
    if summarized is not None and own != summarized:
        warnings.add(
            f"{setup.path}: {key} {own!r} differs from the summary's Training {label.lower()} "
            f"{summarized!r}: {setup.path.parent.name} is evaluated with the run's own"
        )
    return Sourced(own, setup.path)


def run_name(setup: FinetuneSetup, config: FinetuneConfig | None, run_dir: str, warnings: Warnings) -> Sourced:
    """The name setup_finetune.py gave the run: checkpoints are `ck-out-{name}`."""
    if setup.run_name:
        return Sourced(setup.run_name, setup.path)
    if config is not None and config.run_name:
        return Sourced(config.run_name, config.path)
    warnings.add(
        f"{setup.path} has no my_wandb_run_name (setup_finetune.py would draw a random name) and the run has "
        f"no finetune.yaml yet: using the directory name {run_dir!r} for ck-out-{run_dir} and the job name"
    )
    return Sourced(run_dir, setup.path)


def checkpoints(setup: FinetuneSetup, config: FinetuneConfig | None, summary: Summary, site: Site,
                name: str, user: str, warnings: Warnings) -> Sourced:
    """The directory that will hold the run's `epoch_N/`, as setup_finetune.py computes it.

    finetune.yaml, when it exists, is what the training reads. Without it: the setup file's
    output_dir_base, else the summary's Checkpoint directory, else claude.local.md's Outputs.
    """
    own = None
    if setup.output_dir_base:
        own = finetune.checkpoint_dir(finetune.expand_user(setup.output_dir_base, user), setup.experiment_name, name)
    if config is not None and config.output_dir:
        written = finetune.expand_user(config.output_dir, user)
        if own is not None and finetune.single_slashes(own) != finetune.single_slashes(written):
            warnings.add(
                f"{setup.path} puts the checkpoints in {own}, but {config.path.name} (what the training reads) "
                f"says {written}: using {written}"
            )
        return Sourced(written, config.path)
    if own is not None:
        return Sourced(own, setup.path)
    for base, source, where in (
        (summary.checkpoint_dir, summary.path, "Configuration → Output → Checkpoint directory"),
        (site.outputs_dir, site.path, "Common Paths → Outputs"),
    ):
        if base:
            directory = finetune.checkpoint_dir(finetune.expand_user(base, user), setup.experiment_name, name)
            warnings.add(f"{setup.path} has no output_dir_base: checkpoints looked for in {directory} ({where} of {Path(source).name})")
            return Sourced(directory, source)
    raise InputError(
        setup.path,
        "no output_dir_base, and neither experiment_summary.md (Configuration → Output → Checkpoint directory) "
        "nor claude.local.md (Common Paths → Outputs) says where checkpoints go",
        "add `output_dir_base: /path/to/ck-outputs/` to this file, as the run was trained",
    )


def epochs(setup: FinetuneSetup, config: FinetuneConfig | None, summary: Summary, warnings: Warnings) -> Sourced:
    """How many epochs the run trains: finetune.yaml's, else the setup file's, else the tool's 1."""
    if config is not None and config.epochs:
        if setup.epochs and setup.epochs != config.epochs:
            warnings.add(f"{setup.path} says epochs: {setup.epochs}, but {config.path.name} says {config.epochs}: using {config.epochs}")
        return Sourced(config.epochs, config.path)
    if setup.epochs:
        return Sourced(setup.epochs, setup.path)
    said = f" (the summary says {summary.epochs})" if summary.epochs and summary.epochs != 1 else ""
    warnings.add(f"{setup.path} has no epochs: setup_finetune.py trains 1 epoch{said}")
    return Sourced(1, setup.path)


def saving(setup: FinetuneSetup, config: FinetuneConfig | None) -> Sourced:
    """What decides which `epoch_N/` exist: finetune.yaml when it says, else the setup file."""
    if config is not None and (config.epochs_to_save is not None or config.save_last_epoch_only is not None):
        return Sourced(config, config.path)
    if setup is None:  # a YAML design not yet scaffolded: the recipes save every epoch
        return Sourced(None, None)
    return Sourced(setup, setup.path)


def training_data(setup: FinetuneSetup, config: FinetuneConfig | None, summary: Summary, user: str,
                  warnings: Warnings) -> Sourced:
    """The run's training data, the evaluation's default dataset."""
    own = finetune.data_path(setup, user)
    if own is not None:
        return Sourced(own, setup.path)
    if config is not None and config.dataset_path:
        return Sourced(finetune.expand_user(config.dataset_path, user), config.path)
    if summary.dataset_path:
        warnings.add(
            f"{setup.path} has no input_dir_base or dataset_label: evaluating on the summary's Dataset Path "
            f"{summary.dataset_path}"
        )
        return Sourced(summary.dataset_path, summary.path)
    raise InputError(
        setup.path,
        "no input_dir_base or dataset_label, and the summary has no Resources → Dataset → Path",
        "add input_dir_base, dataset_label and dataset_ext to this file, as the run was trained",
    )


def finetune_job(job_name: str | None, name: Sourced) -> str:
    """The job name finetune.slurm gives the training: its own line, else setup_finetune.py's
    (my_wandb_run_name)."""
    return job_name or str(name.value)


def account(setup: FinetuneSetup | None, site: Site, setups: dict[str, FinetuneSetup]) -> Sourced:
    """The setup file's, else claude.local.md's; a base run: the one all fine-tuned runs share."""
    return _own_site_or_shared("account", setup, site, setups)


def conda_env(setup: FinetuneSetup | None, site: Site, setups: dict[str, FinetuneSetup]) -> Sourced:
    return _own_site_or_shared("conda_env", setup, site, setups)


def _own_site_or_shared(key: str, setup: FinetuneSetup | None, site: Site, setups: dict[str, FinetuneSetup]) -> Sourced:
    if setup is not None and getattr(setup, key):
        return Sourced(getattr(setup, key), setup.path)
    if getattr(site, key):
        return Sourced(getattr(site, key), site.path)
    if setup is None:
        shared = common(setups, lambda s: getattr(s, key))
        if shared:
            return Sourced(shared, next(iter(setups.values())).path)
    return Sourced(None, None)


def time(summary: Summary, warnings: Warnings) -> Sourced:
    """evaluation.compute.time; else twice the summary's per-eval estimate (30 minutes at
    least); 30 minutes without one."""
    if "time" in summary.compute:
        return Sourced(summary.compute["time"], summary.path)
    if summary.format == "yaml":
        warnings.add(f"{summary.path} has no evaluation.compute.time: every script gets --time={time_limit(None)}, "
                     "the template's default")
        return Sourced(time_limit(None), "the template's default")
    if summary.per_eval_minutes is None:
        warnings.add(
            f"{summary.path} gives no Per-eval time under Compute Estimates → Evaluation: "
            f"every script gets --time={time_limit(None)}, the template's default"
        )
    return Sourced(time_limit(summary.per_eval_minutes), summary.path)


def sbatch_options(resources: dict, setup: FinetuneSetup | None, summary: Summary, site: Site,
                   setups: dict[str, FinetuneSetup], warnings: Warnings) -> dict[str, Sourced]:
    """Every `#SBATCH` option of a run, each with the file it came from (sbatch.run_header
    checks and orders them). A new site setting that becomes an option is one line here."""
    tier = "the model's size tier (extensions/resources.py)"
    compute = summary.compute
    return {
        "nodes": Sourced(1, "the seed"),
        "ntasks": Sourced(1, "the seed"),
        "cpus-per-task": Sourced(resources["cpus"], tier),
        "mem": Sourced(resources["mem"], summary.path if "mem" in compute else tier),
        "time": time(summary, warnings),
        "gres": Sourced(f"gpu:{resources['gpus']}", summary.path if "gpus" in compute else tier),
        "account": account(setup, site, setups),
        "partition": Sourced(site.partition, site.path),
        # The site's word for its GPUs, when it gives one, else the tier's (gpu80 from 3B up).
        "constraint": Sourced(site.constraint, site.path) if site.constraint else Sourced(resources["constraint"], tier),
        "qos": Sourced(site.qos, site.path),
        # Last, so that the user's own words win over the template's.
        **{option: Sourced(value, site.path) for option, value in site.extra_sbatch},
    }


# -- base runs: the summary first -----------------------------------------------------------


def base_model_path(run_name: str, model: str, summary: Summary, find) -> Sourced:
    path = find(model)
    if not path:
        markdown = summary.format == "markdown"
        listed = ", ".join(repr(name) for name in summary.models) or "no model with a path"
        raise InputError(
            summary.path,
            f"base run {run_name} uses model {model!r}, which has no path under "
            + ("Resources → Models" if markdown else
               f"models.base: models.base names {listed} (runs[].model must be one of them exactly)"),
            f"add `- **{model}**: `/path/to/{model}`` under ### Models" if markdown
            else f"add `- {{name: \"{model}\", path: /path/to/{model}}}` under models: base:",
        )
    return Sourced(path, summary.path)


def shared(values: list[Sourced]) -> Sourced | None:
    """The value every fine-tuned run was resolved to, when they all agree, or None."""
    distinct = {value.value for value in values}
    return values[0] if len(distinct) == 1 else None


def base_text(what: str, run_name: str, summarized: str | None, where: str, summary: Summary,
              fine_tuned: Sourced | None, warnings: Warnings) -> Sourced:
    """A base run's prompt or data path: the summary's, else the one every fine-tuned run
    is evaluated with (the same inputs make the control a fair comparison)."""
    if summarized is not None:
        _differs_from_fine_tuned(run_name, what, where, summarized, fine_tuned, warnings)
        return Sourced(summarized, summary.path)
    if fine_tuned is None:
        raise InputError(
            summary.path,
            f"base run {run_name} needs a {what}: the summary has no {where} and the fine-tuned runs "
            f"do not share one",
            f"add {where} to experiment_summary.md",
        )
    warnings.add(f"the summary has no {where}: base runs use the fine-tuned runs' {what} {fine_tuned.value!r}")
    return fine_tuned


def _differs_from_fine_tuned(run_name: str, what: str, where: str, summarized: str, fine_tuned: Sourced | None,
                             warnings: Warnings) -> None:
    """A control evaluated with another prompt than every fine-tuned run is no control: the
    summary's is used, as documented, and the difference is told."""
    if fine_tuned is not None and fine_tuned.value != summarized:
        runs = f"base run {run_name} uses" if run_name else "base runs use"
        warnings.add(
            f"{runs} the summary's {where} {summarized!r}, while every fine-tuned run is evaluated "
            f"with {fine_tuned.value!r} ({Path(fine_tuned.source).name}): the control's {what} differs"
        )


def base_system_prompt(summary: Summary, fine_tuned: Sourced | None, warnings: Warnings) -> Sourced:
    for value in (summary.system_prompt, summary.eval_system_prompt):
        if value is not None:
            _differs_from_fine_tuned("", "system prompt", "System prompt", value, fine_tuned, warnings)
            return Sourced(value, summary.path)
    if fine_tuned is not None:
        warnings.add(f"the summary has no System prompt: base runs use the fine-tuned runs' {fine_tuned.value!r}")
        return fine_tuned
    warnings.add("the summary has no System prompt and the fine-tuned runs disagree: base runs use an empty one")
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
        "seed": None,
        "max_connections": None,
        "enable_thinking": None,
    }


# -- YAML designs: the summary says each value; a run's setup files only confirm it --------
# (cruijff_kit v0.3.4's scaffold-inspect reads experiment_summary.yaml alone.)


def design_prompt(row: RunRow, setup: FinetuneSetup | None, summary: Summary, warnings: Warnings) -> Sourced:
    """runs[].parameters.prompt, else controls.prompt (a task's own prompt wins over both,
    per cell: see cell_text)."""
    if row.prompt is not None:
        chosen = Sourced(row.prompt, summary.path)
    elif summary.prompt is not None:
        chosen = Sourced(summary.prompt, summary.path)
    elif setup is not None and setup.prompt is not None:
        warnings.add(f"{summary.path} has no controls.prompt: {row.name} is evaluated with its setup file's prompt {setup.prompt!r}")
        return Sourced(setup.prompt, setup.path)
    else:
        warnings.add(
            f"{summary.path} gives {row.name} no prompt (runs[].parameters.prompt or controls.prompt): "
            "each input goes to the model as it is, '{input}'"
        )
        return Sourced("{input}", summary.path)
    _confirm(setup, "prompt", chosen.value, row.name, warnings)
    return chosen


def design_system_prompt(row: RunRow, setup: FinetuneSetup | None, summary: Summary, warnings: Warnings) -> Sourced:
    """controls.system_prompt; up to v0.3.3, evaluation.system_prompt first."""
    if summary.eval_system_prompt is not None:
        if summary.system_prompt is not None and summary.system_prompt != summary.eval_system_prompt:
            warnings.add(
                f"{summary.path}: evaluation.system_prompt {summary.eval_system_prompt!r} differs from "
                f"controls.system_prompt {summary.system_prompt!r}: the evaluation uses evaluation.system_prompt"
            )
        chosen = Sourced(summary.eval_system_prompt, summary.path)
    elif summary.system_prompt is not None:
        chosen = Sourced(summary.system_prompt, summary.path)
    elif setup is not None and setup.system_prompt is not None:
        warnings.add(f"{summary.path} has no controls.system_prompt: {row.name} is evaluated with its setup file's {setup.system_prompt!r}")
        return Sourced(setup.system_prompt, setup.path)
    else:
        warnings.add(f"{summary.path} has no controls.system_prompt: {row.name} is evaluated without a system prompt ('')")
        return Sourced("", summary.path)
    _confirm(setup, "system_prompt", chosen.value, row.name, warnings)
    return chosen


def _confirm(setup: FinetuneSetup | None, key: str, value: object, run: str, warnings: Warnings) -> None:
    written = getattr(setup, key) if setup is not None else None
    if written is not None and written != value:
        warnings.add(
            f"{setup.path}: {run} was set up to train with {key} {written!r}, but the summary evaluates it with "
            f"{value!r}: the scores are of the summary's"
        )


def design_checkpoints(row: RunRow, setup: FinetuneSetup | None, config: FinetuneConfig | None, summary: Summary,
                       user: str, warnings: Warnings) -> Sourced:
    """The directory of the run's epoch_N/: finetune.yaml's output_dir when it exists (what
    the training reads), else the summary's rule for the release it was written for. A setup
    file of the ck-out era (output_dir_base) that points elsewhere is said."""
    own = summary.run_checkpoints.replace("{run_name}", row.name) if summary.run_checkpoints else None
    if setup is not None and setup.output_dir_base and own is not None:
        set_up = finetune.checkpoint_dir(finetune.expand_user(setup.output_dir_base, user), setup.experiment_name,
                                         setup.run_name or row.name)
        if finetune.single_slashes(set_up) != finetune.single_slashes(finetune.expand_user(own, user).rstrip("/")):
            warnings.add(f"{setup.path} sets {row.name} up to write its checkpoints in {set_up}, but {summary.path.name} "
                         f"says {own}: using the summary's (finetune.yaml, once written, decides)")
    if config is not None and config.output_dir:
        written = finetune.expand_user(config.output_dir, user)
        if own is not None and finetune.single_slashes(own.rstrip("/")) != finetune.single_slashes(written.rstrip("/")):
            warnings.add(f"{summary.path} puts {row.name}'s checkpoints in {own}, but {config.path} (what the training reads) says {written}: using {written}")
        return Sourced(written, config.path)
    if own is not None:
        return Sourced(finetune.expand_user(own, user), summary.path)
    raise InputError(
        summary.path,
        f"says nowhere where run {row.name}'s checkpoints are: no experiment.dir, and no output.base_directory",
        "add experiment.dir (checkpoints are then {dir}/{run}/artifacts/epoch_N), as cruijff_kit's design step writes it",
    )


def design_epochs(setup: FinetuneSetup | None, config: FinetuneConfig | None, summary: Summary,
                  warnings: Warnings) -> Sourced | None:
    """How many epochs the run trains: finetune.yaml's, else the setup file's, else
    controls.epochs; None when nothing says (the matrix's epochs are then not checked)."""
    if config is not None and config.epochs:
        return Sourced(config.epochs, config.path)
    if setup is not None and setup.epochs:
        return Sourced(setup.epochs, setup.path)
    if summary.epochs:
        return Sourced(summary.epochs, summary.path)
    warnings.add(f"{summary.path} has no controls.epochs: the matrix's epochs are not checked against the training")
    return None


def design_data(row: RunRow, setup: FinetuneSetup | None, summary: Summary, user: str, warnings: Warnings) -> Sourced:
    """runs[].parameters.eval_dataset_path (or dataset_path), else data.training.path (a
    task's own dataset wins over both, per cell)."""
    if row.dataset is not None:
        return Sourced(row.dataset, summary.path)
    if summary.dataset_path is not None:
        return Sourced(summary.dataset_path, summary.path)
    own = finetune.data_path(setup, user) if setup is not None else None
    if own is not None:
        warnings.add(f"{summary.path} has no data.training.path: {row.name} is evaluated on its setup file's data {own}")
        return Sourced(own, setup.path)
    raise InputError(
        summary.path,
        f"gives run {row.name} no data to evaluate on: no data.training.path, no parameters.eval_dataset_path, "
        "and not every task has a dataset",
        "add data: training: path: /path/to/data.json (or a dataset: to each task)",
    )


def cell_text(own: str | None, run_value: Sourced, summary: Summary) -> Sourced:
    """A task's own prompt, system prompt or dataset wins over the run's."""
    return Sourced(own, summary.path) if own is not None else run_value


def yaml_decoding(summary: Summary, warnings: Warnings) -> dict:
    """evaluation.do_sample (greedy unless true), temperature only when sampling, seed
    (cruijff_kit's default 14) and max_connections (its default 32)."""
    sampling = bool(summary.do_sample)
    if sampling and not summary.temperature:
        raise InputError(summary.path, "evaluation.do_sample is true but temperature is missing or 0",
                         "write evaluation.temperature above 0 (transformers refuses 0 while sampling), or do_sample: false")
    if not sampling and summary.temperature:
        warnings.add(f"{summary.path}: evaluation.temperature {summary.temperature:g} is not used: do_sample is not true, so decoding is greedy (as cruijff_kit since v0.3.3)")
    if summary.do_sample is None:
        warnings.add(f"{summary.path} has no evaluation.do_sample: decoding greedily (do_sample=false), cruijff_kit's default")
    for key, default in (("seed", 14), ("max_connections", 32)):
        if getattr(summary, key) is None:
            warnings.add(f"{summary.path} has no evaluation.{key}: using cruijff_kit's default {default}")
    return {
        "do_sample": sampling,
        "temperature": summary.temperature if sampling else None,
        "max_tokens": summary.max_tokens,
        "seed": 14 if summary.seed is None else summary.seed,
        "max_connections": 32 if summary.max_connections is None else summary.max_connections,
        "enable_thinking": summary.enable_thinking,
    }
