"""Synthetic experiments in the input format of INPUTS.md, at any sweep size.

An experiment of `runs` fine-tuned runs, `tasks` evaluation tasks, `epochs` training epochs
and `controls` base-model controls renders runs × tasks × epochs + controls × tasks scripts:
the Evaluation Plan says "every epoch", and each control is evaluated once per task.

All fine-tuned runs train the same 1B model (a LoRA rank × learning rate grid); the controls
are distinct base models of different sizes, so the scripts span several resource tiers.

    python bench/synth.py DIR --runs 2 --tasks 2 --epochs 2 --controls 1
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

SCRATCH = "/scratch/gpfs/MSALGANIK/mjs3"
MODELS_DIR = "/scratch/gpfs/MSALGANIK/pretrained-llms"
DATA_DIR = f"{SCRATCH}/data/capitalization"
CHECKPOINT_DIR = f"{SCRATCH}/ck-outputs"
DATASET_LABEL = "words_5L_80P_1000"
PROMPT = r'"Capitalize the given word: {input}\n"'  # as written in both files: quoted, escaped
FINE_TUNED_MODEL = "Llama-3.2-1B-Instruct"
# Base models and their size on disk; the controls take them in this order, the fine-tuned
# model first: a sweep compares against it.
MODEL_SIZES = {
    FINE_TUNED_MODEL: "2.4 GB",
    "Llama-3.2-3B-Instruct": "6.4 GB",
    "Llama-3.1-8B-Instruct": "16 GB",
    "Qwen2.5-0.5B-Instruct": "1.0 GB",
    "Qwen2.5-1.5B-Instruct": "3.1 GB",
    "Qwen2.5-7B-Instruct": "15 GB",
}
CONTROL_MODELS = tuple(MODEL_SIZES)
RANKS = (4, 8, 16, 32, 64, 128, 256, 512)
LEARNING_RATES = ("1e-5", "2e-5", "5e-5", "1e-4", "2e-4", "5e-4", "1e-3", "2e-3")
PER_EVAL_MINUTES = 20
TRAIN_MINUTES_PER_EPOCH = 6


def script_count(runs: int, tasks: int, epochs: int, controls: int) -> int:
    return runs * tasks * epochs + controls * tasks


def run_grid(runs: int) -> list[tuple[int, str]]:
    """(LoRA rank, learning rate) of each run: a rank × lr grid, as square as it gets."""
    if runs > len(RANKS) * len(LEARNING_RATES):
        raise ValueError(f"at most {len(RANKS) * len(LEARNING_RATES)} runs")
    lr_count = min(len(LEARNING_RATES), -(-runs // len(RANKS)))
    rank_count = -(-runs // lr_count)
    grid = itertools.product(RANKS[:rank_count], LEARNING_RATES[:lr_count])
    return list(itertools.islice(grid, runs))


def run_name(rank: int, lr: str) -> str:
    return f"r{rank}_lr{lr}"


def task_names(tasks: int) -> list[str]:
    """capitalization (the training distribution), then longer-word generalization tasks."""
    return ["capitalization"] + [f"capitalization_{letters}L" for letters in range(6, 5 + tasks)]


def control_models(controls: int) -> list[str]:
    if controls > len(CONTROL_MODELS):
        raise ValueError(f"at most {len(CONTROL_MODELS)} controls")
    return list(CONTROL_MODELS[:controls])


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("-" * (len(h) + 2) for h in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def summary_text(runs: int, tasks: int, epochs: int, controls: int, experiment_dir: Path) -> str:
    grid = run_grid(runs)
    names = [run_name(rank, lr) for rank, lr in grid]
    task_list = task_names(tasks)
    bases = control_models(controls)
    models = list(dict.fromkeys([FINE_TUNED_MODEL, *bases]))
    ranks = sorted({rank for rank, _ in grid})
    lrs = [lr for lr in LEARNING_RATES if any(lr == run_lr for _, run_lr in grid)]
    evals = script_count(runs, tasks, epochs, controls)
    train_minutes = TRAIN_MINUTES_PER_EPOCH * epochs

    all_runs = [
        [name, FINE_TUNED_MODEL, str(rank), lr, "Fine-tuned", f"~{train_minutes} min"]
        for name, (rank, lr) in zip(names, grid)
    ] + [[f"{model}_base", model, "-", "-", "Control", "-"] for model in bases]
    task_rows = [["capitalization", "`cap_task.py`", "same as training", "Capitalize held-out five-letter words"]]
    task_rows += [
        [name, "`cap_task.py@capitalization`", f"`{DATA_DIR}/words_{name.rsplit('_', 1)[1]}_80P_1000.json`",
         f"Generalization to {name.rsplit('_', 1)[1][:-1]}-letter words"]
        for name in task_list[1:]
    ]
    matrix = [[name, *(["✓"] * tasks), ""] for name in names]
    matrix += [[f"{model}_base", *(["✓"] * tasks), "control"] for model in bases]
    model_bullets = "\n".join(
        f"- **{model}**: `{MODELS_DIR}/{model}`\n  - Verified: yes (config.json and model.safetensors present)\n"
        f"  - Size: {MODEL_SIZES[model]}"
        for model in models
    )
    last = f"epoch_{epochs - 1}"
    return f"""# Capitalization LoRA Sweep ({runs} runs, {tasks} tasks, {epochs} epochs)

## Overview
- **Type:** LoRA rank × learning rate sweep with base-model controls
- **Runs:** {runs + controls} ({runs} fine-tuned, {controls} control)
- **Question:** Which LoRA rank and learning rate let a 1B model learn to capitalize words?
- **Created:** 2026-11-20

## Tools
- **Preparation:** torchtune (LoRA fine-tuning recipe)
- **Evaluation:** inspect-ai

## Variables

{table(["Factor", "Levels"], [["LoRA rank", ", ".join(map(str, ranks))], ["Learning rate", ", ".join(lrs)]])}

## All Runs

{table(["Run Name", "Model", "LoRA Rank", "Learning Rate", "Type", "Est. Time"], all_runs)}

## Resources

### Models
{model_bullets}

### Dataset
- **Path**: `{DATA_DIR}/{DATASET_LABEL}.json`
- **Format**: JSON with `train`, `validation` and `test` splits of `{{"input": …, "output": …}}`
- **Size**: 1000 words
- **Splits**: 800 train / 100 validation / 100 test
- **Verified**: yes

### Evaluation Tasks

{table(["Task Name", "Script", "Dataset", "Description"], task_rows)}

## Evaluation Plan

Evaluate {", ".join(task_list)} on every epoch of each fine-tuned run (epoch_0 to {last}),
and once on each base model as a control. Temperature 0 so runs are comparable.

### Evaluation Matrix

{table(["Run Name", *task_list, "Notes"], matrix)}

## Configuration

### Training
- **Recipe**: `lora_finetune_single_device`
- **Epochs**: {epochs}
- **Batch size**: 4
- **LoRA rank**: {", ".join(map(str, ranks))}
- **Learning rate**: {", ".join(lrs)}
- **Prompt**: {PROMPT}
- **System prompt**: "" (blank - must match training)

### Evaluation
- **Temperature**: 0
- **Scorer**: exact match
- **System prompt**: "" (must match training)

### Output
- **Checkpoint directory**: `{CHECKPOINT_DIR}/`
- **Naming pattern**: `ck-out-{{run_name}}/epoch_{{N}}`
- **Example**: `{CHECKPOINT_DIR}/ck-out-{names[0]}/epoch_0`

## Compute Estimates

### Training
- **Per run:** ~{train_minutes} minutes on one GPU

### Evaluation
- **Per-eval time:** ~{PER_EVAL_MINUTES} minutes
- **Total evals:** {evals}

### Disk Space
- **Checkpoints:** ~100 MB per epoch per run (LoRA adapters merged)

### Total GPU Hours
- About {round((runs * train_minutes + evals * PER_EVAL_MINUTES) / 60)} GPU hours

## Naming Conventions

Run directories are named `r{{rank}}_lr{{learning_rate}}`; checkpoints land in
`ck-out-{{run_name}}/epoch_{{N}}`; evaluation scripts are `{{task}}_epoch{{N}}.slurm`.

## Quick Reference

**Paths:**
- Experiment: `{experiment_dir}`
- Models: `{MODELS_DIR}`
- Dataset: `{DATA_DIR}/{DATASET_LABEL}.json`

**Commands:**
- Fine-tune: `for run in r*/; do (cd "$run" && sbatch finetune.slurm); done`
- Evaluate: submit `*/eval/*.slurm` once fine-tuning has finished

**Next steps:**
1. Submit fine-tuning jobs
2. Render and submit evaluation scripts
"""


def setup_text(rank: int, lr: str, epochs: int) -> str:
    return f"""my_wandb_project: capitalization
my_wandb_run_name: {run_name(rank, lr)}
input_dir_base: {DATA_DIR}/
input_formatting: ''
dataset_label: {DATASET_LABEL}
dataset_ext: .json
torchtune_model_name: {FINE_TUNED_MODEL}
prompt: {PROMPT}
system_prompt: ''
lora_rank: {rank}
lr: {lr}
batch_size: 4
epochs: {epochs}
output_dir_base: {CHECKPOINT_DIR}/
conda_env: cruijff
account: msalganik
custom_recipe: cruijff_kit.tools.torchtune.custom_recipes.lora_finetune_single_device_stable
"""


# The example experiment's site file and task file are realistic as they are; every
# generalization task runs the task file's @task capitalization on its own dataset.
EXAMPLE = Path(__file__).resolve().parent.parent / "examples/cap_1B_lora"
SITE_TEXT = (EXAMPLE / "claude.local.md").read_text(encoding="utf-8")
TASK_TEXT = (EXAMPLE / "cap_task.py").read_text(encoding="utf-8")


def write_experiment(directory: Path | str, runs: int, tasks: int, epochs: int, controls: int) -> int:
    """Write the experiment's input files into `directory`; return how many scripts it renders."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    summary = summary_text(runs, tasks, epochs, controls, directory.resolve())
    (directory / "experiment_summary.md").write_text(summary, encoding="utf-8")
    (directory / "claude.local.md").write_text(SITE_TEXT, encoding="utf-8")
    (directory / "cap_task.py").write_text(TASK_TEXT, encoding="utf-8")
    for rank, lr in run_grid(runs):
        run_dir = directory / run_name(rank, lr)
        run_dir.mkdir(exist_ok=True)
        (run_dir / "setup_finetune.yaml").write_text(setup_text(rank, lr, epochs), encoding="utf-8")
    return script_count(runs, tasks, epochs, controls)


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic experiment's input files.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--runs", type=int, default=2, help="fine-tuned runs")
    parser.add_argument("--tasks", type=int, default=2, help="evaluation tasks")
    parser.add_argument("--epochs", type=int, default=2, help="training epochs of every run")
    parser.add_argument("--controls", type=int, default=1, help="base-model control runs")
    args = parser.parse_args()
    scripts = write_experiment(args.directory, args.runs, args.tasks, args.epochs, args.controls)
    print(f"{args.directory}: {scripts} scripts")


if __name__ == "__main__":
    main()
