"""experiment_summary.md parser, on the example and on the ways real files vary."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from extensions.epochs import EpochChoice, MatrixCell
from extensions.errors import InputError
from extensions.notes import Warnings
from extensions.summary import BASE, FINE_TUNED, NOVEMBER, read_summary
from tests.conftest import ROOT

EXAMPLE = (ROOT / "examples/cap_1B_lora/experiment_summary.md").read_text(encoding="utf-8")


def parse(tmp_path: Path, text: str, *, encoding: str = "utf-8", newline: str = "\n", warnings=None):
    path = tmp_path / "experiment_summary.md"
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return read_summary(path, Warnings() if warnings is None else warnings)


def warned(tmp_path: Path, text: str) -> tuple:
    warnings = Warnings()
    return parse(tmp_path, text, warnings=warnings), "\n".join(warnings)


def edited(old: str, new: str, text: str = EXAMPLE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_example_reads_every_part(tmp_path):
    summary, warnings = warned(tmp_path, EXAMPLE)
    assert warnings == ""
    assert summary.layout == NOVEMBER
    assert summary.title == "Capitalization LoRA Rank Sweep (Llama-3.2-1B)"
    assert [(r.name, r.model, r.kind, r.factors) for r in summary.runs] == [
        ("r8_lr1e-5", "Llama-3.2-1B-Instruct", FINE_TUNED, {"LoRA Rank": "8", "Learning Rate": "1e-5"}),
        ("r16_lr1e-5", "Llama-3.2-1B-Instruct", FINE_TUNED, {"LoRA Rank": "16", "Learning Rate": "1e-5"}),
        ("Llama-3.2-1B-Instruct_base", "Llama-3.2-1B-Instruct", BASE, {"LoRA Rank": "-", "Learning Rate": "-"}),
    ]
    assert summary.factors == ["LoRA Rank", "Learning Rate"]
    assert summary.models == {
        "llama-3.2-1b-instruct": "/scratch/gpfs/MSALGANIK/pretrained-llms/Llama-3.2-1B-Instruct"
    }
    assert summary.models_dir is None
    assert summary.dataset_path == "/scratch/gpfs/MSALGANIK/mjs3/data/capitalization/words_5L_80P_1000.json"
    assert [(t.name, t.script, t.dataset) for t in summary.tasks] == [
        ("capitalization", "cap_task.py", None),
        (
            "capitalization_6L",
            "cap_task.py",
            "/scratch/gpfs/MSALGANIK/mjs3/data/capitalization/words_6L_80P_1000.json",
        ),
    ]
    assert "every epoch" in summary.plan_text
    assert summary.plan_epochs == EpochChoice.every()
    assert summary.text_tasks == ("capitalization", "capitalization_6L")  # the text names none
    zero_one, one = EpochChoice.numbers((0, 1)), EpochChoice.numbers((1,))
    assert summary.matrix == {
        "r8_lr1e-5": {"capitalization": MatrixCell(True, zero_one), "capitalization_6L": MatrixCell(True, one)},
        "r16_lr1e-5": {"capitalization": MatrixCell(True, zero_one), "capitalization_6L": MatrixCell(True, one)},
        "Llama-3.2-1B-Instruct_base": {"capitalization": MatrixCell(True, None), "capitalization_6L": MatrixCell(True, None)},
    }
    assert summary.epochs == 2
    assert summary.prompt == "Capitalize the given word: {input}\n"
    assert summary.system_prompt == ""
    assert summary.eval_system_prompt == ""
    assert (summary.temperature, summary.max_tokens) == (0.0, None)
    assert summary.checkpoint_dir == "/scratch/gpfs/MSALGANIK/mjs3/ck-outputs/"
    assert summary.per_eval_minutes == 20


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda t: t, id="as-written"),
        pytest.param(lambda t: re.sub(r"\*\*([^*]+)\*\*", r"\1", t), id="no-bold"),
        pytest.param(lambda t: t.replace("| ", "|   ").replace(" |", "   |"), id="extra-spaces"),
        pytest.param(lambda t: re.sub(r"^(\s*)- ", r"\1* ", t, flags=re.M), id="star-bullets"),
        pytest.param(lambda t: t.replace("## ", "##  "), id="heading-spaces"),
    ],
)
@pytest.mark.parametrize(
    "encoding,newline",
    [("utf-8", "\n"), ("utf-8", "\r\n"), ("utf-8-sig", "\n"), ("utf-8-sig", "\r\n")],
    ids=["lf", "crlf", "bom", "bom-crlf"],
)
def test_variants_read_the_same(tmp_path, variant, encoding, newline):
    expected = parse(tmp_path, EXAMPLE)
    got = parse(tmp_path, variant(EXAMPLE), encoding=encoding, newline=newline)
    assert dataclasses.replace(got, path=expected.path) == expected


def test_columns_in_another_order_with_an_extra_column(tmp_path):
    text = EXAMPLE.replace(
        "| Run Name | Model | LoRA Rank | Learning Rate | Type | Est. Time |\n"
        "|----------|-------|-----------|---------------|------|-----------|\n"
        "| r8_lr1e-5 | Llama-3.2-1B-Instruct | 8 | 1e-5 | Fine-tuned | ~12 min |\n"
        "| r16_lr1e-5 | Llama-3.2-1B-Instruct | 16 | 1e-5 | Fine-tuned | ~12 min |\n"
        "| Llama-3.2-1B-Instruct_base | Llama-3.2-1B-Instruct | - | - | Control | - |",
        "| Type | Seed | **Run Name** | `Model` |\n"
        "|---|---|---|---|\n"
        "| Fine-tuned (LoRA) | 1 | `r8_lr1e-5` | Llama-3.2-1B-Instruct |\n"
        "| finetuned | 1 | r16_lr1e-5 | Llama-3.2-1B-Instruct |\n"
        "| Base model (control) | - | Llama-3.2-1B-Instruct_base | **Llama-3.2-1B-Instruct** |",
    )
    assert text != EXAMPLE
    got = parse(tmp_path, text)
    expected = parse(tmp_path, EXAMPLE)
    assert [(r.name, r.model, r.kind) for r in got.runs] == [(r.name, r.model, r.kind) for r in expected.runs]
    # The factors are the columns between Model and Type, whichever comes first.
    assert got.factors == ["Seed"]
    assert [r.factors for r in got.runs] == [{"Seed": "1"}, {"Seed": "1"}, {"Seed": "-"}]


@pytest.mark.parametrize(
    "written,expected",
    [
        (r'"Capitalize the given word: {input}\n"', "Capitalize the given word: {input}\n"),
        (r'"say \"hi\" to {input}" (quoted)', 'say "hi" to {input}'),
        (r'"Use `code` and **stars**: {input}"', "Use `code` and **stars**: {input}"),
        (r'"tab\there, unicode \u00e9, backslash \\"', "tab\there, unicode é, backslash \\"),
        (r'`"{input}"`', "{input}"),
        ("'it''s {input}'", "it's {input}"),
        ("{input}", "{input}"),
        ('"" (blank - must match training)', ""),
        ("(none)", ""),
    ],
)
def test_prompts_decode_like_yaml_double_quoted_strings(tmp_path, written, expected):
    text = EXAMPLE.replace(r'- **Prompt**: "Capitalize the given word: {input}\n"', f"- **Prompt**: {written}")
    assert parse(tmp_path, text).prompt == expected


def test_unterminated_prompt_names_the_file_and_the_fix(tmp_path):
    text = EXAMPLE.replace(r'- **Prompt**: "Capitalize the given word: {input}\n"', '- **Prompt**: "open {input}')
    with pytest.raises(InputError, match=r"experiment_summary.md: Training → Prompt: .*no closing quote"):
        parse(tmp_path, text)


@pytest.mark.parametrize(
    "estimate,minutes",
    [("~20 minutes", 20), ("about 20-30 min", 30), ("~1.5 hours", 90), ("90 seconds", 1.5), ("unknown", None),
     # (issue 18, item 4) these were read as 60, 60 and 300 minutes: the first number and unit.
     ("~1h30m", 90), ("~1 hour 30 minutes", 90), ("~1,5 hours", 90), ("1 hour and 30 minutes", 90),
     ("~20 minutes (1B model)", 20)],
)
def test_per_eval_time(tmp_path, estimate, minutes):
    text = EXAMPLE.replace("- **Per-eval time:** ~20 minutes", f"- **Per-eval time:** {estimate}")
    assert parse(tmp_path, text).per_eval_minutes == minutes


@pytest.mark.parametrize(
    "estimate,why",
    [("1h30", "cannot read '30' after '1h'"), ("1,500 minutes", "could be 1500 or 1.500"),
     ("2 x 10 minutes", "multiplies a duration"), ("~20 minutes, 40 minutes for 8B", "not one duration")],
)
def test_a_per_eval_time_read_only_in_part_is_refused(tmp_path, estimate, why):
    text = EXAMPLE.replace("- **Per-eval time:** ~20 minutes", f"- **Per-eval time:** {estimate}")
    with pytest.raises(InputError, match=rf"Per-eval time '{re.escape(estimate)}': .*{re.escape(why)}"):
        parse(tmp_path, text)


def test_missing_file(tmp_path):
    """Which summary an experiment has is experiment.summary_path's to say; the reader itself
    names the file it cannot read."""
    with pytest.raises(InputError, match="experiment_summary.md: cannot be read: No such file or directory"):
        read_summary(tmp_path / "experiment_summary.md", Warnings())


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("## All Runs", "## Runs overview", "no 'All Runs' table"),
        ("| Run Name | Model |", "| Name of run | Model |", "no 'Run Name' column"),
        ("| Type | Est. Time |", "| Kind | Est. Time |", "no 'Type' column"),
        ("### Evaluation Tasks", "### Tasks we run", "no 'Evaluation Tasks' table"),
        ("| Task Name | Script |", "| Task Name | Code |", "no 'Script' column"),
        ("| capitalization | `cap_task.py` |", "| capitalization |  |", "task 'capitalization' has no script path"),
        ("| Fine-tuned | ~12 min |", "| Pretrained | ~12 min |", "Type 'Pretrained'"),
    ],
)
def test_structure_errors_name_what_is_missing(tmp_path, old, new, message):
    assert old in EXAMPLE
    with pytest.raises(InputError, match=re.escape(message)) as error:
        parse(tmp_path, EXAMPLE.replace(old, new, 1))
    assert "experiment_summary.md" in str(error.value)
    assert "fix:" in str(error.value)


# -- Types, runs and tasks ---------------------------------------------------------------

@pytest.mark.parametrize(
    "written,kind",
    [
        ("Base (not fine-tuned)", BASE),
        ("Not fine-tuned", BASE),
        ("Control (no fine-tuning)", BASE),
        ("base model (control)", BASE),
        ("Baseline", BASE),
        ("Fine-tuned (LoRA, from the base model)", FINE_TUNED),
        ("finetuned", FINE_TUNED),
    ],
)
def test_type_words(tmp_path, written, kind):
    text = edited("| Control | - |", f"| {written} | - |")
    assert parse(tmp_path, text).runs[2].kind == kind


@pytest.mark.parametrize("written", ["Fine-tuned base", "Pretrained"])
def test_a_type_that_says_both_or_neither_is_refused_with_the_right_fix(tmp_path, written):
    with pytest.raises(InputError) as error:
        parse(tmp_path, edited("| Fine-tuned | ~12 min |", f"| {written} | ~12 min |"))
    message = str(error.value)
    assert f"Type '{written}'" in message
    assert "Base (or Control) for a model evaluated without fine-tuning" in message


SECOND_TABLE = (
    "\n\n| Run Name | Model | LoRA Rank | Learning Rate | Type | Est. Time |\n"
    "|---|---|---|---|---|---|\n"
    "| r32_lr1e-5 | Llama-3.2-1B-Instruct | 32 | 1e-5 | Fine-tuned | ~12 min |\n"
)


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(lambda t: t.replace("| Control | - |\n", "| Control | - |\n" + SECOND_TABLE), id="second-table"),
        pytest.param(lambda t: t.replace("## Resources", "## All Runs" + SECOND_TABLE + "\n## Resources"), id="second-section"),
    ],
)
def test_runs_split_over_two_tables_are_all_read(tmp_path, where):
    text = where(EXAMPLE)
    assert text != EXAMPLE
    runs = parse(tmp_path, text).runs
    assert [r.name for r in runs] == ["r8_lr1e-5", "r16_lr1e-5", "Llama-3.2-1B-Instruct_base", "r32_lr1e-5"]
    assert runs[3].factors == {"LoRA Rank": "32", "Learning Rate": "1e-5"}


def test_a_run_listed_in_two_tables_is_refused(tmp_path):
    text = EXAMPLE.replace("## Resources", "## All Runs" + SECOND_TABLE.replace("r32", "r8") + "\n## Resources")
    with pytest.raises(InputError, match="run 'r8_lr1e-5' is listed twice in All Runs"):
        parse(tmp_path, text)


def test_a_300_character_run_name_is_refused_with_its_limit(tmp_path):
    name = "r" * 300
    with pytest.raises(InputError) as error:
        parse(tmp_path, EXAMPLE.replace("| r8_lr1e-5 | Llama", f"| {name} | Llama"))
    message = str(error.value)
    assert "experiment_summary.md: run name" in message
    assert "300 characters long, more than the limit of 100" in message
    assert "MAX_NAME_LENGTH in extensions/names.py" in message


def test_paths_with_check_marks_and_a_code_span_task_dataset(tmp_path):
    text = edited(
        "| capitalization_6L | `cap_task.py` | `/scratch/gpfs/MSALGANIK/mjs3/data/capitalization/words_6L_80P_1000.json` |",
        "| capitalization_6L | `cap_task.py` ✓ | `/data/six letters.json` ✓ verified |",
    )
    text = edited("| capitalization | `cap_task.py` | same as training |", "| capitalization | cap_task.py ✓ | `words_5L` ✓ |", text)
    tasks = parse(tmp_path, text).tasks
    assert [(t.script, t.dataset) for t in tasks] == [("cap_task.py", None), ("cap_task.py", "/data/six letters.json")]


def test_a_task_listed_twice_is_refused(tmp_path):
    text = edited("| capitalization_6L | `cap_task.py`", "| capitalization | `cap_task.py`")
    with pytest.raises(InputError, match="task 'capitalization' is listed twice"):
        parse(tmp_path, text)


# -- The Evaluation Plan -------------------------------------------------------------------

MATRIX_ROW = "| r8_lr1e-5 | ✓ epoch 0,1 | ✓ epoch 1 | generalization only after full training |"


@pytest.mark.parametrize(
    "cell,expected",
    [
        ("✓ all", MatrixCell(True, EpochChoice.every())),
        ("✗ (not needed)", MatrixCell(False, None)),
        ("not evaluated", MatrixCell(False, None)),
        ("- (later)", MatrixCell(False, None)),
        ("❌ not needed", MatrixCell(False, None)),
    ],
)
def test_matrix_cells_with_words_and_remarks(tmp_path, cell, expected):
    text = edited(MATRIX_ROW, f"| r8_lr1e-5 | {cell} | ✓ epoch 1 | |")
    assert parse(tmp_path, text).matrix["r8_lr1e-5"]["capitalization"] == expected


@pytest.mark.parametrize("cell", ["x", "X"])
def test_a_bare_x_in_the_matrix_asks_for_a_tick_or_a_dash(tmp_path, cell):
    with pytest.raises(InputError) as error:
        parse(tmp_path, edited(MATRIX_ROW, f"| r8_lr1e-5 | {cell} | ✓ epoch 1 | |"))
    message = str(error.value)
    assert "Evaluation Matrix, run r8_lr1e-5, task capitalization" in message and "ambiguous" in message
    assert "write ✓ to evaluate" in message and "or - (or ✗) not to" in message


def test_a_matrix_row_one_cell_short_is_refused(tmp_path):
    with pytest.raises(InputError) as error:
        parse(tmp_path, edited(MATRIX_ROW, "| r8_lr1e-5 | ✓ epoch 0,1 |"))
    message = str(error.value)
    assert "the Evaluation Matrix row of r8_lr1e-5 has 2 cells and its header 4" in message
    assert "no cell for capitalization_6L" in message


def test_a_missing_notes_cell_is_fine(tmp_path):
    summary = parse(tmp_path, edited(MATRIX_ROW, "| r8_lr1e-5 | ✓ epoch 0,1 | ✓ epoch 1 |"))
    assert summary.matrix["r8_lr1e-5"]["capitalization_6L"] == MatrixCell(True, EpochChoice.numbers((1,)))


def test_an_empty_cell_written_out_means_not_evaluated(tmp_path):
    summary = parse(tmp_path, edited(MATRIX_ROW, "| r8_lr1e-5 | ✓ epoch 0,1 |  | |"))
    assert summary.matrix["r8_lr1e-5"]["capitalization_6L"] == MatrixCell(False, None)


def test_matrix_split_over_two_tables(tmp_path):
    text = edited(
        "| r16_lr1e-5 | ✓ epoch 0,1 | ✓ epoch 1 | |\n",
        "\nThe larger rank:\n\n| Run Name | capitalization | capitalization_6L |\n|---|---|---|\n"
        "| r16_lr1e-5 | ✓ epoch 0 | - |\n\n| Run Name | capitalization |\n|---|---|\n",
    )
    matrix = parse(tmp_path, text).matrix
    assert set(matrix) == {"r8_lr1e-5", "r16_lr1e-5", "Llama-3.2-1B-Instruct_base"}
    assert matrix["r16_lr1e-5"] == {
        "capitalization": MatrixCell(True, EpochChoice.numbers((0,))),
        "capitalization_6L": MatrixCell(False, None),
    }


def test_a_cell_given_twice_is_refused(tmp_path):
    text = edited(MATRIX_ROW, MATRIX_ROW + "\n| r8_lr1e-5 | - | - | again |")
    with pytest.raises(InputError, match="gives run r8_lr1e-5, task capitalization twice"):
        parse(tmp_path, text)


def test_a_matrix_column_that_is_no_task_is_warned_about_with_the_nearest_task(tmp_path):
    text = edited("| Run Name | capitalization | capitalization_6L | Notes |", "| Run Name | capitalization | capitalization_6 | Notes |")
    summary, warnings = warned(tmp_path, text)
    assert ("Evaluation Matrix column 'capitalization_6' is not a task in Evaluation Tasks "
            "(did you mean capitalization_6L, capitalization?): ignored") in warnings
    assert set(summary.matrix["r8_lr1e-5"]) == {"capitalization"}


def test_a_matrix_row_that_is_no_run_is_refused_with_the_nearest_runs(tmp_path):
    """A typo in a row's run name would leave that run's cells to the plan text."""
    text = edited(MATRIX_ROW, MATRIX_ROW.replace("r8_lr1e-5", "r8_lr1e-6"))
    with pytest.raises(InputError, match=r"a row for 'r8_lr1e-6', which is not a run in All Runs \(did you mean r8_lr1e-5"):
        parse(tmp_path, text)
    with pytest.raises(InputError, match="is not a run in All Runs\n"):
        parse(tmp_path, edited(MATRIX_ROW, MATRIX_ROW + "\n| zzz | ✓ | ✓ | |"))


def test_plan_text_tasks_and_the_warning_without_a_matrix(tmp_path):
    text = EXAMPLE[: EXAMPLE.index("### Evaluation Matrix")] + EXAMPLE[EXAMPLE.index("## Configuration"):]
    text = edited("Evaluate both tasks on every epoch", "Evaluate capitalization_6L on every epoch", text)
    summary, warnings = warned(tmp_path, text)
    assert summary.matrix is None
    assert summary.text_tasks == ("capitalization_6L",)
    assert "names capitalization_6L but not capitalization: capitalization will not be evaluated" in warnings


def test_explicit_plan_epochs_survive_final_accuracy(tmp_path):
    text = edited(
        "Evaluate both tasks on every epoch of each fine-tuned run (epoch_0 and epoch_1)",
        "Evaluate both tasks at epochs 0 and 1 and compare the final accuracy",
    )
    assert parse(tmp_path, text).plan_epochs == EpochChoice.numbers((0, 1))


def test_a_run_name_table_outside_the_matrix_heading_is_warned_about(tmp_path):
    text = edited("### Evaluation Matrix\n", "")
    summary, warnings = warned(tmp_path, text)
    assert summary.matrix is None
    assert "a table with a Run Name column in the Evaluation Plan, outside '### Evaluation Matrix', is not read" in warnings


# -- Configuration and estimates -----------------------------------------------------------

@pytest.mark.parametrize(
    "written,temperature",
    [("0", 0.0), ("0.0", 0.0), ("`0.7`", 0.7), ("1 (sampling)", 1.0), ("greedy", 0.0), (".5", 0.5)],
)
def test_temperature(tmp_path, written, temperature):
    assert parse(tmp_path, edited("- **Temperature**: 0", f"- **Temperature**: {written}")).temperature == temperature


@pytest.mark.parametrize("written,problem", [("hot", "a number"), ("n/a", "a number"), ("-1", "a temperature (it is negative)")])
def test_a_temperature_that_is_not_one_is_refused(tmp_path, written, problem):
    with pytest.raises(InputError, match=rf"Temperature '{re.escape(written)}' is not {re.escape(problem)}"):
        parse(tmp_path, edited("- **Temperature**: 0", f"- **Temperature**: {written}"))


@pytest.mark.parametrize("written,tokens", [("512", 512), ("2,048 tokens", 2048), ("`16`", 16)])
def test_max_tokens(tmp_path, written, tokens):
    text = edited("- **Scorer**: exact match", f"- **Scorer**: exact match\n- **Max tokens**: {written}")
    assert parse(tmp_path, text).max_tokens == tokens


@pytest.mark.parametrize("written", ["0", "lots", "1.5"])
def test_max_tokens_that_are_not_a_count_are_refused(tmp_path, written):
    text = edited("- **Scorer**: exact match", f"- **Scorer**: exact match\n- **Max tokens**: {written}")
    with pytest.raises(InputError, match="Max tokens .* is not a positive whole number"):
        parse(tmp_path, text)


def test_a_placeholder_checkpoint_directory_is_warned_about_and_ignored(tmp_path):
    text = edited("- **Checkpoint directory**: `/scratch/gpfs/MSALGANIK/mjs3/ck-outputs/`",
                  "- **Checkpoint directory**: `{output_dir_base}`")
    summary, warnings = warned(tmp_path, text)
    assert summary.checkpoint_dir is None
    assert "Configuration → Output → Checkpoint directory: '{output_dir_base}' is a placeholder: ignored" in warnings


@pytest.mark.parametrize(
    "estimate,minutes",
    [("~2 days", 2880), ("14 days", 14 * 24 * 60), ("3-4 h", 240)],
)
def test_per_eval_time_up_to_the_limit(tmp_path, estimate, minutes):
    text = EXAMPLE.replace("- **Per-eval time:** ~20 minutes", f"- **Per-eval time:** {estimate}")
    assert parse(tmp_path, text).per_eval_minutes == minutes


@pytest.mark.parametrize("estimate", ["9999999 hours", "15 days"])
def test_an_absurd_per_eval_time_is_refused_naming_the_value_and_the_limit(tmp_path, estimate):
    text = EXAMPLE.replace("- **Per-eval time:** ~20 minutes", f"- **Per-eval time:** {estimate}")
    with pytest.raises(InputError) as error:
        parse(tmp_path, text)
    assert f"Per-eval time '{estimate}' is more than 14 days" in str(error.value)
    assert "MAX_PER_EVAL_MINUTES in extensions/summary.py" in str(error.value)


def test_an_unreadable_per_eval_time_is_warned_about(tmp_path):
    text = EXAMPLE.replace("- **Per-eval time:** ~20 minutes", "- **Per-eval time:** unknown")
    summary, warnings = warned(tmp_path, text)
    assert summary.per_eval_minutes is None
    assert "Per-eval time 'unknown' is not a duration like '~20 minutes': ignored" in warnings


@pytest.mark.parametrize("epochs", ["0", "100000"])
def test_implausible_training_epochs_are_refused(tmp_path, epochs):
    with pytest.raises(InputError, match=rf"Configuration → Epochs is {epochs}, outside 1..10000"):
        parse(tmp_path, edited("- **Epochs**: 2", f"- **Epochs**: {epochs}"))


def test_no_title_is_none_not_a_guess(tmp_path):
    text = edited("# Capitalization LoRA Rank Sweep (Llama-3.2-1B)\n", "")
    assert parse(tmp_path, text).title is None


def test_the_reference_is_named_by_its_path_in_the_repository(tmp_path):
    with pytest.raises(InputError) as error:
        parse(tmp_path, edited("## All Runs", "## The runs"))
    assert "see docs/INPUTS.md" in str(error.value)
    assert (ROOT / "docs/INPUTS.md").is_file()


def test_runs_under_an_all_runs_continued_heading_are_read(tmp_path):
    """A runs table split under "## All Runs (continued)" is read, not dropped."""
    text = edited(
        "| Llama-3.2-1B-Instruct_base | Llama-3.2-1B-Instruct | - | - | Control | - |\n",
        "\n## All Runs (continued)\n\n| Run Name | Model | LoRA Rank | Learning Rate | Type | Est. Time |\n"
        "|---|---|---|---|---|---|\n| Llama-3.2-1B-Instruct_base | Llama-3.2-1B-Instruct | - | - | Control | - |\n",
    )
    summary = parse(tmp_path, text)
    assert [(run.name, run.kind) for run in summary.runs] == [
        ("r8_lr1e-5", FINE_TUNED), ("r16_lr1e-5", FINE_TUNED), ("Llama-3.2-1B-Instruct_base", BASE)]


@pytest.mark.parametrize("hyphen", ["\u2011", "\u2010", "\u2013", "\u2212"])
def test_fine_tuned_with_a_typographic_hyphen_is_fine_tuned(tmp_path, hyphen):
    text = edited("| 8 | 1e-5 | Fine-tuned |", f"| 8 | 1e-5 | Fine{hyphen}tuned |")
    assert parse(tmp_path, text).runs[0].kind == FINE_TUNED


def test_a_yaml_key_written_twice_is_a_warning(tmp_path):
    from extensions.finetune import read_finetune_setup

    path = tmp_path / "setup_finetune.yaml"
    path.write_text('prompt: "First: {input}"\nlora_rank: 8\nprompt: "Second: {input}"\n')
    warnings = Warnings()
    assert read_finetune_setup(path, warnings).prompt == "Second: {input}"
    assert list(warnings) == [f"{path}: the key 'prompt' is written twice (again at line 3): YAML keeps the last one, and so does this template"]


def _without_matrix(plan: str) -> str:
    """The example with its Evaluation Matrix deleted and `plan` as the Evaluation Plan text."""
    text = EXAMPLE[: EXAMPLE.index("### Evaluation Matrix")] + EXAMPLE[EXAMPLE.index("## Configuration"):]
    start = text.index("Evaluate both tasks on every epoch")
    return text[:start] + plan + "\n" + text[text.index("\n\n", start):]


@pytest.mark.parametrize(
    "plan,negation",
    [
        ("Evaluate capitalization at every epoch. We do not evaluate capitalization_6L in this experiment.", "not"),
        ("Evaluate capitalization at every epoch. We don't evaluate capitalization_6L.", "not"),
        ("Evaluate every epoch; skip capitalization_6L.", "skip"),
        ("Evaluate every epoch. capitalization_6L is not evaluated.", "not"),
    ],
)
def test_a_task_named_with_a_negation_is_refused_not_evaluated(tmp_path, plan, negation):
    # (issue 18, item 2) capitalization_6L was rendered: naming it counted, the "not" did not.
    with pytest.raises(InputError, match=rf"names task capitalization_6L next to '{negation}'"):
        parse(tmp_path, _without_matrix(plan))


@pytest.mark.parametrize(
    "plan",
    [
        "Evaluate capitalization at every epoch and capitalization_6L at the last epoch only.",
        "Evaluate:\n\n- capitalization: epochs 0 and 1\n- capitalization_6L: epoch 1",
        "At every epoch, evaluate capitalization. At the last epoch, evaluate capitalization_6L.",
    ],
)
def test_tasks_paired_with_different_epochs_in_the_text_are_refused(tmp_path, plan):
    # (issue 18, item 3) The epochs were merged: capitalization_6L got epochs 0 and 1.
    with pytest.raises(InputError, match=r"pairs tasks with different epochs \(capitalization: .*; capitalization_6L: .*\).*\n.*Evaluation Matrix"):
        parse(tmp_path, _without_matrix(plan))


@pytest.mark.parametrize(
    "plan",
    [
        "Evaluate capitalization and capitalization_6L at every epoch.",
        "Evaluate every epoch (epoch_0 and epoch_1) on capitalization and capitalization_6L.",
        "Evaluate capitalization at every epoch. Then capitalization_6L, at every epoch too.",
    ],
)
def test_tasks_sharing_one_epoch_phrase_are_read(tmp_path, plan):
    summary = parse(tmp_path, _without_matrix(plan))
    assert summary.text_tasks == ("capitalization", "capitalization_6L")
    assert summary.plan_epochs.resolve(2) == [0, 1]


def test_a_matrix_that_decides_every_cell_leaves_the_text_unread_for_tasks(tmp_path):
    text = edited(
        "Evaluate both tasks on every epoch of each fine-tuned run (epoch_0 and epoch_1)",
        "Evaluate capitalization at every epoch and capitalization_6L at the last epoch only, not more",
    )
    assert parse(tmp_path, text).matrix is not None


@pytest.mark.parametrize("written", [" ", " - ", " — "])
def test_an_empty_model_cell_is_refused_naming_the_run(tmp_path, written):
    # (issue 18, item 8) The run was sized for '' (1B) while its setup named an 8B model.
    row = next(line for line in EXAMPLE.splitlines() if line.startswith("| r8_lr1e-5 | Llama"))
    cells = row.split("|")
    cells[2] = written
    with pytest.raises(InputError, match=rf"run 'r8_lr1e-5' has an empty Model cell in All Runs \('{written.strip()}'\)"):
        parse(tmp_path, edited(row, "|".join(cells)))


PROMPT_BULLET = r'- **Prompt**: "Capitalize the given word: {input}\n"'


@pytest.mark.parametrize("written", [r"“Capitalize the given word: {input}\n”", r"`“Capitalize the given word: {input}\n”`"])
def test_a_prompt_in_typographic_quotes_reads_as_in_straight_ones(tmp_path, written):
    # (issue 18, item 9) It was the text with the curly quotes and a backslash and an n.
    summary, warnings = warned(tmp_path, edited(PROMPT_BULLET, f"- **Prompt**: {written}"))
    assert summary.prompt == "Capitalize the given word: {input}\n"
    assert "Training → Prompt is in typographic quotes “…”: read as the double-quoted string" in warnings


def test_a_prompt_with_straight_quotes_inside_typographic_ones_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"Training → Prompt: .*straight quotes inside typographic ones"):
        parse(tmp_path, edited(PROMPT_BULLET, '- **Prompt**: “Say "hi" to {input}”'))


def test_an_unquoted_prompt_with_a_backslash_escape_is_read_as_written_with_a_warning(tmp_path):
    summary, warnings = warned(tmp_path, edited(PROMPT_BULLET, r"- **Prompt**: `Capitalize the given word: {input}\n`"))
    assert summary.prompt == "Capitalize the given word: {input}\\n"
    assert "is not in quotes, so it is read as written, each backslash a backslash" in warnings


def test_a_dataset_path_missing_in_the_experiment_directory_is_warned_about(tmp_path):
    # (issue 18, item 12) Relative paths are the experiment's: a missing one is a failed job later.
    text = edited("`/scratch/gpfs/MSALGANIK/mjs3/data/capitalization/words_5L_80P_1000.json`", "`words.json`")
    summary, warnings = warned(tmp_path, text)
    assert summary.dataset_path == "words.json"
    assert f"Resources → Dataset → Path 'words.json' is {tmp_path}/words.json, which does not exist" in warnings
    (tmp_path / "words.json").write_text("[]")
    assert "does not exist" not in warned(tmp_path, text)[1]
