"""Parser of a run's setup_finetune.yaml: the settings the run was trained with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import InputError
from .markdown import read_source

_REQUIRED = ("input_dir_base", "dataset_label", "output_dir_base", "prompt")
# yaml.safe_load's answers from libyaml's parser when PyYAML was built with it: a 64-run
# sweep reads 64 of these files (and plan.py checks 1,040 model paths with it).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class FinetuneSetup:
    path: Path
    data_path: str
    output_dir_base: str
    prompt: str
    system_prompt: str
    model: str | None
    epochs: int | None
    conda_env: str | None
    account: str | None

    def checkpoint(self, run: str, epoch: int) -> str:
        return f"{self.output_dir_base.rstrip('/')}/ck-out-{run}/epoch_{epoch}"


def read_finetune_setup(path: Path) -> FinetuneSetup:
    if not path.is_file():
        raise InputError(
            path,
            "setup_finetune.yaml not found for this fine-tuned run",
            f"create {path.name} in the run directory, or mark the run Control/Base in All Runs",
        )
    try:
        data = yaml.load(read_source(path), Loader=YAML_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(
            path, f"not valid YAML{line}: {error.problem}", "fix the YAML syntax there"
        ) from None
    except yaml.YAMLError as error:
        raise InputError(path, f"not valid YAML: {error}", "fix the YAML syntax") from None
    if not isinstance(data, dict):
        raise InputError(path, "is not a mapping of settings", "write `key: value` lines")
    # An empty prompt is a choice (and gets a warning); an empty path is not.
    missing = [key for key in _REQUIRED if data.get(key) is None or (key != "prompt" and data[key] == "")]
    if missing:
        raise InputError(path, f"missing {', '.join(missing)}", f"add {missing[0]}: to the file")

    def text(key: str, default: str | None = None) -> str | None:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            # YAML turned it into a number or a boolean: what the run was trained with is
            # unclear, so do not guess.
            raise InputError(
                path,
                f"{key} is {value!r} ({type(value).__name__}), not text",
                f"quote it: {key}: \"...\"",
            )
        return value

    base = text("input_dir_base")
    extension = text("dataset_ext", "")
    if extension and not extension.startswith("."):
        extension = "." + extension
    epochs = data.get("epochs")
    if isinstance(epochs, str) and epochs.strip().isdigit():
        epochs = int(epochs)
    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1):
        raise InputError(path, f"epochs is {epochs!r}", "write the number of training epochs, e.g. epochs: 2")
    return FinetuneSetup(
        path=path,
        data_path=base + ("" if base.endswith("/") else "/") + text("dataset_label") + extension,
        output_dir_base=text("output_dir_base"),
        prompt=text("prompt"),
        system_prompt=text("system_prompt", ""),
        model=text("torchtune_model_name"),
        epochs=epochs,
        conda_env=_word(data.get("conda_env")),
        account=_word(data.get("account")),
    )


def _word(value: object) -> str | None:
    return str(value).strip() or None if value is not None else None
