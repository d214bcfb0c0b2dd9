"""Epochs chosen by the Evaluation Plan text and the Evaluation Matrix cells."""

from __future__ import annotations

import re

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


# -- issue 18: every word of an epoch phrase is read, or the phrase is refused ------------------

@pytest.mark.parametrize(
    "cell,epochs,expected",
    [
        ("✓ except epoch 0", 3, [1, 2]),
        ("✓ all except epoch 0", 3, [1, 2]),
        ("✓ every epoch but epoch 1", 3, [0, 2]),
        ("except epochs 0 and 1", 4, [2, 3]),
        ("skip epoch 0", 3, [1, 2]),
        ("0..2", 4, [0, 1, 2]),
        ("✓ 0..2", 4, [0, 1, 2]),
        ("0—1", 3, [0, 1]),  # em dash
        ("0–2", 3, [0, 1, 2]),  # en dash
        ("✓ epochs 0 – 2", 3, [0, 1, 2]),
        ("✓ epochs: 0, 2", 3, [0, 2]),
        ("✓ ep 0,1", 3, [0, 1]),
        ("✓ eps 1, 2", 3, [1, 2]),
        ("✓ ckpt 2", 3, [2]),
        ("✓ first and last epoch", 4, [0, 3]),
        ("✓ last two epochs", 4, [2, 3]),
        ("✓ last 2 epochs", 4, [2, 3]),
        ("✓ epoch 2 only", 3, [2]),
        ("✓ only epoch 2", 3, [2]),
    ],
)
def test_matrix_cells_read_whole(cell, epochs, expected):
    evaluated, choice = read_matrix_cell(cell)
    assert evaluated is True
    assert choice.resolve(epochs) == expected


@pytest.mark.parametrize(
    "text,epochs,expected",
    [
        ("Evaluate every epoch except epoch 0.", 3, [1, 2]),
        ("Evaluate all epochs except epochs 0 and 1.", 4, [2, 3]),
        ("Evaluate epoch 2 only; skip epochs 0 and 1.", 3, [2]),
        ("Evaluate epochs 0..2 of each run.", 4, [0, 1, 2]),
        ("Evaluate epochs 0—1.", 3, [0, 1]),
        ("Evaluate the first and last epoch.", 4, [0, 3]),
        ("Evaluate the first and the last epoch of every run.", 3, [0, 2]),
        ("Evaluate the last two epochs.", 4, [2, 3]),
        ("Evaluate the last 2 epochs of r8_lr1e-5 and r16_lr1e-5.", 4, [2, 3]),
        ("Evaluate epochs: 0, 2.", 3, [0, 2]),
        ("Evaluate ep 0,1 on capitalization.", 3, [0, 1]),
        ("Evaluate task_1 on the last epoch.", 3, [2]),
        ("Both tasks on every epoch of each fine-tuned run (epoch_0 and epoch_1).", 2, [0, 1]),
        ("Train for 2 epochs, then evaluate epoch 1 only.", 2, [1]),
    ],
)
def test_plan_text_read_whole(text, epochs, expected):
    assert read_epochs(text).resolve(epochs) == expected


@pytest.mark.parametrize(
    "text,why",
    [
        ("Evaluate every other epoch.", "'every other' epochs cannot be read exactly"),
        ("Evaluate epochs 0 or 1.", "'or' leaves the choice open"),
        ("Evaluate the best epoch.", "'best' epochs cannot be read exactly"),
        ("Do not evaluate epoch 0.", "'not' before the epochs leaves unclear"),
        ("Evaluate epoch 1; skip epoch 1.", "both evaluates and skips epoch 1"),
        ("Evaluate the last few epochs.", "'last few' epochs cannot be read exactly"),
        ("Evaluate epochs 1- and 2.", "a range takes a number at each end"),
    ],
)
def test_plan_text_that_cannot_be_read_whole_is_refused(text, why):
    with pytest.raises(EpochSyntaxError, match=re.escape(why)) as refusal:
        read_epochs(text)
    assert "the epoch phrases understood are" in str(refusal.value) or "both evaluates" in why


@pytest.mark.parametrize(
    "cell,why",
    [
        ("✓ every other epoch", "'every other' epochs cannot be read exactly"),
        ("✓ epoch 0 or 2", "'or' leaves the choice open"),
        ("✓ epochs 0, 2 maybe", "'maybe' is not an epoch word"),
        ("✓ except all epochs", "excludes every epoch"),
        ("✓ epoch", "'epoch' without a number"),
    ],
)
def test_matrix_cells_that_cannot_be_read_whole_are_refused(cell, why):
    with pytest.raises(EpochSyntaxError, match=re.escape(why)):
        read_matrix_cell(cell)


@pytest.mark.parametrize(
    "text,expected",
    [
        # The plan texts of the fixtures and examples, as cruijff_kit's users wrote them.
        ("Evaluate at epochs 0 and 2 (0-indexed: epoch_0, epoch_2), and we compare the final accuracy.", [0, 2]),
        ("Evaluate every epoch of each fine-tuned run (epoch_0 and epoch_1).", [0, 1, 2]),
        ("evaluate last epoch after 1 epoch of training", [2]),
        ("Train for 2 epochs; evaluate 5 samples of the last epoch.", [2]),
    ],
)
def test_real_plan_texts_still_read(text, expected):
    assert read_epochs(text).resolve(3) == expected


def test_a_choice_describes_itself_as_read():
    assert read_epochs("Evaluate every epoch except epoch 0.").describe() == "every epoch except epoch 0"
    assert read_epochs("Evaluate the first and last epoch.").describe() == "the first epoch and the last epoch"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Evaluate epochs 0, 1, and 2 on both tasks.", [0, 1, 2]),
        ("Evaluate checkpoints epoch_0 through epoch_2.", [0, 1, 2]),
        ("Evaluate all 3 epochs.", [0, 1, 2, 3]),
        ("Epochs: all", [0, 1, 2, 3]),
        ("Evaluation at epoch_0 and epoch_1 for all runs; the base model once.", [0, 1]),
    ],
)
def test_words_around_a_phrase_belong_to_the_sentence_not_the_phrase(text, expected):
    assert read_epochs(text).resolve(4) == expected


@pytest.mark.parametrize("read", [read_epochs, read_epoch_value])
@pytest.mark.parametrize("phrase", ["every 2 epochs", "each 3 epochs", "every two epochs", "every 2nd epoch"])
def test_a_period_of_epochs_is_refused_not_read_as_every_epoch(read, phrase):
    # (issue 18, item 1) Whether "every 2 epochs" of 4 means 0,2 or 1,3 is a guess.
    with pytest.raises(EpochSyntaxError, match=r"the epoch phrases understood are 'every epoch'"):
        read(f"Evaluate {phrase}." if read is read_epochs else phrase)


def test_a_period_of_epochs_in_a_matrix_cell_is_refused():
    with pytest.raises(EpochSyntaxError, match=r"'every 2 epochs' is a period"):
        read_matrix_cell("✓ every 2 epochs")


@pytest.mark.parametrize(
    "cell,epochs,expected",
    [
        ("✓ (all)", 3, [0, 1, 2]),
        ("✓ (both)", 2, [0, 1]),
        ("✓ (last)", 3, [2]),
        ("✓ (final)", 3, [2]),
        ("✓ (first and last)", 3, [0, 2]),
        ("✓ all (both)", 2, [0, 1]),
    ],
)
def test_epoch_words_in_parentheses_are_epochs_not_remarks(cell, epochs, expected):
    # (issue 18, item 5) "✓ (0)" was read and "✓ (last)" dropped as a remark.
    assert read_matrix_cell(cell).epochs.resolve(epochs) == expected


def test_epoch_words_in_parentheses_that_contradict_the_value_are_refused():
    with pytest.raises(EpochSyntaxError, match=r"names epochs 0, 1 and, in parentheses, every epoch"):
        read_matrix_cell("✓ 0,1 (all)")
    assert read_matrix_cell("✓ epoch 1 (final)").epochs.said_last  # warned about if 1 is not the last
    assert read_matrix_cell("✓ (primary)").epochs is None


@pytest.mark.parametrize("read", [read_epochs, read_epoch_value])
def test_all_saved_epochs_are_the_saved_ones(read):
    # (issue 18, item 6) epochs_to_save '0,2' of 3 epochs: "all saved epochs" is 0 and 2.
    choice = read("Evaluate all saved epochs." if read is read_epochs else "all saved epochs")
    assert choice.resolve(3, saved={0, 2}) == [0, 2]
    assert choice.resolve(3) == [0, 1, 2]  # every epoch is saved
    assert choice.describe() == "every saved epoch"


@pytest.mark.parametrize(
    "text",
    [
        "Evaluate both tasks at epochs [0, 2].",
        "Evaluate epochs: [1, 3].",
        "Evaluate the 1st and 3rd epochs.",
        "Evaluate after the 2nd epoch.",
        "Evaluate epoch zero.",
        "Evaluate at epoch N of each run.",
    ],
)
def test_epoch_numbers_the_grammar_cannot_read_are_refused_not_defaulted(text):
    # (issue 18, item 7) These fell back to "names no epochs: the last epoch".
    with pytest.raises(EpochSyntaxError, match=r"the epoch phrases understood are"):
        read_epochs(text)


def test_zero_indexed_remarks_are_not_epoch_numbers():
    assert read_epochs("Epochs are 0-indexed.") is None
    assert read_epochs("Train for 2 epochs (0-indexed).") is None
