"""The interactive copy, driven under a pseudo-terminal as a person types it.

A person is asked two things: the environment set-up (editable), and whether to write the
scripts of the plan shown as a table. The plan itself is recorded, never shown as JSON.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect
import yaml

from tests.conftest import ROOT, scripts
from tests.repos import ANSWERS, template
from tests.terminal import ESC_ENTER, settle, screen_text

__all__ = ["template"]  # the fixture

COPIER = str(Path(sys.executable).parent / "copier")


def synthetic(directory: Path, runs: int, tasks: int, epochs: int, controls: int) -> Path:
    subprocess.run(
        [sys.executable, str(ROOT / "bench/synth.py"), str(directory), "--runs", str(runs), "--tasks", str(tasks),
         "--epochs", str(epochs), "--controls", str(controls)],
        check=True, capture_output=True,
    )
    return directory


def example(directory: Path) -> Path:
    subprocess.run(["cp", "-r", str(ROOT / "examples/cap_1B_lora"), str(directory)], check=True)
    return directory


class Session:
    """One `copier copy --trust TEMPLATE DIR` at a 50 × 120 terminal."""

    def __init__(self, template: Path, directory: Path):
        env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1"}
        self.child = pexpect.spawn(
            COPIER, ["copy", "--trust", str(template), str(directory)],
            env=env, dimensions=(50, 120), encoding="utf-8", timeout=120,
        )

    def question(self, ends_with: str) -> str:
        """The screen of the next question, up to its prompt (before anything is typed)."""
        self.child.expect_exact(ends_with)
        screen = screen_text(self.child.before + self.child.after)
        settle(self.child)
        return screen

    def type(self, keys: str) -> None:
        self.child.send(keys)

    def finish(self) -> tuple[int, str]:
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus, screen_text(self.child.before)


def lines_of(screen: str, first_words: str) -> list[str]:
    """The lines of one question, from the line holding `first_words` to the last."""
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if first_words in line)
    return lines[start:]


ENV_HELP = "The shell lines that set up the environment of every script"
PLAN_HELP = "The plan read from the input files"


def converse(template: Path, directory: Path, env_extra: str, confirm: str) -> tuple[list[str], list[str], int, str]:
    session = Session(template, directory)
    env_screen = lines_of(session.question("conda activate {conda_env}"), ENV_HELP)
    session.type(f"\r{env_extra}{ESC_ENTER}")
    plan_screen = lines_of(session.question("(Y/n)"), PLAN_HELP)
    session.type(confirm)
    status, rest = session.finish()
    return env_screen, plan_screen, status, rest


def test_eight_cells_a_short_table_then_the_scripts(template, tmp_path):
    directory = example(tmp_path / "cap")
    env_screen, plan_screen, status, rest = converse(template, directory, "export SITE=della", "y")
    assert status == 0, rest
    assert env_screen == [
        "🎤 The shell lines that set up the environment of every script, before inspect runs",
        "({conda_env} becomes each run's conda environment):",
        "    (Finish with 'Alt+Enter' or 'Esc then Enter')",
        "> module load anaconda3/2025.6",
        "  conda activate {conda_env}",
    ]
    assert plan_screen == [
        "? The plan read from the input files (recorded in full in .copier-answers.yml):",
        "",
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
        "Input files: experiment_summary.md, setup_finetune.yaml of 2 runs, claude.local.md",
        "",
        "To change it, answer no, edit the experiment summary, setup_finetune.yaml or",
        "claude.local.md, and run the same command again. Write the scripts?",
        "   (Y/n)",
    ]
    recorded = yaml.safe_load((directory / ANSWERS).read_text())
    assert recorded["env_setup"] == "module load anaconda3/2025.6\nconda activate {conda_env}\nexport SITE=della"
    assert sum(len(run["cells"]) for run in recorded["plan"]["runs"]) == 8
    assert "confirm_plan" not in recorded
    assert len(scripts(directory)) == 8
    assert "\nexport SITE=della\n" in scripts(directory)[0].read_text()


def test_a_sweep_of_1040_cells_fits_on_one_screen(template, tmp_path):
    directory = synthetic(tmp_path / "sweep", runs=64, tasks=4, epochs=4, controls=4)
    env_screen, plan_screen, status, rest = converse(template, directory, "", "\r")
    assert status == 0, rest
    assert len(env_screen) == 5
    assert len(plan_screen) == 46  # the table has 38 lines (tests/test_report.py); measured, see the README
    assert plan_screen[2] == "64 fine-tuned runs of Llama-3.2-1B-Instruct: r4_lr1e-5, r4_lr2e-5, r4_lr5e-5, … r512_lr2e-3"
    assert "1040 scripts in 68 runs; decoding: greedy (do_sample=false)" in plan_screen
    assert not any('"runs"' in line or '"cells"' in line for line in env_screen + plan_screen)
    recorded = yaml.safe_load((directory / ANSWERS).read_text())
    assert sum(len(run["cells"]) for run in recorded["plan"]["runs"]) == 1040
    assert len(scripts(directory)) == 1040


def test_answering_no_writes_nothing(template, tmp_path):
    directory = example(tmp_path / "cap")
    before = sorted(p.relative_to(directory) for p in directory.rglob("*"))
    _, _, status, rest = converse(template, directory, "", "n")
    assert status == 1
    assert "nothing was written: the plan was not confirmed" in rest
    assert sorted(p.relative_to(directory) for p in directory.rglob("*")) == before
