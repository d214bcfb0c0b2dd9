"""Writes realistic experiment directories for the tests, in the formats of INPUTS.md.

Every knob a test needs (runs, models, tasks, prompts, plan text, matrix, site file) is a
parameter; the defaults give a small valid experiment like examples/cap_1B_lora.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_PROMPT = "Capitalize the given word: {input}\n"
# A task that takes data_path, prompt and system_prompt as parameters, as the Markdown era's did.
TASK_FILE = Path(__file__).resolve().parent / "fixtures" / "tasks" / "args_task.py"


@dataclass
class Run:
    name: str
    model: str = "Llama-3.2-1B-Instruct"
    kind: str = "Fine-tuned"
    epochs: int = 1
    prompt: str = DEFAULT_PROMPT
    system_prompt: str = ""
    input_dir_base: str = "/scratch/data/capitalization/"
    dataset_label: str = "words_5L_80P_1000"
    dataset_ext: str = ".json"
    output_dir_base: str = "/scratch/ck-outputs/"
    conda_env: str | None = "cruijff"
    account: str | None = None
    setup: dict | None = None  # replaces the whole setup_finetune.yaml when given
    write_setup: bool = True


@dataclass
class Task:
    name: str
    script: str = str(TASK_FILE)
    dataset: str = "same as training"


@dataclass
class Experiment:
    runs: list[Run] = field(default_factory=lambda: [Run("r8_lr1e-5")])
    tasks: list[Task] = field(default_factory=lambda: [Task("capitalization")])
    title: str = "Capitalization LoRA sweep"
    models: dict[str, str] = field(
        default_factory=lambda: {"Llama-3.2-1B-Instruct": "/scratch/models/Llama-3.2-1B-Instruct"}
    )
    dataset_path: str = "/scratch/data/capitalization/words_5L_80P_1000.json"
    plan_text: str = "Evaluate every task on the last epoch of each run, and once on the base model."
    matrix: list[list[str]] | None = None  # rows under | Run Name | task… | Notes |
    training_prompt: str | None = DEFAULT_PROMPT  # None leaves the bullet out
    training_system_prompt: str | None = ""
    eval_system_prompt: str | None = ""
    per_eval_time: str | None = "~10 minutes"
    temperature: str | None = "0"  # the Temperature bullet as written; None leaves it out
    max_tokens: str | None = None
    site: str | None = None  # claude.local.md text
    summary_override: str | None = None

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "experiment_summary.md").write_text(
            self.summary_override or self.summary(), encoding="utf-8"
        )
        for run in self.runs:
            if run.kind == "Fine-tuned" and run.write_setup:
                run_dir = directory / run.name
                run_dir.mkdir(exist_ok=True)
                (run_dir / "setup_finetune.yaml").write_text(setup_yaml(run), encoding="utf-8")
        if self.site is not None:
            (directory / "claude.local.md").write_text(self.site, encoding="utf-8")
        return directory

    def summary(self) -> str:
        runs = "\n".join(
            f"| {r.name} | {r.model} | {'-' if r.kind != 'Fine-tuned' else 8} | {r.kind} | ~10 min |"
            for r in self.runs
        )
        models = "\n".join(f"- **{name}**: `{path}`\n  - Verified: yes" for name, path in self.models.items())
        tasks = "\n".join(f"| {t.name} | `{t.script}` | {t.dataset} | a task |" for t in self.tasks)
        matrix = ""
        if self.matrix is not None:
            header = " | ".join(["Run Name", *(t.name for t in self.tasks), "Notes"])
            rows = "\n".join("| " + " | ".join(row) + " |" for row in self.matrix)
            matrix = f"\n### Evaluation Matrix\n\n| {header} |\n|{'---|' * (len(self.tasks) + 2)}\n{rows}\n"
        training = [f"- **Epochs**: {self.runs[0].epochs}", "- **Batch size**: 4"]
        if self.training_prompt is not None:
            training.append(f"- **Prompt**: {quoted(self.training_prompt)}")
        if self.training_system_prompt is not None:
            training.append(f"- **System prompt**: {quoted(self.training_system_prompt)} (blank - must match training)")
        evaluation = [f"- **Temperature**: {self.temperature}"] if self.temperature is not None else []
        if self.max_tokens is not None:
            evaluation.append(f"- **Max tokens**: {self.max_tokens}")
        if self.eval_system_prompt is not None:
            evaluation.append(f"- **System prompt**: {quoted(self.eval_system_prompt)}")
        estimate = f"- **Per-eval time:** {self.per_eval_time}" if self.per_eval_time else ""
        return f"""# {self.title}

## Overview
- **Type:** LoRA sweep
- **Runs:** {len(self.runs)}
- **Question:** Does it learn?
- **Created:** 2026-11-20

## Tools
- **Preparation:** torchtune
- **Evaluation:** inspect-ai

## Variables

| Factor | Levels |
|--------|--------|
| LoRA rank | 8 |

## All Runs

| Run Name | Model | LoRA Rank | Type | Est. Time |
|----------|-------|-----------|------|-----------|
{runs}

## Resources

### Models
{models}

### Dataset
- **Path**: `{self.dataset_path}`
- **Format**: JSON
- **Splits**: train / validation / test

### Evaluation Tasks

| Task Name | Script | Dataset | Description |
|-----------|--------|---------|-------------|
{tasks}

## Evaluation Plan

{self.plan_text}
{matrix}
## Configuration

### Training
- **Recipe**: `lora_finetune_single_device`
{chr(10).join(training)}

### Evaluation
{chr(10).join(evaluation)}

### Output
- **Checkpoint directory**: `/scratch/ck-outputs/`
- **Naming pattern**: `ck-out-{{run_name}}/epoch_{{N}}`

## Compute Estimates

### Training
- **Per run:** ~10 minutes

### Evaluation
{estimate}

## Naming Conventions

Runs are named r{{rank}}_lr{{lr}}.

## Quick Reference

**Paths:**
- Experiment: `/scratch/experiments/cap`
"""


def quoted(text: str) -> str:
    """`text` as a double-quoted string with backslash escapes, as the summaries write it.

    JSON's escapes are a subset of YAML's double-quoted ones; ASCII-only so that no raw line
    separator (U+0085, U+2028) can end the Markdown line.
    """
    return json.dumps(text, ensure_ascii=True)


def setup_yaml(run: Run) -> str:
    data = run.setup
    if data is None:
        data = {
            "my_wandb_project": "capitalization",
            "my_wandb_run_name": run.name,
            "input_dir_base": run.input_dir_base,
            "input_formatting": "",
            "dataset_label": run.dataset_label,
            "dataset_ext": run.dataset_ext,
            "torchtune_model_name": run.model,
            "prompt": run.prompt,
            "system_prompt": run.system_prompt,
            "lora_rank": 8,
            "lr": "1e-5",
            "batch_size": 4,
            "epochs": run.epochs,
            "output_dir_base": run.output_dir_base,
        }
        if run.conda_env is not None:
            data["conda_env"] = run.conda_env
        if run.account is not None:
            data["account"] = run.account
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=False, width=10_000)
    # The tests compare delivered values with these: the file must say exactly them.
    assert yaml.safe_load(text) == data
    return text


# The example's site file: a realistic claude.local.md (account msalganik, env cruijff,
# one module line).
SITE = (Path(__file__).resolve().parent.parent / "examples/cap_1B_lora/claude.local.md").read_text(encoding="utf-8")
