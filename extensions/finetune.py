"""Parser of a run's setup_finetune.yaml, and what cruijff_kit's setup_finetune.py makes of it.

setup_finetune.py (cruijff_kit, commit c8e12c3, 2025-11-11) turns this file into the run's
finetune.yaml and finetune.slurm; what it computes is what exists on disk later. The parser
returns the values as written, with only the defaults that tool applies whatever the site
(`input_formatting: raw`, `epochs_to_save: all`, ...). Its site defaults (an `output_dir_base`
under /scratch/gpfs/MSALGANIK) are never assumed: a missing value stays None and the plan
decides where else to look. The pure functions below compute paths the way the tool does.
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .epochs import MAX_EPOCHS
from .errors import InputError
from .names import check_length
from .notes import Warnings
from .paths import missing_here
from .source import read_source, refuse_link_loop

# yaml.safe_load's answers from libyaml's parser when PyYAML was built with it: a 64-run
# sweep reads 64 of these files (and plan.py checks 1,040 model paths with it).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ALL_EPOCHS = "all"
NO_EPOCHS = "none"
# The dataset types setup_finetune.py accepts (it refuses any other).
DATASET_TYPES = ("instruct_dataset", "chat_dataset", "text_completion_dataset")
# Extensions setup_finetune.py knows; with any other it reads `dataset_label` as a folder.
_KNOWN_EXTENSIONS = ("", ".json", ".parquet")
_TOOL = "setup_finetune.py"


@dataclass(frozen=True)
class FinetuneSetup:
    path: Path
    run_name: str | None  # my_wandb_run_name; None: the tool drew a random name
    experiment_name: str  # '' when absent: checkpoints directly under output_dir_base
    output_dir_base: str | None
    input_dir_base: str | None
    input_formatting: str  # 'raw' when absent (the tool's default); '' kept
    dataset_label: str | None
    dataset_ext: str  # '' when absent
    dataset_type: str  # 'instruct_dataset' when absent
    prompt: str | None
    system_prompt: str | None  # None when absent; '' when written empty or null
    model: str | None  # torchtune_model_name
    epochs: int | None  # None when absent (the tool then trains 1 epoch)
    epochs_to_save: str | tuple[int, ...]  # ALL_EPOCHS, NO_EPOCHS, or epoch numbers
    save_last_epoch_only: bool
    conda_env: str | None
    account: str | None


def read_finetune_setup(path: Path, warnings: Warnings) -> FinetuneSetup:
    refuse_link_loop(path)
    if not path.is_file():
        raise InputError(
            path,
            "setup_finetune.yaml not found for this fine-tuned run",
            f"create {path.name} in the run directory (setup_finetune.py reads it to fine-tune "
            "the run); if the run is a model evaluated without fine-tuning, write Base or "
            "Control in its Type column in All Runs",
        )
    data = load_yaml_mapping(path, warnings)
    value = _Values(path, data)

    run_name = value.text("my_wandb_run_name") or None  # '' too: the tool draws a random name
    if run_name is not None:
        check_length(path, "my_wandb_run_name", run_name)
    input_formatting = value.text("input_formatting", "raw")
    if input_formatting is None:
        raise InputError(
            path,
            f"input_formatting is empty (null), which {_TOOL} cannot join into the data path",
            "write input_formatting: '' for no sub-folder, or the sub-folder's name",
        )
    input_dir_base = value.nonempty("input_dir_base")
    if input_dir_base and input_formatting and not input_dir_base.endswith("/"):
        warnings.add(
            f"{path}: input_dir_base {input_dir_base!r} has no trailing '/': {_TOOL} joins it "
            f"with input_formatting as {input_dir_base + input_formatting + '/'!r}, and so does this template"
        )
    dataset_ext = value.text("dataset_ext", "")
    if dataset_ext and not dataset_ext.startswith("."):
        raise InputError(path, f"dataset_ext is {dataset_ext!r}, without its leading dot",
                         f"write dataset_ext: '.{dataset_ext}' ({_TOOL} compares it with '.json' and '.parquet')")
    if dataset_ext not in _KNOWN_EXTENSIONS:
        warnings.add(
            f"{path}: dataset_ext {dataset_ext!r} is neither '.json' nor '.parquet', the two "
            f"{_TOOL} knows: the evaluation gets the file {value.text('dataset_label')}{dataset_ext}"
        )
    dataset_type = value.text("dataset_type", DATASET_TYPES[0])
    if dataset_type not in DATASET_TYPES:
        raise InputError(path, f"dataset_type is {dataset_type!r}, which {_TOOL} refuses",
                         f"write one of {', '.join(DATASET_TYPES)}")
    epochs = value.epochs()
    epochs_to_save = value.parsed("epochs_to_save", parse_epochs_to_save, ALL_EPOCHS,
                                  "all, none, or epoch numbers like '0,2'")
    save_last = value.parsed("save_last_epoch_only", parse_flag, False, "'true' or 'false'")
    _warn_about_saving(path, data, epochs, epochs_to_save, save_last, warnings)
    system_prompt = value.text("system_prompt")
    account = _word(path, "account", data.get("account"))
    setup = FinetuneSetup(
        path=path,
        run_name=run_name,
        experiment_name=value.text("experiment_name") or "",
        output_dir_base=value.nonempty("output_dir_base"),
        input_dir_base=input_dir_base,
        input_formatting=input_formatting,
        dataset_label=value.nonempty("dataset_label"),
        dataset_ext=dataset_ext,
        dataset_type=dataset_type,
        prompt=value.text("prompt"),
        # Written as null, the tool trains without one, as with ''.
        system_prompt="" if system_prompt is None and "system_prompt" in data else system_prompt,
        model=value.text("torchtune_model_name"),
        epochs=epochs,
        epochs_to_save=epochs_to_save,
        save_last_epoch_only=save_last,
        conda_env=_word(path, "conda_env", data.get("conda_env")),
        account=account,
    )
    _warn_about_missing_data(setup, warnings)
    return setup


def _warn_about_missing_data(setup: FinetuneSetup, warnings: Warnings) -> None:
    """Training data missing where it can be looked for (its directory is on this machine,
    as a path relative to the run's directory is) would fail each evaluation of the run."""
    local = data_path(setup, current_user())
    if local is None or "$" in local or local.startswith("~"):
        return
    resolved = setup.path.parent / local  # the run's directory, where the training runs
    beside = setup.path.parent.parent / local
    if not os.path.isabs(local) and not resolved.exists() and beside.exists():
        warnings.add(f"{setup.path}: the training data {local!r} is {resolved}, relative to the run's directory "
                     f"as setup_finetune.py reads it, which does not exist; {beside} does: write that path")
    elif missing_here(setup.path.parent, local):
        warnings.add(f"{setup.path}: the training data {local!r} (input_dir_base, input_formatting, dataset_label, "
                     f"dataset_ext) is {resolved}, which does not exist: the evaluations of it would fail to read it")


def data_path(setup: FinetuneSetup, user: str) -> str | None:
    """The training data as setup_finetune.py points torchtune at it; None when the file
    leaves out input_dir_base or dataset_label (the tool's defaults are site paths).

    `{input_dir_base}{input_formatting}/{dataset_label}{dataset_ext}`, without the
    `{input_formatting}/` part when it is ''. A parquet dataset, or a JSON one that is not an
    instruct_dataset, is a folder (`dataset_label/` holding train and validation files): the
    evaluation gets the folder.
    """
    if setup.input_dir_base is None or setup.dataset_label is None:
        return None
    formatting = setup.input_formatting
    input_dir = setup.input_dir_base + formatting + ("/" if formatting else "")
    path = _join(input_dir, setup.dataset_label)
    if not is_folder_dataset(setup.dataset_ext, setup.dataset_type):
        path += setup.dataset_ext
    return expand_user(path, user)


def is_folder_dataset(dataset_ext: str, dataset_type: str) -> bool:
    """Whether setup_finetune.py reads `dataset_label` as a folder of split files."""
    if dataset_ext == ".json":
        return dataset_type != "instruct_dataset"
    return dataset_ext in (".parquet", "")


def checkpoint_dir(output_dir_base: str, experiment_name: str, run_name: str) -> str:
    """Where setup_finetune.py puts a run's checkpoints; epoch N is `epoch_N/` inside.

    `{output_dir_base}/{experiment_name}/ck-out-{run_name}`, or without the experiment part
    when experiment_name is ''. `$USER` is left for expand_user.
    """
    base = output_dir_base.rstrip("/")
    if experiment_name:
        base = _join(base, experiment_name.rstrip("/"))
    return _join(base, f"ck-out-{run_name}")


def saved_epochs(setup, epochs: int) -> set[int]:
    """The epochs whose `epoch_N/` the training writes (cruijff_kit's recipes, c8e12c3).

    `setup` is a FinetuneSetup or a FinetuneConfig; a None setting is the recipe's default.
    save_last_epoch_only wins over epochs_to_save, as in the recipes; numbers outside
    0..epochs-1 are never reached.
    """
    if setup.save_last_epoch_only:
        return {epochs - 1}
    chosen = setup.epochs_to_save if setup.epochs_to_save is not None else ALL_EPOCHS
    if chosen == ALL_EPOCHS:
        return set(range(epochs))
    if chosen == NO_EPOCHS:
        return set()
    return {epoch for epoch in chosen if 0 <= epoch < epochs}


def current_user() -> str:
    """Whom `$USER` stands for: whoever renders (setup_finetune.py expands it for whoever
    runs it, the same person on the same cluster)."""
    return os.environ.get("USER") or getpass.getuser()


def expand_user(path: str, user: str) -> str:
    """`$USER` (as setup_finetune.py replaces it) and `${USER}` (as a shell would) -> user."""
    return path.replace("${USER}", user).replace("$USER", user)


def parse_epochs_to_save(value: object) -> str | tuple[int, ...]:
    """epochs_to_save as setup_finetune.py's parse_epochs reads it: 'all', 'none' or '0,2';
    a YAML list of numbers, or one number, as the recipes take them. ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    if isinstance(value, str):
        if value.strip().lower() in (ALL_EPOCHS, NO_EPOCHS):
            return value.strip().lower()
        return tuple(int(part.strip()) for part in value.split(","))
    raise ValueError(value)


def parse_flag(value: object) -> bool:
    """A true/false setting written as YAML writes it or as text ('true', 'False', 'yes', 1)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise ValueError(value)


class _DuplicateKeys(YAML_LOADER):
    """The safe loader, noting every mapping key written twice: YAML keeps the last one
    silently, and which of two prompts was meant is the writer's to say."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[object, int]] = []

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                self.duplicates.append((key, key_node.start_mark.line + 1))
            seen.add(key)
        return super().construct_mapping(node, deep)


_DuplicateKeys.add_constructor("tag:yaml.org,2002:map", _DuplicateKeys.construct_yaml_map)


def load_yaml_mapping(path: Path, warnings: Warnings | None = None) -> dict:
    loader = _DuplicateKeys(read_source(path))
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(
            path, f"not valid YAML{line}: {error.problem}", "fix the YAML syntax there"
        ) from None
    except yaml.YAMLError as error:
        raise InputError(path, f"not valid YAML: {error}", "fix the YAML syntax") from None
    finally:
        loader.dispose()
    for key, line in loader.duplicates if warnings is not None else ():
        warnings.add(f"{path}: the key {key!r} is written twice (again at line {line}): YAML keeps the last one, and so does this template")
    if not isinstance(data, dict):
        raise InputError(path, "is not a mapping of settings", "write `key: value` lines")
    return data


class _Values:
    """Typed reads of one file's keys, each refusal naming the file, key and value."""

    def __init__(self, path: Path, data: dict) -> None:
        self.file = path
        self.data = data

    def text(self, key: str, default: str | None = None) -> str | None:
        """A text value; `default` when the key is absent, None when it is null."""
        if key not in self.data:
            return default
        value = self.data[key]
        if value is None or isinstance(value, str):
            return value
        # YAML made a number, date or boolean of it: what the run was trained with is
        # unclear, so do not guess.
        raise InputError(
            self.file,
            f"{key} is {value!r} ({type(value).__name__}), not text",
            f"quote it: {key}: '...'",
        )

    def nonempty(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not value.strip():
            raise InputError(self.file, f"{key} is empty", f"write the {key}, or delete the line")
        return value

    def parsed(self, key: str, parse, default, expected: str):
        if key not in self.data:
            return default
        try:
            return parse(self.data[key])
        except ValueError:
            raise InputError(
                self.file, f"{key} is {self.data[key]!r}, which is none of the forms {_TOOL} takes",
                f"write {key}: {expected}",
            ) from None

    def epochs(self) -> int | None:
        epochs = self.data.get("epochs")
        if isinstance(epochs, str) and epochs.strip().isdigit():
            epochs = int(epochs)
        if epochs is None:
            return None
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise InputError(self.file, f"epochs is {epochs!r}", "write the number of training epochs, e.g. epochs: 2")
        if epochs > MAX_EPOCHS:
            raise InputError(
                self.file,
                f"epochs is {epochs}, more than the limit of {MAX_EPOCHS}",
                f"write the number of training epochs (the limit is MAX_EPOCHS in extensions/epochs.py)",
            )
        return epochs


def _warn_about_saving(path: Path, data: dict, epochs: int | None, epochs_to_save, save_last: bool,
                       warnings: Warnings) -> None:
    written = data.get("save_last_epoch_only")
    if save_last and written != "true":
        warnings.add(
            f"{path}: save_last_epoch_only is {written!r}, read as true; {_TOOL} before "
            "2025-11-19 took only the text 'true' as true and saved every epoch: the run's "
            "finetune.yaml, when it exists, says which"
        )
    if save_last and "epochs_to_save" in data:
        warnings.add(f"{path}: save_last_epoch_only and epochs_to_save are both set: as in the "
                     "training recipe, save_last_epoch_only wins (only the last epoch is saved)")
    if epochs is not None and isinstance(epochs_to_save, tuple):
        never = [epoch for epoch in epochs_to_save if not 0 <= epoch < epochs]
        if never:
            warnings.add(f"{path}: epochs_to_save lists {', '.join(map(str, never))}, outside "
                         f"0..{epochs - 1} for epochs: {epochs}: never saved")


def _join(directory: str, name: str) -> str:
    """`directory/name`, with one '/' at the join (the template's '/' and a written one are
    the same directory); the user's own text is kept as written."""
    return directory + name if directory.endswith("/") else f"{directory}/{name}"


def single_slashes(path: str) -> str:
    return re.sub(r"/{2,}", "/", path)


def _word(path: Path, key: str, value: object) -> str | None:
    """A one-word setting (account, conda_env), as written. YAML makes `conda_env: 3.10` the
    float 3.1, `account: 0123` the octal 83 and `yes` True: refused, not guessed at."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(
            path,
            f"{key} is {value!r} ({type(value).__name__}): YAML read what was written as a {type(value).__name__}, "
            "not as text",
            f"quote it as it should read: {key}: \"...\"",
        )
    return value.strip() or None
