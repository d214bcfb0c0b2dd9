"""Epochs chosen by the Evaluation Plan text and the Evaluation Matrix cells."""

from __future__ import annotations

import pytest

from extensions.epochs import (
    ALL,
    LAST,
    EpochSyntaxError,
    MatrixCell,
    read_epoch_value,
    read_epochs,
    read_matrix_cell,
)


@pytest.mark.parametrize(
    "text,epochs,expected",
    [
        ("Evaluate the last epoch (epoch_0).", 1, [0]),
        ("evaluate last epoch after 1 epoch of training", 3, [2]),
        ("Evaluate the final checkpoint of each run.", 2, [1]),
        ("Evaluate every epoch.", 3, [0, 1, 2]),
        ("Evaluate all epochs of each run.", 2, [0, 1]),
        ("Evaluate all saved epochs.", 2, [0, 1]),
        ("Evaluate epochs 0 and 2.", 3, [0, 2]),
        ("Evaluate epoch_0, epoch_1.", 3, [0, 1]),
        ("Evaluate epochs 1-3", 4, [1, 2, 3]),
        ("Evaluate epochs 0 to 2", 4, [0, 1, 2]),
        ("Evaluate the first epoch", 4, [0]),
        ("Train for 2 epochs; evaluate 5 samples of the last epoch.", 2, [1]),
    ],
)
def test_plan_text(text, epochs, expected):
    assert read_epochs(text).resolve(epochs) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Evaluate epochs 0 and 2, and compare the final accuracy.",
        "Final accuracy is what we report; evaluate epoch 0 and epoch 2.",
        "Evaluate at epochs 0 and 2 (0-indexed: epoch_0, epoch_2); final results in a table.",
    ],
)
def test_explicit_epochs_are_not_overridden_by_final_accuracy(text):
    choice = read_epochs(text)
    assert choice.resolve(5) == [0, 2]
    assert not choice.said_last  # no "the plan says last epoch" warning either


def test_final_accuracy_alone_names_no_epoch():
    assert read_epochs("Evaluate every task and report the final accuracy.") is None


def test_text_without_epochs():
    assert read_epochs("Evaluate the capitalization task.") is None


def test_an_absurd_range_is_refused_with_its_limit():
    with pytest.raises(EpochSyntaxError, match=r"more than 10000 epochs .*MAX_EPOCHS in extensions/epochs.py"):
        read_epochs("Evaluate epochs 0-100000.")


@pytest.mark.parametrize(
    "cell,expected",
    [
        ("✓ epoch 0,2", [0, 2]),
        ("✓ epochs 0, 1", [0, 1]),
        ("✓ all", [0, 1, 2]),
        ("all", [0, 1, 2]),
        ("✓ every epoch", [0, 1, 2]),
        ("✓ last", [2]),
        ("epoch 1", [1]),
        ("✔️ epoch 1", [1]),
        ("✅ 0,1", [0, 1]),
        ("yes, epoch 2", [2]),
    ],
)
def test_matrix_cells_that_evaluate(cell, expected):
    evaluated, choice = read_matrix_cell(cell)
    assert evaluated is True
    assert choice.resolve(3) == expected


@pytest.mark.parametrize(
    "cell",
    ["", " ", "-", "✗", "✘", "no", "—", "✗ (not needed)", "not evaluated", "- (later)", "❌ not needed",
     "N/A", "skip: covered by r8", "none", "✗ epoch 0 was bad"],
)
def test_matrix_cells_not_evaluated(cell):
    assert read_matrix_cell(cell) == MatrixCell(False, None)


@pytest.mark.parametrize("cell", ["x", "X", "x epoch 0", "X (done)"])
def test_a_bare_x_is_refused_as_ambiguous(cell):
    with pytest.raises(EpochSyntaxError, match="ambiguous"):
        read_matrix_cell(cell)


@pytest.mark.parametrize("cell", ["maybe", "TBD", "later"])
def test_a_cell_that_is_neither_tick_nor_dash_is_refused(cell):
    with pytest.raises(EpochSyntaxError, match="neither a check mark"):
        read_matrix_cell(cell)


def test_bare_tick_leaves_the_epochs_to_the_text():
    assert read_matrix_cell("✓") == MatrixCell(True, None)
    assert read_matrix_cell("✓ (primary)") == MatrixCell(True, None)


@pytest.mark.parametrize("cell,expected", [("✓ 0,2", [0, 2]), ("✓ 1", [1]), ("0 and 1", [0, 1]), ("✓ (epoch 0)", [0])])
def test_bare_numbers_in_a_matrix_cell_are_epochs(cell, expected):
    evaluated, choice = read_matrix_cell(cell)
    assert evaluated and choice.resolve(3) == expected


@pytest.mark.parametrize(
    "value,kind,resolved",
    [
        ("all", ALL, [0, 1, 2]),
        ("all (epoch_0 and epoch_1)", ALL, [0, 1, 2]),  # the numbers illustrate a 2-epoch run
        ("last", LAST, [2]),
        ("final epoch only", LAST, [2]),
        ("0, 2", "explicit", [0, 2]),
        ("epoch_1", "explicit", [1]),
    ],
)
def test_epochs_to_evaluate_values(value, kind, resolved):
    choice = read_epoch_value(value)
    assert (choice.kind, choice.resolve(3)) == (kind, resolved)


def test_last_with_numbers_keeps_the_numbers_and_remembers_last():
    choice = read_epoch_value("last (epoch_1)")
    assert (choice.explicit, choice.said_last) == ((1,), True)
