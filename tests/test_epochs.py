"""Epochs chosen by the Evaluation Plan text and the Evaluation Matrix cells."""

from __future__ import annotations

import pytest

from extensions.epochs import read_epochs, read_matrix_cell


@pytest.mark.parametrize(
    "text,epochs,expected",
    [
        ("Evaluate the last epoch (epoch_0).", 1, [0]),
        ("evaluate last epoch after 1 epoch of training", 3, [2]),
        ("Evaluate the final checkpoint of each run.", 2, [1]),
        ("Evaluate every epoch.", 3, [0, 1, 2]),
        ("Evaluate all epochs of each run.", 2, [0, 1]),
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


def test_text_without_epochs():
    assert read_epochs("Evaluate the capitalization task.") is None


@pytest.mark.parametrize(
    "cell,evaluated,expected",
    [
        ("✓ epoch 0,2", True, [0, 2]),
        ("✓ epochs 0, 1", True, [0, 1]),
        ("✓ all", True, None),
        ("✓ every epoch", True, [0, 1, 2]),
        ("✓ last", True, [2]),
        ("epoch 1", True, [1]),
    ],
)
def test_matrix_cells(cell, evaluated, expected):
    got_evaluated, choice = read_matrix_cell(cell)
    assert got_evaluated is evaluated
    assert (choice.resolve(3) if choice else None) == expected


@pytest.mark.parametrize("cell", ["", " ", "-", "✗", "✘", "no", "—"])
def test_matrix_cells_not_evaluated(cell):
    assert read_matrix_cell(cell) == (False, None)


def test_bare_tick_leaves_the_epochs_to_the_text():
    assert read_matrix_cell("✓") == (True, None)


@pytest.mark.parametrize("cell,expected", [("✓ 0,2", [0, 2]), ("✓ 1", [1]), ("0 and 1", [0, 1]), ("✓ (epoch 0)", [0])])
def test_bare_numbers_in_a_matrix_cell_are_epochs(cell, expected):
    evaluated, choice = read_matrix_cell(cell)
    assert evaluated and choice.resolve(3) == expected
