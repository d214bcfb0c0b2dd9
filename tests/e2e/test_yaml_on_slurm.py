"""A cruijff_kit v0.3.4 experiment (experiment_summary.yaml) on real SLURM with real inspect.

Its task reads the prompt and system prompt from the config file at `config_path`, as
cruijff_kit's blueprints do. The proof is in the log's samples: each records the prompt and
system prompt the task read (tests/fixtures/tasks/config_task.py), so a prompt that did not
reach the task shows as the task's default there, whatever the job's exit status.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from inspect_ai.log import read_eval_log

from tests.conftest import ROOT
from tests.e2e.test_scripts_on_slurm import ENV_SETUP, dataset, sbatch_wait

pytestmark = pytest.mark.e2e

EXAMPLE = ROOT / "examples/cap_1B_yaml"
# Braces, a comma, quotes, a colon and a newline: what `-T prompt=` would have mangled.
PROMPT = 'Capitalize, then answer: "{input}"\n$HOME stays text'
SYSTEM_PROMPT = 'You are terse, exact: "quoted" $PATH `ticks`\nsecond line'
TERSE = "{input} ->"
TERSE_SYSTEM = "Reply with one word."


def yaml_experiment(directory: Path, model: Path, data: Path) -> Path:
    """The bundled YAML example, made runnable here: its checkpoints under experiment.dir,
    the tiny model as base model, this machine's data, and nasty prompts."""
    shutil.copytree(EXAMPLE, directory)
    summary = yaml.safe_load((directory / "experiment_summary.yaml").read_text())
    summary["experiment"]["dir"] = str(directory)
    summary["models"]["base"][0]["path"] = str(model)
    summary["data"]["training"]["path"] = str(data)
    summary["controls"].update(prompt=PROMPT, system_prompt=SYSTEM_PROMPT)
    summary["evaluation"]["max_tokens"] = 4  # a random tiny model would fill inspect's default 2048 tokens
    six = summary["evaluation"]["tasks"][1]
    six.update(dataset=str(data), prompt=TERSE, system_prompt=TERSE_SYSTEM)
    summary["evaluation"]["matrix"] = [
        {"run": "r8", "vis_label": "rank 8", "tasks": ["capitalization"], "epochs": [0]},
        {"run": "Llama-3.2-1B-Instruct_base", "tasks": ["capitalization_6L"], "epochs": None},
    ]
    (directory / "experiment_summary.yaml").write_text(yaml.safe_dump(summary, allow_unicode=True))
    shutil.copytree(model, directory / "r8" / "artifacts" / "epoch_0")
    return directory


def test_a_task_reading_config_path_evaluates_with_the_planned_prompts(render, cluster, tiny_model, tmp_path):
    data = dataset(tmp_path / "data")
    design = yaml_experiment(tmp_path / "experiment", tiny_model, data)
    directory = render(design, env_setup=ENV_SETUP)
    # Checkpoints are where experiment.dir says (cruijff_kit's training writes there), even
    # when the scripts are rendered into a copy of the experiment, as pytest-copie does.
    cells = {
        directory / "r8/eval/capitalization_epoch0.slurm": (PROMPT, SYSTEM_PROMPT, design / "r8/artifacts/epoch_0"),
        directory / "Llama-3.2-1B-Instruct_base/eval/capitalization_6L_base.slurm": (TERSE, TERSE_SYSTEM, tiny_model),
    }
    submitted = {script: sbatch_wait(cluster, script) for script in cells}
    for script, process in submitted.items():
        out, err = process.communicate(timeout=600)
        job_id = out.strip().split(";")[0]
        assert process.returncode == 0, (script, err, (script.parent / f"slurm-{job_id}.out").read_text())
        prompt, system_prompt, model_path = cells[script]
        (log_path,) = (script.parent / "logs").glob(f"*_{script.stem}_*.eval")
        log = read_eval_log(str(log_path))
        assert log.status == "success"
        # The prompts went by the config file, not as task arguments the task would drop.
        config_path = script.with_name(f"{script.stem}.eval.yaml")
        assert log.eval.task_args_passed == {
            "data_path": str(data),
            "config_path": str(config_path),
            "vis_label": "rank 8" if "r8" in str(script) else "Llama-3.2-1B-Instruct_base",
            "use_chat_template": True,
            "max_tokens": 4,  # the task takes it, as cruijff_kit's passes evaluation.max_tokens
        }
        assert log.eval.model_args["model_path"] == str(model_path)
        assert log.eval.metadata["is_finetuned"] is ("r8" in str(script))
        assert len(log.samples) == 3
        for sample in log.samples:
            assert sample.metadata["prompt"] == prompt
            assert sample.metadata["system_prompt"] == system_prompt
            assert sample.metadata["system_prompt_sent"] is True
            assert sample.input[-1].text == prompt.format(input=sample.target.lower())
        written = json.loads(json.dumps(yaml.safe_load(config_path.read_text())))
        assert (written["prompt"], written["system_prompt"]) == (prompt, system_prompt)
