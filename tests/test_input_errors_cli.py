"""The parsers' refusals of hostile input, through the real `copier` command line: exit 1,
one message naming the file, nothing written, no traceback."""

from __future__ import annotations

import pytest

from tests.test_errors import assert_refused, edit


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
        ["Evaluation Matrix, run r8_lr1e-5, task capitalization: 'x' is ambiguous", "write ✓ to evaluate"],
    ),
    "matrix-row-short": (
        lambda d: edit(d / "experiment_summary.md", "| r16_lr1e-5 | ✓ epoch 0,1 | ✓ epoch 1 | |", "| r16_lr1e-5 | ✓ epoch 0,1 |"),
        ["the Evaluation Matrix row of r16_lr1e-5 has 2 cells and its header 4", "no cell for capitalization_6L"],
    ),
    "per-eval-absurd": (
        lambda d: edit(d / "experiment_summary.md", "~20 minutes", "9999999 hours"),
        ["per-eval time '9999999 hours' is more than 14 days", "MAX_PER_EVAL_MINUTES"],
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
        ["Type 'Fine-tuned base' in All Runs", "Base (or Control) for a model evaluated without fine-tuning"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_hostile_input_fails_before_writing_anything(tmp_path, case):
    assert_refused(tmp_path, *CASES[case])
