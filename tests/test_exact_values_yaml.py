"""A YAML design's values reach a task that reads config_path exactly, through inspect's parser.

Each script of a cruijff_kit v0.3.4 experiment runs under real bash with `inspect` recording
its argv and task-config file. The task arguments are decoded with inspect's own
`parse_cli_config`, as `inspect eval` hands them to the task; the prompt and system prompt are
read from the file at config_path with yaml.safe_load, as cruijff_kit's tasks read them.
`make e2e` runs the same kind of experiment with the real inspect (tests/e2e/test_yaml_on_slurm.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run_script, scripts
from tests.test_exact_values import NASTY, delivered

EXAMPLE = ROOT / "examples/cap_1B_yaml"
# What a YAML design can hold in a prompt: `{name}` other than {input} is a placeholder, and
# a prompt is formatted by the task, so its own braces are doubled.
PROMPTS = [value for value in NASTY if "{" not in value.replace("{input}", "")]


def design(directory: Path, prompt: str, system_prompt: str, task_prompt: str, task_system: str) -> Path:
    shutil.copytree(EXAMPLE, directory)
    summary = yaml.safe_load((directory / "experiment_summary.yaml").read_text())
    summary["experiment"]["dir"] = str(directory)
    summary["models"]["base"][0]["path"] = str(directory / "base model")
    (directory / "base model").mkdir()
    summary["controls"].update(prompt=prompt, system_prompt=system_prompt)
    summary["evaluation"]["tasks"][1].update(prompt=task_prompt, system_prompt=task_system)
    summary["evaluation"]["matrix"][0]["tasks"] = ["capitalization", "capitalization_6L"]
    (directory / "experiment_summary.yaml").write_text(yaml.safe_dump(summary, allow_unicode=True), encoding="utf-8")
    for run in ("r8", "r16"):
        for epoch in (0, 1):
            (directory / run / "artifacts" / f"epoch_{epoch}").mkdir(parents=True)
    return directory


@pytest.mark.parametrize("index", range(len(PROMPTS)))
def test_prompts_reach_the_task_through_its_config_file(render, recorders, tmp_path, index):
    prompt, system_prompt = PROMPTS[index], PROMPTS[(index + 1) % len(PROMPTS)]
    task_prompt, task_system = PROMPTS[(index + 2) % len(PROMPTS)], PROMPTS[(index + 3) % len(PROMPTS)]
    directory = render(design(tmp_path / "experiment", prompt, system_prompt, task_prompt, task_system))
    rendered = scripts(directory)
    assert len(rendered) == 8
    for script in rendered:
        result, records = run_script(script, recorders)
        assert result.returncode == 1 and "wrote no log" in result.stderr, result.stderr
        (record,) = records
        task_args, model_args, metadata = delivered(record, tmp_path)
        config_path = task_args.pop("config_path")
        assert config_path == str(script.with_name(f"{script.stem}.eval.yaml"))
        config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8"))
        own_task = script.stem.startswith("capitalization_6L")
        assert (config["prompt"], config["system_prompt"]) == (
            (task_prompt, task_system) if own_task else (prompt, system_prompt)), script
        run = script.parent.parent.name
        task = "capitalization_6L" if own_task else "capitalization"
        # cruijff_kit's rule: an entry listing several tasks labels each `label (task)`.
        label = {"r8": f"rank 8 ({task})", "r16": "rank 16", "Llama-3.2-1B-Instruct_base": f"Llama-3.2-1B-Instruct_base ({task})"}
        assert task_args == {
            "data_path": ("/scratch/gpfs/MSALGANIK/mjs3/ck-data/capitalization/words_6L_80P_1000.json" if own_task
                          else "/scratch/gpfs/MSALGANIK/mjs3/ck-data/capitalization/words_5L_80P_1000.json"),
            "vis_label": label[run],
            "use_chat_template": True,
        }
        assert "prompt" not in task_args and "system_prompt" not in task_args
        assert model_args["do_sample"] is False
        assert (metadata["is_finetuned"], metadata["source_model"]) == (run != "Llama-3.2-1B-Instruct_base", "Llama-3.2-1B-Instruct")
        argv = record["argv"]
        assert argv[argv.index("--seed") + 1] == "14" and argv[argv.index("--max-connections") + 1] == "32"


def test_a_vis_label_with_commas_reaches_the_task_whole_and_the_logs_metadata_as_one_string(render, recorders, tmp_path):
    """inspect's --metadata parser splits every string on its commas: the label's commas become
    semicolons in the metadata, with a warning, while the task argument keeps them."""
    directory = design(tmp_path / "experiment", "{input}", "", "{input}", "")
    path = directory / "experiment_summary.yaml"
    summary = yaml.safe_load(path.read_text())
    assert summary["evaluation"]["matrix"][1]["run"] == "r16"
    summary["evaluation"]["matrix"][1]["vis_label"] = "rank 16, lr 1e-5"
    path.write_text(yaml.safe_dump(summary, allow_unicode=True), encoding="utf-8")
    rendered = render(directory)
    warnings = yaml.safe_load((rendered / ".copier-answers.yml").read_text())["plan"]["warnings"]
    assert ("the vis_label of r16 for capitalization 'rank 16, lr 1e-5' holds commas, which inspect's --metadata "
            "would split: the logs say vis_label 'rank 16; lr 1e-5'") in warnings
    script = rendered / "r16/eval/capitalization_epoch0.slurm"
    _, (record,) = run_script(script, recorders)
    task_args, _, metadata = delivered(record, tmp_path)
    assert task_args["vis_label"] == "rank 16, lr 1e-5"
    assert metadata["vis_label"] == "rank 16; lr 1e-5"
