"""The plan as a person checks it: one group of lines per set of alike runs, each value one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from extensions.plan import build_plan
from extensions.report import WIDTH, plan_overview, shorten, shorten_path
from tests.conftest import ROOT
from tests.experiment import SITE, Experiment, Run, Task


def overview_of(directory: Path) -> list[str]:
    return plan_overview(build_plan(directory).to_answer()).splitlines()


def test_the_example_shows_checkpoints_data_and_prompts(tmp_path):
    experiment = tmp_path / "cap"
    shutil.copytree(ROOT / "examples/cap_1B_lora", experiment)
    assert overview_of(experiment) == [
        "2 fine-tuned runs of Llama-3.2-1B-Instruct: r8_lr1e-5, r16_lr1e-5",
        "    1B: 32G, 1 GPU, 4 CPUs, 0:40:00, gpu80; account msalganik; conda env cruijff",
        "    checkpoints   /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-{run}/epoch_{N}",
        "    capitalization     epochs 0,1  data /scratch/gpfs/…/data/capitalization/words_5L_80P_1000.json",
        "    capitalization_6L  epoch 1     data /scratch/gpfs/…/data/capitalization/words_6L_80P_1000.json",
        "1 base run of Llama-3.2-1B-Instruct: Llama-3.2-1B-Instruct_base",
        "    1B: 32G, 1 GPU, 4 CPUs, 0:40:00, gpu80; account msalganik; conda env cruijff",
        "    model         /scratch/gpfs/MSALGANIK/pretrained-llms/Llama-3.2-1B-Instruct",
        "    capitalization     base  data /scratch/gpfs/…/mjs3/data/capitalization/words_5L_80P_1000.json",
        "    capitalization_6L  base  data /scratch/gpfs/…/mjs3/data/capitalization/words_6L_80P_1000.json",
        'prompt in every script:        "Capitalize the given word: {input}\\n"',
        'system prompt in every script: ""',
        "8 scripts in 3 runs; decoding: greedy (do_sample=false)",
    ]


def test_prompts_that_differ_are_shown_per_group(tmp_path):
    experiment = Experiment(
        runs=[Run("r8", prompt="Q: {input}\nA:"), Run("r16", prompt="Q: {input}\nA:"),
              Run("r32", prompt="Question: {input}", system_prompt="Be brief."),
              Run("Llama-3.2-1B-Instruct_base", kind="Control")],
        training_system_prompt=None, eval_system_prompt=None, training_prompt="Q: {input}\nA:",
        site=SITE,
    )
    lines = overview_of(experiment.write(tmp_path / "exp"))
    assert '    prompt        2 different: "Q: {input}\\nA:" (r8, r16); "Question: {input}" (r32)' in lines
    assert '    system prompt 2 different: "" (r8, r16); "Be brief." (r32)' in lines
    assert '    prompt        "Q: {input}\\nA:"' in lines  # the base run's group
    assert not any(line.startswith("prompt in every script") for line in lines)


def test_many_different_prompts_in_a_group_stay_one_line(tmp_path):
    experiment = Experiment(runs=[Run(f"r{n}", prompt=f"Prompt number {n} of the sweep: {{input}}") for n in range(12)],
                            site=SITE)
    lines = overview_of(experiment.write(tmp_path / "exp"))
    prompt = next(line for line in lines if line.startswith("    prompt "))
    assert prompt.startswith('    prompt        12 different: "Prompt number 0 of the sw…')
    assert prompt.endswith('number 11 of the sweep: {input}" (r11)') and len(prompt) == 100


def test_a_task_with_its_own_prompt_is_shown_by_task(tmp_path):
    plan = build_plan(_yaml_with_task_prompt(tmp_path)).to_answer()
    lines = plan_overview(plan).splitlines()
    assert '    prompt        by task: capitalization "Capitalize the … capitalization_6L "Six letters: {input}"' in lines


def _yaml_with_task_prompt(tmp_path: Path) -> Path:
    experiment = tmp_path / "yaml"
    shutil.copytree(ROOT / "examples/cap_1B_yaml", experiment)
    summary = experiment / "experiment_summary.yaml"
    text = summary.read_text()
    text = text.replace('      dataset: "/scratch/gpfs/MSALGANIK/mjs3/ck-data/capitalization/words_6L_80P_1000.json"\n',
                        '      dataset: "/scratch/gpfs/MSALGANIK/mjs3/ck-data/capitalization/words_6L_80P_1000.json"\n'
                        '      prompt: "Six letters: {input}"\n', 1)
    text = text.replace('      tasks: ["capitalization"]\n      epochs: [0, 1]\n',
                        '      tasks: ["capitalization", "capitalization_6L"]\n      epochs: [0, 1]\n')
    summary.write_text(text)
    return experiment


def test_long_values_are_cut_in_the_middle_to_one_line():
    prompt = '"' + "You are a careful assistant. " * 10 + '{input}"'
    short = shorten(prompt, 60)
    assert len(short) == 60 and short.startswith('"You are a careful') and short.endswith('{input}"') and "…" in short
    assert shorten("line one\nline two", 60) == "line one\\nline two"  # never two lines
    path = "/scratch/gpfs/LAB/user/projects/capitalization/very/deep/data/words_5L_80P_1000.json"
    assert shorten_path(path, 50) == "/scratch/gpfs/…/deep/data/words_5L_80P_1000.json"
    assert shorten_path(path, len(path)) == path


def test_a_sweep_of_1040_cells_stays_one_screen_of_short_lines(tmp_path):
    directory = tmp_path / "sweep"
    subprocess.run([sys.executable, str(ROOT / "bench/synth.py"), str(directory), "--runs", "64", "--tasks", "4",
                    "--epochs", "4", "--controls", "4"], check=True, capture_output=True)
    lines = overview_of(directory)
    assert len(lines) == 38  # measured; the README says so
    assert max(len(line) for line in lines) <= WIDTH
    assert lines[2] == "    checkpoints   /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-{run}/epoch_{N}"
