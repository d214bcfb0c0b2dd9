"""Parser of a run's finetune.yaml: the torchtune config the fine-tuning really reads.

setup_finetune.py writes it next to setup_finetune.yaml, with the paths resolved: the
top-level `output_dir` is where the checkpoints will be (with `$USER` already replaced), and
the dataset is `${input_dir}/${dataset_label}…` in torchtune's (OmegaConf's) `${key}`
syntax. When the file exists it says what the training does, whatever the setup file says.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .finetune import load_yaml_mapping, parse_epochs_to_save, parse_flag, single_slashes

CONFIG_FILE = "finetune.yaml"


@dataclass(frozen=True)
class FinetuneConfig:
    path: Path
    run_name: str | None  # my_wandb_run_name, the name the tool resolved
    output_dir: str | None  # the checkpoint directory, without a trailing '/'
    epochs: int | None
    epochs_to_save: str | tuple[int, ...] | None  # None: absent (the recipe saves all)
    save_last_epoch_only: bool | None  # None: absent (the recipe's default, false)
    dataset_path: str | None  # the training data; for a folder dataset, the folder


def read_finetune_config(path: Path) -> FinetuneConfig | None:
    """The run's finetune.yaml, or None when there is none (fine-tuning not set up yet)."""
    if not path.is_file():
        return None
    data = load_yaml_mapping(path)
    values = _scalars(data)

    def text(value: object, key: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise InputError(path, f"{key} is {value!r}, not a path", f"write {key} as text")
        return _resolve(value, values)

    checkpointer = data.get("checkpointer") if isinstance(data.get("checkpointer"), dict) else {}
    output_dir = text(data.get("output_dir", checkpointer.get("output_dir")), "output_dir")
    if output_dir is not None and "${" in output_dir:
        raise InputError(path, f"output_dir {output_dir!r} refers to a value this file does not hold",
                         "write the checkpoint directory as a plain path (rerun setup_finetune.py)")
    dataset = data.get("dataset") if isinstance(data.get("dataset"), dict) else {}
    dataset_path = text(dataset.get("data_files", dataset.get("data_dir")), "dataset.data_files")
    if dataset_path is not None:
        dataset_path = single_slashes(dataset_path)
        folder, _, file = dataset_path.rpartition("/")
        kind = str(dataset.get("_component_", "")).rpartition(".")[2] or "instruct_dataset"
        # The tool appends the training split's file to a folder dataset (parquet, or JSON
        # chat data): the evaluation gets the folder, as data_path() gives it.
        if file == "train.parquet" or (file == "train.json" and kind != "instruct_dataset"):
            dataset_path = folder
    return FinetuneConfig(
        path=path,
        run_name=text(data.get("my_wandb_run_name"), "my_wandb_run_name") or None,
        output_dir=single_slashes(output_dir).rstrip("/") if output_dir else None,
        epochs=_epochs(path, data.get("epochs")),
        epochs_to_save=_parsed(path, data, "epochs_to_save", parse_epochs_to_save),
        save_last_epoch_only=_parsed(path, data, "save_last_epoch_only", parse_flag),
        dataset_path=dataset_path,
    )


class _Interpolation(string.Template):
    """torchtune's `${key}` references; a bare `$USER` is not one (OmegaConf leaves it)."""

    idpattern = r"(?!)"
    braceidpattern = r"[A-Za-z_][A-Za-z0-9_]*"


def _scalars(data: dict) -> dict[str, str]:
    return {
        key: str(value)
        for key, value in data.items()
        if isinstance(key, str) and isinstance(value, (str, int, float)) and not isinstance(value, bool)
    }


def _resolve(value: str, values: dict[str, str]) -> str:
    # References may refer to values that hold references (a few levels at most).
    for _ in range(10):
        resolved = _Interpolation(value).safe_substitute(values)
        if resolved == value:
            break
        value = resolved
    return value


def _epochs(path: Path, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(path, f"epochs is {value!r}", "write the number of training epochs (rerun setup_finetune.py)")
    return value


def _parsed(path: Path, data: dict, key: str, parse):
    if key not in data:
        return None
    try:
        return parse(data[key])
    except ValueError:
        raise InputError(path, f"{key} is {data[key]!r}, which the fine-tuning recipe cannot read",
                         f"write a valid {key} (rerun setup_finetune.py)") from None
