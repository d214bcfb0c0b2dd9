"""The names every consumer of a cell shares: script, log directory, done mark, log files."""

from __future__ import annotations

import pytest

from extensions import protocol


def test_paths_of_a_fine_tuned_and_a_base_cell():
    assert protocol.cell_name("cap", 2) == "cap_epoch2"
    assert protocol.cell_name("cap", None) == "cap_base"
    assert protocol.script_path("r8", "cap_epoch2") == "r8/eval/cap_epoch2.slurm"
    assert protocol.log_dir("r8") == "r8/eval/logs"
    assert protocol.done_mark("r8", "cap_epoch2") == "r8/eval/logs/.cap_epoch2.complete"


@pytest.mark.parametrize("cell", ["cap_epoch0", "cap_6L_epoch1", "word_count_base", "a.b+c-d_epoch10"])
def test_log_cell_inverts_the_file_pattern_inspect_is_given(cell):
    # inspect fills {id} with a short uuid and puts `{timestamp}_` in front.
    name = "2026-11-28T17-39-53+00-00_" + protocol.log_file_pattern(cell).replace("{id}", "Xk3VbQ9") + ".eval"
    assert protocol.log_cell(name) == cell


@pytest.mark.parametrize("file_name", ["notes.txt", "cap_epoch0.eval", ".cap_epoch0.complete", "x_y.json"])
def test_files_that_are_no_cell_log(file_name):
    assert protocol.log_cell(file_name) is None
