"""The experiment model: what every summary reader returns, and all the plan reads of it.

cruijff_kit has written two kinds of design file: the Markdown experiment_summary.md of late
2025 (extensions/summary.py) and experiment_summary.yaml since (extensions/summary_yaml.py).
Both readers fill the same frozen `Summary`; what one format cannot say stays None, and the
precedence rules (extensions/precedence.py) decide where else to look. Nothing downstream
asks which file a value came from except to name it in a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .epochs import EpochChoice, MatrixCell

# Run kinds. A control (YAML `type: control`, Markdown Type "Control" or "Base") evaluates the
# base model once per task; an eval-only run evaluates a checkpoint trained elsewhere, once.
FINE_TUNED = "fine-tuned"
BASE = "base"
EVAL_ONLY = "eval-only"

# Summary formats.
MARKDOWN = "markdown"
YAML = "yaml"


@dataclass(frozen=True)
class RunRow:
    name: str
    model: str
    kind: str  # FINE_TUNED, BASE or EVAL_ONLY
    factors: dict[str, str] = field(default_factory=dict)  # what varies between runs, as text
    prompt: str | None = None  # the run's own prompt (YAML runs[].parameters.prompt)
    dataset: str | None = None  # the run's own evaluation data (YAML parameters.eval_dataset_path)
    checkpoint: str | None = None  # an eval-only run's checkpoint, used as written


@dataclass(frozen=True)
class TaskRow:
    name: str
    script: str  # the task file, as written (without any `@function`)
    dataset: str | None  # a path to evaluate on instead of the run's data
    function: str | None = None  # the @task it names (`file.py@fn`); None: decided by the file
    prompt: str | None = None  # per-task overrides (YAML evaluation.tasks[])
    system_prompt: str | None = None
    assistant_prefix: str | None = None
    eval_condition: str | None = None  # a generated condition's test file (YAML, v0.2.2+)


@dataclass(frozen=True)
class Summary:
    path: Path
    layout: str  # Markdown: NOVEMBER or OCTOBER; YAML: the release family it was written for
    title: str | None
    runs: list[RunRow]
    factors: list[str]  # names of what varies between runs, in order
    models: dict[str, str]  # model name -> path: normalized (Markdown), as written (YAML, matched exactly)
    models_dir: str | None
    dataset_path: str | None  # the training data
    tasks: list[TaskRow]
    plan_text: str
    plan_epochs: EpochChoice | None
    text_tasks: tuple[str, ...]  # tasks the plan text evaluates for runs outside the matrix
    matrix: dict[str, dict[str, MatrixCell]] | None  # run -> task -> cell
    epochs: int | None  # training epochs
    prompt: str | None
    system_prompt: str | None
    eval_system_prompt: str | None
    temperature: float | None
    max_tokens: int | None
    checkpoint_dir: str | None  # Markdown: output_dir_base, as Configuration → Output says
    per_eval_minutes: float | None
    format: str = MARKDOWN
    # What only the YAML says; None where it is silent.
    run_checkpoints: str | None = None  # a run's checkpoint directory, `{run_name}` in it
    vis_labels: dict[tuple[str, str], str] = field(default_factory=dict)  # (run, task) -> label
    do_sample: bool | None = None
    seed: int | None = None
    max_connections: int | None = None
    enable_thinking: bool | None = None
    scorers: tuple | None = None  # ({"name": …, "params": {…}}, …)
    dataset_type: str | None = None  # chat_completion or text_completion
    compute: dict = field(default_factory=dict)  # evaluation.compute: time, mem, gpus
    experiment_dir: str | None = None  # experiment.dir as written
    data_generation: dict | None = None  # data.data_generation, as written


def split_script(written: str) -> tuple[str, str | None]:
    """`tasks.py@capitalization` names the file and its @task; `tasks.py` only the file.

    The @task is named as inspect registers it, which `@task(name="cap-5L")` makes any text, and
    as inspect splits it (at the last `@`). What does not split so stays one path, which the
    loader refuses when it names no file (`tasks.py@`, `tasks.py@a@b`)."""
    script, at, function = written.strip().rpartition("@")
    if at and script.endswith(".py") and function and function == function.strip():
        return script, function
    return written.strip(), None
