"""The #SBATCH header: one ordered mapping per run, every value checked in one place."""

from __future__ import annotations

import pytest

from extensions.errors import InputError
from extensions.sbatch import header_lines, run_header


def test_seed_order_first_then_added_options_in_their_order_and_empty_ones_left_out():
    header = run_header({
        "mail-type": ("END,FAIL", "claude.local.md"),
        "account": ("lab", "a/setup_finetune.yaml"),
        "time": ("0:30:00", "x"),
        "partition": (None, "claude.local.md"),
        "constraint": ("", "tier"),
        "nodes": (1, "seed"),
    })
    assert header == [["nodes", "1"], ["time", "0:30:00"], ["account", "lab"], ["mail-type", "END,FAIL"]]
    assert header_lines(header, "eval-cap-r8").splitlines() == [
        "#SBATCH --job-name=eval-cap-r8",
        "#SBATCH --output=slurm-%j.out",
        "#SBATCH --signal=B:USR1@120",  # the job stops inspect cleanly before its time limit
        "#SBATCH --nodes=1",
        "#SBATCH --time=0:30:00",
        "#SBATCH --account=lab",
        "#SBATCH --mail-type=END,FAIL",
    ]


@pytest.mark.parametrize("value", ["my lab", "lab\n#SBATCH --qos=high", "lab#1", "'lab'", "$(id)", "lab;x"])
def test_values_sbatch_would_read_otherwise_are_refused_naming_their_file(value):
    with pytest.raises(InputError) as error:
        run_header({"account": (value, "/exp/claude.local.md")})
    message = str(error.value)
    assert message.startswith("/exp/claude.local.md: the sbatch account value")
    assert repr(value) in message


def test_option_names_are_checked_too():
    with pytest.raises(InputError, match="not an sbatch option name"):
        run_header({"Mail Type": ("END", "claude.local.md")})
