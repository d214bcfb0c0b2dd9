"""Every refusal of the loader, through the real `copier` command line: exit 1, one message
naming the file, the value and the fix, nothing written, no traceback.

test_every_error_cli.py checks that each raise site in extensions/ has its case here or in
test_errors.py (or, for the checks of the destination, in test_lifecycle.py).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_copier
from tests.test_errors import EXAMPLE, assert_refused, edit

FIXTURE_RUN = ROOT / "tests/fixtures/nov2025/cap_r8_lr1e-5"


def summary(d: Path, old: str, new: str) -> None:
    edit(d / "experiment_summary.md", old, new)


def setup(d: Path, old: str, new: str) -> None:
    edit(d / "r8_lr1e-5" / "setup_finetune.yaml", old, new)


def site(d: Path, old: str, new: str) -> None:
    edit(d / "claude.local.md", old, new)


def written_by_setup_finetune(d: Path, file: str, old: str, new: str) -> None:
    """The run's finetune.yaml or finetune.slurm as cruijff_kit's setup_finetune.py wrote
    them (tests/fixtures), with one line changed."""
    shutil.copy(FIXTURE_RUN / file, d / "r8_lr1e-5" / file)
    edit(d / "r8_lr1e-5" / file, old, new)


def replace_bytes(path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, 1))


CASES = {
    "summary-not-utf8": (
        lambda d: replace_bytes(d / "experiment_summary.md", "Notes".encode(), "Not\xe9s".encode("cp1252")),
        ["experiment_summary.md: is not UTF-8 text: byte 0xe9 at byte offset", "fix: save the file as UTF-8"],
    ),
    "setup-not-utf8": (
        lambda d: replace_bytes(d / "r8_lr1e-5" / "setup_finetune.yaml", b"cruijff\n", "caf\xe9\n".encode("latin-1")),
        ["r8_lr1e-5/setup_finetune.yaml: is not UTF-8 text: byte 0xe9"],
    ),
    "run-name-300": (
        lambda d: edit(d / "experiment_summary.md", "| r8_lr1e-5 | Llama", f"| {'r' * 300} | Llama"),
        ["experiment_summary.md: run name", "300 characters long, more than the limit of 100", "MAX_NAME_LENGTH"],
    ),
    "bare-x-cell": (
        lambda d: edit(d / "experiment_summary.md", "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | x |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'x' is ambiguous: an x is a check mark to some", "write ✓ to evaluate"],
    ),
    "matrix-row-short": (
        lambda d: edit(d / "experiment_summary.md", "| r16_lr1e-5 | ✓ epoch 0,1 | ✓ epoch 1 | |", "| r16_lr1e-5 | ✓ epoch 0,1 |"),
        ["the Evaluation Matrix row of r16_lr1e-5 has 2 cells and its header 4", "no cell for capitalization_6L"],
    ),
    "model-cell-empty": (
        lambda d: summary(d, "| r8_lr1e-5 | Llama-3.2-1B-Instruct | 8 |", "| r8_lr1e-5 | | 8 |"),
        ["experiment_summary.md: run 'r8_lr1e-5' has an empty Model cell in All Runs ('')",
         "fix: write the run's model as Resources → Models names it"],
    ),
    "per-eval-partly-read": (
        lambda d: summary(d, "- **Per-eval time:** ~20 minutes", "- **Per-eval time:** ~1h30"),
        ["Compute Estimates → Evaluation → Per-eval time '~1h30': cannot read '30' after '~1h'",
         "fix: write one duration, e.g. '~20 minutes'"],
    ),
    "per-eval-absurd": (
        lambda d: edit(d / "experiment_summary.md", "~20 minutes", "9999999 hours"),
        ["Compute Estimates → Evaluation → Per-eval time '9999999 hours' is more than 14 days", "MAX_PER_EVAL_MINUTES"],
    ),
    "epochs-absurd": (
        lambda d: edit(d / "r8_lr1e-5" / "setup_finetune.yaml", "epochs: 2", "epochs: 100000"),
        ["r8_lr1e-5/setup_finetune.yaml: epochs is 100000, more than the limit of 10000", "MAX_EPOCHS"],
    ),
    "site-account": (
        lambda d: edit(d / "claude.local.md", "`msalganik`", "`my lab`"),
        ["claude.local.md: the sbatch account value 'my lab' is not one plain word"],
    ),
    "type-both": (
        lambda d: edit(d / "experiment_summary.md", "| Control | - |", "| Fine-tuned base | - |"),
        ["has Type 'Fine-tuned base' in All Runs, which says both fine-tuned and base", "Base (or Control) for a model evaluated without fine-tuning"],
    ),
    # experiment_summary.md
    "all-runs-empty": (
        lambda d: [summary(d, line, "") for line in (
            "| r8_lr1e-5 | Llama-3.2-1B-Instruct | 8 | 1e-5 | Fine-tuned | ~12 min |\n",
            "| r16_lr1e-5 | Llama-3.2-1B-Instruct | 16 | 1e-5 | Fine-tuned | ~12 min |\n",
            "| Llama-3.2-1B-Instruct_base | Llama-3.2-1B-Instruct | - | - | Control | - |\n")],
        ["experiment_summary.md: the All Runs table has no rows", "fix: list every run in All Runs"],
    ),
    "tasks-empty": (
        lambda d: [summary(d, line, "") for line in (
            "| capitalization | `cap_task.py` | same as training | Capitalize five-letter words from the held-out test split |\n",
            "| capitalization_6L | `cap_task.py` | `/scratch/gpfs/MSALGANIK/mjs3/data/capitalization/words_6L_80P_1000.json` "
            "| Generalization to six-letter words |\n")],
        ["experiment_summary.md: the Evaluation Tasks table has no rows"],
    ),
    "task-listed-twice": (
        lambda d: summary(d, "| capitalization_6L | `cap_task.py` |", "| capitalization | `cap_task.py` |"),
        ["experiment_summary.md: task 'capitalization' is listed twice in Evaluation Tasks", "fix: give each task its own name"],
    ),
    "plan-range-too-long": (
        lambda d: summary(d, "Evaluate both tasks on every epoch", "Evaluate epochs 0-20000 of"),
        ["experiment_summary.md: Evaluation Plan: the range 'epochs 0-20000' spans more than 10000 epochs",
         "fix: name the epochs to evaluate, e.g. 'epochs 0 and 2'"],
    ),
    "epochs-to-evaluate-unreadable": (
        lambda d: summary(d, "### Evaluation Matrix", "### Configuration\n- **Epochs to evaluate**: 0-99999\n\n### Evaluation Matrix"),
        ["experiment_summary.md: Evaluation Plan → Configuration → Epochs to evaluate: the range 'epochs 0-99999'",
         "fix: write all, last, or epoch numbers like 0,2"],
    ),
    "matrix-run-twice": (
        lambda d: summary(d, "| r16_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ epoch 0,1 |"),
        ["experiment_summary.md: the Evaluation Matrix gives run r8_lr1e-5, task capitalization twice"],
    ),
    "matrix-run-typo": (
        lambda d: summary(d, "| r16_lr1e-5 | ✓ epoch 0,1 |", "| r16_lr1e5 | ✓ epoch 0,1 |"),
        ["experiment_summary.md: the Evaluation Matrix has a row for 'r16_lr1e5', which is not a run in All Runs "
         "(did you mean r16_lr1e-5", "fix: write the row's Run Name exactly as All Runs writes it"],
    ),
    "matrix-cell-unreadable": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | maybe |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'maybe' is neither a check mark, epochs, nor a '-'"],
    ),
    # Epoch phrases the grammar cannot read whole (epochs.py): refused, never guessed.
    "epoch-cell-or": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ epoch 0 or 1 |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'epoch 0 or 1': 'or' leaves the choice open: name every epoch to evaluate; the epoch phrases understood are 'every epoch'"],
    ),
    "epoch-cell-not-all": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ not all |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'not all': 'not all' does not say which epochs to leave out"],
    ),
    "epoch-cell-every-other": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ every other epoch |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'every other epoch': 'every other' epochs cannot be read exactly"],
    ),
    "epoch-cell-last-2": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ last 2 |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'last 2': 'last 2' could be a count or an epoch number: write 'last 2 epochs' or 'epoch 2'"],
    ),
    "epoch-cell-noun-alone": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ epoch |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'epoch': 'epoch' without a number"],
    ),
    "epoch-cell-stray-word": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ epochs 0, 2 maybe |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'epochs 0, 2 maybe': 'maybe' is not an epoch word"],
    ),
    "epoch-cell-open-range": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ epochs 1- and 2 |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'epochs 1- and 2': a range takes a number at each end, e.g. 'epochs 0-2'"],
    ),
    "epoch-cell-excludes-all": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ except all epochs |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'except all epochs' excludes every epoch"],
    ),
    "epoch-cell-illustration-differs": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ epoch 0 (epoch 1) |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'epoch 0 (epoch 1)' names epoch 0, then epoch 1 in parentheses: say which epochs to evaluate once"],
    ),
    "epoch-text-stray-number": (
        lambda d: summary(d, "Evaluate both tasks on every epoch of each fine-tuned run (epoch_0 and epoch_1), and once", "Evaluate the last epoch, 2 in total, and once"),
        ["experiment_summary.md: Evaluation Plan: 'last epoch , 2': a number that is not after 'epoch'", "fix: name the epochs to evaluate, e.g. 'epochs 0 and 2'"],
    ),
    "epoch-text-unread-rest": (
        lambda d: summary(d, "Evaluate both tasks on every epoch of each fine-tuned run (epoch_0 and epoch_1), and once", "Evaluate the epoch and the last epoch, and once"),
        ["experiment_summary.md: Evaluation Plan: 'epoch and the last epoch': cannot read 'and the last epoch'", "fix: name the epochs to evaluate, e.g. 'epochs 0 and 2'"],
    ),
    "epoch-text-negated": (
        lambda d: summary(d, "Evaluate both tasks on every epoch of each fine-tuned run (epoch_0 and epoch_1), and once", "Do not evaluate epoch 0, and once"),
        ["experiment_summary.md: Evaluation Plan: 'do not evaluate epoch 0': 'not' before the epochs leaves unclear which are evaluated", "fix: name the epochs to evaluate, e.g. 'epochs 0 and 2'"],
    ),
    "epoch-text-evaluates-and-skips": (
        lambda d: summary(d, "Evaluate both tasks on every epoch of each fine-tuned run (epoch_0 and epoch_1), and once", "Evaluate epoch 1; skip epoch 1, and once"),
        ["experiment_summary.md: Evaluation Plan: the plan both evaluates and skips epoch 1: say once which epochs to evaluate", "fix: name the epochs to evaluate, e.g. 'epochs 0 and 2'"],
    ),
    "epoch-cell-period": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ every 2 epochs |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'every 2 epochs': 'every 2 epochs' is a period, not a set of epochs",
         "the epoch phrases understood are 'every epoch'"],
    ),
    "epoch-cell-remark-differs": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ 0 (all) |"),
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: '0 (all)' names epoch 0 and, in parentheses, every epoch: write the epochs once"],
    ),
    "epoch-text-bracketed": (
        lambda d: summary(d, "Evaluate both tasks on every epoch of each fine-tuned run (epoch_0 and epoch_1), and once", "Evaluate both tasks at epochs [0, 1], and once"),
        ["experiment_summary.md: Evaluation Plan: 'epochs [ 0': epoch numbers written in a form not understood; the epoch phrases understood are",
         "fix: name the epochs to evaluate, e.g. 'epochs 0 and 2'"],
    ),
    "plan-text-negated-task": (
        lambda d: (summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 | ✓ epoch 1 |", "| r8_lr1e-5 | ✓ | ✓ |"),
                   summary(d, "Evaluate both tasks on every epoch of each fine-tuned run (epoch_0 and epoch_1), and once",
                           "Evaluate every epoch; we do not evaluate capitalization_6L. Once")),
        ["experiment_summary.md: Evaluation Plan: 'we do not evaluate capitalization_6L' names task capitalization_6L next to 'not'",
         "fix: name in the plan text only the tasks to evaluate, or add an '### Evaluation Matrix'"],
    ),
    "plan-text-per-task-epochs": (
        lambda d: (summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 | ✓ epoch 1 |", "| r8_lr1e-5 | ✓ | ✓ |"),
                   summary(d, "Evaluate both tasks on every epoch of each fine-tuned run (epoch_0 and epoch_1), and once",
                           "Evaluate capitalization at every epoch and capitalization_6L at the last epoch. Once")),
        ["experiment_summary.md: the Evaluation Plan text pairs tasks with different epochs "
         "(capitalization: every epoch; capitalization_6L: the last epoch), and its epochs are read as one set for every task",
         "fix: add an '### Evaluation Matrix' giving each run and task its epochs"],
    ),
    "epoch-cell-leaves-none": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ except epochs 0 and 1 |"),
        ["experiment_summary.md: 'every epoch except epochs 0, 1' (task capitalization) leaves no epoch of run r8_lr1e-5 "
         "to evaluate: setup_finetune.yaml trains it for 2 epoch(s)",
         "fix: name in the Evaluation Plan or Matrix epochs from 0 to 1 that leave at least one to evaluate"],
    ),
    "epoch-cell-skips-beyond": (
        lambda d: summary(d, "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ except epoch 5 |"),
        ["experiment_summary.md: 'every epoch except epoch 5' (task capitalization) skips epoch 5, which run r8_lr1e-5 does not have"],
    ),
    "summary-epochs-zero": (
        lambda d: summary(d, "- **Epochs**: 2", "- **Epochs**: 0"),
        ["experiment_summary.md: Configuration → Epochs is 0, outside 1..10000"],
    ),
    "prompt-unclosed-quote": (
        lambda d: summary(d, '- **Prompt**: "Capitalize the given word: {input}\\n"', '- **Prompt**: "Capitalize the given word: {input}'),
        ["experiment_summary.md: Training → Prompt: the quoted string '\"Capitalize the given word: {input}' has no closing quote",
         "fix: write it as a double-quoted string with backslash escapes"],
    ),
    "prompt-typographic-around-straight": (
        lambda d: summary(d, '"Capitalize the given word: {input}\\n"', '“Say "hi" to {input}”'),
        ["experiment_summary.md: Training → Prompt: '“Say \"hi\" to {input}”' has straight quotes inside typographic ones",
         'fix: write it as a double-quoted string with backslash escapes'],
    ),
    "prompt-bad-escape": (
        lambda d: summary(d, "{input}\\n", "{input}\\q"),
        ["experiment_summary.md: Training → Prompt: \"Capitalize the given word: {input}\\q\" is not a valid quoted string"],
    ),
    "max-tokens-zero": (
        lambda d: summary(d, "- **Temperature**: 0", "- **Temperature**: 0\n- **Max tokens**: 0"),
        ["experiment_summary.md: Configuration → Evaluation → Max tokens '0' is not a positive whole number"],
    ),
    # setup_finetune.yaml
    "setup-empty": (
        lambda d: (d / "r8_lr1e-5" / "setup_finetune.yaml").write_text(""),
        ["r8_lr1e-5/setup_finetune.yaml: is not a mapping of settings", "fix: write `key: value` lines"],
    ),
    "setup-control-character": (
        lambda d: setup(d, "lr: 1e-5", "lr: 1e-5\x07"),
        ["r8_lr1e-5/setup_finetune.yaml: not valid YAML: unacceptable character #x0007"],
    ),
    "input-formatting-null": (
        lambda d: setup(d, "input_formatting: ''", "input_formatting:"),
        ["r8_lr1e-5/setup_finetune.yaml: input_formatting is empty (null), which setup_finetune.py cannot join"],
    ),
    "dataset-ext-without-dot": (
        lambda d: setup(d, "dataset_ext: .json", "dataset_ext: json"),
        ["r8_lr1e-5/setup_finetune.yaml: dataset_ext is 'json', without its leading dot", "fix: write dataset_ext: '.json'"],
    ),
    "dataset-type-unknown": (
        lambda d: setup(d, "dataset_ext: .json", "dataset_ext: .json\ndataset_type: csv_dataset"),
        ["r8_lr1e-5/setup_finetune.yaml: dataset_type is 'csv_dataset', which setup_finetune.py refuses",
         "fix: write one of instruct_dataset, chat_dataset, text_completion_dataset"],
    ),
    "setup-prompt-a-number": (
        lambda d: setup(d, 'prompt: "Capitalize the given word: {input}\\n"', "prompt: 42"),
        ["r8_lr1e-5/setup_finetune.yaml: prompt is 42 (int), not text", "fix: quote it: prompt: '...'"],
    ),
    "setup-conda-env-a-float": (
        lambda d: setup(d, "conda_env: cruijff", "conda_env: 3.10"),
        ["r8_lr1e-5/setup_finetune.yaml: conda_env is 3.1 (float): YAML read what was written as a float, not as text",
         'fix: quote it as it should read: conda_env: "..."'],
    ),
    "setup-account-octal": (
        lambda d: setup(d, "account: msalganik", "account: 0123"),
        ["r8_lr1e-5/setup_finetune.yaml: account is 83 (int): YAML read what was written as a int, not as text"],
    ),
    "setup-account-sexagesimal": (
        lambda d: setup(d, "account: msalganik", "account: 12:30"),
        ["r8_lr1e-5/setup_finetune.yaml: account is 750 (int): YAML read what was written as a int, not as text"],
    ),
    "setup-conda-env-boolean": (
        lambda d: setup(d, "conda_env: cruijff", "conda_env: yes"),
        ["r8_lr1e-5/setup_finetune.yaml: conda_env is True (bool): YAML read what was written as a bool, not as text"],
    ),
    "two-training-sections": (
        lambda d: summary(d, "### Evaluation\n", "### Training\n- **Epochs**: 3\n\n### Evaluation\n"),
        ["experiment_summary.md: Configuration has 2 '### Training' sections", "fix: merge them into one '### Training' section"],
    ),
    "task-names-differ-by-case": (
        lambda d: summary(d, "| capitalization_6L | `cap_task.py` |", "| Capitalization | `cap_task.py` |"),
        ["experiment_summary.md: task 'Capitalization' is listed twice in Evaluation Tasks (as 'capitalization')"],
    ),
    "input-dir-base-blank": (
        lambda d: setup(d, "input_dir_base: /scratch/gpfs/MSALGANIK/mjs3/data/capitalization/", "input_dir_base: ' '"),
        ["r8_lr1e-5/setup_finetune.yaml: input_dir_base is empty", "fix: write the input_dir_base, or delete the line"],
    ),
    "epochs-to-save-unreadable": (
        lambda d: setup(d, "epochs: 2", "epochs: 2\nepochs_to_save: sometimes"),
        ["r8_lr1e-5/setup_finetune.yaml: epochs_to_save is 'sometimes', which is none of the forms setup_finetune.py takes",
         "fix: write epochs_to_save: all, none, or epoch numbers like '0,2'"],
    ),
    "setup-epochs-zero": (
        lambda d: setup(d, "epochs: 2", "epochs: 0"),
        ["r8_lr1e-5/setup_finetune.yaml: epochs is 0", "fix: write the number of training epochs, e.g. epochs: 2"],
    ),
    "training-data-nowhere": (
        lambda d: (setup(d, "input_dir_base: /scratch/gpfs/MSALGANIK/mjs3/data/capitalization/\n", ""),
                   setup(d, "dataset_label: words_5L_80P_1000\n", ""),
                   summary(d, "- **Path**: `/scratch/gpfs/MSALGANIK/mjs3/data/capitalization/words_5L_80P_1000.json`\n", "")),
        ["r8_lr1e-5/setup_finetune.yaml: no input_dir_base or dataset_label, and the summary has no Resources → Dataset → Path"],
    ),
    # finetune.yaml and finetune.slurm, as setup_finetune.py wrote them
    "config-output-dir-a-number": (
        lambda d: written_by_setup_finetune(d, "finetune.yaml", "output_dir: /scratch/gpfs/MSALGANIK/mjs3/cap_rank_sweep_2025-11-12/ck-out-r8_lr1e-5/",
                                            "output_dir: 5"),
        ["r8_lr1e-5/finetune.yaml: output_dir is 5, not a path", "fix: write output_dir as text"],
    ),
    "config-output-dir-unresolved": (
        lambda d: written_by_setup_finetune(d, "finetune.yaml", "output_dir: /scratch/gpfs/MSALGANIK/mjs3/cap_rank_sweep_2025-11-12/",
                                            "output_dir: ${scratch}/"),
        ["r8_lr1e-5/finetune.yaml: output_dir '${scratch}/ck-out-r8_lr1e-5/' refers to a value this file does not hold"],
    ),
    "config-epochs-zero": (
        lambda d: written_by_setup_finetune(d, "finetune.yaml", "\nepochs: 3\n", "\nepochs: 0\n"),
        ["r8_lr1e-5/finetune.yaml: epochs is 0", "fix: write the number of training epochs (rerun setup_finetune.py)"],
    ),
    "config-epochs-to-save-unreadable": (
        lambda d: written_by_setup_finetune(d, "finetune.yaml", "epochs_to_save: 0,2", "epochs_to_save: sometimes"),
        ["r8_lr1e-5/finetune.yaml: epochs_to_save is 'sometimes', which the fine-tuning recipe cannot read"],
    ),
    "finetune-slurm-unclosed-quote": (
        lambda d: written_by_setup_finetune(d, "finetune.slurm", "#SBATCH --job-name=r8_lr1e-5", '#SBATCH --job-name="r8_lr1e-5'),
        ["r8_lr1e-5/finetune.slurm: line 2: '#SBATCH --job-name=\"r8_lr1e-5 # Job name': No closing quotation",
         "fix: close the quote in this #SBATCH line"],
    ),
    # claude.local.md
    "extra-sbatch-unclosed-quote": (
        lambda d: site(d, "- **Constraint**: `gpu80`", "- **Constraint**: `gpu80`\n- **Extra sbatch options**: `--comment=\"a b`"),
        ["claude.local.md: SLURM Defaults → Extra sbatch options '--comment=\"a b': No closing quotation", "fix: close the quote"],
    ),
    "extra-sbatch-not-an-option": (
        lambda d: site(d, "- **Constraint**: `gpu80`", "- **Constraint**: `gpu80`\n- **Extra sbatch options**: `--mail-type END`"),
        ["claude.local.md: SLURM Defaults → Extra sbatch options: '--mail-type' is not of the form --option=value"],
    ),
    "extra-sbatch-job-name": (
        lambda d: site(d, "- **Constraint**: `gpu80`", "- **Constraint**: `gpu80`\n- **Extra sbatch options**: `--job-name=mine`"),
        ["claude.local.md: SLURM Defaults → Extra sbatch options: --job-name=mine is set per script by the template",
         "fix: leave --job-name out"],
    ),
    "extra-sbatch-mem-per-cpu": (
        lambda d: site(d, "- **Constraint**: `gpu80`", "- **Constraint**: `gpu80`\n- **Extra sbatch options**: `--mem-per-cpu=8G`"),
        ["claude.local.md: SLURM Defaults → Extra sbatch options: --mem-per-cpu=8G is set per script by the template, "
         "or breaks how a cell runs: each cell asks for its memory per node with --mem",
         "sbatch refuses --mem-per-cpu beside --mem", "fix: leave --mem-per-cpu out"],
    ),
    "extra-sbatch-mem-per-gpu": (
        lambda d: site(d, "- **Constraint**: `gpu80`", "- **Constraint**: `gpu80`\n- **Extra sbatch options**: `--qos=short --mem-per-gpu=40G`"),
        ["claude.local.md: SLURM Defaults → Extra sbatch options: --mem-per-gpu=40G is set per script",
         "sbatch refuses --mem-per-gpu beside --mem", "fix: leave --mem-per-gpu out"],
    ),
    "module-line-continued": (
        lambda d: site(d, "module load anaconda3/2025.6", "module load anaconda3/2025.6 \\"),
        # The line as Python's repr shows it: its backslash doubled.
        ["claude.local.md: Module System: the line 'module load anaconda3/2025.6 \\\\' continues on the next line",
         "fix: write each command on one line of its own"],
    ),
    "extra-sbatch-capitals": (
        lambda d: site(d, "- **Constraint**: `gpu80`", "- **Constraint**: `gpu80`\n- **Extra sbatch options**: `--Mail-Type=END`"),
        ["claude.local.md: 'Mail-Type' is not an sbatch option name", "fix: write it as sbatch spells it, e.g. mail-type"],
    ),
    "max-jobs-unreadable": (
        lambda d: site(d, "- **Constraint**: `gpu80`", "- **Constraint**: `gpu80`\n- **Max jobs**: many"),
        ["claude.local.md: SLURM Defaults → max jobs 'many' is no count of jobs from 1 to 999999999"],
    ),
    "max-time-unreadable": (
        lambda d: site(d, "- **Constraint**: `gpu80`", "- **Constraint**: `gpu80`\n- **Max time**: 48h"),
        ["claude.local.md: SLURM Defaults → max time '48h' is not a time limit as D-HH:MM:SS or HH:MM:SS",
         "fix: write the most a retried evaluation job may ask for, e.g. `- **Max time**: 2-00:00:00`"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_hostile_input_fails_before_writing_anything(tmp_path, case):
    assert_refused(tmp_path, *CASES[case])


# -- as a user the files do not let in --------------------------------------------------------

AS_ANOTHER_USER = {
    "setup-unreadable": (
        lambda d: (d / "r8_lr1e-5" / "setup_finetune.yaml").chmod(0),
        ["r8_lr1e-5/setup_finetune.yaml: cannot be read: Permission denied", "fix: let your user read it"],
    ),
    "experiment-read-only": (
        lambda d: d.chmod(0o555),
        ["experiment: is not writable by you, and the template adds files there",
         "fix: make it writable (`chmod u+w` as its owner)"],
    ),
}


@pytest.fixture
def unprivileged():
    """A directory and a `copier` runner that meet permission bits. Root reads and writes
    anything through two capabilities; as root, copier runs without them (setpriv drops them
    from its bounding set), so a file's bits stop it as they stop a user. It stays root, so it
    still reaches this checkout and its virtual environment wherever they are, a private
    directory included (as `nobody` it could not)."""
    directory = Path(tempfile.mkdtemp())
    if os.geteuid() != 0:
        yield directory, run_copier
    else:
        without_override = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")
        yield directory, lambda *args: run_copier(*args, prefix=without_override)
    shutil.rmtree(directory)


@pytest.mark.parametrize("case", AS_ANOTHER_USER)
def test_files_you_may_not_read_or_write_are_refused_before_writing_anything(unprivileged, case):
    directory, run = unprivileged
    try:
        assert_refused(directory, *AS_ANOTHER_USER[case], run=run)
    finally:
        for path in (directory / "experiment").rglob("*"):
            path.chmod(0o755)
        (directory / "experiment").chmod(0o755)
