"""The rendered tree of real `copier copy` runs: files, modes, golden scripts, shellcheck."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_copier, scripts
from tests.experiment import SITE, Experiment, Run, Task

GOLDEN = Path(__file__).parent / "golden"
# Scripts hold the experiment's absolute path. The golden files hold it as if the tree were
# here; each render happens in its own temporary directory (a fixed one would be shared by
# every user and run of the machine), and its path is written back as this one to compare.
FIXED = Path("/tmp/copier-inspect-slurm-golden")
BIG = "Llama-3.3-70B-Instruct"
RENDERED: dict[str, Path] = {}


def render_at_fixed_path(name: str, source: Path, tmp_path_factory) -> Path:
    destination = tmp_path_factory.mktemp("golden") / name
    RENDERED[name] = destination
    shutil.copytree(source, destination)
    result = run_copier("copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD", str(ROOT), str(destination))
    assert result.returncode == 0, result.stderr
    return destination


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    return render_at_fixed_path("cap_1B_lora", ROOT / "examples/cap_1B_lora", tmp_path_factory)


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    experiment = Experiment(
        runs=[Run("r32_lr1e-4", model=BIG, epochs=2, account="biglab", system_prompt="You are terse."),
              Run(f"{BIG}_base", model=BIG, kind="Base")],
        models={BIG: "/scratch/models/Llama-3.3-70B-Instruct"},
        # In the experiment, so the scripts name it relatively, wherever the tests run.
        tasks=[Task("capitalization", script="cap_task.py"),
               Task("capitalization_6L", script="cap_task.py", dataset="`/scratch/data/words_6L.json`")],
        plan_text="Evaluate every epoch.",
        training_system_prompt="You are terse.",
        eval_system_prompt="You are terse.",
        per_eval_time="~50 minutes",
        site=SITE,
    )
    source = experiment.write(tmp_path_factory.mktemp("big"))
    shutil.copy(ROOT / "examples/cap_1B_lora/cap_task.py", source / "cap_task.py")
    return render_at_fixed_path("big_70B", source, tmp_path_factory)


@pytest.fixture(scope="module")
def yaml_example(tmp_path_factory) -> Path:
    return render_at_fixed_path("cap_1B_yaml", ROOT / "examples/cap_1B_yaml", tmp_path_factory)


def test_yaml_example_tree(yaml_example):
    """runs[].name is each run's directory, controls included; a task reading config_path
    gets a config file beside each script, named after the cell."""
    assert sorted(str(p.relative_to(yaml_example)) for p in yaml_example.glob("*/eval/*.*") if p.name != ".gitignore") == [
        "Llama-3.2-1B-Instruct_base/eval/capitalization_6L_base.eval.yaml",
        "Llama-3.2-1B-Instruct_base/eval/capitalization_6L_base.slurm",
        "Llama-3.2-1B-Instruct_base/eval/capitalization_base.eval.yaml",
        "Llama-3.2-1B-Instruct_base/eval/capitalization_base.slurm",
        "r16/eval/capitalization_epoch0.eval.yaml",
        "r16/eval/capitalization_epoch0.slurm",
        "r16/eval/capitalization_epoch1.eval.yaml",
        "r16/eval/capitalization_epoch1.slurm",
        "r8/eval/capitalization_epoch0.eval.yaml",
        "r8/eval/capitalization_epoch0.slurm",
        "r8/eval/capitalization_epoch1.eval.yaml",
        "r8/eval/capitalization_epoch1.slurm",
    ]
    for config in yaml_example.glob("*/eval/*.eval.yaml"):
        assert not os.access(config, os.X_OK), config


def test_example_tree(example):
    assert [str(p.relative_to(example)) for p in scripts(example)] == [
        "Llama-3.2-1B-Instruct_base/eval/capitalization_6L_base.slurm",
        "Llama-3.2-1B-Instruct_base/eval/capitalization_base.slurm",
        "r16_lr1e-5/eval/capitalization_6L_epoch1.slurm",
        "r16_lr1e-5/eval/capitalization_epoch0.slurm",
        "r16_lr1e-5/eval/capitalization_epoch1.slurm",
        "r8_lr1e-5/eval/capitalization_6L_epoch1.slurm",
        "r8_lr1e-5/eval/capitalization_epoch0.slurm",
        "r8_lr1e-5/eval/capitalization_epoch1.slurm",
    ]
    for script in [*scripts(example), example / "submit_evals.sh"]:
        assert os.access(script, os.X_OK), script
    for run in ("r8_lr1e-5", "r16_lr1e-5", "Llama-3.2-1B-Instruct_base"):
        assert (example / run / "eval" / "logs").is_dir()
    assert (example / ".copier-answers.yml").is_file()


GOLDEN_SCRIPTS = [
    ("cap_1B_lora", "r8_lr1e-5/eval/capitalization_epoch0.slurm"),
    ("cap_1B_lora", "submit_evals.sh"),
    ("cap_1B_lora", "r16_lr1e-5/eval/capitalization_6L_epoch1.slurm"),
    ("cap_1B_lora", "Llama-3.2-1B-Instruct_base/eval/capitalization_base.slurm"),
    ("big_70B", "r32_lr1e-4/eval/capitalization_epoch1.slurm"),
    ("big_70B", f"{BIG}_base/eval/capitalization_6L_base.slurm"),
    ("cap_1B_yaml", "r8/eval/capitalization_epoch1.slurm"),
    ("cap_1B_yaml", "r8/eval/capitalization_epoch1.eval.yaml"),
    ("cap_1B_yaml", "Llama-3.2-1B-Instruct_base/eval/capitalization_6L_base.eval.yaml"),
]


@pytest.mark.parametrize("experiment,script", GOLDEN_SCRIPTS)
def test_golden_scripts(request, example, big, yaml_example, experiment, script):
    """Byte-for-byte; after a deliberate change, GOLDEN_UPDATE=1 rewrites them for review."""
    where = RENDERED[experiment]
    rendered = (where / script).read_text().replace(str(where), str(FIXED / experiment))
    golden = GOLDEN / experiment / script
    if os.environ.get("GOLDEN_UPDATE"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered)
    assert rendered == golden.read_text()


def shellcheck(paths: list[Path]) -> subprocess.CompletedProcess:
    executable = Path(sys.executable).parent / "shellcheck"
    return subprocess.run([str(executable), "--shell=bash", *map(str, paths)], capture_output=True, text=True)


def test_every_script_passes_shellcheck(example, big, yaml_example):
    paths = scripts(example) + scripts(big) + scripts(yaml_example) + [
        example / "submit_evals.sh", big / "submit_evals.sh", yaml_example / "submit_evals.sh"]
    assert len(paths) == 8 + 6 + 6 + 3
    result = shellcheck(paths)
    assert result.returncode == 0, result.stdout


def test_shellcheck_can_fail(tmp_path):
    bad = tmp_path / "bad.slurm"
    bad.write_text("#!/bin/bash\ncd $DIR\n")
    assert shellcheck([bad]).returncode != 0


def test_after_copy_message_shows_the_plan_and_how_to_submit(tmp_path):
    destination = tmp_path / "cap"
    shutil.copytree(ROOT / "examples/cap_1B_lora", destination)
    result = run_copier("copy", "--trust", "--defaults", "--vcs-ref", "HEAD", str(ROOT), str(destination))
    assert result.returncode == 0, result.stderr
    message = result.stdout + result.stderr
    assert "r8_lr1e-5" in message and "capitalization_6L" in message
    assert "0,1" in message and "1B: 32G, 1 GPU, 4 CPUs, 0:40:00" in message
    assert "submit_evals.sh" in message


def test_after_copy_message_lists_every_default_taken(tmp_path):
    """Without claude.local.md and an account in the setup files, the module line and the
    missing account come from no input file: the message after the copy says so."""
    destination = tmp_path / "cap"
    shutil.copytree(ROOT / "examples/cap_1B_lora", destination)
    (destination / "claude.local.md").unlink()
    for setup in destination.glob("*/setup_finetune.yaml"):
        setup.write_text(setup.read_text().replace("account: msalganik\n", ""))
    result = run_copier("copy", "--trust", "--defaults", "--vcs-ref", "HEAD", str(ROOT), str(destination))
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.split("\nWarnings:\n")[1].split("\n\n")[0].splitlines()
    assert [w.split(":")[0] for w in warnings] == [
        f"- no claude.local.md in {destination} or its parents",
        "- no run has a Slurm account (`account",
    ]
    assert "#SBATCH --account" not in scripts(destination)[0].read_text()
    assert "\nmodule load anaconda3/2025.6\n" in scripts(destination)[0].read_text()
